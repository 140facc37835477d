"""Buying a ticket upgrade and a plan against the fake Stripe: the upgrade page for each
kind of viewer, the gates (terms, bans, who is buying), the Checkout Session's parameters,
double clicks, currency mismatch, prices below the floor, and included upgrades."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from forum.billing.models import (
    BillingSettings,
    BuyerProfile,
    BuyerPurpose,
    Plan,
    PlanKind,
    Purchase,
    PurchaseKind,
    PurchaseState,
    StripeCustomer,
    Subscription,
)
from forum.moderation.penalty_models import Penalty, PenaltyKind, TermsKind
from forum.moderation.terms import do_publish
from forum.platform import Platform
from forum.support_queue.models import Ticket
from forum.topics.models import Topic
from tests.billing.fake_stripe import FakeStripe
from tests.support import Login, post_form
from tests.support_queue.conftest import World, make_world, open_ticket


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    world = await make_world("demo")
    await BillingSettings.create(project_id=world.project.id, currency="USD",
                                 seller_name="Demo Support LLC")
    return world


@pytest.fixture
async def plan(world: World) -> Plan:
    return await Plan.create(project_id=world.project.id, kind=PlanKind.PAY_AS_YOU_GO,
                             name="Priority", currency="USD", price=4900, upgrade_priority=2)


async def buyer(world: World, purpose: BuyerPurpose = BuyerPurpose.PROFESSIONAL,
                **fields: Any) -> BuyerProfile:
    return await BuyerProfile.create(user_id=world.member.id, project_id=world.project.id,
                                     purpose=purpose, **fields)


def upgrade_url(ticket: Ticket) -> str:
    return f"/p/demo/tickets/{ticket.number}/upgrade"


async def test_the_requester_sees_position_options_price_and_seller(
        client: httpx.AsyncClient, world: World, plan: Plan, ticket: Ticket,
        login: Login) -> None:
    await buyer(world)
    await login(world.member)
    page = await client.get(upgrade_url(ticket))
    assert page.status_code == 200
    assert "Position 1" in page.text and "Demo Support LLC" in page.text
    assert "49.00 USD" in page.text and "priority P2" in page.text
    assert f'value="pay_as_you_go:{plan.id}"' in page.text
    api = await client.get(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade")
    assert api.status_code == 200
    offer = api.json()
    assert offer["can_buy"] is True and offer["queue_position"] == 1
    assert offer["options"][0]["amount"] == 4900 and offer["seller"] == "Demo Support LLC"


async def test_the_upgrade_opens_a_checkout_session_with_our_ids(
        client: httpx.AsyncClient, world: World, plan: Plan, ticket: Ticket, login: Login,
        fake_stripe: FakeStripe) -> None:
    await buyer(world)
    await login(world.member)
    r = await post_form(client, upgrade_url(ticket), {"option": f"pay_as_you_go:{plan.id}"})
    assert r.status_code == 303
    purchase = await Purchase.get(ticket_id=ticket.id)
    # A form may not redirect off the site (CSP form-action): a page links on to Stripe.
    assert r.headers["location"] == f"/billing/checkout/{purchase.id}"
    page = await client.get(r.headers["location"])
    assert page.status_code == 200
    assert "Priority support for DEMO-1" in page.text and "49.00 USD" in page.text
    assert f'href="{fake_stripe.url}/pay/cs_test_' in page.text
    assert (purchase.state, purchase.amount, purchase.tier, purchase.priority) == (
        PurchaseState.PENDING, 4900, "pay_as_you_go", 2)
    assert purchase.idempotency_key == f"upgrade-{ticket.id}-{world.member.id}-{plan.id}-4900"
    [customer_call] = fake_stripe.calls_to("POST", "/v1/customers")
    assert customer_call.idempotency_key == f"customer-{world.member.id}"
    assert customer_call.params["email"] == world.member.email
    customer = await StripeCustomer.get(user_id=world.member.id)
    [call] = fake_stripe.calls_to("POST", "/v1/checkout/sessions")
    assert call.idempotency_key == f"checkout-{purchase.id}"
    params = call.params
    assert params["mode"] == "payment" and params["customer"] == customer.stripe_customer_id
    line = params["line_items"][0]
    assert line["price_data"]["currency"] == "usd"
    assert line["price_data"]["unit_amount"] == "4900"
    assert line["price_data"]["product_data"]["name"] == "Priority support for DEMO-1"
    assert params["client_reference_id"] == str(purchase.id)
    assert params["metadata"] == {"purchase_id": str(purchase.id),
                                  "project_id": str(world.project.id),
                                  "ticket_id": str(ticket.id), "kind": "ticket_upgrade"}
    assert params["invoice_creation"]["enabled"] == "true"
    assert params["tax_id_collection"]["enabled"] == "true"
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    assert params["success_url"].startswith(
        f"http://testserver/p/demo/t/{topic.id}-{topic.slug}")
    assert params["cancel_url"].startswith(f"http://testserver{upgrade_url(ticket)}")
    # No connected account: the platform collects, no application fee or transfer.
    assert "application_fee_amount" not in params.get("payment_intent_data", {})
    # The ticket does not change until Stripe confirms the payment.
    await ticket.refresh_from_db()
    assert ticket.tier == "free" and ticket.amount_paid == 0


async def test_a_second_click_reuses_the_open_session(
        client: httpx.AsyncClient, world: World, plan: Plan, ticket: Ticket, login: Login,
        fake_stripe: FakeStripe) -> None:
    await buyer(world)
    await login(world.member)
    body = {"option": f"pay_as_you_go:{plan.id}"}
    first = await client.post(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade",
                              json=body)
    second = await client.post(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade",
                               json=body)
    assert first.status_code == second.status_code == 200, first.text
    assert first.json() == second.json()
    assert len(fake_stripe.calls_to("POST", "/v1/checkout/sessions")) == 1
    assert len(fake_stripe.calls_to("POST", "/v1/customers")) == 1
    assert await Purchase.filter(ticket_id=ticket.id).count() == 1
    # Once that session expired, a new click opens a new one.
    purchase = await Purchase.get(ticket_id=ticket.id)
    assert purchase.checkout_session_id is not None
    fake_stripe.objects[purchase.checkout_session_id]["status"] = "expired"
    third = await client.post(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade",
                              json=body)
    assert third.status_code == 200 and third.json()["url"] != first.json()["url"]
    states = sorted(p.state for p in await Purchase.filter(ticket_id=ticket.id))
    assert states == [PurchaseState.EXPIRED, PurchaseState.PENDING]


async def test_with_a_connected_account_the_platform_fee_is_an_application_fee(
        client: httpx.AsyncClient, world: World, plan: Plan, ticket: Ticket, login: Login,
        fake_stripe: FakeStripe) -> None:
    await BillingSettings.filter(project_id=world.project.id).update(
        stripe_account_id="acct_demo", account_charges_enabled=True)
    await buyer(world)
    await login(world.member)
    r = await client.post(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade",
                          json={"option": f"pay_as_you_go:{plan.id}"})
    assert r.status_code == 200
    [call] = fake_stripe.calls_to("POST", "/v1/checkout/sessions")
    data = call.params["payment_intent_data"]
    assert data["application_fee_amount"] == "245"  # 5% of 49.00, rounded half up
    assert data["transfer_data"]["destination"] == "acct_demo"


async def test_who_may_see_and_buy(client: httpx.AsyncClient, world: World, plan: Plan,
                                   platform: Platform, login: Login) -> None:
    public = await open_ticket(platform, world, is_private=False)
    private = await open_ticket(platform, world, is_private=True)
    await buyer(world)
    # The team reads the page but cannot buy.
    await login(world.supporter)
    page = await client.get(upgrade_url(public))
    assert page.status_code == 200 and "only the requester can buy" in page.text
    assert 'name="option"' not in page.text
    r = await client.post(f"/api/v1/projects/demo/tickets/{public.number}/upgrade",
                          json={"option": f"pay_as_you_go:{plan.id}"})
    assert r.status_code == 403
    # Anyone else: forbidden on a public ticket, not found on a private one.
    await login(world.outsider)
    assert (await client.get(upgrade_url(public))).status_code == 403
    assert (await client.get(upgrade_url(private))).status_code == 404
    r = await client.post(f"/api/v1/projects/demo/tickets/{public.number}/upgrade",
                          json={"option": f"pay_as_you_go:{plan.id}"})
    assert r.status_code == 403
    r = await client.post(f"/api/v1/projects/demo/tickets/{private.number}/upgrade",
                          json={"option": f"pay_as_you_go:{plan.id}"})
    assert r.status_code == 404
    await login(None)
    assert (await client.get(upgrade_url(private))).status_code == 404
    assert (await client.get(upgrade_url(public))).status_code == 303
    assert (await client.get("/p/demo/tickets/999/upgrade")).status_code == 404
    assert not await Purchase.exists()


async def test_terms_must_be_accepted_before_paying(
        client: httpx.AsyncClient, world: World, plan: Plan, ticket: Ticket, login: Login,
        fake_stripe: FakeStripe) -> None:
    await buyer(world)
    await do_publish(world.owner, world.project, TermsKind.TERMS, "Be kind.", "<p>Be kind.</p>")
    await login(world.member)
    page = await client.get(upgrade_url(ticket))
    assert "terms and code of conduct first" in page.text and 'href="/p/demo/terms"' in page.text
    assert 'name="option"' not in page.text
    r = await client.post(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade",
                          json={"option": f"pay_as_you_go:{plan.id}"})
    assert r.status_code == 403 and "terms" in r.json()["error"]["message"]
    assert not fake_stripe.calls_to("POST", "/v1/checkout/sessions")
    await post_form(client, "/p/demo/terms/accept", {}, page="/p/demo/terms")
    r = await client.post(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade",
                          json={"option": f"pay_as_you_go:{plan.id}"})
    assert r.status_code == 200


async def test_a_banned_requester_cannot_pay(
        client: httpx.AsyncClient, world: World, plan: Plan, ticket: Ticket, login: Login,
        fake_stripe: FakeStripe) -> None:
    await buyer(world)
    await Penalty.create(user_id=world.member.id, project_id=world.project.id,
                         kind=PenaltyKind.BAN, reason="Abuse of the team")
    await login(world.member)
    page = await client.get(upgrade_url(ticket))
    assert "You are banned" in page.text and "Read and accept" not in page.text
    assert 'name="option"' not in page.text
    r = await client.post(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade",
                          json={"option": f"pay_as_you_go:{plan.id}"})
    assert r.status_code == 403 and "banned" in r.json()["error"]["message"]
    r = await post_form(client, upgrade_url(ticket), {"option": f"pay_as_you_go:{plan.id}"},
                        page="/p/demo/support/plans")
    assert r.status_code == 403
    assert not fake_stripe.calls_to("POST", "/v1/checkout/sessions")
    assert not await Purchase.exists()


async def test_the_first_purchase_asks_who_is_buying(
        client: httpx.AsyncClient, world: World, plan: Plan, ticket: Ticket,
        login: Login) -> None:
    await login(world.member)
    page = await client.get(upgrade_url(ticket))
    assert "tell us who is buying" in page.text
    r = await client.post(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade",
                          json={"option": f"pay_as_you_go:{plan.id}"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "buyer_profile_required"
    r = await post_form(client, f"/p/demo/billing/buyer?next={upgrade_url(ticket)}",
                        {"purpose": "personal", "next": upgrade_url(ticket)})
    assert r.status_code == 303 and r.headers["location"] == upgrade_url(ticket)
    profile = await BuyerProfile.get(user_id=world.member.id, project_id=world.project.id)
    assert profile.purpose == BuyerPurpose.PERSONAL
    page = await client.get(upgrade_url(ticket))
    assert f'value="pay_as_you_go:{plan.id}"' in page.text


async def test_a_plan_in_another_currency_is_refused(
        client: httpx.AsyncClient, world: World, plan: Plan, ticket: Ticket, login: Login,
        fake_stripe: FakeStripe) -> None:
    sub_plan = await Plan.create(project_id=world.project.id, kind=PlanKind.MONTHLY,
                                 name="Monthly", currency="USD", price=19900)
    await buyer(world)
    # The project changed its currency under the plans.
    await BillingSettings.filter(project_id=world.project.id).update(currency="EUR")
    await login(world.member)
    r = await client.post(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade",
                          json={"option": f"pay_as_you_go:{plan.id}"})
    assert r.status_code == 422  # no longer offered
    r = await client.post(f"/api/v1/projects/demo/plans/{sub_plan.id}/subscribe",
                          json={"amount": 19900})
    assert r.status_code == 422 and "currency" in r.json()["error"]["fields"]
    assert not fake_stripe.calls_to("POST", "/v1/checkout/sessions")


async def test_a_closed_ticket_cannot_be_upgraded(
        client: httpx.AsyncClient, world: World, plan: Plan, ticket: Ticket,
        login: Login) -> None:
    await buyer(world)
    await Ticket.filter(id=ticket.id).update(state="solved")
    await login(world.member)
    r = await client.post(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade",
                          json={"option": f"pay_as_you_go:{plan.id}"})
    assert r.status_code == 409


# Plans


@pytest.fixture
async def monthly(world: World) -> Plan:
    return await Plan.create(project_id=world.project.id, kind=PlanKind.MONTHLY,
                             name="Monthly", currency="USD", price=19900,
                             included_upgrades=2, extra_upgrade_price=2900,
                             upgrade_priority=2)


async def test_subscribing_opens_a_subscription_checkout_at_the_chosen_amount(
        client: httpx.AsyncClient, world: World, monthly: Plan, login: Login,
        fake_stripe: FakeStripe) -> None:
    await buyer(world)
    await login(world.member)
    r = await post_form(client, f"/p/demo/billing/subscribe/{monthly.id}", {"amount": "250"})
    assert r.status_code == 303 and r.headers["location"].startswith("/billing/checkout/")
    page = await client.get(r.headers["location"])
    assert "The Monthly plan" in page.text and f'href="{fake_stripe.url}/pay/' in page.text
    [call] = fake_stripe.calls_to("POST", "/v1/checkout/sessions")
    params = call.params
    assert params["mode"] == "subscription"
    price = params["line_items"][0]["price_data"]
    assert price["unit_amount"] == "25000" and price["currency"] == "usd"
    assert price["recurring"] == {"interval": "month", "interval_count": "1"}
    purchase = await Purchase.get(kind=PurchaseKind.SUBSCRIPTION)
    subscription = await Subscription.get(id=purchase.subscription_id)  # type: ignore[attr-defined]
    assert (subscription.amount, subscription.status) == (25000, "incomplete")
    assert subscription.checkout_session_id == purchase.checkout_session_id
    assert params["subscription_data"]["metadata"]["purchase_id"] == str(purchase.id)
    assert purchase.idempotency_key == f"subscribe-{world.member.id}-{monthly.id}-25000"
    assert call.idempotency_key == f"checkout-{purchase.id}"


async def test_an_enterprise_plan_bills_every_six_months(
        client: httpx.AsyncClient, world: World, login: Login,
        fake_stripe: FakeStripe) -> None:
    targets = {str(p): [30 * p, 60 * p] for p in range(1, 6)}
    plan = await Plan.create(project_id=world.project.id, kind=PlanKind.ENTERPRISE,
                             name="Enterprise", currency="USD", price=500000,
                             response_targets=targets)
    await BillingSettings.filter(project_id=world.project.id).update(
        stripe_account_id="acct_demo", account_charges_enabled=True)
    await buyer(world)
    await login(world.member)
    r = await client.post(f"/api/v1/projects/demo/plans/{plan.id}/subscribe",
                          json={"amount": 500000})
    assert r.status_code == 200, r.text
    [call] = fake_stripe.calls_to("POST", "/v1/checkout/sessions")
    recurring = call.params["line_items"][0]["price_data"]["recurring"]
    assert recurring["interval_count"] == "6"
    data = call.params["subscription_data"]
    assert data["application_fee_percent"] == "5.0"
    assert data["transfer_data"]["destination"] == "acct_demo"


async def test_a_price_below_the_floor_is_refused(
        client: httpx.AsyncClient, world: World, monthly: Plan, login: Login,
        fake_stripe: FakeStripe) -> None:
    await buyer(world)
    await login(world.member)
    r = await client.post(f"/api/v1/projects/demo/plans/{monthly.id}/subscribe",
                          json={"amount": 19899})
    assert r.status_code == 422
    assert "at least 199.00 USD" in r.json()["error"]["message"]
    page = await post_form(client, f"/p/demo/billing/subscribe/{monthly.id}",
                           {"amount": "150.00"})
    assert page.status_code == 422 and "at least 199.00 USD" in page.text
    assert not fake_stripe.calls_to("POST", "/v1/checkout/sessions")
    assert not await Subscription.exists()


async def test_a_floss_buyer_pays_the_discounted_floor(
        client: httpx.AsyncClient, world: World, monthly: Plan, login: Login) -> None:
    now = datetime.now(UTC)
    await buyer(world, BuyerPurpose.FLOSS, floss_target="octo-org",
                floss_website="https://octo.example", github_login="octocat",
                verified_at=now, verification_expires_at=now + timedelta(days=30))
    await login(world.member)
    r = await client.post(f"/api/v1/projects/demo/plans/{monthly.id}/subscribe",
                          json={"amount": 9949})  # 50% off 199.00, rounded down
    assert r.status_code == 422
    r = await client.post(f"/api/v1/projects/demo/plans/{monthly.id}/subscribe",
                          json={"amount": 9950})
    assert r.status_code == 200, r.text


async def active_subscription(world: World, plan: Plan, **fields: Any) -> Subscription:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "project_id": world.project.id, "user_id": world.member.id, "plan_id": plan.id,
        "amount": plan.price, "currency": plan.currency, "status": "active",
        "stripe_subscription_id": "sub_test_1", "current_period_start": now - timedelta(days=3),
        "current_period_end": now + timedelta(days=27)}
    values.update(fields)
    return await Subscription.create(**values)


async def test_included_upgrades_are_counted_per_billing_period(
        client: httpx.AsyncClient, world: World, monthly: Plan, platform: Platform,
        login: Login, fake_stripe: FakeStripe) -> None:
    sub = await active_subscription(world, monthly)
    # One included upgrade was used in the previous period: it does not count.
    await Purchase.create(project_id=world.project.id, user_id=world.member.id,
                          kind=PurchaseKind.TICKET_UPGRADE, state=PurchaseState.INCLUDED,
                          ticket_id=0, plan_id=monthly.id, subscription_id=sub.id,
                          tier="subscription", amount=0, currency="USD",
                          idempotency_key="old-period")
    await Purchase.filter(idempotency_key="old-period").update(
        created_at=datetime.now(UTC) - timedelta(days=20))
    await buyer(world)
    tickets = [await open_ticket(platform, world) for _ in range(3)]
    await login(world.member)
    for ticket in tickets[:2]:
        offer = (await client.get(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade")
                 ).json()
        assert [o["key"] for o in offer["options"]] == [f"included:{sub.id}"]
        r = await client.post(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade",
                              json={"option": f"included:{sub.id}"})
        assert r.status_code == 200 and r.json()["state"] == "included"
        await ticket.refresh_from_db()
        assert ticket.tier == "subscription" and ticket.priority == 2
    assert not fake_stripe.calls_to("POST", "/v1/checkout/sessions")
    # The plan's two are used up: a further upgrade costs the plan's extra price.
    offer = (await client.get(f"/api/v1/projects/demo/tickets/{tickets[2].number}/upgrade")
             ).json()
    assert [(o["key"], o["amount"]) for o in offer["options"]] == [(f"extra:{sub.id}", 2900)]
    r = await client.post(f"/api/v1/projects/demo/tickets/{tickets[2].number}/upgrade",
                          json={"option": f"included:{sub.id}"})
    assert r.status_code == 422
    r = await client.post(f"/api/v1/projects/demo/tickets/{tickets[2].number}/upgrade",
                          json={"option": f"extra:{sub.id}"})
    assert r.status_code == 200 and r.json()["state"] == "pending"
    [call] = fake_stripe.calls_to("POST", "/v1/checkout/sessions")
    assert call.params["line_items"][0]["price_data"]["unit_amount"] == "2900"


async def test_the_ticket_panel_links_the_upgrade_for_its_requester(
        client: httpx.AsyncClient, world: World, ticket: Ticket, login: Login) -> None:
    panel_url = f"/p/demo/t/{ticket.topic_id}/ticket-panel"  # type: ignore[attr-defined]
    await login(world.member)
    panel = await client.get(panel_url)
    assert "Upgrade priority" in panel.text and upgrade_url(ticket) in panel.text
    await login(world.supporter)
    panel = await client.get(panel_url)
    assert "Upgrade priority" not in panel.text and "Upgrade options" in panel.text


async def test_paying_moves_the_ticket_up_the_queue_once_stripe_confirms(
        client: httpx.AsyncClient, world: World, plan: Plan, platform: Platform,
        login: Login, fake_stripe: FakeStripe) -> None:
    first = await open_ticket(platform, world, requester=world.maintainer)
    ticket = await open_ticket(platform, world)
    await buyer(world)
    await login(world.member)
    offer = (await client.get(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade")).json()
    assert offer["queue_position"] == 2
    r = await client.post(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade",
                          json={"option": f"pay_as_you_go:{plan.id}"})
    session_id = r.json()["url"].rsplit("/", 1)[1]
    events = fake_stripe.complete_checkout(session_id)
    await ticket.refresh_from_db()
    assert ticket.tier == "free"  # paid at Stripe, not yet confirmed to us
    await fake_stripe.deliver_all(client, events)
    await ticket.refresh_from_db()
    assert (ticket.tier, ticket.amount_paid, ticket.priority) == ("pay_as_you_go", 4900, 2)
    offer = (await client.get(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade")).json()
    assert offer["queue_position"] == 1 and offer["tier"] == "pay_as_you_go"
    purchase = await Purchase.get(ticket_id=ticket.id)
    assert purchase.state == PurchaseState.PAID
    # Paying again for the same upgrade is refused: the ticket has it.
    assert offer["options"][0]["owned"] is True
    page = await client.get(upgrade_url(ticket))
    assert "already has this" in page.text and 'name="option"' not in page.text
    r = await client.post(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade",
                          json={"option": f"pay_as_you_go:{plan.id}"})
    assert r.status_code == 409
    assert len(fake_stripe.calls_to("POST", "/v1/checkout/sessions")) == 1
    assert first.id != ticket.id


async def test_the_way_on_to_stripe_is_the_buyers_own_and_ends_once_paid(
        client: httpx.AsyncClient, world: World, plan: Plan, ticket: Ticket, login: Login,
        fake_stripe: FakeStripe) -> None:
    await buyer(world)
    await login(world.member)
    r = await client.post(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade",
                          json={"option": f"pay_as_you_go:{plan.id}"})
    purchase_id = r.json()["purchase_id"]
    await login(world.owner)
    assert (await client.get(f"/billing/checkout/{purchase_id}")).status_code == 404
    await login(world.member)
    session_id = r.json()["url"].rsplit("/", 1)[1]
    await fake_stripe.deliver_all(client, fake_stripe.complete_checkout(session_id))
    r = await client.get(f"/billing/checkout/{purchase_id}")
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    assert r.status_code == 303 and r.headers["location"] == f"/p/demo/t/{topic.id}-{topic.slug}"


async def test_only_active_recurring_plans_can_be_subscribed(
        client: httpx.AsyncClient, world: World, plan: Plan, monthly: Plan, login: Login,
        fake_stripe: FakeStripe) -> None:
    await buyer(world)
    await Plan.filter(id=monthly.id).update(is_active=False)
    await login(world.member)
    for plan_id in (plan.id, monthly.id, 9999):
        r = await client.post(f"/api/v1/projects/demo/plans/{plan_id}/subscribe",
                              json={"amount": 50000})
        assert r.status_code == 404
        assert (await client.get(f"/p/demo/billing/subscribe/{plan_id}")).status_code == 404
    other = await make_world("other")
    foreign = await Plan.create(project_id=other.project.id, kind=PlanKind.MONTHLY,
                                name="Theirs", currency="USD", price=100)
    r = await client.post(f"/api/v1/projects/demo/plans/{foreign.id}/subscribe",
                          json={"amount": 50000})
    assert r.status_code == 404
    assert not fake_stripe.calls_to("POST", "/v1/checkout/sessions")


async def test_a_click_while_the_first_is_opening_its_session_waits(
        client: httpx.AsyncClient, world: World, plan: Plan, ticket: Ticket, login: Login,
        fake_stripe: FakeStripe) -> None:
    await buyer(world)
    key = f"upgrade-{ticket.id}-{world.member.id}-{plan.id}-4900"
    stuck = await Purchase.create(
        project_id=world.project.id, user_id=world.member.id,
        kind=PurchaseKind.TICKET_UPGRADE, ticket_id=ticket.id, plan_id=plan.id,
        tier="pay_as_you_go", priority=2, amount=4900, currency="USD", idempotency_key=key)
    await login(world.member)
    url = f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade"
    body = {"option": f"pay_as_you_go:{plan.id}"}
    r = await client.post(url, json=body)
    assert r.status_code == 409 and not fake_stripe.calls_to("POST", "/v1/checkout/sessions")
    # A minute later it is taken as failed, and a new checkout starts.
    await Purchase.filter(id=stuck.id).update(created_at=datetime.now(UTC) - timedelta(minutes=2))
    r = await client.post(url, json=body)
    assert r.status_code == 200
    await stuck.refresh_from_db()
    assert stuck.state == PurchaseState.FAILED and stuck.idempotency_key != key
    assert (await Purchase.get(idempotency_key=key)).id == r.json()["purchase_id"]
