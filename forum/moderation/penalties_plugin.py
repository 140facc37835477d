"""Penalties, terms acceptance and the audit log: models, routes and the gates they answer."""

from __future__ import annotations

from forum.hookspecs import hookimpl


@hookimpl
def forum_models() -> list[str]:
    return ["forum.moderation.audit"]
