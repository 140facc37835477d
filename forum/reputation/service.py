"""Reputation's verbs: totals, leaderboards, a user's history and the project's rules.

    reputation_of(project_id, user_id) -> int
    reputations(project_id, user_ids) -> {user_id: int}   (one query, any number of users)
    leaderboard(project_id, period, by) -> [(user_id, username, value)]
    history(project_id, user_id, before, limit) -> ([ReputationEntry], next cursor)
    check_update_rules(access, ReputationSettings) -> ReputationSettings   (owners, leads)

The ledger itself is written by ``forum.reputation.ledger`` from the event listeners.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from tortoise.functions import Count, Sum

from forum.accounts.models import User
from forum.projects.permissions import Action, ProjectAccess
from forum.reputation.config import load_rules, save_rules
from forum.reputation.ledger import Cause, reconcile_post
from forum.reputation.models import Kind, ReputationEntry, ReputationMonth, ReputationTotal
from forum.reputation.schemas import ReputationSettings
from forum.web.errors import Forbidden, Invalid

LEADERBOARD_SIZE = 50
HISTORY_PAGE = 50


async def reputation_of(project_id: int, user_id: int) -> int:
    """A user's reputation in a project (1 before they earned anything)."""
    found = await ReputationTotal.filter(project_id=project_id, user_id=user_id).only(
        "id", "total").first()
    return found.total if found is not None else 1


async def reputations(project_id: int, user_ids: list[int]) -> dict[int, int]:
    """Every listed user's reputation in the project, in one query."""
    wanted = sorted(set(user_ids))
    found: dict[int, int] = dict.fromkeys(wanted, 1)
    if wanted:
        rows = await ReputationTotal.filter(project_id=project_id, user_id__in=wanted
                                            ).values_list("user_id", "total")
        found.update({int(u): int(t) for u, t in rows})
    return found


class Period(StrEnum):
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    ALL = "all"


class Board(StrEnum):
    REPUTATION = "reputation"
    ACCEPTED = "accepted"


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PERIOD_DAYS = {Period.WEEK: 7, Period.MONTH: 30, Period.YEAR: 365}


def parse_board(period: str | None, by: str | None) -> tuple[Period, Board]:
    """The leaderboard's query parameters, or 422."""
    try:
        chosen = Period(period or Period.WEEK)
    except ValueError:
        raise Invalid("Choose a period: week, month, year or all.",
                      fields={"period": "week, month, year or all"}) from None
    try:
        board = Board(by or Board.REPUTATION)
    except ValueError:
        raise Invalid("Rank by reputation or accepted.",
                      fields={"by": "reputation or accepted"}) from None
    return chosen, board


async def leaderboard(project_id: int, period: Period, by: Board,
                      now: datetime | None = None) -> list[tuple[int, str, int]]:
    """The top users of the period: reputation gained (all time: reputation) or accepted
    answers (acceptances withdrawn since don't count)."""
    now = now or datetime.now(UTC)
    ranked: list[tuple[int, int]]
    if by == Board.REPUTATION and period == Period.ALL:
        rows = await ReputationTotal.filter(project_id=project_id, total__gt=1).order_by(
            "-total", "user_id").limit(LEADERBOARD_SIZE).values_list("user_id", "total")
        ranked = [(int(u), int(t)) for u, t in rows]
    else:
        since = EPOCH if period == Period.ALL else now - timedelta(days=PERIOD_DAYS[period])
        figures = await _gained_since(project_id, since, now, by)
        ranked = sorted(((u, v) for u, v in figures.items() if v > 0),
                        key=lambda r: (-r[1], r[0]))[:LEADERBOARD_SIZE]
    names = dict(await User.filter(id__in=[u for u, _ in ranked]).values_list("id", "username"))
    return [(u, str(names.get(u, "")), v) for u, v in ranked if u in names]


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


async def _gained_since(project_id: int, since: datetime, now: datetime, by: Board
                        ) -> dict[int, int]:
    """Per user: reputation gained (or answers accepted) from ``since`` to now. Whole
    months come from ``ReputationMonth``; the part of a month before them from the ledger,
    read through its covering (project, created_at) index."""
    first_whole = since.date().replace(day=1)
    if since != datetime.combine(first_whole, time.min, UTC):
        first_whole = _next_month(first_whole)
    found: dict[int, int] = defaultdict(int)
    column = "gained" if by == Board.REPUTATION else "accepted"
    for user_id, value in await ReputationMonth.filter(
            project_id=project_id, month__gte=first_whole).annotate(
            v=Sum(column)).group_by("user_id").values_list("user_id", "v"):
        found[int(user_id)] += int(value or 0)
    head_end = min(datetime.combine(first_whole, time.min, UTC), now + timedelta(days=1))
    if since >= head_end:
        return found
    # A closed range: SQLite's planner then prefers the covering index.
    head = ReputationEntry.filter(project_id=project_id, created_at__gte=since,
                                  created_at__lt=head_end)
    if by == Board.REPUTATION:
        for user_id, value in await head.annotate(v=Sum("delta")).group_by(
                "user_id").values_list("user_id", "v"):
            found[int(user_id)] += int(value or 0)
    else:
        for sign, lookup in ((1, {"points__gt": 0}), (-1, {"points__lt": 0})):
            for user_id, n in await head.filter(kind=Kind.ACCEPT, **lookup).annotate(
                    n=Count("points")).group_by("user_id").values_list("user_id", "n"):
                found[int(user_id)] += sign * int(n)
    return found


def parse_cursor(raw: str | None) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise Invalid("The cursor is not valid.", fields={"before": "not a valid cursor"})
    return int(raw)


async def history(project_id: int, user_id: int, before: int | None = None,
                  limit: int = HISTORY_PAGE) -> tuple[list[ReputationEntry], str | None]:
    """A user's ledger in the project, newest first, ``limit`` at a time."""
    query = ReputationEntry.filter(project_id=project_id, user_id=user_id)
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (str(rows[-1].id) if more and rows else None)


def can_configure(access: ProjectAccess) -> bool:
    return access.can(Action.MANAGE_SETTINGS)


async def check_update_rules(access: ProjectAccess, rules: ReputationSettings
                             ) -> ReputationSettings:
    """Owners, leads and platform admins change the project's rules."""
    if not can_configure(access):
        raise Forbidden("Only a project owner or lead may change the reputation rules.")
    return await save_rules(access.project.id, rules)


async def rules_of(project_id: int) -> ReputationSettings:
    return await load_rules(project_id)


__all__ = ["Board", "Cause", "Period", "check_update_rules", "history", "leaderboard",
           "parse_board", "reconcile_post", "reputation_of", "reputations", "rules_of"]
