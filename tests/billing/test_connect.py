"""The project's own Stripe account (Connect) and the revenue page, for leads only: connect,
onboarding links, status from account.updated and from the page; revenue by month, what is
owed to the project, JSON alike; every role boundary."""

from __future__ import annotations

import httpx
import pytest

from forum.billing.models import BillingSettings, LedgerEntry, StripeEvent
from forum.platform import Platform
from forum.projects.models import Role
from tests.billing.conftest import start_upgrade
from tests.billing.fake_stripe import FakeStripe
from tests.factories import add_member, make_user
from tests.support import Login, post_form
from tests.support_queue.conftest import World, open_ticket

CONNECT = "/p/demo/billing/account/connect"


async def test_a_lead_connects_the_projects_account(
        client: httpx.AsyncClient, world: World, fake_stripe: FakeStripe,
        login: Login) -> None:
    await login(world.owner)
    page = await client.get("/p/demo/billing/account")
    assert page.status_code == 200 and "No account connected" in page.text
    r = await post_form(client, CONNECT, {}, page="/p/demo/billing/account")
    assert r.status_code == 303
    [account] = fake_stripe.of_type("account")
    assert r.headers["location"] == f"{fake_stripe.url}/onboard/{account['id']}"
    [create] = fake_stripe.calls_to("POST", "/v1/accounts")
    assert create.idempotency_key == f"account-project-{world.project.id}"
    assert create.params["type"] == "express"
    assert create.params["metadata"]["project_id"] == str(world.project.id)
    [link] = fake_stripe.calls_to("POST", "/v1/account_links")
    assert link.params == {
        "account": account["id"], "type": "account_onboarding",
        "return_url": "http://testserver/p/demo/billing/account/return",
        "refresh_url": "http://testserver/p/demo/billing/account/refresh"}
    row = await BillingSettings.get(project_id=world.project.id)
    assert row.stripe_account_id == account["id"] and not row.account_charges_enabled
    # Connecting again makes a new link for the same account.
    await post_form(client, CONNECT, {}, page="/p/demo/billing/account")
    assert len(fake_stripe.of_type("account")) == 1
    assert len(fake_stripe.calls_to("POST", "/v1/account_links")) == 2
    # The refresh URL (an expired link) sends the lead to a fresh one.
    r = await client.get("/p/demo/billing/account/refresh")
    assert r.status_code == 303 and r.headers["location"].endswith(f"/onboard/{account['id']}")
    # Onboarding finished at Stripe: account.updated (a Connect event) enables payments.
    [updated] = fake_stripe.onboard(account["id"])
    response = await fake_stripe.deliver(client, updated)
    assert response.json()["result"] == f"account {account['id']}: charges enabled"
    row = await BillingSettings.get(project_id=world.project.id)
    assert row.account_charges_enabled and row.account_payouts_enabled
    assert row.account_details_submitted and row.account_checked_at is not None
    assert (await StripeEvent.get(event_id=updated["id"])).account == account["id"]
    r = await client.get("/p/demo/billing/account/return")
    assert r.status_code == 303
    page = await client.get("/p/demo/billing/account")
    assert "Your Stripe account is connected" in page.text
    assert "payments now go to it" in page.text or "Payments for" in page.text
    api = await client.get("/api/v1/projects/demo/billing/account")
    assert api.json()["charges_enabled"] is True and api.json()["account_id"] == account["id"]


async def test_the_page_reads_the_status_from_stripe(
        client: httpx.AsyncClient, world: World, fake_stripe: FakeStripe,
        login: Login) -> None:
    await login(world.owner)
    await post_form(client, CONNECT, {}, page="/p/demo/billing/account")
    [account] = fake_stripe.of_type("account")
    fake_stripe.onboard(account["id"])  # the webhook is late
    page = await client.get("/p/demo/billing/account")
    assert '<dd class="charges">yes</dd>' in page.text


async def test_account_updated_for_an_unknown_account_is_ignored(
        client: httpx.AsyncClient, fake_stripe: FakeStripe) -> None:
    event = fake_stripe.event("account.updated", {"id": "acct_nobody", "object": "account"},
                              account="acct_nobody")
    assert (await fake_stripe.deliver(client, event)).json()["result"] == \
        "ignored: not a project's account"


@pytest.mark.parametrize("path", ["/p/demo/billing/account", "/p/demo/billing/revenue",
                                  "/api/v1/projects/demo/billing/account",
                                  "/api/v1/projects/demo/billing/revenue"])
async def test_only_leads_see_the_account_and_revenue(
        client: httpx.AsyncClient, world: World, login: Login, path: str) -> None:
    lead = await make_user()
    await add_member(world.project, lead, Role.LEAD)
    for user in (world.maintainer, world.supporter, world.moderator, world.member,
                 world.outsider):
        await login(user)
        assert (await client.get(path)).status_code == 403, user.username
    await login(lead)
    assert (await client.get(path)).status_code == 200
    await login(None)
    r = await client.get(path)
    assert r.status_code in {303, 401}


async def test_only_leads_may_connect(client: httpx.AsyncClient, world: World,
                                      fake_stripe: FakeStripe, login: Login) -> None:
    await login(world.owner)
    page = await client.get("/p/demo/billing/account")
    assert page.status_code == 200
    await login(world.maintainer)
    r = await post_form(client, CONNECT, {}, page="/p/demo")
    assert r.status_code == 403
    assert not fake_stripe.of_type("account")
    assert not await BillingSettings.filter(stripe_account_id__isnull=False).exists()


async def test_revenue_by_month_and_what_is_owed(
        client: httpx.AsyncClient, platform: Platform, world: World, fake_stripe: FakeStripe,
        login: Login) -> None:
    ticket = await open_ticket(platform, world)
    _, session = await start_upgrade(platform, world.project.id, world.member.id, ticket.id,
                                     amount=5000)
    events_ = fake_stripe.complete_checkout(session["id"])
    await fake_stripe.deliver_all(client, events_)
    other = await open_ticket(platform, world)
    _, session = await start_upgrade(platform, world.project.id, world.member.id, other.id,
                                     amount=3000, connected_account="acct_x")
    await fake_stripe.deliver_all(client, fake_stripe.complete_checkout(session["id"]))
    await fake_stripe.deliver_all(client, fake_stripe.refund(
        events_[2]["data"]["object"]["id"], 1000))
    await login(world.owner)
    data = (await client.get("/api/v1/projects/demo/billing/revenue")).json()
    [month] = data["months"]
    rows = await LedgerEntry.all()
    assert month["gross"] == 7000 == sum(r.gross for r in rows)
    assert month["stripe_fees"] == sum(r.stripe_fee for r in rows)
    assert month["platform_fees"] == sum(r.platform_fee for r in rows)
    assert month["net"] == sum(r.project_net for r in rows)
    assert month["gross"] == month["stripe_fees"] + month["platform_fees"] + month["net"]
    assert month["movements"] == 3 and month["currency"] == "USD"
    owed = sum(r.project_net for r in rows if r.owed_to_project)
    assert data["owed"] == [{"currency": "USD", "amount": owed}]
    assert owed == 4575 - 950  # the first payment (no account) net of its refund
    assert [r["gross"] for r in data["recent"]][:1] == [-1000]
    page = await client.get("/p/demo/billing/revenue")
    assert page.status_code == 200
    assert "$70.00" in page.text and "Owed to the project" in page.text
