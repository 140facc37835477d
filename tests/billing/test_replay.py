"""The ledger's invariants under Stripe's delivery habits: every row balanced, and the whole
webhook history replayed twice, in shuffled order, gives the same ledger, the same tickets
and the same subscriptions as delivering it in order once."""

from __future__ import annotations

import random
from typing import Any

import httpx

from forum.billing.ledger import balanced
from forum.billing.models import (
    Attribution,
    LedgerEntry,
    LedgerKind,
    Plan,
    PlanKind,
    Purchase,
    PurchaseState,
    StripeEvent,
    Subscription,
)
from forum.platform import Platform
from forum.support_queue.models import Ticket
from tests.billing.conftest import normalised_ledger, start_subscription, start_upgrade
from tests.billing.fake_stripe import FakeStripe
from tests.support_queue.conftest import World, open_ticket


async def history(platform: Platform, world: World, fake: FakeStripe) -> list[Ticket]:
    """A busy month at Stripe: upgrades (one refunded in parts, one disputed and won, one
    disputed and lost), a plan subscription renewed and cancelled. Nothing delivered yet."""
    tickets = [await open_ticket(platform, world) for _ in range(4)]
    charges: list[str] = []
    for n, ticket in enumerate(tickets):
        _, session = await start_upgrade(platform, world.project.id, world.member.id,
                                         ticket.id, amount=1999 + 1000 * n, priority=2 + n % 2)
        paid = fake.complete_checkout(session["id"])
        charges.append(paid[2]["data"]["object"]["id"])
    fake.refund(charges[0], 500)
    fake.refund(charges[0], 333)
    fake.refund(charges[0])
    fake.refund(charges[1], 1234)
    won = fake.dispute(charges[2])[0]["data"]["object"]["id"]
    fake.close_dispute(won, won=True)
    lost = fake.dispute(charges[3], 2000)[0]["data"]["object"]["id"]
    fake.close_dispute(lost, won=False)
    plan = await Plan.create(project_id=world.project.id, kind=PlanKind.MONTHLY,
                             name="Monthly", currency="USD", price=15000)
    _, _subscription, session = await start_subscription(platform, world.project.id,
                                                        world.supporter.id, plan)
    fake.complete_checkout(session["id"])
    sub_id = fake.objects[session["id"]]["subscription"]
    fake.renew_subscription(sub_id)
    renewal_charge = fake.of_type("charge")[-1]["id"]
    fake.refund(renewal_charge, 7000)
    fake.cancel(sub_id)
    return tickets


async def state(tickets: list[Ticket]) -> dict[str, Any]:
    rows = await LedgerEntry.all()
    ticket_rows = [await Ticket.get(id=t.id) for t in tickets]
    return {
        "ledger": normalised_ledger(rows),
        "tickets": [(t.tier, t.amount_paid, t.priority) for t in ticket_rows],
        "purchases": sorted((p.id, str(p.state)) for p in await Purchase.all()),
        "subscriptions": sorted((s.id, s.status, s.stripe_subscription_id, s.amount)
                                for s in await Subscription.all()),
    }


async def forget_everything() -> None:
    """Back to before any webhook: as if the history had never been delivered."""
    await Attribution.all().delete()
    await LedgerEntry.filter(reverses_id__isnull=False).delete()
    await LedgerEntry.all().delete()
    await StripeEvent.all().delete()
    await Purchase.all().update(state=PurchaseState.PENDING, paid_at=None,
                                payment_intent_id=None, invoice_id=None)
    await Subscription.all().update(status="incomplete", stripe_subscription_id=None,
                                    current_period_start=None, current_period_end=None,
                                    canceled_at=None)


async def deliver(client: httpx.AsyncClient, fake: FakeStripe,
                  events: list[dict[str, Any]]) -> None:
    for event in events:
        response = await fake.deliver(client, event)
        assert response.status_code == 200, response.text


async def test_every_row_balances_and_shuffled_replays_give_the_same_ledger(
        client: httpx.AsyncClient, platform: Platform, world: World,
        fake_stripe: FakeStripe) -> None:
    tickets = await history(platform, world, fake_stripe)
    events = list(fake_stripe.events)
    await deliver(client, fake_stripe, events)
    expected = await state(tickets)
    rows = await LedgerEntry.all()
    assert all(balanced(r) for r in rows)
    kinds = sorted(str(r.kind) for r in rows)
    assert kinds.count(LedgerKind.PAYMENT.value) == 6  # four upgrades, two plan invoices
    assert kinds.count(LedgerKind.REFUND.value) == 5
    assert kinds.count(LedgerKind.DISPUTE.value) == 2
    assert kinds.count(LedgerKind.DISPUTE_REVERSAL.value) == 1
    assert expected["tickets"][0][:2] == ("free", 0)  # refunded in full
    assert expected["tickets"][1][:2] == ("pay_as_you_go", 2999 - 1234)
    assert expected["tickets"][2][:2] == ("pay_as_you_go", 3999)  # dispute won
    assert expected["tickets"][3][:2] == ("pay_as_you_go", 4999 - 2000)
    # Per payment: what is left balances too.
    for payment in [r for r in rows if r.kind == LedgerKind.PAYMENT]:
        family = [payment] + [r for r in rows if r.reverses_id == payment.id]  # type: ignore[attr-defined]
        assert sum(r.gross for r in family) == sum(
            r.stripe_fee + r.platform_fee + r.project_net for r in family)
    for seed in (1, 2):
        await forget_everything()
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        await deliver(client, fake_stripe, shuffled)
        again = events[:]
        random.Random(seed + 100).shuffle(again)
        await deliver(client, fake_stripe, again)  # the second time: all duplicates
        assert await state(tickets) == expected, f"seed {seed}"
        assert await StripeEvent.all().count() == len(events)
