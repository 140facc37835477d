"""Meilisearch through the official ``meilisearch`` client (synchronous: run in a thread).

One index per installation holds every project's posts; the project, category and
permission fields are filterable attributes and every search filters on them. Writes wait
for their task, so a job that indexed a topic has finished when it returns.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import meilisearch

from forum.search import SearchDocument, SearchHit, SearchQuery, SearchResult
from forum.search.query import MARK_END, MARK_START, Term, marked_to_html, parse_terms

FILTERABLE = ["post_id", "number", "project_id", "category_id", "tags", "kind", "state",
              "author_id", "created_at", "is_private", "topic_author_id", "deleted"]
SETTINGS: dict[str, Any] = {
    "searchableAttributes": ["title", "body"],  # in this order: a title match ranks first
    "filterableAttributes": FILTERABLE,
    "sortableAttributes": ["created_at"],
    "displayedAttributes": ["post_id", "topic_id", "number", "title", "body"],
}
TASK_TIMEOUT_MS = 30_000


def _timestamp(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def _string(value: str) -> str:
    return json.dumps(value)  # a double-quoted string with quotes and backslashes escaped


def document_of(doc: SearchDocument) -> dict[str, Any]:
    return {
        "post_id": doc.post_id, "topic_id": doc.topic_id, "project_id": doc.project_id,
        "category_id": doc.category_id, "number": doc.number, "title": doc.title,
        "body": doc.body, "tags": list(doc.tags), "kind": doc.kind, "state": doc.state,
        "author_id": doc.author_id, "created_at": _timestamp(doc.created_at),
        "is_private": doc.is_private, "topic_author_id": doc.topic_author_id,
        "deleted": doc.deleted,
    }


def meili_text(terms: list[Term]) -> str:
    """Phrases quoted; Meilisearch treats only the last word as a prefix, so the prefix
    terms go last (the order of words does not change which documents match)."""
    ordered = sorted(terms, key=lambda term: term.prefix)
    return " ".join(f'"{" ".join(t.words)}"' if t.is_phrase else t.words[0] for t in ordered)


def filter_of(query: SearchQuery) -> str | None:
    """The query's filters and permissions in Meilisearch's filter syntax; None: no match."""
    categories = set(query.allowed_category_ids)
    if query.category_ids is not None:
        categories &= set(query.category_ids)
    if not categories:
        return None
    parts = [f"project_id = {int(query.project_id)}",
             f"category_id IN [{', '.join(str(int(c)) for c in sorted(categories))}]"]
    if not query.see_private:
        if query.user_id is not None:
            parts.append(f"(is_private = false OR topic_author_id = {int(query.user_id)})")
        else:
            parts.append("is_private = false")
    if not query.see_deleted:
        parts.append("deleted = false")
    parts.extend(f"tags = {_string(tag)}" for tag in query.tags)
    if query.states:
        parts.append(f"state IN [{', '.join(_string(s) for s in query.states)}]")
    if query.kinds:
        parts.append(f"kind IN [{', '.join(_string(k) for k in query.kinds)}]")
    if query.opening_posts_only:
        parts.append("number = 1")
    if query.author_id is not None:
        parts.append(f"author_id = {int(query.author_id)}")
    if query.created_after is not None:
        parts.append(f"created_at >= {_timestamp(query.created_after)}")
    if query.created_before is not None:
        parts.append(f"created_at < {_timestamp(query.created_before)}")
    return " AND ".join(parts)


class MeiliSearch:
    def __init__(self, url: str, api_key: str | None = None, *,
                 index_uid: str = "forum_posts") -> None:
        self.client = meilisearch.Client(url, api_key, timeout=30)
        self.index_uid = index_uid

    @property
    def _index(self) -> meilisearch.index.Index:
        return self.client.index(self.index_uid)

    def _wait(self, task_uid: int) -> None:
        task = self.client.wait_for_task(task_uid, timeout_in_ms=TASK_TIMEOUT_MS)
        if task.status != "succeeded":
            raise RuntimeError(f"Meilisearch task {task_uid} {task.status}: {task.error}")

    def _setup(self) -> None:
        try:
            self._index.fetch_info()
        except meilisearch.errors.MeilisearchApiError as exc:
            if exc.code != "index_not_found":
                raise
            self._wait(self.client.create_index(self.index_uid, {"primaryKey": "post_id"}).task_uid)
        self._wait(self._index.update_settings(SETTINGS).task_uid)

    async def setup(self) -> None:
        await asyncio.to_thread(self._setup)

    async def index(self, documents: list[SearchDocument]) -> None:
        if documents:
            payload = [document_of(d) for d in documents]
            await asyncio.to_thread(
                lambda: self._wait(self._index.add_documents(payload, "post_id").task_uid))

    async def delete(self, post_ids: list[int]) -> None:
        if post_ids:
            expression = f"post_id IN [{', '.join(str(int(i)) for i in post_ids)}]"
            await asyncio.to_thread(
                lambda: self._wait(self._index.delete_documents(filter=expression).task_uid))

    async def clear(self, project_id: int | None = None) -> None:
        def run() -> None:
            if project_id is None:
                self._wait(self._index.delete_all_documents().task_uid)
            else:
                self._wait(self._index.delete_documents(
                    filter=f"project_id = {int(project_id)}").task_uid)

        await asyncio.to_thread(run)

    async def search(self, query: SearchQuery) -> SearchResult:
        terms = parse_terms(query.text)
        expression = filter_of(query)
        if not terms or expression is None:
            return SearchResult()
        params: dict[str, Any] = {
            "filter": expression, "limit": query.limit, "offset": query.offset,
            "attributesToHighlight": ["body"], "attributesToCrop": ["body"], "cropLength": 30,
            "highlightPreTag": MARK_START, "highlightPostTag": MARK_END,
            "showRankingScore": True,
            # "all": every word must match, like the SQL backends; "last" drops words from
            # the end until something matches (duplicate suggestions).
            "matchingStrategy": "last" if query.match_any else "all",
        }
        text = meili_text(terms)
        response = await asyncio.to_thread(self._index.search, text, params)
        hits = []
        for hit in response.get("hits", []):
            formatted = hit.get("_formatted") or {}
            hits.append(SearchHit(
                post_id=int(hit["post_id"]), topic_id=int(hit["topic_id"]),
                number=int(hit["number"]), title=str(hit["title"]),
                snippet=marked_to_html(str(formatted.get("body", ""))),
                score=float(hit.get("_rankingScore", 0.0))))
        total = int(response.get("estimatedTotalHits", response.get("totalHits", len(hits))))
        return SearchResult(hits=hits, total=total)
