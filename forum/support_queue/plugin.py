"""The support queue's registrations: models, pages and API, the listeners that keep a
ticket's response times, and demo tickets."""

from __future__ import annotations

from forum.hookspecs import hookimpl


@hookimpl
def forum_models() -> list[str]:
    return ["forum.support_queue.models"]
