"""The support queue's order in the database: positions and pages without loading every
ticket.

Functions other parts of the support queue call::

    async def queue_position(ticket, *, platform=None) -> int | None
        # 1-based place of the ticket in its project's order; None when not queued
    async def expected_response(ticket, *, platform=None) -> ExpectedResponse | None
        # low/high business minutes and a label (computed in estimate.py)
    async def queue_page(project_id, *, limit, offset=0, filters=None, platform=None
                         ) -> list[tuple[int, Ticket]]
        # a page of the order: (position, ticket), ticket with topic and requester loaded
    async def load_queue_settings(project_id) -> QueueSettingsData
    async def save_queue_settings(project_id, data) -> None

``platform`` lets a plugin's policy answer (hook ``forum_queue_policy``, asked of the core and of
the plugins switched on in the project); without it the built-in policies apply.

The built-in policies (``policy.py``) are computed here with a few indexed queries per
request: the counts per tier of the queued tickets, the small jump set of enterprise tickets
about to breach, the first responses over the window (for the deficit rule), and, for one
ticket, COUNTs of the tickets before it in its stream; the merge is arithmetic. A page
fetches only its slice of each stream (OFFSET/LIMIT in index order). A plugin's policy gets
every queued ticket as plain data and orders them in Python.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tortoise.expressions import Q
from tortoise.functions import Count

from forum.queueing import (
    GUARANTEED_TIER,
    PAID_TIERS,
    UNPAID_TIER,
    QueueContext,
    QueuedTicket,
    QueuePolicy,
    QueueSettingsData,
)
from forum.support_queue.models import QUEUED_STATES, Ticket
from forum.support_queue.policy import (
    FairPolicy,
    OldestFirstPolicy,
    jump_key,
    merge_slots,
    paid_key,
    paid_position,
    unpaid_position,
)
from forum.support_queue.queue_models import QueueSettings

if TYPE_CHECKING:
    from forum.platform import Platform
    from forum.support_queue.estimate import ExpectedResponse

QUEUED = [str(s) for s in QUEUED_STATES]
LIGHT_FIELDS = ("id", "tier", "amount_paid", "last_requester_reaction_at", "submitted_at",
                "first_response_at", "first_response_due_at", "next_response_due_at",
                "assignee_id", "priority")
PAID_ORDER = ("-amount_paid", "last_requester_reaction_at", "id")
UNPAID_ORDER = ("last_requester_reaction_at", "id")
WALK_FIELDS = ("id", "tier", "assignee_id")  # what a filter looks at
WALK_CHUNKS = (100, 400, 1000, 2000)  # a filtered page walks the order in growing steps
CAPPED_COUNT_LIMIT = 1000  # pages ending further down count each tier exactly


@dataclass(frozen=True)
class QueueFilter:
    """Narrow a page of the order: ``assignee_id`` (someone's tickets), ``unassigned``,
    ``tier``. Positions stay those of the whole queue."""

    assignee_id: int | None = None
    unassigned: bool = False
    tier: str | None = None

    def matches(self, ticket: QueuedTicket) -> bool:
        if self.assignee_id is not None and ticket.assignee_id != self.assignee_id:
            return False
        if self.unassigned and ticket.assignee_id is not None:
            return False
        return self.tier is None or ticket.tier == self.tier

    @property
    def empty(self) -> bool:
        return self.assignee_id is None and not self.unassigned and self.tier is None


# Settings


async def load_queue_settings(project_id: int) -> QueueSettingsData:
    row = await QueueSettings.get_or_none(project_id=project_id)
    if row is None:
        return QueueSettingsData()
    return QueueSettingsData(enabled=row.enabled, unpaid_share=row.unpaid_share,
                             window_days=row.window_days,
                             breach_lead_minutes=row.breach_lead_minutes,
                             minimum_response_minutes=row.minimum_response_minutes)


async def save_queue_settings(project_id: int, data: QueueSettingsData) -> None:
    await QueueSettings.update_or_create(defaults={
        "enabled": data.enabled, "unpaid_share": data.unpaid_share,
        "window_days": data.window_days, "breach_lead_minutes": data.breach_lead_minutes,
        "minimum_response_minutes": data.minimum_response_minutes,
    }, project_id=project_id)


# Plain data from rows


def queued_ticket(row: dict[str, Any]) -> QueuedTicket:
    """Plain data from a row of ``LIGHT_FIELDS`` (or fewer: a walk reads ``WALK_FIELDS``)."""
    due = (row.get("first_response_due_at") if row.get("first_response_at") is None
           else row.get("next_response_due_at"))
    return QueuedTicket(id=row["id"], tier=str(row["tier"]),
                        amount_paid=row.get("amount_paid", 0),
                        waiting_since=row.get("last_requester_reaction_at"),
                        submitted_at=row.get("submitted_at"), due_at=due,
                        assignee_id=row.get("assignee_id"), priority=row.get("priority", 3))


def _light(ticket: Ticket) -> QueuedTicket:
    return queued_ticket({name: getattr(ticket, name) for name in LIGHT_FIELDS})


def _wait_before(moment: datetime | None, ticket_id: int, column: str) -> list[Q]:
    """Disjoint conditions for "``column`` (a NULL counts as earliest) then id before"."""
    null: dict[str, Any] = {f"{column}__isnull": True}
    if moment is None:
        return [Q(**null, id__lt=ticket_id)]
    earlier: dict[str, Any] = {f"{column}__lt": moment}
    same: dict[str, Any] = {column: moment, "id__lt": ticket_id}
    return [Q(**null), Q(**earlier), Q(**same)]


# The reader: one project's order at one moment


class QueueReader:
    """One project's queue at ``now``: built-in policies answer from indexed queries; a
    plugin's ``policy`` from all queued tickets in Python."""

    def __init__(self, project_id: int, settings: QueueSettingsData, now: datetime,
                 policy: QueuePolicy | None = None) -> None:
        self.project_id = project_id
        self.settings = settings
        self.now = now
        self.policy = policy
        self._loaded = False
        self._exact = False  # tier counts are exact (not capped)
        self._cap: int | None = None
        self.context = QueueContext(project_id, now, settings)
        self.jump: list[QueuedTicket] = []
        self.tier_counts: dict[str, int] = {}
        self._all: list[QueuedTicket] | None = None

    @property
    def policy_name(self) -> str:
        return (self.policy or builtin_policy(self.settings)).name

    @property
    def fair(self) -> bool:
        return self.policy is None and self.settings.enabled

    def base(self) -> Any:
        return Ticket.filter(project_id=self.project_id, state__in=QUEUED)

    async def load(self, enough: int | None = None) -> None:
        """The figures every question needs: counts per tier, and for the fair policy the
        served share and the jump set.

        ``enough``: only the first ``enough`` places will be read, so each tier is counted
        up to a cap past them (a page near the top then costs a few index probes, not a
        count of the whole queue); the merge of those places comes out the same. Without
        it the counts are exact (positions, ``total``, walks)."""
        if not self._loaded:
            self._loaded = True
            await self._load_policy_figures()
        if self._all is not None or self._exact:
            return
        if enough is not None and enough <= CAPPED_COUNT_LIMIT:
            cap = enough + len(self.jump) + 1
            if self._cap is not None and self._cap >= cap:
                return
            self._cap = cap
            self.tier_counts = {tier: len(await self.base().filter(tier=tier).limit(cap)
                                          .values_list("id", flat=True))
                                for tier in (*PAID_TIERS, UNPAID_TIER)}
            return
        self._exact = True
        # One count per tier, each from its own index range (a GROUP BY would visit rows).
        self.tier_counts = {tier: int(await self.base().filter(tier=tier).count())
                            for tier in (*PAID_TIERS, UNPAID_TIER)}

    async def _load_policy_figures(self) -> None:
        if self.policy is not None:
            self.context = await self._context()
            self._all = self.policy.order(await self._every_ticket(), self.context)
            self.tier_counts = {}
            for ticket in self._all:
                self.tier_counts[ticket.tier] = self.tier_counts.get(ticket.tier, 0) + 1
            return
        if not self.settings.enabled:
            return
        self.context = await self._context()
        lead = self.now + timedelta(minutes=self.settings.breach_lead_minutes)
        jump_rows: list[dict[str, Any]] = []
        for breach in (Q(first_response_at__isnull=True, first_response_due_at__lte=lead),
                       Q(first_response_at__isnull=False, next_response_due_at__lte=lead)):
            jump_rows += await self.base().filter(breach, tier=GUARANTEED_TIER).values(
                *LIGHT_FIELDS)
        self.jump = sorted((queued_ticket(r) for r in jump_rows), key=jump_key)

    async def _context(self) -> QueueContext:
        since = self.now - timedelta(days=self.settings.window_days)
        rows = await (Ticket.filter(project_id=self.project_id, first_response_at__gte=since)
                      .annotate(n=Count("id")).group_by("tier").values_list("tier", "n"))
        unpaid = sum(int(n) for tier, n in rows if str(tier) == UNPAID_TIER)
        paid = sum(int(n) for tier, n in rows if str(tier) != UNPAID_TIER)
        return QueueContext(self.project_id, self.now, self.settings, served_paid=paid,
                            served_unpaid=unpaid)

    async def _every_ticket(self) -> list[QueuedTicket]:
        return [queued_ticket(r) for r in await self.base().values(*LIGHT_FIELDS)]

    # Sizes of the fair policy's parts

    @property
    def total(self) -> int:
        """Queued tickets (exact after ``load()`` without ``enough``)."""
        return sum(self.tier_counts.values())

    @property
    def unpaid_total(self) -> int:
        return self.tier_counts.get(UNPAID_TIER, 0)

    @property
    def deficit(self) -> int:
        """1 when the longest-waiting unpaid ticket goes ahead of the merge."""
        return 1 if self.context.unpaid_deficit and self.unpaid_total > 0 else 0

    @property
    def merge_paid(self) -> int:
        return self.total - self.unpaid_total - len(self.jump)

    @property
    def merge_unpaid(self) -> int:
        return self.unpaid_total - self.deficit

    # One ticket

    async def position(self, ticket: Ticket) -> int | None:
        if str(ticket.state) not in QUEUED:
            return None
        await self.load()
        if self._all is not None:
            for index, entry in enumerate(self._all):
                if entry.id == ticket.id:
                    return index + 1
            return None
        if not self.settings.enabled:
            return 1 + await self._count_before(
                self.base(), _wait_before(ticket.submitted_at, ticket.id, "submitted_at"))
        light = _light(ticket)
        for index, entry in enumerate(self.jump):
            if entry.id == ticket.id:
                return index + 1
        share, head = self.settings.unpaid_share, len(self.jump)
        if not light.is_paid:
            rank = 1 + await self._count_before(
                self.base().filter(tier=UNPAID_TIER),
                _wait_before(light.waiting_since, light.id, "last_requester_reaction_at"))
            if self.deficit:
                if rank == 1:
                    return head + 1
                rank -= 1
            return head + self.deficit + unpaid_position(rank, share=share,
                                                         paid=self.merge_paid)
        tier_index = PAID_TIERS.index(light.tier)
        higher = sum(self.tier_counts.get(t, 0) for t in PAID_TIERS[:tier_index])
        same = await self._count_before(self.base().filter(tier=light.tier),
                                        self._stream_before(light))
        jumped_before = sum(1 for t in self.jump if paid_key(t) < paid_key(light))
        rank = 1 + higher + same - jumped_before
        return head + self.deficit + paid_position(rank, share=share, paid=self.merge_paid,
                                                   unpaid=self.merge_unpaid)

    def _stream_before(self, ticket: QueuedTicket) -> list[Q]:
        """Tickets ahead of ``ticket`` within its tier: more paid, or as much and waiting
        longer (then lower id)."""
        same = _wait_before(ticket.waiting_since, ticket.id, "last_requester_reaction_at")
        return [Q(amount_paid__gt=ticket.amount_paid)] + [
            Q(q, Q(amount_paid=ticket.amount_paid)) for q in same]

    @staticmethod
    async def _count_before(query: Any, conditions: Sequence[Q]) -> int:
        total = 0
        for condition in conditions:  # one indexed range each, rather than one OR
            total += await query.filter(condition).count()
        return total

    # A slice of the order

    async def slice(self, offset: int, limit: int, fields: Sequence[str] = LIGHT_FIELDS
                    ) -> list[tuple[int, QueuedTicket]]:
        """Places ``offset+1 .. offset+limit`` of the order, as plain data read from
        ``fields`` (the jump set always has them all)."""
        await self.load(offset + limit)
        if limit <= 0 or offset >= self.total:
            return []
        stop = offset + limit  # the last place wanted, 1-based
        if self._all is not None:
            return [(offset + i + 1, t) for i, t in enumerate(self._all[offset:stop])]
        if not self.settings.enabled:
            rows = await (self.base().order_by("submitted_at", "id").offset(offset).limit(limit)
                          .values(*fields))
            return [(offset + i + 1, queued_ticket(r)) for i, r in enumerate(rows)]
        found: list[tuple[int, QueuedTicket]] = []
        head = len(self.jump)
        found += [(i + 1, t) for i, t in enumerate(self.jump) if offset < i + 1 <= stop]
        if self.deficit and offset < head + 1 <= stop:
            first = await self._unpaid_stream(0, 1, fields)
            found += [(head + 1, t) for t in first]
        before = head + self.deficit  # places before the merge
        start = max(offset + 1, before + 1) - before
        end = stop - before
        if end < start:
            return found
        slots = merge_slots(start, end, share=self.settings.unpaid_share,
                            paid=self.merge_paid, unpaid=self.merge_unpaid)
        unpaid_ranks = [rank for is_unpaid, rank in slots if is_unpaid]
        paid_ranks = [rank for is_unpaid, rank in slots if not is_unpaid]
        unpaid = (await self._unpaid_stream(self.deficit + unpaid_ranks[0] - 1,
                                            len(unpaid_ranks), fields)
                  if unpaid_ranks else [])
        paid = (await self._paid_stream(paid_ranks[0] - 1, len(paid_ranks), fields)
                if paid_ranks else [])
        taken_unpaid = iter(unpaid)
        taken_paid = iter(paid)
        for place, (is_unpaid, _rank) in enumerate(slots, start=before + start):
            ticket = next(taken_unpaid if is_unpaid else taken_paid, None)
            if ticket is not None:  # the queue changed between the counts and the fetch
                found.append((place, ticket))
        return found

    async def _unpaid_stream(self, offset: int, limit: int, fields: Sequence[str]
                             ) -> list[QueuedTicket]:
        rows = await (self.base().filter(tier=UNPAID_TIER).order_by(*UNPAID_ORDER)
                      .offset(offset).limit(limit).values(*fields))
        return [queued_ticket(r) for r in rows]

    async def _paid_stream(self, offset: int, limit: int, fields: Sequence[str]
                           ) -> list[QueuedTicket]:
        """Ranks ``offset+1 .. offset+limit`` of the paid stream (without the jump set),
        one query per tier it spans."""
        found: list[QueuedTicket] = []
        jumped = [t.id for t in self.jump]
        start = 0  # ranks of this tier begin after ``start``
        for tier in PAID_TIERS:
            size = self.tier_counts.get(tier, 0)
            if tier == GUARANTEED_TIER:
                size -= len(jumped)
            if limit <= len(found):
                break
            if offset < start + size:
                query = self.base().filter(tier=tier)
                if tier == GUARANTEED_TIER and jumped:
                    query = query.exclude(id__in=jumped)
                skip = max(0, offset - start)
                rows = await (query.order_by(*PAID_ORDER).offset(skip)
                              .limit(limit - len(found)).values(*fields))
                found += [queued_ticket(r) for r in rows]
                offset = start + size
            start += size
        return found

    async def page(self, offset: int, limit: int, filters: QueueFilter | None = None
                   ) -> list[tuple[int, QueuedTicket]]:
        """A page of the order, narrowed by ``filters`` (positions stay the whole queue's):
        a filtered page walks the order in growing steps, reading only what the filter
        looks at, until it has enough (its entries carry ``WALK_FIELDS`` only)."""
        if filters is None or filters.empty:
            return await self.slice(offset, limit)
        await self.load()
        found: list[tuple[int, QueuedTicket]] = []
        skipped, place, step = 0, 0, 0
        while place < self.total and len(found) < limit:
            size = WALK_CHUNKS[min(step, len(WALK_CHUNKS) - 1)]
            chunk = await self.slice(place, size, WALK_FIELDS)
            if not chunk:
                break
            for position, ticket in chunk:
                if not filters.matches(ticket):
                    continue
                if skipped < offset:
                    skipped += 1
                elif len(found) < limit:
                    found.append((position, ticket))
            place += size
            step += 1
        return found

    async def full_order(self) -> list[QueuedTicket]:
        """Every queued ticket in order, as plain data."""
        await self.load()
        return [t for _, t in await self.slice(0, self.total)]

    async def order_ids(self) -> list[int]:
        """The ids of every queued ticket in order: the streams' ids in index order and
        the merge, nothing else converted (the cheapest way to the whole order)."""
        await self.load()
        if self._all is not None:
            return [t.id for t in self._all]
        if not self.settings.enabled:
            return list(await self.base().order_by("submitted_at", "id").values_list(
                "id", flat=True))
        head = [t.id for t in self.jump]
        unpaid: list[int] = list(await self.base().filter(tier=UNPAID_TIER)
                                 .order_by(*UNPAID_ORDER).values_list("id", flat=True))
        paid: list[int] = []
        for tier in PAID_TIERS:
            query = self.base().filter(tier=tier)
            if tier == GUARANTEED_TIER and head:
                query = query.exclude(id__in=head)
            paid += await query.order_by(*PAID_ORDER).values_list("id", flat=True)
        if self.context.unpaid_deficit and unpaid:
            head.append(unpaid.pop(0))
        slots = merge_slots(1, len(paid) + len(unpaid), share=self.settings.unpaid_share,
                            paid=len(paid), unpaid=len(unpaid))
        return head + [unpaid[rank - 1] if is_unpaid else paid[rank - 1]
                       for is_unpaid, rank in slots]


# Entry points


async def policy_for(platform: Platform | None, project_id: int) -> QueuePolicy | None:
    """A plugin's policy for the project (the first answer wins), or None for the
    built-in ones."""
    if platform is None:
        return None
    from forum.projects.service import enabled_plugin_names

    enabled = await enabled_plugin_names(platform, project_id)
    off = [p for name, p in platform.plugins.optional.items() if name not in enabled]
    caller = platform.plugins.pm.hook.forum_queue_policy
    if off:
        caller = platform.plugins.pm.subset_hook_caller("forum_queue_policy",
                                                        remove_plugins=off)
    for result in caller(project_id=project_id, platform=platform):
        answer = await result if inspect.isawaitable(result) else result
        if answer is not None:
            return answer
    return None


async def reader_for(project_id: int, *, platform: Platform | None = None,
                     now: datetime | None = None) -> QueueReader:
    settings = await load_queue_settings(project_id)
    policy = await policy_for(platform, project_id) if settings.enabled else None
    return QueueReader(project_id, settings, now or datetime.now(UTC), policy)


def builtin_policy(settings: QueueSettingsData) -> QueuePolicy:
    return FairPolicy() if settings.enabled else OldestFirstPolicy()


async def queue_position(ticket: Ticket, *, platform: Platform | None = None,
                         now: datetime | None = None) -> int | None:
    """The ticket's 1-based place in its project's queue; None when it is not queued."""
    if str(ticket.state) not in QUEUED:
        return None
    project_id: int = ticket.project_id  # type: ignore[attr-defined]
    reader = await reader_for(project_id, platform=platform, now=now)
    return await reader.position(ticket)


async def expected_response(ticket: Ticket, *, platform: Platform | None = None,
                            now: datetime | None = None) -> ExpectedResponse | None:
    """The first response a queued ticket can expect (see ``estimate.py``)."""
    from forum.support_queue.estimate import expected_response as estimate_for

    return await estimate_for(ticket, platform=platform, now=now)


async def queue_page(project_id: int, *, limit: int, offset: int = 0,
                     filters: QueueFilter | None = None, platform: Platform | None = None,
                     now: datetime | None = None) -> list[tuple[int, Ticket]]:
    """A page of the project's queue in order: (position, ticket) with the ticket's topic
    and requester loaded."""
    reader = await reader_for(project_id, platform=platform, now=now)
    return await tickets_of(await reader.page(offset, limit, filters))


async def tickets_of(entries: list[tuple[int, QueuedTicket]]) -> list[tuple[int, Ticket]]:
    """The tickets of a page of the order, with their topics and requesters loaded."""
    if not entries:
        return []
    tickets = {t.id: t for t in await Ticket.filter(id__in=[e.id for _, e in entries])
               .select_related("topic", "requester")}
    return [(position, tickets[e.id]) for position, e in entries if e.id in tickets]


async def queue_size(project_id: int) -> int:
    return int(await Ticket.filter(project_id=project_id, state__in=QUEUED).count())
