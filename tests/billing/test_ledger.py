"""The ledger: one row per money movement, balanced to the cent; refunds and disputes take
back fees in proportion; subscriptions' invoices; what a ticket is worth after each."""

from __future__ import annotations

from decimal import Decimal

import httpx

from forum import events
from forum.billing.checkout import included_left
from forum.billing.ledger import balanced, percent_of
from forum.billing.models import (
    LedgerEntry,
    LedgerKind,
    Plan,
    PlanKind,
    Purchase,
    PurchaseState,
    Subscription,
)
from forum.billing.worth import include_enterprise_ticket, settle_ticket_worth
from forum.platform import Platform
from forum.support_queue.models import Ticket
from forum.support_queue.sla_models import TicketTargets
from tests.billing.conftest import start_subscription, start_upgrade
from tests.billing.fake_stripe import FakeStripe
from tests.support_queue.conftest import World, open_ticket


async def pay(client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
              fake: FakeStripe, **kw: object) -> tuple[Purchase, str]:
    purchase, session = await start_upgrade(platform, world.project.id, world.member.id,
                                            ticket.id, **kw)  # type: ignore[arg-type]
    await fake.deliver_all(client, fake.complete_checkout(session["id"]))
    entry = await LedgerEntry.get(purchase_id=purchase.id, kind=LedgerKind.PAYMENT)
    return purchase, entry.stripe_object_id


def totals(rows: list[LedgerEntry]) -> tuple[int, int, int, int]:
    return (sum(r.gross for r in rows), sum(r.stripe_fee for r in rows),
            sum(r.platform_fee for r in rows), sum(r.project_net for r in rows))


def test_percent_rounds_half_up() -> None:
    assert percent_of(4900, Decimal(5)) == 245
    assert percent_of(10, Decimal(5)) == 1  # 0.5 -> 1
    assert percent_of(9, Decimal(5)) == 0  # 0.45 -> 0
    assert percent_of(999, Decimal("2.5")) == 25


async def test_partial_refunds_return_the_platform_fee_and_stripe_keeps_its_own(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe) -> None:
    purchase, charge = await pay(client, platform, world, ticket, fake_stripe, amount=3333)
    payment = await LedgerEntry.get(stripe_object_id=charge)
    assert (payment.gross, payment.stripe_fee, payment.platform_fee) == (3333, 127, 167)
    seen: list[events.PaymentRecorded] = []
    platform.plugins.pm.register(_Recorder(seen), name="recorder")
    await fake_stripe.deliver_all(client, fake_stripe.refund(charge, 1000))
    first = await LedgerEntry.get(kind=LedgerKind.REFUND)
    # 1000/3333 of the platform's 167 = 50.1 -> 50 goes back; Stripe keeps its fee.
    assert (first.gross, first.stripe_fee, first.platform_fee, first.project_net) == (
        -1000, 0, -50, -950)
    assert first.reverses_id == payment.id  # type: ignore[attr-defined]
    assert first.ticket_id == ticket.id and first.purchase_id == purchase.id  # type: ignore[attr-defined]
    await ticket.refresh_from_db()
    assert (ticket.tier, ticket.amount_paid) == ("pay_as_you_go", 2333)
    await fake_stripe.deliver_all(client, fake_stripe.refund(charge, 1111))
    await fake_stripe.deliver_all(client, fake_stripe.refund(charge))
    rows = await LedgerEntry.all()
    assert len(rows) == 4 and all(balanced(r) for r in rows)
    # Everything went back but Stripe's fee, which the project paid.
    assert totals(rows) == (0, 127, 0, -127)
    await ticket.refresh_from_db()
    assert (ticket.tier, ticket.amount_paid) == ("free", 0)
    await purchase.refresh_from_db()
    assert purchase.state == PurchaseState.REFUNDED
    assert [e.amount for e in seen] == [-1000, -1111, -1222]
    assert all(e.purpose == "ticket_upgrade" and e.ticket_id == ticket.id for e in seen)


async def test_with_connect_the_platform_keeps_its_fee_unless_stripe_refunded_it(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe) -> None:
    _, charge = await pay(client, platform, world, ticket, fake_stripe, amount=4000,
                          connected_account="acct_x")
    payment = await LedgerEntry.get(stripe_object_id=charge)
    assert (payment.platform_fee, payment.owed_to_project) == (200, False)
    # Refunded in Stripe's dashboard without the application fee: Stripe left it to the
    # platform, so the project carries the whole refund.
    await fake_stripe.deliver_all(client, fake_stripe.refund(charge, 1000))
    first = await LedgerEntry.get(kind=LedgerKind.REFUND)
    assert (first.gross, first.platform_fee, first.project_net) == (-1000, 0, -1000)
    # The rest, this time with the application fee: Stripe returns what is left of it
    # (all 200), and the ledger gives back exactly that.
    await fake_stripe.deliver_all(client, fake_stripe.refund(charge,
                                                             refund_application_fee=True))
    [_, second] = await LedgerEntry.filter(kind=LedgerKind.REFUND).order_by("id")
    assert (second.gross, second.platform_fee, second.project_net) == (-3000, -200, -2800)
    rows = await LedgerEntry.all()
    assert all(balanced(r) for r in rows)
    fee = fake_stripe.objects[fake_stripe.objects[charge]["application_fee"]]
    assert -sum(r.platform_fee for r in rows if r.kind == LedgerKind.REFUND) == \
        fee["amount_refunded"] == 200
    # Replayed, nothing changes.
    await fake_stripe.deliver_all(client, list(fake_stripe.events))
    assert await LedgerEntry.all().count() == 3


async def test_with_connect_a_refund_with_its_fee_returns_its_share(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe) -> None:
    _, charge = await pay(client, platform, world, ticket, fake_stripe, amount=4000,
                          connected_account="acct_x")
    await fake_stripe.deliver_all(client, fake_stripe.refund(charge, 1000,
                                                             refund_application_fee=True))
    refund = await LedgerEntry.get(kind=LedgerKind.REFUND)
    assert (refund.gross, refund.platform_fee, refund.project_net) == (-1000, -50, -950)


class _Recorder:
    def __init__(self, seen: list[events.PaymentRecorded]) -> None:
        self.seen = seen

    from forum.hookspecs import hookimpl

    @hookimpl
    def on_payment_recorded(self, event: events.PaymentRecorded, platform: Platform) -> None:
        self.seen.append(event)


async def test_a_dispute_lost_then_won(client: httpx.AsyncClient, platform: Platform,
                                       world: World, ticket: Ticket,
                                       fake_stripe: FakeStripe) -> None:
    _, charge = await pay(client, platform, world, ticket, fake_stripe)
    [created] = fake_stripe.dispute(charge)
    response = await fake_stripe.deliver(client, created)
    assert response.json()["result"] == f"charge {charge}: 1 new ledger rows"
    dispute = await LedgerEntry.get(kind=LedgerKind.DISPUTE)
    # Stripe's dispute fee (15.00, on the dispute's balance transaction) is a cost.
    assert (dispute.gross, dispute.stripe_fee, dispute.platform_fee, dispute.project_net) == (
        -5000, 1500, -250, -6250)
    await ticket.refresh_from_db()
    assert ticket.tier == "free"
    await fake_stripe.deliver_all(client, fake_stripe.close_dispute(created["data"]["object"]["id"],
                                                                   won=True))
    won = await LedgerEntry.get(kind=LedgerKind.DISPUTE_REVERSAL)
    assert (won.gross, won.stripe_fee, won.project_net) == (5000, 0, 4750)
    rows = await LedgerEntry.all()
    # Won: the money is back, the dispute fee stays paid (Stripe returned none).
    assert totals(rows) == (5000, 1675, 250, 3075) and all(balanced(r) for r in rows)
    await ticket.refresh_from_db()
    assert (ticket.tier, ticket.amount_paid) == ("pay_as_you_go", 5000)


async def test_a_refund_before_its_payment_is_recorded_with_it(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe) -> None:
    _purchase, session = await start_upgrade(platform, world.project.id, world.member.id,
                                            ticket.id)
    paid = fake_stripe.complete_checkout(session["id"])
    charge = paid[2]["data"]["object"]["id"]
    refunded = fake_stripe.refund(charge, 2000)
    early = await fake_stripe.deliver(client, refunded[0])
    assert early.json()["result"].startswith("waiting: the payment is not in the ledger")
    assert not await LedgerEntry.exists()
    await fake_stripe.deliver_all(client, paid)
    rows = await LedgerEntry.all().order_by("id")
    assert [(str(r.kind), r.gross) for r in rows] == [("payment", 5000), ("refund", -2000)]
    await ticket.refresh_from_db()
    assert ticket.amount_paid == 3000


async def test_paying_twice_for_one_ticket_counts_both_once(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe) -> None:
    _first, session = await start_upgrade(platform, world.project.id, world.member.id,
                                         ticket.id, amount=5000, priority=3)
    events_one = fake_stripe.complete_checkout(session["id"])
    assert fake_stripe.complete_checkout(session["id"]) == []  # a session is paid once
    _second, other = await start_upgrade(platform, world.project.id, world.member.id,
                                        ticket.id, amount=9000, priority=1,
                                        tier="pay_as_you_go")
    events_two = fake_stripe.complete_checkout(other["id"])
    for event in events_one + events_two + events_one:
        assert (await fake_stripe.deliver(client, event)).status_code == 200
    assert await LedgerEntry.all().count() == 2
    await ticket.refresh_from_db()
    assert (ticket.amount_paid, ticket.priority) == (14000, 1)


async def test_a_plan_subscription_and_its_renewal(
        client: httpx.AsyncClient, platform: Platform, world: World,
        fake_stripe: FakeStripe) -> None:
    plan = await Plan.create(project_id=world.project.id, kind=PlanKind.MONTHLY,
                             name="Monthly", currency="USD", price=20000, included_upgrades=3)
    purchase, subscription, session = await start_subscription(
        platform, world.project.id, world.member.id, plan, amount=25000)
    responses = await fake_stripe.deliver_all(client, fake_stripe.complete_checkout(
        session["id"]))
    assert responses[0].json()["result"].startswith(f"purchase {purchase.id} paid")
    await subscription.refresh_from_db()
    assert subscription.status == "active" and subscription.stripe_subscription_id
    assert subscription.current_period_start and subscription.current_period_end
    assert subscription.amount == 25000
    [entry] = await LedgerEntry.all()
    assert (entry.purpose, entry.gross, entry.subscription_id, entry.purchase_id,  # type: ignore[attr-defined]
            entry.ticket_id) == ("plan_invoice", 25000, subscription.id, purchase.id, None)
    await purchase.refresh_from_db()
    assert purchase.state == PurchaseState.PAID
    end = subscription.current_period_end
    renewal = fake_stripe.renew_subscription(subscription.stripe_subscription_id)
    await fake_stripe.deliver_all(client, renewal)
    rows = await LedgerEntry.all().order_by("id")
    assert [r.gross for r in rows] == [25000, 25000]
    assert rows[1].purchase_id is None and rows[1].subscription_id == subscription.id  # type: ignore[attr-defined]
    await subscription.refresh_from_db()
    assert subscription.current_period_start == end
    # The customer cancels at Stripe: the subscription follows.
    await fake_stripe.deliver_all(client, fake_stripe.cancel(subscription.stripe_subscription_id))
    await subscription.refresh_from_db()
    assert subscription.status == "canceled" and subscription.canceled_at is not None


async def test_an_invoice_paid_before_the_checkout_event_finds_the_subscription(
        client: httpx.AsyncClient, platform: Platform, world: World,
        fake_stripe: FakeStripe) -> None:
    plan = await Plan.create(project_id=world.project.id, kind=PlanKind.MONTHLY,
                             name="Monthly", currency="USD", price=20000)
    _, subscription, session = await start_subscription(platform, world.project.id,
                                                        world.member.id, plan)
    events_ = fake_stripe.complete_checkout(session["id"])
    invoice_paid = [e for e in events_ if e["type"] == "invoice.paid"]
    await fake_stripe.deliver_all(client, invoice_paid)
    await subscription.refresh_from_db()
    assert subscription.status == "active"
    assert await LedgerEntry.all().count() == 1
    await fake_stripe.deliver_all(client, list(reversed(events_)))
    assert await LedgerEntry.all().count() == 1


async def test_enterprise_subscribers_tickets_get_the_tier_and_promised_times(
        client: httpx.AsyncClient, platform: Platform, world: World,
        fake_stripe: FakeStripe) -> None:
    plan = await Plan.create(project_id=world.project.id, kind=PlanKind.ENTERPRISE,
                             name="Enterprise", currency="USD", price=600000,
                             upgrade_priority=1, included_upgrades=2,
                             response_targets={"1": [60, 240], "2": [240, 480]})
    _, subscription, session = await start_subscription(platform, world.project.id,
                                                        world.member.id, plan)
    await fake_stripe.deliver_all(client, fake_stripe.complete_checkout(session["id"]))
    ticket = await open_ticket(platform, world)  # on_ticket_submitted includes it
    await ticket.refresh_from_db()
    assert (ticket.tier, ticket.priority, ticket.amount_paid) == ("enterprise", 1, 0)
    targets = await TicketTargets.get(ticket_id=ticket.id)
    assert (targets.first_response_minutes, targets.next_response_minutes) == (60, 240)
    [included] = await Purchase.filter(ticket_id=ticket.id)
    assert included.state == PurchaseState.INCLUDED
    assert included.subscription_id == subscription.id  # type: ignore[attr-defined]
    # Idempotent; and someone without the plan gets nothing.
    await include_enterprise_ticket(platform, world.project.id, ticket.id, world.member.id)
    assert await Purchase.filter(ticket_id=ticket.id).count() == 1
    # Covering the ticket is not one of the plan's counted upgrades.
    await subscription.refresh_from_db()
    assert await included_left(subscription, plan) == 2
    other = await open_ticket(platform, world, requester=world.outsider)
    await other.refresh_from_db()
    assert other.tier == "free"
    # Once the subscription ends, settling again gives the tier back only from purchases
    # still counted: the included one stays (it was granted while subscribed).
    await Subscription.filter(id=subscription.id).update(status="canceled")
    changed = await settle_ticket_worth(platform, world.project.id, ticket.id)
    assert changed.tier == "enterprise" and changed.first_response_minutes == 60


async def test_a_failed_renewal_makes_the_subscription_past_due(
        client: httpx.AsyncClient, platform: Platform, world: World,
        fake_stripe: FakeStripe) -> None:
    plan = await Plan.create(project_id=world.project.id, kind=PlanKind.MONTHLY,
                             name="Monthly", currency="USD", price=20000)
    _, subscription, session = await start_subscription(platform, world.project.id,
                                                        world.member.id, plan)
    await fake_stripe.deliver_all(client, fake_stripe.complete_checkout(session["id"]))
    await subscription.refresh_from_db()
    failed = fake_stripe.fail_renewal(subscription.stripe_subscription_id)
    responses = await fake_stripe.deliver_all(client, failed[:1])
    assert responses[0].json()["result"] == f"subscription {subscription.id} is past_due"
    await subscription.refresh_from_db()
    assert subscription.status == "past_due"
    assert await LedgerEntry.all().count() == 1  # nothing was paid
    # Its invoice.paid twin for an unpaid invoice records nothing either.
    unpaid = fake_stripe.event("invoice.paid", failed[0]["data"]["object"])
    response = await fake_stripe.deliver(client, unpaid)
    assert response.json()["result"] == "ignored: invoice not paid by a charge"
