"""Queue policies: the fair default and "queue off", as pure functions over tickets.

``FairPolicy`` (the product's founding description):

1. The *jump set*: enterprise tickets (a guaranteed response time) whose response is due
   within ``breach_lead_minutes`` go first, earliest due first.
2. *Deficit*: when the unpaid share of first responses over the last ``window_days`` is
   below ``unpaid_share``, the longest-waiting unpaid ticket goes next.
3. The rest is a merge of two streams, each sorted: paid tickets (tier, highest first,
   then amount paid, highest first, then waiting since the requester's last reaction,
   longest first) and unpaid tickets (longest wait first). An unpaid ticket is forced in
   at the latest position that keeps at least ``floor(k * share)`` unpaid tickets in every
   prefix of length k; when one stream runs out, the other follows.

Step 3's merge needs no look at the tickets themselves, only the streams' lengths, so a
ticket's position is arithmetic on its rank in its stream (``paid_position``,
``unpaid_position``), which ``forum/support_queue/queue.py`` gets from COUNT queries.
Ties at equal keys go to the lower ticket id. Shares are integer percents, so the
arithmetic is exact.

``OldestFirstPolicy`` is the order with the queue switched off: by submission, the team
picks freely.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from forum.queueing import (
    GUARANTEED_TIER,
    PAID_TIERS,
    QueueContext,
    QueuedTicket,
)

_EARLIEST = datetime.min  # a missing "waiting since" counts as waiting longest


def _time_key(moment: datetime | None) -> tuple[int, Any]:
    return (0, _EARLIEST) if moment is None else (1, moment)


def paid_key(ticket: QueuedTicket) -> tuple[Any, ...]:
    """The paid stream's order: tier, then amount (both highest first), then wait."""
    return (PAID_TIERS.index(ticket.tier), -ticket.amount_paid,
            _time_key(ticket.waiting_since), ticket.id)


def unpaid_key(ticket: QueuedTicket) -> tuple[Any, ...]:
    """The unpaid stream's order: longest wait first."""
    return (_time_key(ticket.waiting_since), ticket.id)


def oldest_key(ticket: QueuedTicket) -> tuple[Any, ...]:
    return (_time_key(ticket.submitted_at), ticket.id)


def jump_key(ticket: QueuedTicket) -> tuple[Any, ...]:
    return (_time_key(ticket.due_at), ticket.id)


def breaching(ticket: QueuedTicket, context: QueueContext) -> bool:
    """An enterprise ticket whose response is due within the lead (or overdue)."""
    if ticket.tier != GUARANTEED_TIER or ticket.due_at is None:
        return False
    lead = timedelta(minutes=context.settings.breach_lead_minutes)
    return ticket.due_at <= context.now + lead


# The merge, as arithmetic. ``share`` is a percent; ``paid`` and ``unpaid`` are the
# lengths of the two streams; positions and ranks are 1-based.


def unpaid_in_prefix(k: int, *, share: int, paid: int, unpaid: int) -> int:
    """How many of the first ``k`` places the merge gives to unpaid tickets."""
    forced = k * share // 100
    return min(unpaid, max(forced, k - paid))


def unpaid_position(i: int, *, share: int, paid: int) -> int:
    """The place of the ``i``-th unpaid ticket: the first place whose prefix must hold
    ``i`` unpaid tickets, or right after the paid stream ran out."""
    after_paid = paid + i
    if share <= 0:
        return after_paid
    latest = -(-i * 100 // share)  # ceil(i / share)
    return min(latest, after_paid)


def paid_position(j: int, *, share: int, paid: int, unpaid: int) -> int:
    """The place of the ``j``-th paid ticket: the smallest k whose prefix holds j paid
    tickets (k minus the unpaid ones there is non-decreasing in k)."""
    low, high = j, j + unpaid
    while low < high:
        middle = (low + high) // 2
        if middle - unpaid_in_prefix(middle, share=share, paid=paid, unpaid=unpaid) >= j:
            high = middle
        else:
            low = middle + 1
    return low


def merge_slots(start: int, stop: int, *, share: int, paid: int, unpaid: int
                ) -> list[tuple[bool, int]]:
    """For places ``start..stop`` (1-based, inclusive) of the merge: (is unpaid, rank in its
    stream). Used to fetch one page of the order straight from the two streams."""
    slots: list[tuple[bool, int]] = []
    before = unpaid_in_prefix(start - 1, share=share, paid=paid, unpaid=unpaid) if start > 1 else 0
    for k in range(start, min(stop, paid + unpaid) + 1):
        now = unpaid_in_prefix(k, share=share, paid=paid, unpaid=unpaid)
        if now > before:
            slots.append((True, now))
        else:
            slots.append((False, k - now))
        before = now
    return slots


def merge(paid: Sequence[QueuedTicket], unpaid: Sequence[QueuedTicket], share: int
          ) -> list[QueuedTicket]:
    """The two sorted streams merged so every prefix keeps its unpaid share."""
    slots = merge_slots(1, len(paid) + len(unpaid), share=share, paid=len(paid),
                        unpaid=len(unpaid))
    return [unpaid[rank - 1] if is_unpaid else paid[rank - 1] for is_unpaid, rank in slots]


class FairPolicy:
    """Jump set, then the deficit ticket, then paid and unpaid merged at the share."""

    name = "fair"

    def order(self, tickets: Sequence[QueuedTicket], context: QueueContext
              ) -> list[QueuedTicket]:
        jump = sorted((t for t in tickets if breaching(t, context)), key=jump_key)
        jumped = {t.id for t in jump}
        rest = [t for t in tickets if t.id not in jumped]
        paid = sorted((t for t in rest if t.is_paid), key=paid_key)
        unpaid = sorted((t for t in rest if not t.is_paid), key=unpaid_key)
        head: list[QueuedTicket] = list(jump)
        if context.unpaid_deficit and unpaid:
            head.append(unpaid.pop(0))
        return head + merge(paid, unpaid, context.settings.unpaid_share)


class OldestFirstPolicy:
    """The queue switched off: oldest submission first, the team picks freely."""

    name = "oldest-first"

    def order(self, tickets: Sequence[QueuedTicket], context: QueueContext
              ) -> list[QueuedTicket]:
        return sorted(tickets, key=oldest_key)
