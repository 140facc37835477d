"""The team's support inbox: queued tickets in queue order with filters, "take next", and
bulk actions (assign or transfer, priority, state) through the tickets domain's own verbs.

Filters: ``all``, ``unassigned`` and ``mine`` are pages of the queue's order (positions are
those of the whole queue); ``waiting`` (on the requester) and ``on_hold`` list paused
tickets, longest waiting first; ``breaching`` lists queued tickets past or near their due
time (the SLA's warning lead), most urgent first.

"Take next" self-assigns the top unassigned ticket with a conditional UPDATE (only while it
is still queued and unassigned), so two supporters pressing it at once get two different
tickets, never the same one.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from forum import events
from forum.accounts.models import User
from forum.projects.models import Membership
from forum.projects.permissions import ProjectAccess
from forum.support_queue import sla
from forum.support_queue.levels import ids_of
from forum.support_queue.models import Ticket, TicketState
from forum.support_queue.permissions import TicketContext, access_ticket
from forum.support_queue.queue import QueueFilter, queue_page, reader_for
from forum.support_queue.schemas import TicketPatch
from forum.support_queue.states import assign, check_assignee, check_set_state, do_set_state
from forum.support_queue.update import update_ticket
from forum.topics.permissions import TEAM_ROLES
from forum.web.errors import Forbidden, Invalid, NotFound, UserError

if TYPE_CHECKING:
    from forum.platform import Platform

InboxFilter = Literal["all", "unassigned", "mine", "waiting", "on_hold", "breaching"]
FILTERS: tuple[InboxFilter, ...] = ("all", "unassigned", "mine", "waiting", "on_hold",
                                    "breaching")
PAUSED_FILTERS: dict[str, TicketState] = {"waiting": TicketState.WAITING,
                                          "on_hold": TicketState.ON_HOLD}
PAGE_SIZE = 50
MAX_PAGE = 100
MAX_BULK = 100
TAKE_TRIES = 5  # pages of candidates "take next" looks at when others take them first
BulkAction = Literal["assign", "priority", "state"]


def require_team(access: ProjectAccess) -> None:
    if not (access.is_admin or (access.role is not None and access.role in TEAM_ROLES)):
        raise Forbidden("Only the project's team may use the support inbox.")


@dataclass(frozen=True)
class InboxRow:
    position: int | None
    ticket: Ticket  # with topic, requester and assignee loaded
    breach: sla.BreachStatus


@dataclass
class InboxPage:
    filter: InboxFilter
    rows: list[InboxRow]
    offset: int
    limit: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def has_more(self) -> bool:
        total = self.counts.get(self.filter)
        return total is not None and self.offset + len(self.rows) < total


async def counts(project_id: int, user_id: int, now: datetime) -> dict[str, int]:
    queued = Ticket.filter(project_id=project_id,
                           state__in=[TicketState.QUEUED, TicketState.ASSIGNED])
    lead = await sla.warning_lead(project_id)
    return {
        "all": await queued.count(),
        "unassigned": await queued.filter(assignee_id=None).count(),
        "mine": await queued.filter(assignee_id=user_id).count(),
        "waiting": await Ticket.filter(project_id=project_id, state=TicketState.WAITING).count(),
        "on_hold": await Ticket.filter(project_id=project_id,
                                       state=TicketState.ON_HOLD).count(),
        "breaching": (await sla.breaching(project_id, now, lead, limit=0)).count,
    }


async def inbox_page(platform: Platform, project_id: int, user_id: int,
                     which: InboxFilter = "all", *, offset: int = 0, limit: int = PAGE_SIZE,
                     now: datetime | None = None) -> InboxPage:
    now = now or datetime.now(UTC)
    lead = await sla.warning_lead(project_id)
    positioned: list[tuple[int | None, Ticket]]
    if which in ("all", "unassigned", "mine"):
        filters = QueueFilter(unassigned=which == "unassigned",
                              assignee_id=user_id if which == "mine" else None)
        positioned = list(await queue_page(project_id, limit=limit, offset=offset,
                                           filters=filters, platform=platform, now=now))
    elif which in PAUSED_FILTERS:
        tickets = await (Ticket.filter(project_id=project_id, state=PAUSED_FILTERS[which])
                         .order_by("last_requester_reaction_at", "id").offset(offset)
                         .limit(limit).select_related("topic", "requester"))
        positioned = [(None, t) for t in tickets]
    else:
        found = await sla.breaching(project_id, now, lead, limit=offset + limit)
        ids = found.ids[offset:offset + limit]
        by_id = {t.id: t for t in await Ticket.filter(id__in=ids).select_related(
            "topic", "requester")}
        reader = await reader_for(project_id, platform=platform, now=now)
        positioned = [(await reader.position(by_id[i]), by_id[i]) for i in ids if i in by_id]
    assignee_ids = {t.assignee_id for _, t in positioned  # type: ignore[attr-defined]
                    if t.assignee_id is not None}  # type: ignore[attr-defined]
    assignees = {u.id: u for u in await User.filter(id__in=list(assignee_ids))}
    rows: list[InboxRow] = []
    for position, ticket in positioned:
        assignee_id = ticket.assignee_id  # type: ignore[attr-defined]
        ticket.assignee = assignees.get(assignee_id) if assignee_id is not None else None
        rows.append(InboxRow(position, ticket, sla.breach_status(ticket, now, lead)))
    return InboxPage(which, rows, offset, limit, await counts(project_id, user_id, now))


async def team_members(project_id: int) -> list[User]:
    """Whom tickets can be assigned to, by name."""
    ids = await ids_of(Membership.filter(project_id=project_id,
                                         role__in=[str(r) for r in TEAM_ROLES]), "user_id")
    return list(await User.filter(id__in=ids, is_active=True).order_by("username_lower"))


# Take next


async def take_next(platform: Platform, access: ProjectAccess, user: User,
                    now: datetime | None = None) -> Ticket | None:
    """Self-assign the top unassigned queued ticket; None when there is none left."""
    require_team(access)
    project_id = access.project.id
    for _ in range(TAKE_TRIES):
        # Tickets taken meanwhile leave the unassigned view, so the first page is always
        # the next candidates.
        candidates = await queue_page(project_id, limit=10,
                                      filters=QueueFilter(unassigned=True), platform=platform,
                                      now=now)
        if not candidates:
            return None
        for _position, ticket in candidates:
            claimed = await Ticket.filter(id=ticket.id, assignee_id=None,
                                          state=TicketState.QUEUED).update(
                assignee_id=user.id, state=TicketState.ASSIGNED)
            if claimed:
                await platform.emit(events.TicketAssigned(
                    project=project_id, ticket_id=ticket.id, assignee_id=user.id,
                    actor_id=user.id))
                await platform.emit(events.TicketStateChanged(
                    project=project_id, ticket_id=ticket.id, actor_id=user.id,
                    old=TicketState.QUEUED.value, new=TicketState.ASSIGNED.value))
                await ticket.refresh_from_db()
                return ticket
    return None


# Bulk actions


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


async def _contexts(user: User, access: ProjectAccess, ticket_ids: list[int]
                    ) -> list[TicketContext]:
    if not ticket_ids:
        raise Invalid("Select at least one ticket.", fields={"ticket_ids": "none selected"})
    if len(ticket_ids) > MAX_BULK:
        raise Invalid(f"At most {MAX_BULK} tickets at once.",
                      fields={"ticket_ids": "too many"})
    found: list[TicketContext] = []
    for ticket_id in dict.fromkeys(ticket_ids):
        ctx = await access_ticket(user, ticket_id)
        if ctx.project.id != access.project.id:
            raise NotFound("No such ticket.")
        found.append(ctx)
    return found


async def check_bulk(platform: Platform, access: ProjectAccess, user: User,
                     ticket_ids: list[int], action: BulkAction, value: str) -> BulkResult:
    """Validate the whole selection first (nothing changes on a 4xx), then apply the action
    to each ticket; a ticket that changed meanwhile is skipped with the reason."""
    require_team(access)
    contexts = await _contexts(user, access, ticket_ids)
    result = BulkResult()
    if action == "assign":
        assignee = await check_assignee(contexts[0], value or None)
        for ctx in contexts:
            await _apply(result, ctx, assign(platform, ctx,
                                             assignee.username if assignee else None))
    elif action == "priority":
        if value.strip() not in {"1", "2", "3", "4", "5"}:
            raise Invalid("Choose a priority from 1 to 5.", fields={"value": "1 to 5"})
        patch = TicketPatch(priority=int(value))
        for ctx in contexts:
            await _apply(result, ctx, update_ticket(platform, ctx, patch))
    elif action == "state":
        wanted = [check_set_state(ctx, value) for ctx in contexts]
        for ctx, new in zip(contexts, wanted, strict=True):
            await _apply(result, ctx, do_set_state(platform, ctx, new))
    else:
        raise Invalid("Choose an action.", fields={"action": "assign, priority or state"})
    return result


async def _apply(result: BulkResult, ctx: TicketContext, change: Awaitable[object]) -> None:
    try:
        await change
    except UserError as exc:
        result.skipped[ctx.ticket.id] = exc.message
    else:
        result.done.append(ctx.ticket.id)
