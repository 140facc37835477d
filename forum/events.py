"""Domain events: frozen facts emitted after a service verb commits.

Each event names the plugin hook that receives it (``hook``); ``project_id`` is set when
the fact belongs to one project, so only plugins enabled there hear it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Event:
    hook: ClassVar[str]

    @property
    def project_id(self) -> int | None:
        return None


@dataclass(frozen=True)
class UserCreated(Event):
    hook: ClassVar[str] = "on_user_created"
    user_id: int
    username: str


@dataclass(frozen=True)
class UserVerified(Event):
    hook: ClassVar[str] = "on_user_verified"
    user_id: int


@dataclass(frozen=True)
class ProjectCreated(Event):
    hook: ClassVar[str] = "on_project_created"
    id: int
    slug: str
    owner_id: int

    @property
    def project_id(self) -> int | None:
        return self.id


@dataclass(frozen=True)
class MemberRoleChanged(Event):
    hook: ClassVar[str] = "on_member_role_changed"
    project: int
    user_id: int
    role: str | None  # None when the membership ended

    @property
    def project_id(self) -> int | None:
        return self.project


@dataclass(frozen=True)
class PluginToggled(Event):
    hook: ClassVar[str] = "on_plugin_toggled"
    project: int
    plugin: str
    enabled: bool

    @property
    def project_id(self) -> int | None:
        return self.project
