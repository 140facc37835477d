"""A tiny plugin for tests that answers the gates (forum/gates.py) as a test tells it:
refuse an act with a reason, and hold, block or rewrite posts. It records every question
it was asked, so a test can prove a verb consulted the gates."""

from __future__ import annotations

from dataclasses import dataclass, field

from forum.gates import Act, Attempt, Draft, Screening
from forum.hookspecs import hookimpl
from forum.platform import Platform


@dataclass
class Gatekeeper:
    PLUGIN_NAME = "gatekeeper"
    refuse: dict[Act, str] = field(default_factory=dict)
    screening: Screening | None = None
    attempts: list[Attempt] = field(default_factory=list)
    drafts: list[Draft] = field(default_factory=list)

    def acts(self) -> list[Act]:
        return [a.act for a in self.attempts]

    @hookimpl
    def forum_refuse(self, attempt: Attempt, platform: Platform) -> str | None:
        self.attempts.append(attempt)
        return self.refuse.get(attempt.act)

    @hookimpl
    async def forum_screen_post(self, draft: Draft, platform: Platform) -> Screening | None:
        self.drafts.append(draft)
        return self.screening
