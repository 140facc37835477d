"""Satisfaction: the requester rates a solved ticket good, okay or bad, with an optional
comment; they may change it while the ticket stays solved, not once it is closed.

Each rating keeps the supporter who handled the ticket (its assignee when rated), so the
dashboards can show figures per ticket, per supporter and per project::

    await ticket_rating(ticket_id) -> SatisfactionRating | None
    await summary(project_id, supporter_id=None, since=None) -> Summary
    await summaries_by_supporter(project_id, since=None) -> dict[int, Summary]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.functions import Count

from forum.support_queue.models import TicketState
from forum.support_queue.permissions import TicketContext
from forum.support_queue.team_models import Rating, SatisfactionRating
from forum.web.errors import Conflict, Forbidden

MAX_COMMENT = 2000


@dataclass(frozen=True)
class Summary:
    good: int = 0
    okay: int = 0
    bad: int = 0

    @property
    def total(self) -> int:
        return self.good + self.okay + self.bad

    @property
    def score(self) -> float | None:
        """The share of good ratings (Zendesk's CSAT), None without ratings."""
        return None if not self.total else self.good / self.total


def may_rate(ctx: TicketContext) -> bool:
    return ctx.is_requester and ctx.ticket.state == TicketState.SOLVED


def check_rate(ctx: TicketContext, comment: str) -> str:
    """403 for anyone but the requester; 409 unless the ticket is solved (rating opens when
    it is solved and closes with the ticket)."""
    if not ctx.is_requester:
        raise Forbidden("Only the ticket's requester may rate it.")
    if ctx.ticket.state == TicketState.CLOSED:
        raise Conflict("This ticket is closed; its rating can no longer change.")
    if ctx.ticket.state != TicketState.SOLVED:
        raise Conflict("A ticket can be rated once it is solved.")
    return comment.strip()[:MAX_COMMENT]


async def do_rate(ctx: TicketContext, rating: Rating, comment: str) -> SatisfactionRating:
    ticket = ctx.ticket
    values: dict[str, Any] = {
        "rating": rating, "comment": comment,
        "supporter_id": ticket.assignee_id,  # type: ignore[attr-defined]
    }
    updated = await SatisfactionRating.filter(ticket_id=ticket.id).update(**values)
    if not updated:
        _row, created = await SatisfactionRating.get_or_create(
            ticket_id=ticket.id, defaults={
                **values, "project_id": ctx.project.id,
                "requester_id": ticket.requester_id})  # type: ignore[attr-defined]
        if not created:  # a concurrent first rating: the later one wins
            await SatisfactionRating.filter(ticket_id=ticket.id).update(**values)
    return await SatisfactionRating.get(ticket_id=ticket.id)


async def rate(ctx: TicketContext, rating: Rating, comment: str = "") -> SatisfactionRating:
    return await do_rate(ctx, rating, check_rate(ctx, comment))


async def ticket_rating(ticket_id: int) -> SatisfactionRating | None:
    return await SatisfactionRating.get_or_none(ticket_id=ticket_id)


def _summary(rows: list[tuple[Any, Any]]) -> Summary:
    found = {str(rating): int(n) for rating, n in rows}
    return Summary(found.get(Rating.GOOD, 0), found.get(Rating.OKAY, 0),
                   found.get(Rating.BAD, 0))


async def summary(project_id: int, supporter_id: int | None = None,
                  since: datetime | None = None) -> Summary:
    """Ratings in a project (of one supporter's tickets when ``supporter_id`` is given),
    updated since ``since`` if given."""
    query = SatisfactionRating.filter(project_id=project_id)
    if supporter_id is not None:
        query = query.filter(supporter_id=supporter_id)
    if since is not None:
        query = query.filter(updated_at__gte=since)
    rows = await query.annotate(n=Count("id")).group_by("rating").values_list("rating", "n")
    return _summary(list(rows))


async def summaries_by_supporter(project_id: int, since: datetime | None = None
                                 ) -> dict[int, Summary]:
    """Per supporter (tickets rated while unassigned are left out), in one query."""
    query = SatisfactionRating.filter(project_id=project_id, supporter_id__isnull=False)
    if since is not None:
        query = query.filter(updated_at__gte=since)
    rows = await query.annotate(n=Count("id")).group_by("supporter_id", "rating").values_list(
        "supporter_id", "rating", "n")
    grouped: dict[int, list[tuple[Any, Any]]] = {}
    for supporter_id, rating, n in rows:
        grouped.setdefault(int(supporter_id), []).append((rating, n))
    return {supporter_id: _summary(found) for supporter_id, found in grouped.items()}
