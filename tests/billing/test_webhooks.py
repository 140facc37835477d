"""POST /webhooks/stripe against the fake Stripe: signatures, each event once, unknown
types, re-reading Stripe's current state, and what a paid upgrade does to the ticket."""

from __future__ import annotations

import json

import httpx
import pytest

from forum.billing.models import (
    LedgerEntry,
    LedgerKind,
    Purchase,
    PurchaseState,
    StripeEvent,
)
from forum.platform import Platform
from forum.support_queue.models import Ticket
from tests.billing.conftest import start_upgrade
from tests.billing.fake_stripe import FakeStripe
from tests.support_queue.conftest import World


async def paid_upgrade(platform: Platform, world: World, ticket: Ticket, fake: FakeStripe,
                       **kw: object) -> tuple[Purchase, list[dict[str, object]]]:
    purchase, session = await start_upgrade(platform, world.project.id, world.member.id,
                                            ticket.id, **kw)  # type: ignore[arg-type]
    return purchase, fake.complete_checkout(session["id"])


async def test_a_paid_upgrade_reaches_the_ledger_and_the_ticket(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe) -> None:
    purchase, events = await paid_upgrade(platform, world, ticket, fake_stripe)
    responses = await fake_stripe.deliver_all(client, events)
    results = [r.json()["result"] for r in responses]
    assert results[0] == f"purchase {purchase.id} paid"
    assert results[1] == results[2] == "ignored: not a type billing acts on"
    assert results[3] == f"invoice {events[3]['data']['object']['id']} paid for " \
                         f"purchase {purchase.id}"  # type: ignore[index]
    [entry] = await LedgerEntry.all()
    assert (entry.kind, entry.purpose, entry.ticket_id, entry.gross, entry.stripe_fee,
            entry.stripe_fee_known, entry.platform_fee, entry.project_net, entry.currency,
            entry.owed_to_project) == (LedgerKind.PAYMENT, "ticket_upgrade", ticket.id, 5000,
                                       175, True, 250, 4575, "USD", True)
    assert entry.stripe_object_id.startswith("ch_")
    assert entry.user_id == world.member.id  # type: ignore[attr-defined]
    await purchase.refresh_from_db()
    assert purchase.state == PurchaseState.PAID and purchase.paid_at is not None
    assert purchase.payment_intent_id and purchase.invoice_id
    await ticket.refresh_from_db()
    assert (ticket.tier, ticket.amount_paid, ticket.priority, ticket.currency) == (
        "pay_as_you_go", 5000, 2, "USD")
    # The completed session was read once, with its payment and fee expanded.
    [read] = fake_stripe.calls_to("GET", "/v1/checkout/sessions/")
    assert read.params["expand"] == ["payment_intent.latest_charge.balance_transaction"]
    rows = await StripeEvent.all().order_by("id")
    assert [r.event_id for r in rows] == [e["id"] for e in events]
    assert all(r.processed_at is not None for r in rows)


async def test_the_same_event_twice_counts_once(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe) -> None:
    _, events = await paid_upgrade(platform, world, ticket, fake_stripe)
    first = await fake_stripe.deliver(client, events[0])
    again = await fake_stripe.deliver(client, events[0])
    assert first.status_code == again.status_code == 200
    assert again.json()["result"] == "duplicate: already taken in"
    # invoice.paid is about the same charge: still one row.
    await fake_stripe.deliver(client, events[3])
    assert await LedgerEntry.all().count() == 1
    assert await StripeEvent.all().count() == 2


@pytest.mark.parametrize("case", ["forged", "missing", "stale", "garbled"])
async def test_bad_signatures_are_refused_and_nothing_happens(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe, case: str) -> None:
    _, events = await paid_upgrade(platform, world, ticket, fake_stripe)
    body = json.dumps(events[0]).encode()
    headers = {"Content-Type": "application/json"}
    if case == "forged":
        headers["Stripe-Signature"] = fake_stripe.sign(body, secret="whsec_attacker")
    elif case == "stale":
        headers["Stripe-Signature"] = fake_stripe.sign(body, t=fake_stripe.now() - 301)
    elif case == "garbled":
        headers["Stripe-Signature"] = "t=abc,v1=nothex"
    response = await client.post("/webhooks/stripe", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"
    assert not await StripeEvent.exists()
    assert not await LedgerEntry.exists()
    assert not fake_stripe.calls_to("GET", "/v1/")  # Stripe was not even asked
    await ticket.refresh_from_db()
    assert ticket.tier == "free"


async def test_an_altered_body_is_refused(client: httpx.AsyncClient,
                                          fake_stripe: FakeStripe) -> None:
    event = fake_stripe.event("charge.refunded", {"id": "ch_1", "object": "charge"})
    body, headers = fake_stripe.signed(event)
    tampered = body.replace(b"ch_1", b"ch_2")
    response = await client.post("/webhooks/stripe", content=tampered, headers=headers)
    assert response.status_code == 400


async def test_unknown_types_are_recorded_and_ignored(
        client: httpx.AsyncClient, fake_stripe: FakeStripe) -> None:
    event = fake_stripe.event("customer.tax_id.created", {"id": "txi_1", "object": "tax_id"})
    response = await fake_stripe.deliver(client, event)
    assert response.status_code == 200
    assert response.json()["result"] == "ignored: not a type billing acts on"
    row = await StripeEvent.get(event_id=event["id"])
    assert row.type == "customer.tax_id.created"
    assert (await fake_stripe.deliver(client, event)).json()["result"].startswith("duplicate")


async def test_a_completed_event_for_an_unpaid_session_changes_nothing(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe) -> None:
    """A signed but old or replayed event says "completed"; Stripe says the session is
    still open: the handler believes Stripe."""
    purchase, session = await start_upgrade(platform, world.project.id, world.member.id,
                                            ticket.id)
    claimed = {**session, "status": "complete", "payment_status": "paid"}
    event = fake_stripe.event("checkout.session.completed", claimed)
    response = await fake_stripe.deliver(client, event)
    assert response.json()["result"] == f"purchase {purchase.id} waits for payment"
    await purchase.refresh_from_db()
    assert purchase.state == PurchaseState.PENDING
    await ticket.refresh_from_db()
    assert ticket.tier == "free"
    assert not await LedgerEntry.exists()


async def test_async_payment_failed_marks_the_purchase(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe) -> None:
    purchase, session = await start_upgrade(platform, world.project.id, world.member.id,
                                            ticket.id)
    fake_stripe.objects[session["id"]]["status"] = "complete"  # paid by bank debit, bounced
    event = fake_stripe.event("checkout.session.async_payment_failed",
                              fake_stripe.objects[session["id"]])
    response = await fake_stripe.deliver(client, event)
    assert response.json()["result"] == f"purchase {purchase.id} failed"
    await purchase.refresh_from_db()
    assert purchase.state == PurchaseState.FAILED
    await ticket.refresh_from_db()
    assert ticket.tier == "free"


async def test_with_a_connected_account_the_fee_is_stripes_application_fee(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe) -> None:
    _, events = await paid_upgrade(platform, world, ticket, fake_stripe,
                                   connected_account="acct_demo", fee_percent=7)
    await fake_stripe.deliver_all(client, events)
    [entry] = await LedgerEntry.all()
    assert (entry.gross, entry.stripe_fee, entry.platform_fee, entry.project_net,
            entry.owed_to_project) == (5000, 175, 350, 4475, False)


async def test_the_platform_fee_follows_the_admin_setting(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe) -> None:
    from decimal import Decimal

    from forum.projects.service import do_set_platform_fee

    await do_set_platform_fee(platform, Decimal("2.5"))
    _, events = await paid_upgrade(platform, world, ticket, fake_stripe, amount=999)
    await fake_stripe.deliver_all(client, events)
    [entry] = await LedgerEntry.all()
    # 2.5% of 9.99 is 24.975 cents: rounded half up to 25; Stripe: 2.9% + 30 = 59.
    assert (entry.gross, entry.stripe_fee, entry.platform_fee, entry.project_net) == (
        999, 59, 25, 915)


async def test_a_charge_in_another_currency_is_recorded_and_said(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe) -> None:
    purchase, session = await start_upgrade(platform, world.project.id, world.member.id,
                                            ticket.id, currency="EUR")
    await Purchase.filter(id=purchase.id).update(currency="USD")  # priced in USD
    events = fake_stripe.complete_checkout(session["id"])
    responses = await fake_stripe.deliver_all(client, events)
    assert responses[0].json()["result"] == (
        f"purchase {purchase.id} paid; currency mismatch: paid in EUR, priced in USD")
    [entry] = await LedgerEntry.all()
    assert entry.currency == "EUR" and entry.gross == 5000
    await ticket.refresh_from_db()
    # The upgrade holds; amount_paid counts only the ticket's own currency.
    assert (ticket.tier, ticket.amount_paid, ticket.currency) == ("pay_as_you_go", 0, "USD")


async def test_without_payments_set_up_the_webhook_is_503(
        client: httpx.AsyncClient, platform: Platform, fake_stripe: FakeStripe) -> None:
    from forum.billing.gateway import set_gateway

    platform.settings.stripe_api_key = type(platform.settings.stripe_api_key)("")
    set_gateway(platform, None)
    event = fake_stripe.event("charge.refunded", {"id": "ch_1", "object": "charge"})
    response = await fake_stripe.deliver(client, event)
    assert response.status_code == 503
    assert not await StripeEvent.exists()


async def test_a_stripe_outage_is_500_and_nothing_is_kept(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe) -> None:
    purchase, events = await paid_upgrade(platform, world, ticket, fake_stripe)
    from forum.billing.gateway import StripeGateway, set_gateway

    set_gateway(platform, StripeGateway(fake_stripe.api_key,
                                        webhook_secret=fake_stripe.webhook_secret,
                                        api_base=fake_stripe.url, max_network_retries=0))
    fake_stripe.fail_next.append((500, {"error": {"type": "api_error",
                                                  "message": "Stripe is down"}}))
    response = await fake_stripe.deliver(client, events[0])
    assert response.status_code == 500
    assert not await StripeEvent.exists()
    # Stripe delivers it again later: now it works.
    again = await fake_stripe.deliver(client, events[0])
    assert again.status_code == 200 and again.json()["result"] == f"purchase {purchase.id} paid"
    assert await LedgerEntry.all().count() == 1


async def test_the_fakes_checkout_page_pays(platform: Platform, world: World, ticket: Ticket,
                                            fake_stripe: FakeStripe) -> None:
    """The page browser tests click through: a Pay button; paying completes the session
    (delivery to a live app is the browser tests' part) and returns to success_url."""
    _, session = await start_upgrade(platform, world.project.id, world.member.id, ticket.id)
    async with httpx.AsyncClient() as browser:
        page = await browser.get(session["url"])
        assert page.status_code == 200 and ">Pay</button>" in page.text
        paid = await browser.post(session["url"])
    assert paid.status_code == 303 and paid.headers["location"] == "http://testserver/ok"
    assert fake_stripe.objects[session["id"]]["payment_status"] == "paid"
    assert fake_stripe.events[0]["type"] == "checkout.session.completed"


async def test_an_expired_session_expires_the_purchase(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe) -> None:
    purchase, session = await start_upgrade(platform, world.project.id, world.member.id,
                                            ticket.id)
    response = await fake_stripe.deliver(client, fake_stripe.expire(session["id"])[0])
    assert response.json()["result"] == f"purchase {purchase.id} expired"
    await purchase.refresh_from_db()
    assert purchase.state == PurchaseState.EXPIRED


async def test_a_delayed_payment_counts_when_it_succeeds(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe) -> None:
    purchase, session = await start_upgrade(platform, world.project.id, world.member.id,
                                            ticket.id)
    fake_stripe.complete_checkout(session["id"])
    succeeded = fake_stripe.event("checkout.session.async_payment_succeeded",
                                  fake_stripe.objects[session["id"]])
    response = await fake_stripe.deliver(client, succeeded)
    assert response.json()["result"] == f"purchase {purchase.id} paid"
    await ticket.refresh_from_db()
    assert (ticket.tier, ticket.amount_paid) == ("pay_as_you_go", 5000)
