"""Flagging posts and users.

A flag needs a reader of the post who is not its author, the FLAG privilege (asked through
``platform.refusal``: the reputation domain answers) and no open flag of theirs on the same
target. Each flag puts its target in the review queue. Spam and inappropriate flags carry
a weight (1; 2 for a flagger whose earlier flags moderators mostly agreed with; more for
the team); when the open ones on a post weigh the project's ``hide_threshold``, the post is
hidden at once, pending review.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from forum.accounts.models import User
from forum.gates import Act, Attempt
from forum.moderation import audit
from forum.moderation.models import (
    HIDING_REASONS,
    Flag,
    FlagReason,
    FlagStatus,
    ItemKind,
    TargetType,
)
from forum.moderation.review import ensure_item
from forum.moderation.schemas import FlagIn, ModerationSettings, load_settings
from forum.projects.models import Project
from forum.topics.access import PostContext, require_user
from forum.topics.permissions import Viewer, can_see_post
from forum.web.errors import Conflict, Forbidden, Invalid, NotFound

if TYPE_CHECKING:
    from forum.platform import Platform

REASON_LABELS = {
    FlagReason.SPAM: "Spam",
    FlagReason.OFF_TOPIC: "Off-topic",
    FlagReason.INAPPROPRIATE: "Inappropriate",
    FlagReason.CODE_OF_CONDUCT: "Violates the code of conduct",
    FlagReason.NEEDS_MODERATOR: "Needs a moderator",
}


@dataclass(frozen=True)
class Flagged:
    flag: Flag
    post_hidden: bool  # this flag hid the post


def post_open_key(user_id: int, post_id: int) -> str:
    return f"{user_id}:post:{post_id}"


def user_open_key(user_id: int, project_id: int, target_id: int) -> str:
    return f"{user_id}:user:{project_id}:{target_id}"


async def flag_weight(settings: ModerationSettings, viewer: Viewer, project_id: int) -> int:
    """How much this flagger's flag counts towards hiding a post."""
    if viewer.is_team:
        return settings.staff_flag_weight
    agreed = await Flag.filter(flagger_id=viewer.user_id, project_id=project_id,
                               status=FlagStatus.AGREED).count()
    if agreed < settings.trusted_flagger_agreed:
        return 1
    disagreed = await Flag.filter(flagger_id=viewer.user_id, project_id=project_id,
                                  status=FlagStatus.DISAGREED).count()
    return 2 if agreed > disagreed else 1


def _check_note(data: FlagIn) -> None:
    if data.reason == FlagReason.NEEDS_MODERATOR and not data.note:
        message = "Tell the moderators what needs their attention."
        raise Invalid(message, fields={"note": message})


async def _require_privilege(platform: Platform, viewer: Viewer, project_id: int, *,
                             topic_id: int | None, post_id: int | None,
                             target_user_id: int) -> None:
    user = require_user(viewer)
    reason = await platform.refusal(Attempt(
        act=Act.FLAG, user_id=user.id, project_id=project_id, is_staff=viewer.is_team,
        topic_id=topic_id, post_id=post_id, target_user_id=target_user_id))
    if reason:
        raise Forbidden(reason)


async def check_flag_post(platform: Platform, found: PostContext, data: FlagIn) -> int:
    """Everything that may refuse a post flag, before anything is written; its weight."""
    viewer, post = found.viewer, found.post
    user = require_user(viewer)
    if post.deleted_at is not None or found.topic.deleted_at is not None:
        raise NotFound("This post was deleted.")
    if not can_see_post(viewer, post):
        raise NotFound("No such post.")
    if post.author_id == user.id:  # type: ignore[attr-defined]
        raise Forbidden("You cannot flag your own post.")
    _check_note(data)
    await _require_privilege(platform, viewer, found.project.id, topic_id=found.topic.id,
                             post_id=post.id, target_user_id=post.author_id)  # type: ignore[attr-defined]
    if await Flag.exists(open_key=post_open_key(user.id, post.id)):
        raise Conflict("You have already flagged this post; a moderator will look at it.")
    settings = await load_settings(found.project.id)
    return await flag_weight(settings, viewer, found.project.id)


async def flag_post(platform: Platform, found: PostContext, data: FlagIn) -> Flagged:
    """Flag a post the viewer can read; hide it when the flags weigh enough."""
    weight = await check_flag_post(platform, found, data)
    user = require_user(found.viewer)
    post = found.post
    try:
        async with in_transaction():
            flag = await Flag.create(
                project_id=found.project.id, flagger_id=user.id, target_type=TargetType.POST,
                post_id=post.id, target_user_id=post.author_id,  # type: ignore[attr-defined]
                reason=data.reason, note=data.note, weight=weight,
                open_key=post_open_key(user.id, post.id))
            await ensure_item(found.project.id, ItemKind.FLAGGED_POST,
                              target_user_id=post.author_id, post_id=post.id,  # type: ignore[attr-defined]
                              reason=f"Flagged: {REASON_LABELS[data.reason]}")
    except IntegrityError:
        raise Conflict("You have already flagged this post; a moderator will look at it."
                       ) from None
    hidden = await _hide_if_weighty(platform, found)
    return Flagged(flag, hidden)


async def _hide_if_weighty(platform: Platform, found: PostContext) -> bool:
    from forum.topics.hide import hide_post

    post = found.post
    settings = await load_settings(found.project.id)
    if settings.hide_threshold == 0 or post.hidden_at is not None:
        return False
    weights = await Flag.filter(post_id=post.id, status=FlagStatus.OPEN,
                                reason__in=[r.value for r in HIDING_REASONS]
                                ).values_list("weight", flat=True)
    total = sum(int(w) for w in weights)  # type: ignore[call-overload]
    if total < settings.hide_threshold:
        return False
    await post.refresh_from_db()
    if post.hidden_at is not None:
        return False
    await hide_post(platform, post, "Hidden by community flags, waiting for review.", None)
    await audit.record(found.project.id, None, "flags.hide_post", "post", post.id,
                       {"weight": total, "threshold": settings.hide_threshold})
    return True


async def flag_user(platform: Platform, viewer: Viewer, project: Project, username: str,
                    data: FlagIn) -> Flag:
    """Flag a person in a project (their conduct rather than one post)."""
    user = require_user(viewer)
    target = await User.get_or_none(username_lower=username.lower())
    if target is None:
        raise NotFound("No such user.")
    if target.id == user.id:
        raise Forbidden("You cannot flag yourself.")
    _check_note(data)
    await _require_privilege(platform, viewer, project.id, topic_id=None, post_id=None,
                             target_user_id=target.id)
    key = user_open_key(user.id, project.id, target.id)
    message = f"You have already flagged {target.username}; a moderator will look at it."
    if await Flag.exists(open_key=key):
        raise Conflict(message)
    settings = await load_settings(project.id)
    weight = await flag_weight(settings, viewer, project.id)
    try:
        async with in_transaction():
            flag = await Flag.create(
                project_id=project.id, flagger_id=user.id, target_type=TargetType.USER,
                target_user_id=target.id, reason=data.reason, note=data.note,
                weight=weight, open_key=key)
            await ensure_item(project.id, ItemKind.FLAGGED_USER, target_user_id=target.id,
                              reason=f"User flagged: {REASON_LABELS[data.reason]}")
    except IntegrityError:
        raise Conflict(message) from None
    return flag
