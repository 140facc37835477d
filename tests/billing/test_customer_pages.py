"""The customer's billing pages: a plan subscribed end to end against the fake Stripe
(checkout, signed webhooks), then listed with its included upgrades and invoices, its
amount changed (never below the floor) and cancelled at the period's end."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from forum.billing.models import BillingSettings, BuyerProfile, Plan, PlanKind, Subscription
from tests.billing.fake_stripe import FakeStripe
from tests.factories import make_user
from tests.support import Login, post_form
from tests.support_queue.conftest import World, make_world


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    world = await make_world("demo")
    await BillingSettings.create(project_id=world.project.id, currency="USD",
                                 seller_name="Demo Support LLC")
    await BuyerProfile.create(user_id=world.member.id, project_id=world.project.id,
                              purpose="professional")
    return world


@pytest.fixture
async def monthly(world: World) -> Plan:
    return await Plan.create(project_id=world.project.id, kind=PlanKind.MONTHLY,
                             name="Monthly", currency="USD", price=19900,
                             included_upgrades=3, extra_upgrade_price=2900,
                             consulting_hours=2)


async def subscribe(client: httpx.AsyncClient, fake: FakeStripe, plan: Plan,
                    amount: int) -> Subscription:
    r = await client.post(f"/api/v1/projects/demo/plans/{plan.id}/subscribe",
                          json={"amount": amount})
    assert r.status_code == 200, r.text
    session_id = r.json()["url"].rsplit("/", 1)[1]
    await fake.deliver_all(client, fake.complete_checkout(session_id))
    return await Subscription.get(plan_id=plan.id)


async def test_a_subscription_is_listed_with_upgrades_left_and_invoices(
        client: httpx.AsyncClient, world: World, monthly: Plan, login: Login,
        fake_stripe: FakeStripe) -> None:
    await login(world.member)
    sub = await subscribe(client, fake_stripe, monthly, 25000)
    assert sub.status == "active" and sub.stripe_subscription_id
    page = await client.get("/billing")
    assert page.status_code == 200
    assert "Monthly" in page.text and "250.00 USD per month" in page.text
    assert "3 included upgrades left this period" in page.text
    [invoice] = fake_stripe.of_type("invoice")
    assert invoice["hosted_invoice_url"] in page.text and invoice["invoice_pdf"] in page.text
    api = (await client.get("/api/v1/billing/subscriptions")).json()["subscriptions"]
    assert [(s["id"], s["amount"], s["included_upgrades_left"], s["status"]) for s in api] == [
        (sub.id, 25000, 3, "active")]
    invoices = (await client.get("/api/v1/billing/invoices")).json()["invoices"]
    assert [(i["id"], i["amount_paid"], i["currency"]) for i in invoices] == [
        (invoice["id"], 25000, "USD")]


async def test_the_amount_changes_from_the_next_period_never_below_the_floor(
        client: httpx.AsyncClient, world: World, monthly: Plan, login: Login,
        fake_stripe: FakeStripe, run_jobs: Any, mailbox: Any) -> None:
    await login(world.member)
    sub = await subscribe(client, fake_stripe, monthly, 25000)
    r = await client.patch(f"/api/v1/billing/subscriptions/{sub.id}", json={"amount": 15000})
    assert r.status_code == 422 and "at least 199.00 USD" in r.json()["error"]["message"]
    assert not fake_stripe.calls_to("POST", f"/v1/subscriptions/{sub.stripe_subscription_id}")
    r = await post_form(client, f"/billing/subscriptions/{sub.id}/amount", {"amount": "199"},
                        page="/billing")
    assert r.status_code == 303
    [call] = fake_stripe.calls_to("POST", f"/v1/subscriptions/{sub.stripe_subscription_id}")
    assert call.params["proration_behavior"] == "none"
    item = call.params["items"][0]
    assert item["price_data"]["unit_amount"] == "19900"
    assert item["price_data"]["recurring"]["interval"] == "month"
    stripe_sub = fake_stripe.objects[str(sub.stripe_subscription_id)]
    assert stripe_sub["items"]["data"][0]["price"]["unit_amount"] == 19900
    await sub.refresh_from_db()
    assert sub.amount == 19900
    await run_jobs()
    [mail] = [m for m in mailbox() if m["To"] == world.member.email
              and "new amount" in str(m["Subject"])]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "now costs 199.00 USD per billing period" in text
    assert "http://testserver/billing" in text


async def test_cancelling_ends_the_plan_with_its_period(
        client: httpx.AsyncClient, world: World, monthly: Plan, login: Login,
        fake_stripe: FakeStripe, run_jobs: Any, mailbox: Any) -> None:
    await login(world.member)
    sub = await subscribe(client, fake_stripe, monthly, 19900)
    r = await client.post(f"/api/v1/billing/subscriptions/{sub.id}/cancel", json={})
    assert r.status_code == 200 and r.json()["cancel_at_period_end"] is True
    assert fake_stripe.objects[str(sub.stripe_subscription_id)]["cancel_at_period_end"] is True
    await sub.refresh_from_db()
    assert sub.cancel_at_period_end and sub.cancel_reason == "customer"
    assert "ends with this period" in (await client.get("/billing")).text
    await run_jobs()
    [mail] = [m for m in mailbox() if "ends with this period" in str(m["Subject"])]
    assert mail["To"] == world.member.email
    assert "nothing more will be charged" in mail.get_body(
        preferencelist=("plain",)).get_content()
    r = await client.patch(f"/api/v1/billing/subscriptions/{sub.id}", json={"amount": 30000})
    assert r.status_code == 409


async def test_nobody_else_sees_or_changes_a_subscription(
        client: httpx.AsyncClient, world: World, monthly: Plan, login: Login,
        fake_stripe: FakeStripe) -> None:
    await login(world.member)
    sub = await subscribe(client, fake_stripe, monthly, 19900)
    for user in (world.owner, await make_user()):
        await login(user)
        assert (await client.get("/api/v1/billing/subscriptions")).json() == {
            "subscriptions": []}
        r = await client.patch(f"/api/v1/billing/subscriptions/{sub.id}",
                               json={"amount": 50000})
        assert r.status_code == 404
        assert (await client.post(f"/api/v1/billing/subscriptions/{sub.id}/cancel", json={})
                ).status_code == 404
        assert (await client.get("/api/v1/billing/invoices")).json() == {"invoices": []}
    await login(None)
    assert (await client.get("/billing")).status_code == 303
    assert (await client.get("/api/v1/billing/subscriptions")).status_code == 401
    await sub.refresh_from_db()
    assert sub.amount == 19900 and not sub.cancel_at_period_end


async def test_an_unfinished_checkout_is_not_a_subscription(
        client: httpx.AsyncClient, world: World, monthly: Plan, login: Login,
        fake_stripe: FakeStripe) -> None:
    await login(world.member)
    r = await client.post(f"/api/v1/projects/demo/plans/{monthly.id}/subscribe",
                          json={"amount": 19900})
    assert r.status_code == 200
    assert (await client.get("/api/v1/billing/subscriptions")).json() == {"subscriptions": []}
    assert "No subscriptions" in (await client.get("/billing")).text


async def test_the_project_home_and_your_profile_link_billing(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.owner)
    home = await client.get("/p/demo")
    assert 'href="/p/demo/support/plans"' in home.text and 'href="/billing"' in home.text
    assert 'href="/p/demo/billing/plans"' in home.text
    await login(world.member)
    home = await client.get("/p/demo")
    assert 'href="/p/demo/support/plans"' in home.text
    assert 'href="/p/demo/billing/plans"' not in home.text
    own = await client.get(f"/p/demo/u/{world.member.username}")
    assert own.status_code == 200 and "My billing" in own.text
    other = await client.get(f"/p/demo/u/{world.owner.username}")
    assert other.status_code == 200 and "My billing" not in other.text
