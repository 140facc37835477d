"""The review queue: flagged posts and users, and posts held or hidden pending review.

Who reviews: the project's moderators (``Viewer.is_moderator``), and users holding the
REVIEW privilege (``platform.refusal`` with ``Act.REVIEW``; the reputation domain answers).
Deleting needs a moderator. A reviewer may claim an item for ``claim_minutes``; while the
claim holds, nobody else may claim it or decide it. Decisions:

- approve: the post is shown again (``unhide_post``), its open flags are disagreed;
- reject: the post is deleted (by a moderator; a privileged reviewer's reject keeps it
  hidden), its open flags are agreed;
- delete: the post is deleted, its flags closed without judging them.

For a flagged user, approve dismisses the flags and reject agrees with them (a penalty is
the penalty form's business). Every claim, release and decision is kept as history and
written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from forum.accounts.models import User
from forum.gates import Act, Attempt
from forum.moderation import audit
from forum.moderation.models import (
    Flag,
    FlagStatus,
    ItemKind,
    ItemStatus,
    ReviewDecision,
    ReviewItem,
    TargetType,
)
from forum.moderation.schemas import load_settings
from forum.projects.models import Project
from forum.topics.access import require_user
from forum.topics.models import Post, Topic
from forum.topics.permissions import Viewer
from forum.topics.schemas import MAX_ID
from forum.web.errors import Conflict, Forbidden, Invalid, NotFound, UserError

if TYPE_CHECKING:
    from forum import events
    from forum.platform import Platform

DECISIONS = ("approve", "reject", "delete")
DECIDED = {"approve": ItemStatus.APPROVED, "reject": ItemStatus.REJECTED,
           "delete": ItemStatus.DELETED}
FLAG_OUTCOME = {"approve": FlagStatus.DISAGREED, "reject": FlagStatus.AGREED,
                "delete": FlagStatus.IGNORED}


def pending_key(kind: ItemKind, project_id: int, *, post_id: int | None,
                target_user_id: int) -> str:
    if kind == ItemKind.FLAGGED_USER:
        return f"user:{project_id}:{target_user_id}"
    return f"post:{post_id}"


async def ensure_item(project_id: int, kind: ItemKind, *, target_user_id: int,
                      post_id: int | None = None, reason: str = "") -> ReviewItem:
    """The pending item for this target, created if there is none."""
    key = pending_key(kind, project_id, post_id=post_id, target_user_id=target_user_id)
    existing = await ReviewItem.get_or_none(pending_key=key)
    if existing is not None:
        return existing
    try:
        return await ReviewItem.create(project_id=project_id, kind=kind, post_id=post_id,
                                       target_user_id=target_user_id, reason=reason[:200],
                                       pending_key=key)
    except IntegrityError:
        return await ReviewItem.get(pending_key=key)


# Who may review


async def review_refusal(platform: Platform, viewer: Viewer, project: Project) -> str | None:
    """Why the viewer may not work the project's review queue, or None."""
    if viewer.user is None:
        return "Please log in first."
    if viewer.is_moderator:
        return None
    return await platform.refusal(Attempt(
        act=Act.REVIEW, user_id=viewer.user.id, project_id=project.id,
        is_staff=viewer.is_team))


async def require_reviewer(platform: Platform, viewer: Viewer, project: Project) -> User:
    user = require_user(viewer)
    reason = await review_refusal(platform, viewer, project)
    if reason:
        raise Forbidden(reason)
    return user


async def access_item(project: Project, item_id: int) -> ReviewItem:
    """The review item ``item_id`` of ``project``: NotFound for another project's."""
    item = (await ReviewItem.get_or_none(id=item_id, project_id=project.id)
            if 0 < item_id <= MAX_ID else None)
    if item is None:
        raise NotFound("No such review item.")
    return item


# Reading the queue


@dataclass(frozen=True)
class QueueEntry:
    item: ReviewItem
    post: Post | None
    topic: Topic | None
    target_user: User
    claimed_by: User | None
    flags: list[tuple[Flag, User]]

    @property
    def claim_active(self) -> bool:
        return claim_holder(self.item) is not None


def claim_holder(item: ReviewItem, now: datetime | None = None) -> int | None:
    """The id of the user whose claim on ``item`` still holds, or None."""
    now = now or datetime.now(UTC)
    holder: int | None = item.claimed_by_id  # type: ignore[attr-defined]
    if holder is None or item.claimed_until is None or item.claimed_until <= now:
        return None
    return holder


async def queue_entries(items: list[ReviewItem]) -> list[QueueEntry]:
    """The items with their posts, topics, people and open flags, in a few queries."""
    post_ids = [i.post_id for i in items if i.post_id is not None]  # type: ignore[attr-defined]
    posts = {p.id: p for p in await Post.filter(id__in=post_ids)} if post_ids else {}
    topic_ids = {p.topic_id for p in posts.values()}  # type: ignore[attr-defined]
    topics = {t.id: t for t in await Topic.filter(id__in=topic_ids)} if topic_ids else {}
    flag_q = Q(status=FlagStatus.OPEN) & (
        Q(post_id__in=post_ids or [0])
        | Q(target_type=TargetType.USER,
            target_user_id__in=[i.target_user_id for i in items  # type: ignore[attr-defined]
                                if i.kind == ItemKind.FLAGGED_USER] or [0]))
    flags = await Flag.filter(flag_q).order_by("created_at") if items else []
    user_ids = {i.target_user_id for i in items}  # type: ignore[attr-defined]
    user_ids |= {i.claimed_by_id for i in items if i.claimed_by_id}  # type: ignore[attr-defined]
    user_ids |= {f.flagger_id for f in flags}  # type: ignore[attr-defined]
    users = {u.id: u for u in await User.filter(id__in=user_ids)} if user_ids else {}
    entries = []
    for item in items:
        post = posts.get(item.post_id)  # type: ignore[attr-defined]
        if item.kind == ItemKind.FLAGGED_USER:
            mine = [f for f in flags if f.target_type == TargetType.USER
                    and f.target_user_id == item.target_user_id  # type: ignore[attr-defined]
                    and f.project_id == item.project_id]  # type: ignore[attr-defined]
        else:
            mine = [f for f in flags if f.post_id == item.post_id]  # type: ignore[attr-defined]
        entries.append(QueueEntry(
            item=item, post=post,
            topic=topics.get(post.topic_id) if post is not None else None,  # type: ignore[attr-defined]
            target_user=users[item.target_user_id],  # type: ignore[attr-defined]
            claimed_by=users.get(item.claimed_by_id) if claim_holder(item) else None,  # type: ignore[attr-defined]
            flags=[(f, users[f.flagger_id]) for f in mine]))  # type: ignore[attr-defined]
    return entries


async def pending(project: Project, limit: int = 100) -> list[QueueEntry]:
    items = await (ReviewItem.filter(project_id=project.id, status=ItemStatus.PENDING)
                   .order_by("created_at", "id").limit(limit))
    return await queue_entries(list(items))


async def pending_count(project_id: int) -> int:
    return await ReviewItem.filter(project_id=project_id, status=ItemStatus.PENDING).count()


async def history(project: Project, limit: int = 100) -> list[tuple[ReviewDecision, User | None]]:
    decisions = await (ReviewDecision.filter(project_id=project.id)
                       .order_by("-created_at", "-id").limit(limit))
    actor_ids = {d.actor_id for d in decisions if d.actor_id}  # type: ignore[attr-defined]
    actors = {u.id: u for u in await User.filter(id__in=actor_ids)} if actor_ids else {}
    return [(d, actors.get(d.actor_id)) for d in decisions]  # type: ignore[attr-defined]


# Claims


def _claimed_by_other(item: ReviewItem, holder_name: str) -> UserError:
    until = item.claimed_until.strftime("%H:%M UTC") if item.claimed_until else ""
    return Conflict(f"{holder_name} is working on this item (claimed until {until}).")


async def _holder_name(user_id: int) -> str:
    holder = await User.get_or_none(id=user_id)
    return holder.username if holder is not None else "Another moderator"


async def claim(platform: Platform, viewer: Viewer, project: Project,
                item: ReviewItem) -> ReviewItem:
    """Take the item for ``claim_minutes``; 409 while someone else's claim holds."""
    user = await require_reviewer(platform, viewer, project)
    if item.status != ItemStatus.PENDING:
        raise Conflict("This item was already decided.")
    settings = await load_settings(project.id)
    now = datetime.now(UTC)
    until = now + timedelta(minutes=settings.claim_minutes)
    free = Q(claimed_by_id=None) | Q(claimed_until__lte=now) | Q(claimed_by_id=user.id)
    taken = await (ReviewItem.filter(free, id=item.id, status=ItemStatus.PENDING)
                   .update(claimed_by_id=user.id, claimed_until=until))
    if not taken:
        await item.refresh_from_db()
        holder = claim_holder(item, now)
        if holder is None:
            raise Conflict("This item was already decided.")
        raise _claimed_by_other(item, await _holder_name(holder))
    await ReviewDecision.create(item_id=item.id, project_id=project.id, actor_id=user.id,
                                action="claim")
    await item.refresh_from_db()
    return item


async def release(platform: Platform, viewer: Viewer, project: Project,
                  item: ReviewItem) -> ReviewItem:
    """Give up one's own claim (someone else's holds until it expires)."""
    user = await require_reviewer(platform, viewer, project)
    holder = claim_holder(item)
    if holder is None:
        return item
    if holder != user.id:
        raise _claimed_by_other(item, await _holder_name(holder))
    await ReviewItem.filter(id=item.id).update(claimed_by_id=None, claimed_until=None)
    await ReviewDecision.create(item_id=item.id, project_id=project.id, actor_id=user.id,
                                action="release")
    await item.refresh_from_db()
    return item


# Decisions


async def check_decide(platform: Platform, viewer: Viewer, project: Project,
                       item: ReviewItem, action: str) -> User:
    """Everything that may refuse a decision, before anything changes."""
    user = await require_reviewer(platform, viewer, project)
    if action not in DECISIONS:
        raise Invalid("Unknown decision.", fields={"action": "approve, reject or delete"})
    if item.status != ItemStatus.PENDING:
        raise Conflict("This item was already decided.")
    holder = claim_holder(item)
    if holder is not None and holder != user.id:
        raise _claimed_by_other(item, await _holder_name(holder))
    if action == "delete":
        if item.kind == ItemKind.FLAGGED_USER:
            raise Invalid("A flagged user is approved (flags dismissed) or rejected "
                          "(flags agreed); penalties are on the penalty form.",
                          fields={"action": "approve or reject"})
        if not viewer.is_moderator:
            raise Forbidden("Only the project's moderators delete posts.")
    return user


async def decide(platform: Platform, viewer: Viewer, project: Project, item: ReviewItem,
                 action: str, note: str = "") -> ReviewItem:
    """Approve, reject or delete a pending item (see the module's docstring)."""
    from forum.topics.hide import hide_post, unhide_post
    from forum.topics.moderate import delete_post

    user = await check_decide(platform, viewer, project, item, action)
    now = datetime.now(UTC)
    still_free = Q(claimed_by_id=None) | Q(claimed_until__lte=now) | Q(claimed_by_id=user.id)
    done = await ReviewItem.filter(still_free, id=item.id, status=ItemStatus.PENDING).update(
        status=DECIDED[action], pending_key=None, resolved_at=now, resolved_by_id=user.id,
        claimed_by_id=None, claimed_until=None)
    if not done:
        raise Conflict("Someone else decided or claimed this item just now.")
    flags = Flag.filter(status=FlagStatus.OPEN, project_id=project.id)
    if item.kind == ItemKind.FLAGGED_USER:
        flags = flags.filter(target_type=TargetType.USER,
                             target_user_id=item.target_user_id)  # type: ignore[attr-defined]
    else:
        flags = flags.filter(post_id=item.post_id)  # type: ignore[attr-defined]
    flag_count = await flags.update(status=FLAG_OUTCOME[action], open_key=None,
                                    resolved_at=now, resolved_by_id=user.id)
    await ReviewDecision.create(item_id=item.id, project_id=project.id, actor_id=user.id,
                                action=action, note=note[:500])
    post = await Post.get_or_none(id=item.post_id) if item.post_id else None  # type: ignore[attr-defined]
    if post is not None and post.deleted_at is None:
        if action == "approve" and post.hidden_at is not None:
            await unhide_post(platform, post, user.id)
        elif action == "delete" or (action == "reject" and viewer.is_moderator):
            await delete_post(platform, viewer, post)
        elif action == "reject" and post.hidden_at is None:
            await hide_post(platform, post, "Rejected in review.", user.id)
    target_type = "user" if item.kind == ItemKind.FLAGGED_USER else "post"
    target_id = item.target_user_id if target_type == "user" else item.post_id  # type: ignore[attr-defined]
    await audit.record(project.id, user.id, f"review.{action}", target_type, target_id,
                       {"item": item.id, "kind": str(item.kind), "flags": flag_count,
                        "note": note[:500]})
    await item.refresh_from_db()
    return item


# Events from the topics domain


async def on_post_hidden(event: events.PostHidden) -> None:
    """A held post (or one a moderator hid) waits in the queue; one hidden by flags is
    already there."""
    await ensure_item(event.project, ItemKind.HELD_POST, target_user_id=event.author_id,
                      post_id=event.post_id, reason=event.reason)


async def on_post_unhidden(event: events.PostUnhidden) -> None:
    """Approved elsewhere (a moderator on the topic page): a held item is done."""
    now = datetime.now(UTC)
    items = await ReviewItem.filter(post_id=event.post_id, status=ItemStatus.PENDING,
                                    kind=ItemKind.HELD_POST)
    for item in items:
        await ReviewItem.filter(id=item.id, status=ItemStatus.PENDING).update(
            status=ItemStatus.APPROVED, pending_key=None, resolved_at=now,
            resolved_by_id=event.actor_id, claimed_by_id=None, claimed_until=None)
        await ReviewDecision.create(item_id=item.id, project_id=event.project,
                                    actor_id=event.actor_id, action="approve",
                                    note="Shown again outside the review queue.")


async def on_post_deleted(event: events.PostDeleted) -> None:
    """A deleted post leaves the queue; its open flags close unjudged."""
    if event.restored:
        return
    now = datetime.now(UTC)
    items = await ReviewItem.filter(post_id=event.post_id, status=ItemStatus.PENDING)
    for item in items:
        await ReviewItem.filter(id=item.id, status=ItemStatus.PENDING).update(
            status=ItemStatus.DELETED, pending_key=None, resolved_at=now,
            resolved_by_id=event.actor_id or None, claimed_by_id=None, claimed_until=None)
        await ReviewDecision.create(item_id=item.id, project_id=event.project,
                                    actor_id=event.actor_id or None, action="delete",
                                    note="The post was deleted.")
    await Flag.filter(post_id=event.post_id, status=FlagStatus.OPEN).update(
        status=FlagStatus.IGNORED, open_key=None, resolved_at=now)
