"""Full-text search behind one protocol, with three backends sharing one contract suite.

The search package is core infrastructure: it knows documents and filters, not topics.
The topics domain turns topics and posts into ``SearchDocument``s (in jobs, after commit)
and turns a viewer's permissions into the ``allowed_*`` fields of a ``SearchQuery``, so a
backend never returns what the searcher may not read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from forum.settings import Settings


@dataclass(frozen=True)
class SearchDocument:
    """One post as the index sees it; ``number`` 1 is a topic's opening post."""

    post_id: int
    topic_id: int
    project_id: int
    category_id: int
    number: int
    title: str  # the topic's title (indexed on every post, ranked above the body)
    body: str  # plain text of the post (no HTML)
    tags: tuple[str, ...]
    kind: str
    state: str
    author_id: int
    created_at: datetime
    is_private: bool  # private topic: readable by the team and the topic's author only
    topic_author_id: int
    deleted: bool  # the post or its topic is deleted


@dataclass(frozen=True)
class SearchQuery:
    project_id: int
    text: str
    # Permission filters, computed by the caller from forum.topics.permissions.ReadScope.
    allowed_category_ids: frozenset[int]
    see_private: bool = False
    see_deleted: bool = False
    user_id: int | None = None  # sees their own private topics
    # Optional filters
    category_ids: frozenset[int] | None = None
    tags: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    author_id: int | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    limit: int = 20
    offset: int = 0
    # Duplicate suggestions: any word may match (best first), opening posts only.
    match_any: bool = False
    opening_posts_only: bool = False


@dataclass(frozen=True)
class SearchHit:
    post_id: int
    topic_id: int
    number: int
    title: str
    snippet: str  # HTML-safe text with matches wrapped in <mark>…</mark>
    score: float


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0  # an estimate for some backends


class SearchBackend(Protocol):
    async def setup(self) -> None:
        """Create what the backend needs (tables, indexes, settings); safe to call again."""

    async def index(self, documents: list[SearchDocument]) -> None:
        """Add or replace documents by post id."""

    async def delete(self, post_ids: list[int]) -> None:
        """Remove documents; unknown ids are ignored."""

    async def clear(self, project_id: int | None = None) -> None:
        """Remove every document (of one project)."""

    async def search(self, query: SearchQuery) -> SearchResult:
        """Matching documents the query's permission filters allow, best first."""


def build_search(settings: Settings) -> SearchBackend:
    """Meilisearch when a URL is configured, else the database's own full-text search."""
    if settings.meilisearch_url:
        from forum.search.meili import MeiliSearch

        return MeiliSearch(settings.meilisearch_url,
                           settings.meilisearch_api_key.get_secret_value() or None)
    if not settings.is_sqlite:
        from forum.search.postgres import PostgresSearch

        return PostgresSearch()
    from forum.search.sqlite_fts import SqliteSearch

    return SqliteSearch()
