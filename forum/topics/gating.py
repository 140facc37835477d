"""Asking the gates (forum/gates.py) from the topics verbs.

``require_allowed`` turns a domain's refusal (a privilege not yet earned, a penalty, terms
not accepted, a rate limit) into a 403 with that domain's reason. ``screen_text`` asks the
screeners about a text about to be stored: a block is a 422 with the reason, a rewrite
replaces the text, a hold comes back as the reason to store the post hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from forum.gates import Act, Attempt, Draft, Verdict
from forum.topics.access import require_user
from forum.topics.permissions import Viewer
from forum.topics.schemas import clean_body
from forum.web.errors import Forbidden, Invalid

if TYPE_CHECKING:
    from forum.platform import Platform

HOLD_REASON_MAX = 200


async def require_allowed(platform: Platform, viewer: Viewer, project_id: int, act: Act, *,
                          topic_id: int | None = None, post_id: int | None = None,
                          target_user_id: int | None = None) -> None:
    """Raise Forbidden (403) with the first reason a domain gives to refuse ``act``."""
    user = require_user(viewer)
    reason = await platform.refusal(Attempt(
        act=act, user_id=user.id, project_id=project_id, is_staff=viewer.is_team,
        topic_id=topic_id, post_id=post_id, target_user_id=target_user_id))
    if reason:
        raise Forbidden(reason)


async def is_allowed(platform: Platform, viewer: Viewer, project_id: int, act: Act, *,
                     topic_id: int | None = None) -> bool:
    """Whether no domain refuses ``act`` (for showing or hiding a button)."""
    if viewer.user is None:
        return False
    reason = await platform.refusal(Attempt(
        act=act, user_id=viewer.user.id, project_id=project_id, is_staff=viewer.is_team,
        topic_id=topic_id))
    return not reason


@dataclass(frozen=True)
class Screened:
    """A text the screeners let through: ``source`` (possibly rewritten) and, when it must
    wait for review, ``hold_reason``."""

    source: str
    hold_reason: str | None = None


async def screen_text(platform: Platform, viewer: Viewer, project_id: int, source: str, *,
                      title: str | None = None, topic_id: int | None = None,
                      post_id: int | None = None, ip: str | None = None) -> Screened:
    """The screeners' verdict on a text: 422 when blocked."""
    user = require_user(viewer)
    screening = await platform.screen(Draft(
        project_id=project_id, user_id=user.id, is_staff=viewer.is_team, source=source,
        title=title, topic_id=topic_id, post_id=post_id, ip=ip))
    if screening.verdict == Verdict.BLOCK:
        message = screening.reason or "This post cannot be accepted."
        raise Invalid(message, fields={"source": message})
    text = source
    if screening.source is not None:
        try:
            text = clean_body(screening.source)
        except ValueError as exc:
            raise Invalid(str(exc), fields={"source": str(exc)}) from None
    if screening.verdict == Verdict.HOLD:
        reason = (screening.reason or "Waiting for review.")[:HOLD_REASON_MAX]
        return Screened(text, reason)
    return Screened(text)
