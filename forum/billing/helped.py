""""Helped" marks: the team of a project marks the posts of a paid ticket that helped solve
it; a project that splits revenue (``BillingSettings.split_helped``) shares a solved
ticket's net among their authors. The requester's own posts cannot be marked (the
requester is never credited).

The ticket is found through ``forum_ticket_facts`` (billing does not import the support
queue).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from forum.billing.models import HelpedMark
from forum.billing.permissions import is_team
from forum.projects.permissions import ProjectAccess, access_project
from forum.topics.models import Post
from forum.web.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.hookspecs import TicketFacts
    from forum.platform import Platform


@dataclass(frozen=True)
class HelpedTicket:
    access: ProjectAccess
    facts: TicketFacts

    @property
    def is_paid(self) -> bool:
        return self.facts.tier != "free" and self.facts.amount_paid > 0


async def access_helped_ticket(platform: Platform, user: User | None, slug: str,
                               number: str) -> HelpedTicket:
    """A ticket of the project for its team; 404 for an unknown ticket (or a project the
    user may not see), 403 for anyone outside the team."""
    if user is None:
        raise Unauthenticated()
    access = await access_project(user, slug)
    try:
        wanted = int(number)
    except ValueError:
        raise NotFound("No such ticket.") from None
    if not is_team(access):
        raise Forbidden("Only the project's team may mark the posts that helped.")
    facts = await platform.ticket_facts(access.project.id, number=wanted)
    if facts is None or facts.project_id != access.project.id:
        raise NotFound("No such ticket.")
    return HelpedTicket(access, facts)


@dataclass(frozen=True)
class TicketPost:
    post: Post
    helped: bool
    markable: bool  # not the requester's


async def ticket_posts(ticket: HelpedTicket) -> list[TicketPost]:
    """The ticket's visible posts in order, with their marks."""
    posts = await Post.filter(topic_id=ticket.facts.topic_id, deleted_at__isnull=True,
                              hidden_at__isnull=True).order_by("number").prefetch_related(
        "author")
    rows: list[Any] = list(await HelpedMark.filter(
        ticket_id=ticket.facts.ticket_id).values_list("post_id", flat=True))
    marked = {int(r) for r in rows}
    return [TicketPost(p, p.id in marked,
                       p.author_id != ticket.facts.requester_id)  # type: ignore[attr-defined]
            for p in posts]


async def check_set_helped(ticket: HelpedTicket, marker: User, post_ids: list[int]
                           ) -> list[int]:
    """Make exactly ``post_ids`` the ticket's helped posts; the ids marked now."""
    if not ticket.is_paid:
        raise Conflict("Only a paid ticket's posts can be marked as having helped.")
    wanted = set(post_ids)
    posts = {tp.post.id: tp for tp in await ticket_posts(ticket)}
    unknown = wanted - set(posts)
    if unknown:
        raise Invalid("Please correct: post_ids.",
                      fields={"post_ids": "Only this ticket's posts can be marked."})
    if any(not posts[post_id].markable for post_id in wanted):
        raise Invalid("Please correct: post_ids.",
                      fields={"post_ids": "The requester's own posts cannot be marked."})
    return await do_set_helped(ticket.facts.ticket_id, marker, sorted(wanted))


async def do_set_helped(ticket_id: int, marker: User, post_ids: list[int]) -> list[int]:
    async with in_transaction():
        await HelpedMark.filter(ticket_id=ticket_id).exclude(post_id__in=post_ids).delete()
        rows: list[Any] = list(await HelpedMark.filter(ticket_id=ticket_id).values_list(
            "post_id", flat=True))
        kept = {int(r) for r in rows}
        for post_id in post_ids:
            if post_id not in kept:
                await HelpedMark.create(post_id=post_id, ticket_id=ticket_id,
                                        marked_by_id=marker.id)
    return post_ids
