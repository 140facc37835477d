"""Triage tools for a project's moderators and leads: change a topic's kind, merge a duplicate
into another topic, split replies into a new topic, close with a reason. (Moving to another
category is ``moderate.move_topic``.)

A merged topic keeps its row as a redirect: its posts move to the target, numbered after the
target's own in the order they were written; it is deleted with ``merged_into_id`` set, and
``merged_target`` tells the topic page where to send its URL (301). Every tool emits
``TopicChanged`` with its ``change`` ("kind", "merged", "split", "closed"), so the audit log
records who did it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tortoise.expressions import F
from tortoise.functions import Max
from tortoise.transactions import in_transaction

from forum import events
from forum.projects.models import Project
from forum.topics.access import require_user
from forum.topics.models import Category, CloseReason, Post, Topic, TopicKind, TopicState
from forum.topics.permissions import (
    Viewer,
    can_post_in_category,
    can_post_kind,
    can_read_topic,
    can_triage,
)
from forum.topics.tags import adjust_counts
from forum.topics.writing import refresh_last_activity, slugify
from forum.web.errors import Forbidden, Invalid, UserError

if TYPE_CHECKING:
    from forum.platform import Platform

_TRIAGERS_ONLY = "Only the project's moderators and leads may do that."
MERGE_HOPS = 5  # how many merges a redirect follows


def _require_triager(viewer: Viewer) -> None:
    require_user(viewer)
    if not can_triage(viewer):
        raise Forbidden(_TRIAGERS_ONLY)


def _require_live(topic: Topic) -> None:
    if topic.merged_into_id is not None:
        raise UserError(409, "This topic was merged into another one.", code="merged")
    if topic.deleted_at is not None:
        raise UserError(409, "This topic was deleted.", code="deleted")


async def _emit(platform: Platform, topic: Topic, viewer: Viewer, change: str) -> None:
    await platform.emit(events.TopicChanged(
        project=topic.project_id, topic_id=topic.id,  # type: ignore[attr-defined]
        actor_id=viewer.user_id, change=change))


async def _readable_topic(viewer: Viewer, project_id: int, topic_id: int, field: str
                          ) -> Topic:
    """Another live topic of the project that the viewer reads, or a 422 on ``field``."""
    other = await Topic.get_or_none(id=topic_id, project_id=project_id)
    category = (await Category.get(id=other.category_id)  # type: ignore[attr-defined]
                if other is not None else None)
    if other is None or category is None or not can_read_topic(viewer, other, category) or (
            other.deleted_at is not None or other.merged_into_id is not None):
        raise Invalid("No such topic.", fields={field: "unknown topic"})
    return other


# Kind


async def change_kind(platform: Platform, viewer: Viewer, topic: Topic, kind: TopicKind
                      ) -> Topic:
    """Make the topic a question, discussion, bug report, security report (private: only the
    team and its author read it) or, by the team, an announcement. A security report made
    something else becomes public again, unless its category keeps every topic private."""
    _require_triager(viewer)
    _require_live(topic)
    if not can_post_kind(viewer, kind):
        raise Forbidden("Only the project team posts announcements.")
    category = await Category.get(id=topic.category_id)  # type: ignore[attr-defined]
    if category.private_topics and kind != TopicKind.SECURITY_REPORT:
        raise Invalid(f'Every topic in "{category.name}" is a security report; move the '
                      "topic to another category first.", fields={"kind": "not here"})
    if kind == topic.kind:
        return topic
    changes: dict[str, object] = {"kind": kind,
                                  "is_private": kind == TopicKind.SECURITY_REPORT}
    if kind != TopicKind.QUESTION and topic.accepted_post_id is not None:
        # Only questions have accepted answers.
        changes.update(accepted_post_id=None, state=TopicState.OPEN
                       if topic.state == TopicState.SOLVED else topic.state)
    await Topic.filter(id=topic.id).update(**changes)
    await topic.refresh_from_db()
    await _emit(platform, topic, viewer, "kind")
    return topic


# Merge


async def merge_topic(platform: Platform, viewer: Viewer, duplicate: Topic, target_id: int
                      ) -> Topic:
    """Move every post of ``duplicate`` to the end of the target topic and leave the
    duplicate as a redirect to it; returns the target."""
    _require_triager(viewer)
    _require_live(duplicate)
    if target_id == duplicate.id:
        raise Invalid("A topic cannot be merged into itself.",
                      fields={"target_id": "the same topic"})
    project_id: int = duplicate.project_id  # type: ignore[attr-defined]
    target = await _readable_topic(viewer, project_id, target_id, "target_id")
    now = datetime.now(UTC)
    async with in_transaction():
        await Topic.filter(id=target.id).select_for_update().first()
        row = await Post.filter(topic_id=target.id).annotate(top=Max("number")).first(
            ).values("top")
        number = int(row["top"] or 0) if row else 0
        posts = await Post.filter(topic_id=duplicate.id).order_by("created_at", "number")
        for post in posts:
            number += 1
            await Post.filter(id=post.id).update(topic_id=target.id, number=number)
        await Topic.filter(id=duplicate.id).update(
            merged_into_id=target.id, deleted_at=now, deleted_by_id=viewer.user_id,
            state=TopicState.CLOSED, reply_count=0, accepted_post_id=None)
        await Category.filter(id=duplicate.category_id).update(  # type: ignore[attr-defined]
            topic_count=F("topic_count") - 1)
        await adjust_counts([t.id for t in await duplicate.tags.all()], -1)
        await refresh_last_activity(target.id)
    await duplicate.refresh_from_db()
    await target.refresh_from_db()
    await _emit(platform, duplicate, viewer, "merged")
    await _emit(platform, target, viewer, "merged")
    return target


async def merged_target(viewer: Viewer, project: Project, topic_id: int) -> Topic | None:
    """Where the URL of topic ``topic_id`` of ``project`` redirects when it was merged: the
    topic it ended up in (following merges of merges), if ``viewer`` may read that one."""
    topic = await Topic.get_or_none(id=topic_id, project_id=project.id).only(
        "id", "merged_into_id")
    hops = 0
    while topic is not None and topic.merged_into_id is not None and hops < MERGE_HOPS:
        topic = await Topic.get_or_none(id=topic.merged_into_id, project_id=project.id)
        hops += 1
    if topic is None or hops == 0 or topic.merged_into_id is not None:
        return None
    category = await Category.get(id=topic.category_id)  # type: ignore[attr-defined]
    return topic if can_read_topic(viewer, topic, category) else None


# Split


async def split_topic(platform: Platform, viewer: Viewer, topic: Topic, post_ids: list[int],
                      title: str, category_id: int | None = None) -> Topic:
    """Move the chosen replies into a new topic titled ``title`` (in ``category_id``, by
    default the same category): the earliest becomes its opening post. Returns the new
    topic."""
    _require_triager(viewer)
    _require_live(topic)
    wanted = sorted(set(post_ids))
    posts = await Post.filter(id__in=wanted, topic_id=topic.id).order_by("number")
    if not wanted or len(posts) != len(wanted):
        raise Invalid("Choose replies of this topic.", fields={"post_ids": "not replies here"})
    if any(p.number == 1 for p in posts):
        raise Invalid("The opening post stays with its topic; choose replies.",
                      fields={"post_ids": "includes the opening post"})
    if any(p.deleted_at is not None for p in posts):
        raise Invalid("Deleted replies cannot be split off.",
                      fields={"post_ids": "includes a deleted post"})
    category = await Category.get(id=topic.category_id)  # type: ignore[attr-defined]
    if category_id is not None and category_id != category.id:
        found = await Category.get_or_none(id=category_id, project_id=topic.project_id)  # type: ignore[attr-defined]
        if found is None:
            raise Invalid("No such category.", fields={"category_id": "unknown category"})
        category = found
    if not can_post_in_category(viewer, category):
        raise Forbidden(f'You may not post in "{category.name}".')
    if category.private_topics:
        kind, is_private = TopicKind.SECURITY_REPORT, True
    elif topic.is_private:
        kind, is_private = topic.kind, True
    else:
        kind, is_private = category.default_kind, False
    first, last = posts[0], posts[-1]
    moved = {p.id for p in posts}
    async with in_transaction():
        new = await Topic.create(
            project_id=topic.project_id, category_id=category.id,  # type: ignore[attr-defined]
            author_id=first.author_id, kind=kind, title=title,  # type: ignore[attr-defined]
            slug=slugify(title), is_private=is_private, score=first.score,
            last_posted_at=last.created_at, last_poster_id=last.author_id,  # type: ignore[attr-defined]
            hidden_at=first.hidden_at)
        for number, post in enumerate(posts, start=1):
            reply_to = post.reply_to_id if post.reply_to_id in moved else None  # type: ignore[attr-defined]
            await Post.filter(id=post.id).update(topic_id=new.id, number=number,
                                                 reply_to_id=reply_to)
        if topic.accepted_post_id in moved:
            state = TopicState.OPEN if topic.state == TopicState.SOLVED else topic.state
            await Topic.filter(id=topic.id).update(accepted_post_id=None, state=state)
        await Category.filter(id=category.id).update(topic_count=F("topic_count") + 1)
        await refresh_last_activity(topic.id)
        await refresh_last_activity(new.id)
    await topic.refresh_from_db()
    await new.refresh_from_db()
    await _emit(platform, topic, viewer, "split")
    await _emit(platform, new, viewer, "split")
    return new


# Close with a reason


@dataclass(frozen=True)
class ClosedNotice:
    """What the topic page says about a topic closed with a reason."""

    text: str  # "Closed as a duplicate of", "Closed as off-topic." ...
    link_href: str | None = None
    link_text: str | None = None
    note: str = ""


CLOSE_TEXT = {
    CloseReason.DUPLICATE: "Closed as a duplicate of",
    CloseReason.OFF_TOPIC: "Closed as off-topic.",
    CloseReason.RESOLVED_ELSEWHERE: "Closed: resolved elsewhere,",
    CloseReason.OTHER: "Closed.",
}


def _web_url(value: str) -> str:
    url = value.strip()
    if not url.startswith(("https://", "http://")) or len(url) > 500 or any(
            ch.isspace() for ch in url):
        raise Invalid("Give the address (http:// or https://) where it was resolved.",
                      fields={"url": "not a web address"})
    return url


async def close_topic(platform: Platform, viewer: Viewer, topic: Topic, reason: CloseReason,
                      *, duplicate_of: int | None = None, url: str = "", note: str = ""
                      ) -> Topic:
    """Close the topic and say why: a duplicate of another topic of the project, off-topic,
    resolved elsewhere (a URL), or another reason (a note)."""
    _require_triager(viewer)
    _require_live(topic)
    detail = " ".join(note.split())[:500]
    duplicate_id: int | None = None
    if reason == CloseReason.DUPLICATE:
        if duplicate_of is None or duplicate_of == topic.id:
            raise Invalid("Which topic is this a duplicate of?",
                          fields={"duplicate_of": "choose another topic"})
        duplicate_id = (await _readable_topic(viewer, topic.project_id,  # type: ignore[attr-defined]
                                              duplicate_of, "duplicate_of")).id
    elif reason == CloseReason.RESOLVED_ELSEWHERE:
        detail = _web_url(url)
    elif reason == CloseReason.OTHER and not detail:
        raise Invalid("Say why the topic is closed.", fields={"note": "required"})
    await Topic.filter(id=topic.id).update(
        state=TopicState.CLOSED, close_reason=reason.value, close_detail=detail,
        duplicate_of_id=duplicate_id)
    await topic.refresh_from_db()
    await _emit(platform, topic, viewer, "closed")
    return topic


async def closed_notice(viewer: Viewer, project: Project, topic: Topic
                        ) -> ClosedNotice | None:
    """The notice for a closed topic that has a reason (None otherwise); the duplicate's
    link only when ``viewer`` may read it."""
    if topic.state != TopicState.CLOSED or not topic.close_reason:
        return None
    try:
        reason = CloseReason(topic.close_reason)
    except ValueError:
        return None
    text = CLOSE_TEXT[reason]
    if reason == CloseReason.DUPLICATE and topic.duplicate_of_id is not None:
        other = await Topic.get_or_none(id=topic.duplicate_of_id, project_id=project.id)
        category = (await Category.get(id=other.category_id)  # type: ignore[attr-defined]
                    if other is not None else None)
        if other is not None and category is not None and can_read_topic(
                viewer, other, category):
            return ClosedNotice(text, f"/p/{project.slug}/t/{other.id}-{other.slug}",
                                other.title)
        return ClosedNotice("Closed as a duplicate.")
    if reason == CloseReason.RESOLVED_ELSEWHERE:
        return ClosedNotice(text, topic.close_detail, topic.close_detail)
    return ClosedNotice(text, note=topic.close_detail)
