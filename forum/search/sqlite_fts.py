"""SQLite FTS5 search, the embedded default: one FTS5 table plus a metadata table.

``search_fts`` holds the text (rowid = post id) and ranks with bm25, the title weighted
ten times the body; ``search_meta`` holds the filter and permission columns, joined on the
rowid. The tables live in the forum's own database and are created by ``setup()``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from forum.search import SearchDocument, SearchHit, SearchQuery, SearchResult
from forum.search.query import (
    MARK_END,
    MARK_START,
    Term,
    marked_to_html,
    parse_terms,
    without_stop_words,
)
from forum.search.sql import Where, permission_and_filters

SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
    title, body, tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS search_meta (
    post_id INTEGER PRIMARY KEY,
    topic_id INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    category_id INTEGER NOT NULL,
    number INTEGER NOT NULL,
    title TEXT NOT NULL,
    tags TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    author_id INTEGER NOT NULL,
    created_at REAL NOT NULL,
    is_private INTEGER NOT NULL,
    topic_author_id INTEGER NOT NULL,
    deleted INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS search_meta_project ON search_meta (project_id, category_id);
CREATE INDEX IF NOT EXISTS search_meta_topic ON search_meta (topic_id);
"""

COUNT_CAP = 1000  # SearchResult.total is at most this (the search page shows 50 pages)
TITLE_WEIGHT = 10.0
BODY_WEIGHT = 1.0


def fts5_query(terms: list[Term], *, match_any: bool = False) -> str:
    """Each term quoted (so no user text is FTS5 syntax), ANDed (or ORed for ``match_any``);
    prefixes keep their ``*``."""
    parts = []
    for term in terms:
        quoted = '"' + " ".join(term.words).replace('"', "") + '"'
        parts.append(quoted + ("*" if term.prefix else ""))
    return (" OR " if match_any else " ").join(parts)


def _epoch(value: datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _tag_clause(where: Where, tag: str) -> str:
    escaped = tag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"d.tags LIKE {where.bind(f'%|{escaped}|%')} ESCAPE '\\'"


class SqliteSearch:
    def __init__(self, connection: str = "default") -> None:
        self.connection_name = connection

    @property
    def db(self) -> BaseDBAsyncClient:
        return connections.get(self.connection_name)

    async def setup(self) -> None:
        await self.db.execute_script(SCHEMA)

    async def index(self, documents: list[SearchDocument]) -> None:
        if not documents:
            return
        ids = [d.post_id for d in documents]
        await self.delete(ids)
        await self.db.execute_many(
            "INSERT INTO search_fts (rowid, title, body) VALUES (?, ?, ?)",
            [[d.post_id, d.title, d.body] for d in documents])
        await self.db.execute_many(
            "INSERT INTO search_meta (post_id, topic_id, project_id, category_id, number, title,"
            " tags, kind, state, author_id, created_at, is_private, topic_author_id, deleted)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[d.post_id, d.topic_id, d.project_id, d.category_id, d.number, d.title,
              "|" + "|".join(d.tags) + "|", d.kind, d.state, d.author_id, _epoch(d.created_at),
              int(d.is_private), d.topic_author_id, int(d.deleted)] for d in documents])

    async def delete(self, post_ids: list[int]) -> None:
        for start in range(0, len(post_ids), 500):
            chunk = post_ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            await self.db.execute_query(f"DELETE FROM search_fts WHERE rowid IN ({marks})", chunk)
            await self.db.execute_query(f"DELETE FROM search_meta WHERE post_id IN ({marks})",
                                        chunk)

    async def clear(self, project_id: int | None = None) -> None:
        if project_id is None:
            await self.db.execute_script("DELETE FROM search_fts; DELETE FROM search_meta;")
            return
        await self.db.execute_query(
            "DELETE FROM search_fts WHERE rowid IN"
            " (SELECT post_id FROM search_meta WHERE project_id = ?)", [project_id])
        await self.db.execute_query("DELETE FROM search_meta WHERE project_id = ?", [project_id])

    async def search(self, query: SearchQuery) -> SearchResult:
        terms = without_stop_words(parse_terms(query.text))
        if not terms:
            return SearchResult()
        where = Where(lambda n: "?", first=1)
        match = where.bind(fts5_query(terms, match_any=query.match_any))
        where.add(f"search_fts MATCH {match}")
        if not permission_and_filters(where, query, date=_epoch, tag_clause=_tag_clause,
                                      false="0"):
            return SearchResult()
        # CROSS JOIN keeps the full-text match as the outer loop: otherwise SQLite may walk
        # the metadata index and re-run the MATCH for every row of the project.
        base = (f"FROM search_fts CROSS JOIN search_meta d ON d.post_id = search_fts.rowid"
                f" WHERE {where.sql()}")
        # Counting stops at COUNT_CAP: a word found in most posts would otherwise cost a
        # second full pass, and no one pages that far.
        _, counted = await self.db.execute_query(
            f"SELECT count(*) FROM (SELECT 1 {base} LIMIT {COUNT_CAP})", where.params)
        total = int(counted[0][0])
        if total == 0 or query.offset >= total:
            return SearchResult(total=total)
        _, rows = await self.db.execute_query(
            f"SELECT d.post_id, d.topic_id, d.number, d.title,"
            f" bm25(search_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS rank {base}"
            f" ORDER BY rank, d.post_id LIMIT ? OFFSET ?",
            [*where.params, query.limit, query.offset])
        snippets = await self._snippets(match_text=where.params[0],
                                        post_ids=[int(r[0]) for r in rows])
        hits = [SearchHit(post_id=int(r[0]), topic_id=int(r[1]), number=int(r[2]),
                          title=str(r[3]), snippet=snippets.get(int(r[0]), ""),
                          score=-float(r[4])) for r in rows]
        return SearchResult(hits=hits, total=total)

    async def _snippets(self, match_text: Any, post_ids: list[int]) -> dict[int, str]:
        """Snippets of the page's hits only (computing them for every match is slow)."""
        marks = ", ".join("?" for _ in post_ids)
        _, rows = await self.db.execute_query(
            f"SELECT rowid, snippet(search_fts, 1, '{MARK_START}', '{MARK_END}', '…', 24)"
            f" FROM search_fts WHERE search_fts MATCH ? AND rowid IN ({marks})",
            [match_text, *post_ids])
        return {int(r[0]): marked_to_html(str(r[1])) for r in rows}
