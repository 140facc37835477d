"""Unread counts: Discourse's meaning of the tracking and watching levels.

For a topic a user tracks or watches (set on the topic, by replying, or inherited from
its category or the category's parent), the posts after their read position
(``forum.topics.reading``) that they have not written themselves are unread; a topic they
never opened is unread from its first post. Normal and muted topics have no count.

Only visible posts count (not deleted, not hidden for review), so a held reply never
leaves a topic unread for people who cannot see it. Every function here costs a bounded
number of queries whatever the number of topics.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q, RawSQL, Subquery

from forum.hookspecs import UnreadPosts
from forum.notifications.models import CategoryWatch, TopicWatch, WatchLevel
from forum.topics import queries
from forum.topics.models import Category, Topic
from forum.topics.permissions import ReadScope

TRACKED = frozenset({WatchLevel.TRACKING, WatchLevel.WATCHING})


def _unread_posts_sql(user_id: int, aggregate: str) -> RawSQL:
    """``aggregate`` ("COUNT(*)" or "MIN(p.number)") over the topic row's posts that
    ``user_id`` has not read: a correlated subquery on the outer ``topics`` row."""
    uid = int(user_id)  # an integer from the database, never text from a request
    return RawSQL(
        f"(SELECT {aggregate} FROM posts p WHERE p.topic_id = topics.id"
        " AND p.deleted_at IS NULL AND p.hidden_at IS NULL"
        f" AND p.author_id <> {uid} AND p.number > COALESCE((SELECT r.last_read_number"
        f" FROM topic_reads r WHERE r.user_id = {uid} AND r.topic_id = topics.id), 0))")


def unread_annotations(user_id: int) -> dict[str, Any]:
    return {"unread_count": _unread_posts_sql(user_id, "COUNT(*)"),
            "first_unread": _unread_posts_sql(user_id, "MIN(p.number)")}


def category_level(own: WatchLevel | None, parent: WatchLevel | None) -> WatchLevel:
    """A category's level for a user: set on it, else on its parent, else normal."""
    return own or parent or WatchLevel.NORMAL


async def topic_unread(user_id: int, topic_ids: Iterable[int]) -> dict[int, UnreadPosts]:
    """Unread posts per topic for those of ``topic_ids`` the user tracks or watches.

    Three queries: the user's topic watches among these topics, their category watches,
    and the topics with their categories and counts.
    """
    ids = sorted(set(topic_ids))
    if not ids:
        return {}
    topic_levels = {int(tid): WatchLevel(level) for tid, level in await TopicWatch.filter(
        user_id=user_id, topic_id__in=ids).values_list("topic_id", "level")}
    category_levels = {int(cid): WatchLevel(level) for cid, level in await CategoryWatch.filter(
        user_id=user_id).values_list("category_id", "level")}
    if not (TRACKED & set(topic_levels.values())) and not (
            TRACKED & set(category_levels.values())):
        return {}
    rows: list[dict[str, Any]] = await Topic.filter(id__in=ids).annotate(
        **unread_annotations(user_id)).values(
        "id", "category_id", "unread_count", "first_unread", parent_id="category__parent_id")
    found: dict[int, UnreadPosts] = {}
    for row in rows:
        topic_id = int(row["id"])
        level = topic_levels.get(topic_id) or category_level(
            category_levels.get(int(row["category_id"])),
            category_levels.get(int(row["parent_id"])) if row["parent_id"] is not None else None)
        count = int(row["unread_count"] or 0)
        if level in TRACKED and count > 0:
            found[topic_id] = UnreadPosts(count, int(row["first_unread"]))
    return found


@dataclass
class UnreadList:
    """One page of the topics a user tracks or watches that have unread posts."""

    topics: list[Topic]
    unread: dict[int, UnreadPosts]
    next_cursor: str | None


async def tracked_categories(user_id: int, scope: ReadScope) -> list[int]:
    """The readable categories whose topics the user tracks or watches by default."""
    watched = {int(cid): WatchLevel(level) for cid, level in await CategoryWatch.filter(
        user_id=user_id).values_list("category_id", "level")}
    if not watched or not scope.category_ids:
        return []
    parents: list[Any] = await Category.filter(id__in=sorted(scope.category_ids)).values_list(
        "id", "parent_id")
    return sorted(int(cid) for cid, parent in parents if category_level(
        watched.get(int(cid)), watched.get(int(parent)) if parent is not None else None)
        in TRACKED)


async def unread_topics(user_id: int, scope: ReadScope, cursor: str | None = None,
                        limit: int = queries.PAGE_SIZE) -> UnreadList:
    """The topics of ``scope``'s project that ``user_id`` tracks or watches and has not
    read to the end, most recently active first (keyset pages like every topic list).

    ``scope`` must be the user's own: only topics it may read are listed.
    """
    base = queries.readable_q(scope)
    if base is None:
        return UnreadList([], {}, None)
    position = queries.decode_cursor(cursor, datetime_key=True) if cursor else None
    tracked = Q(id__in=Subquery(TopicWatch.filter(
        user_id=user_id, level__in=sorted(TRACKED)).values("topic_id")))
    categories = await tracked_categories(user_id, scope)
    if categories:
        # Topics of a tracked category, unless the user set a level on the topic itself.
        tracked |= Q(category_id__in=categories) & ~Q(id__in=Subquery(
            TopicWatch.filter(user_id=user_id).values("topic_id")))
    query = Topic.filter(base, tracked, deleted_at__isnull=True).annotate(
        **unread_annotations(user_id)).filter(unread_count__gt=0)
    if position is not None:
        query = query.filter(queries.after("last_posted_at", *position))
    rows = await queries._with_relations(query.order_by("-last_posted_at", "-id").limit(limit + 1))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = queries.encode_cursor(rows[-1].last_posted_at, rows[-1].id)
    unread = {t.id: UnreadPosts(int(t.unread_count), int(t.first_unread))  # type: ignore[attr-defined]
              for t in rows}
    return UnreadList(rows, unread, next_cursor)
