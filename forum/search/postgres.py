"""PostgreSQL full-text search: a ``search_documents`` table with a generated tsvector.

The title is indexed with the 'simple' configuration at weight A, the body with 'english'
at weight B, so ``ts_rank_cd`` ranks a title match above a body match. The query is built
from parsed terms with bound parameters (never user text as tsquery syntax); each term
matches either configuration, so "installing" finds a title word as written and a stemmed
body word. Angle brackets are blanked before parsing: the text parser reads "<script>"
as markup and would skip what follows.
"""

from __future__ import annotations

from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from forum.search import SearchDocument, SearchHit, SearchQuery, SearchResult
from forum.search.query import MARK_END, MARK_START, Term, marked_to_html, parse_terms
from forum.search.sql import Where, permission_and_filters

SCHEMA = """
CREATE TABLE IF NOT EXISTS search_documents (
    post_id BIGINT PRIMARY KEY,
    topic_id BIGINT NOT NULL,
    project_id BIGINT NOT NULL,
    category_id BIGINT NOT NULL,
    number INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    tags TEXT[] NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    author_id BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    is_private BOOLEAN NOT NULL,
    topic_author_id BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL,
    document TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', translate(title, '<>', '  ')), 'A')
        || setweight(to_tsvector('english', translate(body, '<>', '  ')), 'B')
    ) STORED
);
CREATE INDEX IF NOT EXISTS search_documents_document ON search_documents USING GIN (document);
CREATE INDEX IF NOT EXISTS search_documents_project ON search_documents (project_id, category_id);
CREATE INDEX IF NOT EXISTS search_documents_topic ON search_documents (topic_id);
"""

COLUMNS = ("post_id, topic_id, project_id, category_id, number, title, body, tags, kind,"
           " state, author_id, created_at, is_private, topic_author_id, deleted")
HEADLINE_OPTIONS = (f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=35, MinWords=15,"
                    " MaxFragments=2, FragmentDelimiter=\" … \"")


def _term_sql(where: Where, term: Term) -> str:
    if term.prefix:
        # A prefix term is one run of letters and digits, so ":*" after it is valid syntax.
        bound = where.bind(f"{term.words[0]}:*")
        return f"(to_tsquery('simple', {bound}) || to_tsquery('english', {bound}))"
    bound = where.bind(" ".join(term.words))
    return f"(phraseto_tsquery('simple', {bound}) || phraseto_tsquery('english', {bound}))"


def _tag_clause(where: Where, tag: str) -> str:
    return f"d.tags @> ARRAY[{where.bind(tag)}]::text[]"


class PostgresSearch:
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
        await self.db.execute_many(
            f"INSERT INTO search_documents ({COLUMNS}) VALUES"
            " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
            " ON CONFLICT (post_id) DO UPDATE SET topic_id = EXCLUDED.topic_id,"
            " project_id = EXCLUDED.project_id, category_id = EXCLUDED.category_id,"
            " number = EXCLUDED.number, title = EXCLUDED.title, body = EXCLUDED.body,"
            " tags = EXCLUDED.tags, kind = EXCLUDED.kind, state = EXCLUDED.state,"
            " author_id = EXCLUDED.author_id, created_at = EXCLUDED.created_at,"
            " is_private = EXCLUDED.is_private, topic_author_id = EXCLUDED.topic_author_id,"
            " deleted = EXCLUDED.deleted",
            [[d.post_id, d.topic_id, d.project_id, d.category_id, d.number, d.title,
              d.body.replace("\x00", ""), list(d.tags), d.kind, d.state, d.author_id,
              d.created_at, d.is_private, d.topic_author_id, d.deleted] for d in documents])

    async def delete(self, post_ids: list[int]) -> None:
        if post_ids:
            await self.db.execute_query(
                "DELETE FROM search_documents WHERE post_id = ANY($1::bigint[])", [post_ids])

    async def clear(self, project_id: int | None = None) -> None:
        if project_id is None:
            await self.db.execute_script("DELETE FROM search_documents")
        else:
            await self.db.execute_query(
                "DELETE FROM search_documents WHERE project_id = $1", [project_id])

    async def search(self, query: SearchQuery) -> SearchResult:
        terms = parse_terms(query.text)
        if not terms:
            return SearchResult()
        where = Where(lambda n: f"${n}")
        joiner = " || " if query.match_any else " && "
        tsquery = joiner.join(_term_sql(where, term) for term in terms)
        if not permission_and_filters(where, query, date=lambda v: v, tag_clause=_tag_clause,
                                      false="false"):
            return SearchResult()
        sql = (f"WITH q AS (SELECT {tsquery} AS query),"
               f" matches AS (SELECT d.post_id, d.topic_id, d.number, d.title, d.body,"
               f" ts_rank_cd(d.document, q.query) AS rank, count(*) OVER () AS total"
               f" FROM search_documents d, q WHERE d.document @@ q.query AND {where.sql()}"
               f" ORDER BY rank DESC, d.post_id"
               f" LIMIT {where.bind(query.limit)} OFFSET {where.bind(query.offset)})"
               f" SELECT m.post_id, m.topic_id, m.number, m.title, m.rank, m.total,"
               f" ts_headline('english', translate(m.body, '<>', '  '), q.query,"
               f" {where.bind(HEADLINE_OPTIONS)})"
               f" FROM matches m, q ORDER BY m.rank DESC, m.post_id")
        _, rows = await self.db.execute_query(sql, where.params)
        if not rows:
            return SearchResult(total=await self._count(tsquery, where) if query.offset else 0)
        hits = [SearchHit(post_id=int(r[0]), topic_id=int(r[1]), number=int(r[2]),
                          title=str(r[3]), snippet=marked_to_html(str(r[6])), score=float(r[4]))
                for r in rows]
        return SearchResult(hits=hits, total=int(rows[0][5]))

    async def _count(self, tsquery: str, where: Where) -> int:
        """The total when the page is past the end (the window count saw no rows)."""
        params: list[Any] = where.params[:-3]  # without limit, offset and headline options
        _, rows = await self.db.execute_query(
            f"SELECT count(*) FROM search_documents d WHERE d.document @@ ({tsquery})"
            f" AND {where.sql()}", params)
        return int(rows[0][0])
