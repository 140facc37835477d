"""Property tests of the fair queue policy on random queues (pure, in memory)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from forum.queueing import PAID_TIERS, QueueContext, QueuedTicket, QueueSettingsData
from forum.support_queue.policy import (
    FairPolicy,
    OldestFirstPolicy,
    breaching,
    merge_slots,
    paid_key,
    paid_position,
    unpaid_in_prefix,
    unpaid_position,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TIERS = ["free", *PAID_TIERS]


@st.composite
def tickets(draw: st.DrawFn, max_size: int = 40) -> list[QueuedTicket]:
    count = draw(st.integers(0, max_size))
    found = []
    for ticket_id in range(1, count + 1):
        tier = draw(st.sampled_from(TIERS))
        amount = 0 if tier == "free" else draw(st.sampled_from([0, 500, 1000, 5000]))
        waited = timedelta(minutes=draw(st.integers(0, 60 * 24 * 10)))
        due = None
        if tier == "enterprise" and draw(st.booleans()):
            due = NOW + timedelta(minutes=draw(st.integers(-600, 600)))
        found.append(QueuedTicket(
            id=ticket_id, tier=tier, amount_paid=amount, waiting_since=NOW - waited,
            submitted_at=NOW - waited - timedelta(minutes=draw(st.integers(0, 100))),
            due_at=due))
    return found


@st.composite
def contexts(draw: st.DrawFn) -> QueueContext:
    queue_settings = QueueSettingsData(
        unpaid_share=draw(st.integers(0, 100)),
        breach_lead_minutes=draw(st.integers(0, 300)))
    return QueueContext(1, NOW, queue_settings, served_paid=draw(st.integers(0, 50)),
                        served_unpaid=draw(st.integers(0, 50)))


def _split(order: list[QueuedTicket], context: QueueContext
           ) -> tuple[list[QueuedTicket], list[QueuedTicket]]:
    """The jump set at the head, and the rest."""
    jumped = [t for t in order if breaching(t, context)]
    assert order[:len(jumped)] == jumped  # breaching tickets come first, all of them
    return jumped, order[len(jumped):]


@settings(max_examples=200)
@given(tickets(), contexts())
def test_order_is_a_permutation(queue: list[QueuedTicket], context: QueueContext) -> None:
    order = FairPolicy().order(queue, context)
    assert sorted(t.id for t in order) == sorted(t.id for t in queue)


@settings(max_examples=200)
@given(tickets(), contexts())
def test_every_prefix_keeps_the_unpaid_share(queue: list[QueuedTicket],
                                             context: QueueContext) -> None:
    order = FairPolicy().order(queue, context)
    _, rest = _split(order, context)
    share = context.settings.unpaid_share
    unpaid_total = sum(1 for t in rest if not t.is_paid)
    seen = 0
    for k, ticket in enumerate(rest, start=1):
        seen += 0 if ticket.is_paid else 1
        # While unpaid tickets wait, every prefix holds floor(k * share) of them.
        assert seen >= min(unpaid_total, k * share // 100)


@settings(max_examples=200)
@given(tickets(), contexts())
def test_unpaid_go_in_no_earlier_than_the_share_needs(queue: list[QueuedTicket],
                                                      context: QueueContext) -> None:
    """Forced in at the latest place: an unpaid ticket stands ahead of a paid one only
    when the prefix needs it (or after the paid ones ran out)."""
    order = FairPolicy().order(queue, context)
    _, rest = _split(order, context)
    if context.unpaid_deficit and any(not t.is_paid for t in rest):
        rest = rest[1:]
    share = context.settings.unpaid_share
    paid_left = sum(1 for t in rest if t.is_paid)
    seen = 0
    for k, ticket in enumerate(rest, start=1):
        if ticket.is_paid:
            paid_left -= 1
        else:
            seen += 1
            assert paid_left == 0 or seen <= k * share // 100


@settings(max_examples=200)
@given(tickets(), contexts())
def test_paid_by_tier_then_amount_then_wait(queue: list[QueuedTicket],
                                            context: QueueContext) -> None:
    order = FairPolicy().order(queue, context)
    _, rest = _split(order, context)
    paid = [t for t in rest if t.is_paid]
    for ahead, behind in itertools.pairwise(paid):
        tier_a, tier_b = PAID_TIERS.index(ahead.tier), PAID_TIERS.index(behind.tier)
        assert tier_a <= tier_b
        if tier_a == tier_b:
            assert ahead.amount_paid >= behind.amount_paid
            if ahead.amount_paid == behind.amount_paid:
                assert ahead.waiting_since is not None and behind.waiting_since is not None
                assert ahead.waiting_since <= behind.waiting_since


@settings(max_examples=200)
@given(tickets(), contexts())
def test_unpaid_longest_wait_first(queue: list[QueuedTicket], context: QueueContext) -> None:
    order = FairPolicy().order(queue, context)
    unpaid = [t for t in order if not t.is_paid]
    for ahead, behind in itertools.pairwise(unpaid):
        assert ahead.waiting_since is not None and behind.waiting_since is not None
        assert (ahead.waiting_since, ahead.id) < (behind.waiting_since, behind.id)


@settings(max_examples=200)
@given(tickets(), contexts())
def test_deficit_puts_the_longest_waiting_unpaid_first(queue: list[QueuedTicket],
                                                        context: QueueContext) -> None:
    order = FairPolicy().order(queue, context)
    _jumped, rest = _split(order, context)
    unpaid = sorted((t for t in queue if not t.is_paid),
                    key=lambda t: (t.waiting_since, t.id))
    if context.unpaid_deficit and unpaid:
        assert rest[0] == unpaid[0]
    elif unpaid and context.settings.unpaid_share < 100 and any(t.is_paid for t in rest):
        assert rest[0].is_paid  # without a deficit, paid tickets lead


@settings(max_examples=200)
@given(tickets(), contexts())
def test_breaching_enterprise_tickets_jump_by_due_time(queue: list[QueuedTicket],
                                                      context: QueueContext) -> None:
    order = FairPolicy().order(queue, context)
    jumped, rest = _split(order, context)
    lead = context.now + timedelta(minutes=context.settings.breach_lead_minutes)
    assert all(t.tier == "enterprise" and t.due_at is not None and t.due_at <= lead
               for t in jumped)
    assert not any(breaching(t, context) for t in rest)
    dues = [(t.due_at, t.id) for t in jumped]
    assert dues == sorted(dues)


@settings(max_examples=500)
@given(st.integers(0, 100), st.integers(0, 60), st.integers(0, 60))
def test_position_arithmetic_matches_the_merge(share: int, paid: int, unpaid: int) -> None:
    slots = merge_slots(1, paid + unpaid, share=share, paid=paid, unpaid=unpaid)
    assert len(slots) == paid + unpaid
    for place, (is_unpaid, rank) in enumerate(slots, start=1):
        if is_unpaid:
            assert unpaid_position(rank, share=share, paid=paid) == place
        else:
            assert paid_position(rank, share=share, paid=paid, unpaid=unpaid) == place
        assert unpaid_in_prefix(place, share=share, paid=paid, unpaid=unpaid) == sum(
            1 for u, _ in slots[:place] if u)


def test_share_of_twenty_percent_places_every_fifth() -> None:
    paid = [QueuedTicket(i, "pay_as_you_go", 100, NOW - timedelta(minutes=i), NOW)
            for i in range(1, 9)]
    free = [QueuedTicket(100 + i, "free", 0, NOW - timedelta(days=1, minutes=i), NOW)
            for i in range(1, 4)]
    order = FairPolicy().order(paid + free, QueueContext(1, NOW, QueueSettingsData()))
    assert [t.is_paid for t in order] == [True, True, True, True, False,
                                          True, True, True, True, False, False]
    # Unpaid: the longest wait first (103 waited a day and 3 minutes).
    assert [t.id for t in order if not t.is_paid] == [103, 102, 101]
    # Paid at equal pay: the longest wait first.
    assert [t.id for t in order if t.is_paid] == [8, 7, 6, 5, 4, 3, 2, 1]


def test_deficit_and_breach_together() -> None:
    free = QueuedTicket(1, "free", 0, NOW - timedelta(days=3), NOW)
    rich = QueuedTicket(2, "enterprise", 90000, NOW - timedelta(hours=1), NOW)
    due = QueuedTicket(3, "enterprise", 100, NOW, NOW, due_at=NOW + timedelta(minutes=30))
    context = QueueContext(1, NOW, QueueSettingsData(breach_lead_minutes=60),
                           served_paid=9, served_unpaid=1)  # 10% served unpaid, under 20%
    assert context.unpaid_deficit
    assert [t.id for t in FairPolicy().order([free, rich, due], context)] == [3, 1, 2]
    enough = QueueContext(1, NOW, QueueSettingsData(breach_lead_minutes=10),
                          served_paid=8, served_unpaid=2)
    assert not enough.unpaid_deficit
    assert [t.id for t in FairPolicy().order([free, rich, due], enough)] == [2, 3, 1]


def test_oldest_first_when_the_queue_is_off() -> None:
    a = QueuedTicket(1, "enterprise", 900, NOW, NOW - timedelta(hours=1))
    b = QueuedTicket(2, "free", 0, NOW, NOW - timedelta(hours=2))
    context = QueueContext(1, NOW, QueueSettingsData(enabled=False))
    assert [t.id for t in OldestFirstPolicy().order([a, b], context)] == [2, 1]


def test_paid_key_orders_tiers_highest_first() -> None:
    keys = [paid_key(QueuedTicket(i, tier, 0, NOW, NOW)) for i, tier in
            enumerate(PAID_TIERS)]
    assert keys == sorted(keys)
