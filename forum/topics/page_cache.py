"""The posts of a topic as anonymous visitors see them, rendered once and kept in memory.

Every anonymous visitor sees the same posts, so their HTML (and the page's JSON-LD) is
cached per web process, keyed by the topic's shown fields and a fingerprint of its visible
posts: their count, highest id, edits and vote counters weighted by post id and number. Any
reply, edit, deletion, restore or vote changes the fingerprint, so a stale entry is never
served; it just ages out of the bounded LRU. A second process builds its own entries:
nothing here is needed for correctness.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from tortoise.expressions import F
from tortoise.functions import Count, Max, Sum

from forum.topics.models import Category, Post, Topic

MAX_ENTRIES = 256


@dataclass(frozen=True)
class CachedPosts:
    posts_html: Markup
    json_ld: Markup | None


class PostsCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.entries: OrderedDict[tuple[Any, ...], CachedPosts] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> CachedPosts | None:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: tuple[Any, ...], value: CachedPosts) -> None:
        self.entries[key] = value
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)


async def anonymous_key(project_slug: str, topic: Topic, category: Category
                        ) -> tuple[Any, ...]:
    """What the anonymous view of the posts depends on (one aggregate query)."""
    rows: list[Any] = await Post.filter(topic_id=topic.id, deleted_at__isnull=True).annotate(
        n=Count("id"), top=Max("id"), edits=Sum("edit_count"), edited=Max("edited_at"),
        weighted=Sum(F("score") * F("number")), up=Sum(F("upvotes") * F("id")),
        down=Sum(F("downvotes") * F("id")),
    ).group_by("topic_id").values_list("n", "top", "edits", "edited", "weighted", "up",
                                       "down")
    fingerprint = tuple(rows[0]) if rows else ()
    return (project_slug, topic.id, topic.slug, topic.title, topic.kind, topic.state,
            topic.locked, topic.accepted_post_id, topic.created_at, topic.score,
            category.id, fingerprint)
