"""The WHERE clause shared by the SQL backends: the query's filters and permissions.

Every value is a bound parameter; ``marker(n)`` writes the n-th one in the dialect's
syntax (``?`` for SQLite, ``$n`` for PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from forum.search import SearchQuery


class Where:
    def __init__(self, marker: Callable[[int], str], first: int = 1) -> None:
        self.marker = marker
        self.params: list[Any] = []
        self.clauses: list[str] = []
        self._first = first

    def bind(self, value: Any) -> str:
        self.params.append(value)
        return self.marker(self._first + len(self.params) - 1)

    def add(self, clause: str) -> None:
        self.clauses.append(clause)

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "1=1"


def permission_and_filters(
    where: Where, query: SearchQuery, *, date: Callable[[datetime], Any],
    tag_clause: Callable[[Where, str], str], false: str, alias: str = "d",
) -> bool:
    """Add the clauses; False when nothing can match (no readable category)."""
    a = alias
    categories = set(query.allowed_category_ids)
    if query.category_ids is not None:
        categories &= set(query.category_ids)
    if not categories:
        return False
    where.add(f"{a}.project_id = {where.bind(query.project_id)}")
    where.add(f"{a}.category_id IN ({', '.join(where.bind(c) for c in sorted(categories))})")
    if not query.see_private:
        if query.user_id is not None:
            where.add(f"({a}.is_private = {false} OR {a}.topic_author_id = "
                      f"{where.bind(query.user_id)})")
        else:
            where.add(f"{a}.is_private = {false}")
    if not query.see_deleted:
        where.add(f"{a}.deleted = {false}")
    for tag in query.tags:
        where.add(tag_clause(where, tag))
    if query.states:
        where.add(f"{a}.state IN ({', '.join(where.bind(s) for s in query.states)})")
    if query.kinds:
        where.add(f"{a}.kind IN ({', '.join(where.bind(k) for k in query.kinds)})")
    if query.opening_posts_only:
        where.add(f"{a}.number = 1")
    if query.author_id is not None:
        where.add(f"{a}.author_id = {where.bind(query.author_id)}")
    if query.created_after is not None:
        where.add(f"{a}.created_at >= {where.bind(date(query.created_after))}")
    if query.created_before is not None:
        where.add(f"{a}.created_at < {where.bind(date(query.created_before))}")
    return True
