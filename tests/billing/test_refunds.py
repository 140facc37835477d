"""Leads refund a payment from the revenue page and the API: Stripe refunds it (our
idempotency key, Connect returns the application fee), the webhook writes the ledger, a
double submit refunds once, every role boundary, Stripe's refusal stores nothing."""

from __future__ import annotations

import re

import httpx

from forum.billing.ledger import balanced
from forum.billing.models import LedgerEntry, LedgerKind, RefundRequest
from forum.platform import Platform
from forum.support_queue.models import Ticket
from tests.billing.conftest import start_upgrade
from tests.billing.fake_stripe import FakeStripe
from tests.factories import make_project
from tests.support import Login, post_form
from tests.support_queue.conftest import World

REVENUE = "/p/demo/billing/revenue"


async def pay(client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
              fake: FakeStripe, **kw: object) -> LedgerEntry:
    purchase, session = await start_upgrade(platform, world.project.id, world.member.id,
                                            ticket.id, **kw)  # type: ignore[arg-type]
    await fake.deliver_all(client, fake.complete_checkout(session["id"]))
    return await LedgerEntry.get(purchase_id=purchase.id, kind=LedgerKind.PAYMENT)


def page_of(entry: LedgerEntry) -> str:
    return f"/p/demo/billing/payments/{entry.id}/refund"


def api_of(entry: LedgerEntry, slug: str = "demo") -> str:
    return f"/api/v1/projects/{slug}/billing/payments/{entry.id}/refund"


async def confirm(client: httpx.AsyncClient, entry: LedgerEntry, amount: str,
                  reason: str = "requested_by_customer", note: str = "") -> httpx.Response:
    return await post_form(client, f"{page_of(entry)}/confirm",
                           {"amount": amount, "reason": reason, "note": note},
                           page=page_of(entry))


async def deliver_refunds(client: httpx.AsyncClient, fake: FakeStripe) -> None:
    """Stripe's charge.refunded events, as its webhooks send them."""
    await fake.deliver_all(client, [e for e in fake.events if e["type"] == "charge.refunded"])


async def test_partial_then_full_refund_through_the_page(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe, login: Login) -> None:
    payment = await pay(client, platform, world, ticket, fake_stripe)
    assert (payment.gross, payment.platform_fee, payment.owed_to_project) == (5000, 250, True)
    await login(world.owner)
    revenue = await client.get(REVENUE)
    assert f'href="{page_of(payment)}"' in revenue.text
    form = await client.get(page_of(payment))
    assert form.status_code == 200 and "50.00" in form.text
    review = await post_form(client, page_of(payment),
                             {"amount": "20.00", "reason": "duplicate", "note": "twice"})
    assert review.status_code == 200
    # What the customer gets back, and who gives it: the platform its fee's share.
    assert re.search(r'class="refund-customer">\$?20\.00', review.text)
    assert re.search(r'class="refund-platform">\$?1\.00', review.text)
    assert re.search(r'class="refund-project">\$?19\.00', review.text)
    assert fake_stripe.calls_to("POST", "/v1/refunds") == []  # nothing asked yet
    done = await confirm(client, payment, "20.00", "duplicate", "twice")
    assert done.status_code == 303 and done.headers["location"] == REVENUE
    [call] = fake_stripe.calls_to("POST", "/v1/refunds")
    assert call.params == {"charge": payment.stripe_object_id, "amount": "2000",
                           "reason": "duplicate",
                           "metadata": {"project_id": str(world.project.id),
                                        "user_id": str(world.owner.id),
                                        "ledger_entry_id": str(payment.id)}}
    assert call.idempotency_key == f"refund-{payment.id}-0-2000"
    [request] = await RefundRequest.all()
    assert (request.amount, request.reason, request.note, request.requested_by_id) == (  # type: ignore[attr-defined]
        2000, "duplicate", "twice", world.owner.id)
    # The page did not write the ledger: the webhook does.
    assert not await LedgerEntry.exists(kind=LedgerKind.REFUND)
    shown = await client.get(REVENUE)
    assert "Refund requested; the ledger shows it when Stripe confirms." in shown.text
    assert request.stripe_refund_id in shown.text and "twice" in shown.text
    await deliver_refunds(client, fake_stripe)
    first = await LedgerEntry.get(kind=LedgerKind.REFUND)
    assert (first.gross, first.platform_fee, first.project_net, first.stripe_object_id) == (
        -2000, -100, -1900, request.stripe_refund_id)
    await ticket.refresh_from_db()
    assert (ticket.tier, ticket.amount_paid) == ("pay_as_you_go", 3000)
    # The rest: an empty amount means all that is left.
    review = await post_form(client, page_of(payment), {"amount": "", "reason":
                                                        "requested_by_customer"})
    assert re.search(r'class="refund-customer">\$?30\.00', review.text)
    done = await confirm(client, payment, "30.00")
    assert done.status_code == 303
    second = fake_stripe.calls_to("POST", "/v1/refunds")[1]
    assert second.idempotency_key == f"refund-{payment.id}-2000-3000"
    await deliver_refunds(client, fake_stripe)
    rows = await LedgerEntry.all()
    assert len(rows) == 3 and all(balanced(r) for r in rows)
    assert sum(r.gross for r in rows) == 0 and sum(r.platform_fee for r in rows) == 0
    # Fully refunded: the ticket lost its tier; the page offers no refund any more.
    await ticket.refresh_from_db()
    assert (ticket.tier, ticket.amount_paid) == ("free", 0)
    shown = await client.get(REVENUE)
    assert f'href="{page_of(payment)}"' not in shown.text
    assert shown.text.count("Refund of ") == 2


async def test_connect_refund_through_the_api_returns_the_application_fee(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe, login: Login) -> None:
    payment = await pay(client, platform, world, ticket, fake_stripe, amount=4000,
                        connected_account="acct_x")
    assert (payment.platform_fee, payment.owed_to_project) == (200, False)
    await login(world.owner)
    r = await client.post(api_of(payment), json={"amount": 1000, "reason": "fraudulent"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["amount"], body["currency"], body["platform_gives_back"],
            body["project_gives_back"], body["left_to_refund"]) == (1000, "USD", 50, 950, 3000)
    [call] = fake_stripe.calls_to("POST", "/v1/refunds")
    assert (call.params["refund_application_fee"], call.params["reverse_transfer"]) == (
        "true", "true")
    await deliver_refunds(client, fake_stripe)
    refund = await LedgerEntry.get(kind=LedgerKind.REFUND)
    assert (refund.gross, refund.platform_fee, refund.project_net) == (-1000, -50, -950)
    r = await client.post(api_of(payment), json={})
    assert r.status_code == 201 and r.json()["amount"] == 3000
    await deliver_refunds(client, fake_stripe)
    rows = await LedgerEntry.filter(kind=LedgerKind.REFUND)
    fee = fake_stripe.objects[fake_stripe.objects[payment.stripe_object_id]["application_fee"]]
    assert -sum(r.platform_fee for r in rows) == fee["amount_refunded"] == 200
    assert all(balanced(r) for r in rows)
    await ticket.refresh_from_db()
    assert ticket.tier == "free"
    # Nothing is left.
    r = await client.post(api_of(payment), json={"amount": 1})
    assert r.status_code == 422 and "amount" in r.json()["error"]["fields"]


async def test_a_double_submit_refunds_once(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe, login: Login) -> None:
    payment = await pay(client, platform, world, ticket, fake_stripe)
    await login(world.owner)
    assert (await confirm(client, payment, "50.00")).status_code == 303
    again = await confirm(client, payment, "50.00")
    assert again.status_code == 303
    assert len(fake_stripe.calls_to("POST", "/v1/refunds")) == 1
    assert await RefundRequest.all().count() == 1
    page = await client.get(REVENUE)
    assert "No refund was made" in page.text
    # Pending (not yet confirmed by Stripe) counts: nothing is left for the API either.
    r = await client.post(api_of(payment), json={"amount": 100})
    assert r.status_code == 422
    await deliver_refunds(client, fake_stripe)
    await deliver_refunds(client, fake_stripe)  # replayed
    assert await LedgerEntry.filter(kind=LedgerKind.REFUND).count() == 1
    r = await client.post(api_of(payment), json={"amount": 100})
    assert r.status_code == 422


async def test_an_amount_above_what_is_left_or_a_bad_reason_is_refused(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe, login: Login) -> None:
    payment = await pay(client, platform, world, ticket, fake_stripe)
    await login(world.owner)
    for body, field in (({"amount": 5001}, "amount"), ({"amount": 0}, "amount"),
                        ({"amount": -5}, "amount"), ({"reason": "bored"}, "reason"),
                        ({"amount": "lots"}, "amount")):
        r = await client.post(api_of(payment), json=body)
        assert r.status_code == 422, body
        assert any(field in k for k in r.json()["error"]["fields"]), r.json()
    form = await post_form(client, page_of(payment), {"amount": "50.01",
                                                      "reason": "duplicate"})
    assert form.status_code == 422 and "more than is left" in form.text
    form = await post_form(client, page_of(payment), {"amount": "1.234",
                                                      "reason": "duplicate"})
    assert form.status_code == 422
    assert fake_stripe.calls_to("POST", "/v1/refunds") == []
    assert not await RefundRequest.exists()


async def test_only_the_projects_leads_may_refund(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe, login: Login) -> None:
    payment = await pay(client, platform, world, ticket, fake_stripe)
    for user in (world.maintainer, world.supporter, world.member, world.outsider):
        await login(user)
        assert (await client.post(api_of(payment), json={"amount": 100})).status_code == 403
        assert (await client.get(page_of(payment))).status_code == 403
        shown = await client.get(REVENUE)
        assert page_of(payment) not in shown.text
    # Another project's lead: our payment is not found under their project.
    other_lead = world.outsider
    await make_project("other", owner=other_lead)
    await login(other_lead)
    r = await client.post(api_of(payment, "other"), json={"amount": 100})
    assert r.status_code == 404
    assert (await client.get(f"/p/other/billing/payments/{payment.id}/refund")
            ).status_code == 404
    await login(None)
    assert (await client.post(api_of(payment), json={"amount": 100})).status_code == 401
    page = await client.get(page_of(payment))
    assert page.status_code in {302, 303} and "login" in page.headers["location"]
    assert fake_stripe.calls_to("POST", "/v1/refunds") == []
    assert not await RefundRequest.exists()
    # A lead (not the owner) may.
    from forum.projects.models import Role
    from tests.factories import add_member, make_user
    lead = await make_user()
    await add_member(world.project, lead, Role.LEAD)
    await login(lead)
    assert (await client.post(api_of(payment), json={"amount": 100})).status_code == 201


async def test_stripes_refusal_stores_nothing(
        client: httpx.AsyncClient, platform: Platform, world: World, ticket: Ticket,
        fake_stripe: FakeStripe, login: Login) -> None:
    payment = await pay(client, platform, world, ticket, fake_stripe)
    # Refunded in Stripe's dashboard; its webhook has not arrived yet.
    fake_stripe.refund(payment.stripe_object_id)
    await login(world.owner)
    r = await client.post(api_of(payment), json={"amount": 1000})
    assert r.status_code == 502
    error = r.json()["error"]
    assert error["code"] == "payment_provider_error" and "already been refunded" in \
        error["message"]
    done = await confirm(client, payment, "10.00")
    assert done.status_code == 303
    page = await client.get(REVENUE)
    assert "No refund was made" in page.text and "already been refunded" in page.text
    assert not await RefundRequest.exists()
    assert not await LedgerEntry.exists(kind=LedgerKind.REFUND)
