"""Optional plugins per project: switch them on or off, and keep their settings.

A plugin declares its settings with ``forum_settings_schema`` (a pydantic model); the
settings page builds a form from that model and stores the validated values in
``ProjectPlugin.settings``. Switching a plugin emits ``PluginToggled``; a plugin that
was just switched on hears it, one switched off does not.
"""

from __future__ import annotations

import enum
import types
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, SecretStr, ValidationError
from tortoise.transactions import in_transaction

from forum import events
from forum.hookspecs import PluginSettings
from forum.projects.models import Project, ProjectPlugin
from forum.projects.permissions import Action, ProjectAccess
from forum.web.errors import Forbidden, NotFound, invalid_from_pydantic

if TYPE_CHECKING:
    from forum.platform import Platform


@dataclass(frozen=True)
class SettingField:
    """One input of a plugin's settings form."""

    name: str
    label: str
    kind: str  # checkbox, number, decimal, select, secret or text
    value: Any
    help: str = ""
    options: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PluginState:
    name: str
    enabled: bool
    title: str
    fields: list[SettingField]


def settings_schemas(platform: Platform) -> dict[str, PluginSettings]:
    """The settings schema of each optional plugin that declares one."""
    optional = set(platform.plugins.names())
    return {name: found for name, found in
            platform.plugins.collect_by_plugin("forum_settings_schema").items()
            if name in optional and isinstance(found, PluginSettings)}


def _kind(annotation: Any) -> tuple[str, list[str]]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(inner) == 1:
            return _kind(inner[0])
    if origin is typing.Literal:
        return "select", [str(a) for a in typing.get_args(annotation)]
    if isinstance(annotation, type):
        if issubclass(annotation, SecretStr):
            return "secret", []
        if issubclass(annotation, bool):
            return "checkbox", []
        if issubclass(annotation, enum.Enum):
            return "select", [str(m.value) for m in annotation]
        if issubclass(annotation, int):
            return "number", []
        if issubclass(annotation, float):
            return "decimal", []
    return "text", []


def form_fields(schema: type[BaseModel], values: BaseModel) -> list[SettingField]:
    fields: list[SettingField] = []
    for name, info in schema.model_fields.items():
        kind, options = _kind(info.annotation)
        value = getattr(values, name)
        if isinstance(value, enum.Enum):
            value = value.value
        help_text = info.description or ""
        if kind == "secret":  # never shown back: only whether one is stored
            if value:
                help_text = (help_text + " A value is stored; leave empty to keep it.").strip()
            value = ""
        fields.append(SettingField(
            name=name, label=info.title or name.replace("_", " ").capitalize(), kind=kind,
            value=value, help=help_text, options=options))
    return fields


def form_values(schema: type[BaseModel], form: typing.Mapping[str, Any]) -> dict[str, Any]:
    """Raw values from a submitted form: an unchecked checkbox is absent, so False."""
    raw: dict[str, Any] = {}
    for name, info in schema.model_fields.items():
        if _kind(info.annotation)[0] == "checkbox":
            raw[name] = name in form
        elif name in form:
            raw[name] = form[name]
    return raw


def _validated(schema: type[BaseModel], stored: dict[str, Any]) -> BaseModel:
    """Stored values read back; values a newer schema no longer accepts fall to defaults."""
    try:
        return schema.model_validate(stored)
    except ValidationError:
        return schema.model_validate({})


async def plugin_states(platform: Platform, project: Project) -> list[PluginState]:
    """Every optional plugin with its switch and settings form, for the settings page."""
    rows = {row.name: row for row in await ProjectPlugin.filter(project_id=project.id)}
    schemas = settings_schemas(platform)
    states: list[PluginState] = []
    for name in platform.plugins.names():
        row = rows.get(name)
        declared = schemas.get(name)
        fields: list[SettingField] = []
        if declared is not None:
            values = _validated(declared.schema, row.settings if row else {})
            fields = form_fields(declared.schema, values)
        states.append(PluginState(name=name, enabled=bool(row and row.enabled),
                                  title=declared.title if declared else name, fields=fields))
    return states


async def project_plugin_settings(platform: Platform, project_id: int,
                                  name: str) -> BaseModel | None:
    """A plugin's settings for one project, defaults filled in (for the plugin's own use)."""
    declared = settings_schemas(platform).get(name)
    if declared is None:
        return None
    row = await ProjectPlugin.get_or_none(project_id=project_id, name=name)
    return _validated(declared.schema, row.settings if row else {})


async def projects_with_plugin(name: str) -> list[int]:
    """The ids of the projects that switched plugin ``name`` on (for a plugin's cron jobs)."""
    rows = await ProjectPlugin.filter(name=name, enabled=True).only("project_id")
    return sorted(row.project_id for row in rows)  # type: ignore[attr-defined]


async def plugin_project(name: str, project_id: int) -> Project | None:
    """The project ``project_id`` if plugin ``name`` is switched on there (for its jobs)."""
    if not await ProjectPlugin.exists(project_id=project_id, name=name, enabled=True):
        return None
    return await Project.get_or_none(id=project_id)


def _known(platform: Platform, name: str) -> None:
    if name not in platform.plugins.names():
        raise NotFound("No such plugin.")


async def check_toggle_plugin(platform: Platform, access: ProjectAccess, name: str,
                              enabled: bool) -> bool:
    if not access.can(Action.MANAGE_PLUGINS):
        raise Forbidden("Only a project owner or lead may switch plugins.")
    _known(platform, name)
    return await do_toggle_plugin(platform, access.project, name, enabled)


async def do_toggle_plugin(platform: Platform, project: Project, name: str,
                           enabled: bool) -> bool:
    """Switch the plugin; returns whether anything changed (only then is an event sent)."""
    async with in_transaction():
        row = await ProjectPlugin.get_or_none(project_id=project.id, name=name)
        if row is None:
            if not enabled:
                return False
            await ProjectPlugin.create(project=project, name=name, enabled=True)
        elif row.enabled == enabled:
            return False
        else:
            await ProjectPlugin.filter(id=row.id).update(enabled=enabled)
    platform.enabled_plugins_cache.pop(project.id, None)
    await platform.emit(events.PluginToggled(project=project.id, plugin=name, enabled=enabled))
    return True


async def check_plugin_settings(platform: Platform, access: ProjectAccess, name: str,
                                raw: dict[str, Any]) -> BaseModel:
    """Validate settings against the plugin's schema (422 naming the fields) and store them."""
    if not access.can(Action.MANAGE_PLUGINS):
        raise Forbidden("Only a project owner or lead may change plugin settings.")
    _known(platform, name)
    declared = settings_schemas(platform).get(name)
    if declared is None:
        raise NotFound("This plugin has no settings.")
    secrets = [key for key, info in declared.schema.model_fields.items()
               if _kind(info.annotation)[0] == "secret" and not raw.get(key)]
    if secrets:  # a secret left empty keeps the stored one (the form never shows it)
        row = await ProjectPlugin.get_or_none(project_id=access.project.id, name=name)
        stored = row.settings if row else {}
        raw = {**raw, **{key: stored.get(key) for key in secrets}}
    try:
        values = declared.schema.model_validate(raw)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from None
    await do_save_plugin_settings(platform, access.project, name, values)
    return values


async def do_save_plugin_settings(platform: Platform, project: Project, name: str,
                                  values: BaseModel) -> None:
    stored = values.model_dump(mode="json")
    async with in_transaction():
        row = await ProjectPlugin.get_or_none(project_id=project.id, name=name)
        if row is None:
            # Settings may be prepared before the plugin is switched on.
            await ProjectPlugin.create(project=project, name=name, enabled=False,
                                       settings=stored)
        else:
            row.settings = stored
            await row.save(update_fields=["settings"])
