"""Topics and posts in the search index, and searching them as a viewer sees the forum.

Indexing runs in the job ``search.index_topic`` after a change commits: it rebuilds the
documents of every post of one topic (deleted and hidden ones are kept, flagged deleted, for
moderators).
``search_topics`` turns the viewer's ``ReadScope`` into the query's permission fields, so
search never shows what the topic pages would not.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from forum.accounts.models import User
from forum.jobs import JobContext
from forum.platform import Platform
from forum.projects.models import Project
from forum.search import SearchDocument, SearchQuery, SearchResult
from forum.topics.models import Category, Post, Tag, Topic
from forum.topics.permissions import Viewer, read_scope

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
BATCH_TOPICS = 200
PAGE_SIZE = 20
MAX_PAGE = 50


def plain_text(cooked: str) -> str:
    """The words of a post's cooked (already sanitised) HTML."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", cooked))).strip()


async def _tags_by_topic(topic_ids: list[int]) -> dict[int, tuple[str, ...]]:
    tags: dict[int, list[str]] = {}
    rows = await Tag.filter(topics__id__in=topic_ids).values("name", "topics__id")
    for row in rows:
        tags.setdefault(int(row["topics__id"]), []).append(str(row["name"]))
    return {topic_id: tuple(sorted(names)) for topic_id, names in tags.items()}


async def documents_for_topics(topic_ids: list[int]) -> list[SearchDocument]:
    """Documents of every post of these topics (missing topics give none)."""
    topics = {t.id: t for t in await Topic.filter(id__in=topic_ids)}
    if not topics:
        return []
    tags = await _tags_by_topic(list(topics))
    posts = await Post.filter(topic_id__in=list(topics)).order_by("topic_id", "number")
    documents = []
    for post in posts:
        topic = topics[post.topic_id]  # type: ignore[attr-defined]
        documents.append(SearchDocument(
            post_id=post.id, topic_id=topic.id, project_id=topic.project_id,  # type: ignore[attr-defined]
            category_id=topic.category_id,  # type: ignore[attr-defined]
            number=post.number, title=topic.title, body=plain_text(post.cooked),
            tags=tags.get(topic.id, ()), kind=str(topic.kind.value),
            state=str(topic.state.value), author_id=post.author_id,  # type: ignore[attr-defined]
            created_at=post.created_at, is_private=topic.is_private,
            topic_author_id=topic.author_id,  # type: ignore[attr-defined]
            # Hidden posts (waiting for review) are found by moderators only, as deleted.
            deleted=(post.deleted_at is not None or topic.deleted_at is not None
                     or post.hidden_at is not None or topic.hidden_at is not None),
        ))
    return documents


async def index_topic(ctx: JobContext, *, topic_id: int) -> None:
    """Job ``search.index_topic``: (re)index every post of a topic."""
    documents = await documents_for_topics([topic_id])
    if documents:
        await ctx.platform.search.index(documents)


async def reindex(platform: Platform, project_id: int | None = None
                  ) -> AsyncIterator[int]:
    """Rebuild the index (of one project) from the database; yields topics done per batch."""
    await platform.search.clear(project_id)
    query = Topic.all() if project_id is None else Topic.filter(project_id=project_id)
    rows = await query.order_by("id").values_list("id", flat=True)
    topic_ids = [int(str(i)) for i in rows]
    for start in range(0, len(topic_ids), BATCH_TOPICS):
        batch = topic_ids[start:start + BATCH_TOPICS]
        await platform.search.index(await documents_for_topics(batch))
        yield len(batch)


async def count_topics(project_id: int | None) -> int:
    query = Topic.all() if project_id is None else Topic.filter(project_id=project_id)
    return await query.count()


# Searching


@dataclass(frozen=True)
class SearchFilters:
    """What a search page or API call may narrow by (slugs and names, as in URLs)."""

    category: str | None = None
    tag: str | None = None
    state: str | None = None
    kind: str | None = None
    author: str | None = None
    after: date | None = None
    before: date | None = None
    page: int = 1


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


async def search_topics(platform: Platform, viewer: Viewer, project: Project, text: str,
                        filters: SearchFilters) -> SearchResult:
    """Posts of ``project`` matching ``text`` that ``viewer`` may read, best first."""
    scope = await read_scope(viewer, project.id)
    category_ids: frozenset[int] | None = None
    if filters.category:
        category = await Category.get_or_none(project_id=project.id, slug=filters.category)
        category_ids = frozenset({category.id} if category else set())
    author_id: int | None = None
    if filters.author:
        author = await User.get_or_none(username_lower=filters.author.lower())
        if author is None:
            return SearchResult()
        author_id = author.id
    page = min(max(filters.page, 1), MAX_PAGE)
    query = SearchQuery(
        project_id=project.id, text=text, allowed_category_ids=scope.category_ids,
        see_private=scope.see_private, see_deleted=scope.see_deleted, user_id=scope.user_id,
        category_ids=category_ids, tags=(filters.tag.lower(),) if filters.tag else (),
        states=(filters.state,) if filters.state else (),
        kinds=(filters.kind,) if filters.kind else (), author_id=author_id,
        created_after=_day_start(filters.after) if filters.after else None,
        created_before=(_day_start(filters.before) + timedelta(days=1)
                        if filters.before else None),
        limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
    )
    return await platform.search.search(query)


_STOP_WORD_TEXT = (
    "a an and are as at be but by can do does for from has have how i if in is it my no not"
    " of on or so that the this to was what when where which who why will with you")
_STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())


@dataclass(frozen=True)
class Similar:
    topic_id: int
    title: str
    slug: str


async def similar_topics(platform: Platform, viewer: Viewer, project: Project, title: str,
                         limit: int = 5) -> list[Similar]:
    """Readable topics whose opening post resembles ``title`` (duplicate suggestions)."""
    words = [w for w in re.findall(r"[^\W_]+", title.lower()[:200]) if w not in _STOP_WORDS]
    if not words:
        return []
    scope = await read_scope(viewer, project.id)
    result = await platform.search.search(SearchQuery(
        project_id=project.id, text=" ".join(words[:12]),
        allowed_category_ids=scope.category_ids, see_private=scope.see_private,
        see_deleted=False, user_id=scope.user_id, match_any=True, opening_posts_only=True,
        limit=limit))
    topic_ids = [hit.topic_id for hit in result.hits]
    slugs = {t.id: t.slug for t in await Topic.filter(id__in=topic_ids).only("id", "slug")}
    return [Similar(hit.topic_id, hit.title, slugs.get(hit.topic_id, ""))
            for hit in result.hits if hit.topic_id in slugs]
