"""Response targets and due times: a project's SLA, its business calendar and the clock
of each ticket.

A ticket's first response is due ``first_response_minutes`` of business time after it was
submitted; after the team has answered, each reaction of the requester starts a new clock
for the next response (``next_response_minutes``). Waiting on the requester and on hold
stop the clock: when it runs again, the due time moves later by the business time spent
paused before the due time (``SlaPause`` rows keep each pause; pausing after a due time
passed changes nothing). Targets are per tier and priority; a project without its own
uses ``DEFAULT_TARGETS`` (free tickets have none).

For other parts of the support queue::

    await load_calendar(project) -> Calendar
    await load_targets(project_id, tier, priority) -> Targets
    due_times(ticket, cal, targets, pauses=()) -> DueTimes          # pure
    due_after(start, seconds, pauses, until, cal) -> datetime       # one clock, pure
    current_due(ticket) -> (kind, due_at) | None                    # the due time that counts now
    breach_status(ticket, now, lead=timedelta(minutes=60)) -> "ok" | "soon" | "breached"
    await warning_lead(project_id) -> timedelta                     # the project's "soon"
    breaching_q(now, within) -> Q                                   # for Ticket queries
    await breaching(project_id, now, within=timedelta(0), limit=None) -> Breaching
        # open (queued or assigned, not paused) tickets whose due time is at or before
        # now + within, most urgent first: .ids (list[int], at most ``limit``) and .count
        # (all of them). within=0: breached already; within=await warning_lead(...): the
        # inbox's "breaching" filter (breached and due soon).
    await refresh_ticket(ticket_id, now=None) -> Ticket | None      # recompute, write
    await priority_names(project_id) -> list[str]                   # P1 first
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from forum.support_queue.calendar import (
    Calendar,
    CalendarError,
    Holiday,
    add_business_seconds,
    build_calendar,
    business_seconds_between,
    default_calendar,
)
from forum.support_queue.models import PAUSED_STATES, QUEUED_STATES, Ticket, TicketState, Tier
from forum.support_queue.sla_models import (
    BusinessCalendar,
    SlaPause,
    SlaPolicy,
    SlaSettings,
    TicketTargets,
)

if TYPE_CHECKING:
    from forum.projects.models import Project

BreachStatus = Literal["ok", "soon", "breached"]
DueKind = Literal["first_response", "next_response"]
PRIORITIES = (1, 2, 3, 4, 5)
DEFAULT_LEAD_MINUTES = 60
DEFAULT_PRIORITY_NAMES: tuple[str, ...] = (
    "Everything is down", "Badly degraded", "Something is broken", "A question", "A request")
# States in which a ticket's clock can run or stand still; the others have no due time.
CLOCKED_STATES = QUEUED_STATES | PAUSED_STATES
HOUR = 60


@dataclass(frozen=True)
class Targets:
    """Business minutes to the first and to each next response; None: no target."""

    first_response_minutes: int | None = None
    next_response_minutes: int | None = None


def _ladder(first: int, next_: int) -> tuple[Targets, ...]:
    """P1 .. P5: each priority gets twice the time of the one above it."""
    return tuple(Targets(first * 2**n, next_ * 2**n) for n in range(len(PRIORITIES)))


DEFAULT_TARGETS: dict[Tier, tuple[Targets, ...]] = {
    Tier.ENTERPRISE: _ladder(1 * HOUR, 2 * HOUR),  # P1 1h/2h .. P5 16h/32h
    Tier.SUBSCRIPTION: _ladder(4 * HOUR, 8 * HOUR),  # P1 4h/8h .. P5 64h/128h
    Tier.PAY_AS_YOU_GO: _ladder(8 * HOUR, 16 * HOUR),  # P1 1 workday .. P5 16 workdays
    Tier.FREE: tuple(Targets() for _ in PRIORITIES),  # no promise
}


def default_targets(tier: Tier | str, priority: int) -> Targets:
    return DEFAULT_TARGETS[Tier(tier)][_priority_index(priority)]


def _priority_index(priority: int) -> int:
    return min(max(priority, 1), len(PRIORITIES)) - 1


@dataclass(frozen=True)
class Pause:
    started_at: datetime
    ended_at: datetime | None = None  # None: the clock stands still now


@dataclass(frozen=True)
class DueTimes:
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None


def due_after(start: datetime, seconds: int, pauses: Iterable[Pause],
              until: datetime | None, cal: Calendar) -> datetime:
    """The instant at which ``seconds`` of business time have run since ``start`` on a clock
    that stands still during the finished ``pauses`` (those before ``until``: the end of
    this clock's cycle). A pause that begins after the due time does not move it."""
    remaining = seconds
    cursor = start
    finished = sorted((p for p in pauses if p.ended_at is not None),
                      key=lambda p: p.started_at)
    for pause in finished:
        assert pause.ended_at is not None
        begin = max(pause.started_at, cursor)
        end = pause.ended_at if until is None else min(pause.ended_at, until)
        if end <= begin:
            continue
        running = business_seconds_between(cursor, begin, cal)
        if running >= remaining:
            break
        remaining -= running
        cursor = end
    return add_business_seconds(cursor, remaining, cal)


def _due_or_none(start: datetime, seconds: int, pauses: Iterable[Pause],
                 until: datetime | None, cal: Calendar) -> datetime | None:
    """``due_after``, or None when the calendar has no business time for years."""
    try:
        return due_after(start, seconds, pauses, until, cal)
    except ValueError:
        return None


def next_response_start(ticket: Ticket) -> datetime | None:
    """When the clock for the team's next response started: the requester's reaction after
    the team's last response (None: the team spoke last, or has not answered yet)."""
    reaction, answered = ticket.last_requester_reaction_at, ticket.last_team_response_at
    if ticket.first_response_at is None or answered is None or reaction is None:
        return None
    return reaction if reaction > answered else None


def due_times(ticket: Ticket, cal: Calendar, targets: Targets,
              pauses: Sequence[Pause] = ()) -> DueTimes:
    """The ticket's due times under ``targets`` on ``cal``, each moved later by the
    business time of the finished pauses in its cycle that began before it was due. A
    solved or closed ticket keeps its first response's due time (was it met?) and has no
    next one."""
    if ticket.submitted_at is None or ticket.state == TicketState.DRAFT:
        return DueTimes(None, None)
    first: datetime | None = None
    if targets.first_response_minutes is not None:
        first = _due_or_none(ticket.submitted_at, targets.first_response_minutes * 60,
                             pauses, ticket.first_response_at, cal)
    next_: datetime | None = None
    start = next_response_start(ticket)
    if (start is not None and targets.next_response_minutes is not None
            and ticket.state in CLOCKED_STATES):
        next_ = _due_or_none(start, targets.next_response_minutes * 60, pauses, None, cal)
    return DueTimes(first, next_)


def current_due(ticket: Ticket) -> tuple[DueKind, datetime] | None:
    """The due time that counts now: the first response until there is one, then the next
    response's (None: nothing is due, e.g. the team spoke last or the ticket is solved)."""
    if ticket.state not in CLOCKED_STATES:
        return None
    if ticket.first_response_at is None:
        due = ticket.first_response_due_at
        return None if due is None else ("first_response", due)
    due = ticket.next_response_due_at
    return None if due is None else ("next_response", due)


def breach_status(ticket: Ticket, now: datetime,
                  lead: timedelta = timedelta(minutes=DEFAULT_LEAD_MINUTES)) -> BreachStatus:
    """"breached" when the due time that counts has passed, "soon" within ``lead``. A paused
    ticket's clock stands still: it is breached only if it was when the pause began."""
    due = current_due(ticket)
    if due is None:
        return "ok"
    _, due_at = due
    if ticket.paused_at is not None:
        return "breached" if due_at <= ticket.paused_at else "ok"
    if due_at <= now:
        return "breached"
    if due_at <= now + lead:
        return "soon"
    return "ok"


def breaching_q(now: datetime, within: timedelta = timedelta(0)) -> Q:
    """Open tickets (queued or assigned, clock running) due at or before ``now + within``."""
    limit = now + within
    return Q(Q(state__in=list(QUEUED_STATES)), Q(paused_at__isnull=True),
             Q(Q(first_response_at__isnull=True, first_response_due_at__lte=limit),
               Q(first_response_at__isnull=False, next_response_due_at__lte=limit),
               join_type="OR"))


@dataclass(frozen=True)
class Breaching:
    ids: list[int]  # most urgent first
    count: int


async def breaching(project_id: int, now: datetime, within: timedelta = timedelta(0),
                    limit: int | None = None) -> Breaching:
    """See the module's docstring. Two COUNTs, and at most ``limit`` rows from each of two
    index-ordered slices (unanswered tickets by their first due time, answered ones by
    their next), merged: never every ticket of the project."""
    deadline = now + within
    running = Ticket.filter(project_id=project_id, state__in=list(QUEUED_STATES),
                            paused_at__isnull=True)
    unanswered = running.filter(first_response_at__isnull=True,
                                first_response_due_at__lte=deadline)
    answered = running.filter(first_response_at__isnull=False,
                              next_response_due_at__lte=deadline)
    count = await unanswered.count() + await answered.count()
    if limit is not None and limit <= 0:
        return Breaching([], count)
    slices = []
    for query, field in ((unanswered, "first_response_due_at"),
                         (answered, "next_response_due_at")):
        ordered = query.order_by(field, "id")
        if limit is not None:
            ordered = ordered.limit(limit)
        slices.append([(due, ticket_id) for ticket_id, due in
                       await ordered.values_list("id", field)])
    merged = sorted(slices[0] + slices[1])
    ids = [ticket_id for _, ticket_id in merged]
    return Breaching(ids if limit is None else ids[:limit], count)


# Configuration


def calendar_from_row(row: BusinessCalendar | None, project_time_zone: str) -> Calendar:
    """The stored calendar, or the default in the project's time zone. A stored calendar
    that no longer validates (e.g. a zone removed from tzdata) falls back to the default."""
    if row is None:
        return default_calendar(project_time_zone)
    try:
        return build_calendar(row.time_zone, row.hours, holidays_from(row.holidays))
    except CalendarError:
        return default_calendar(project_time_zone)


def holidays_from(raw: Iterable[dict[str, object]]) -> list[Holiday]:
    found = []
    for item in raw:
        try:
            day = date.fromisoformat(str(item.get("date", "")))
        except ValueError:
            continue
        found.append(Holiday(day, bool(item.get("yearly", False)), str(item.get("name", ""))))
    return found


async def load_calendar(project: Project) -> Calendar:
    row = await BusinessCalendar.get_or_none(project_id=project.id)
    return calendar_from_row(row, project.time_zone)


async def load_targets(project_id: int, tier: Tier | str, priority: int) -> Targets:
    row = await SlaPolicy.get_or_none(project_id=project_id, tier=Tier(tier),
                                      priority=_priority_index(priority) + 1)
    if row is None:
        return default_targets(tier, priority)
    return Targets(row.first_response_minutes, row.next_response_minutes)


async def target_matrix(project_id: int) -> dict[tuple[Tier, int], Targets]:
    """Every tier and priority's targets, the project's own over the defaults."""
    matrix = {(tier, p): default_targets(tier, p) for tier in Tier for p in PRIORITIES}
    for row in await SlaPolicy.filter(project_id=project_id):
        matrix[(Tier(row.tier), row.priority)] = Targets(row.first_response_minutes,
                                                         row.next_response_minutes)
    return matrix


async def priority_names(project_id: int) -> list[str]:
    row = await SlaSettings.get_or_none(project_id=project_id)
    names = list(row.priority_names) if row is not None else []
    return [names[i] if i < len(names) and names[i] else DEFAULT_PRIORITY_NAMES[i]
            for i in range(len(PRIORITIES))]


async def warning_lead(project_id: int) -> timedelta:
    row = await SlaSettings.get_or_none(project_id=project_id)
    minutes = row.warning_lead_minutes if row is not None else DEFAULT_LEAD_MINUTES
    return timedelta(minutes=minutes)


# Keeping a ticket's due times


async def sync_pauses(ticket: Ticket, now: datetime) -> list[Pause]:
    """Bring the ticket's pause rows in line with its ``paused_at`` and return them all.

    A pause ends where the state change that ended it says: ``paused_seconds`` grew by the
    pause's length (to the second), so its end does not depend on when this runs."""
    rows = await SlaPause.filter(ticket_id=ticket.id).order_by("started_at", "id")
    running = False
    for row in rows:
        if row.ended_at is not None:
            continue
        if ticket.paused_at is not None and row.started_at == ticket.paused_at:
            running = True
            continue
        length = ticket.paused_seconds - row.paused_seconds_before
        end = (row.started_at + timedelta(seconds=length) if length >= 0
               else ticket.paused_at or now)
        row.ended_at = max(row.started_at, end)
        await row.save(update_fields=["ended_at"])
    if ticket.paused_at is not None and not running:
        try:
            rows.append(await SlaPause.create(ticket_id=ticket.id, started_at=ticket.paused_at,
                                              paused_seconds_before=ticket.paused_seconds))
        except IntegrityError:  # another process recorded this pause a moment ago
            rows = await SlaPause.filter(ticket_id=ticket.id).order_by("started_at", "id")
    return [Pause(row.started_at, row.ended_at) for row in rows]


async def refresh_ticket(ticket_id: int, now: datetime | None = None) -> Ticket | None:
    """Recompute and store a ticket's due times (after submission, a response, a state,
    tier or priority change, or a change of the project's calendar or SLA)."""
    now = now or datetime.now(UTC)
    ticket = await Ticket.get_or_none(id=ticket_id).select_related("project")
    if ticket is None:
        return None
    pauses = await sync_pauses(ticket, now)
    cal = await load_calendar(ticket.project)
    targets = await load_targets(ticket.project.id, ticket.tier, ticket.priority)
    promised = await TicketTargets.get_or_none(ticket_id=ticket.id)
    if promised is not None:
        targets = Targets(promised.first_response_minutes, promised.next_response_minutes)
    due = due_times(ticket, cal, targets, pauses)
    if (due.first_response_due_at != ticket.first_response_due_at
            or due.next_response_due_at != ticket.next_response_due_at):
        await Ticket.filter(id=ticket.id).update(
            first_response_due_at=due.first_response_due_at,
            next_response_due_at=due.next_response_due_at)
        ticket.first_response_due_at = due.first_response_due_at
        ticket.next_response_due_at = due.next_response_due_at
    return ticket


async def refresh_project(project_id: int, now: datetime | None = None,
                          batch: int = 500) -> int:
    """Recompute the due times of every ticket of the project that has a clock (after its
    calendar or SLA changed); returns how many changed."""
    from forum.projects.models import Project

    now = now or datetime.now(UTC)
    project = await Project.get_or_none(id=project_id)
    if project is None:
        return 0
    cal = await load_calendar(project)
    matrix = await target_matrix(project_id)
    changed = 0
    last_id = 0
    while True:
        tickets = await (Ticket.filter(project_id=project_id, id__gt=last_id,
                                       submitted_at__isnull=False,
                                       state__in=list(CLOCKED_STATES))
                         .order_by("id").limit(batch))
        if not tickets:
            return changed
        last_id = tickets[-1].id
        pauses: dict[int, list[Pause]] = {}
        for row in await SlaPause.filter(ticket_id__in=[t.id for t in tickets]).order_by(
                "started_at", "id"):
            pauses.setdefault(row.ticket_id, []).append(  # type: ignore[attr-defined]
                Pause(row.started_at, row.ended_at))
        for ticket in tickets:
            due = due_times(ticket, cal, matrix[(Tier(ticket.tier),
                                                 _priority_index(ticket.priority) + 1)],
                            pauses.get(ticket.id, []))
            if (due.first_response_due_at != ticket.first_response_due_at
                    or due.next_response_due_at != ticket.next_response_due_at):
                await Ticket.filter(id=ticket.id).update(
                    first_response_due_at=due.first_response_due_at,
                    next_response_due_at=due.next_response_due_at)
                changed += 1
