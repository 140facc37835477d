"""Billing registrations (plugin)."""

from __future__ import annotations

from forum.hookspecs import hookimpl


@hookimpl
def forum_models() -> list[str]:
    return ["forum.billing.models"]
