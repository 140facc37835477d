"""Plans and prices: leads add, change and withdraw plans in the project's currency; the
public page and API list the active ones with the seller; nobody else may touch them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from forum.billing.models import BillingSettings, Plan, PlanKind
from forum.billing.plans import format_money, parse_money
from forum.projects.models import Role
from tests.factories import add_member, make_project, make_user
from tests.support import Login, post_form
from tests.topics.conftest import World, make_world

TARGETS = {"1": [30, 60], "2": [60, 120], "3": [120, 240], "4": [240, 480], "5": [480, 960]}


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    world = await make_world("acme")
    await BillingSettings.create(project_id=world.project.id, currency="EUR",
                                 seller_name="Acme Support GmbH")
    return world


def plan_json(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": "pay_as_you_go", "name": "Priority", "price": 4900,
                            "upgrade_priority": 2}
    data.update(fields)
    return data


async def test_a_lead_adds_plans_of_each_kind_through_the_api(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.owner)
    r = await client.post("/api/v1/projects/acme/plans", json=plan_json())
    assert r.status_code == 201, r.text
    assert r.json()["currency"] == "EUR" and r.json()["interval_months"] is None
    r = await client.post("/api/v1/projects/acme/plans", json=plan_json(
        kind="monthly", name="Monthly", price=19900, included_upgrades=3,
        extra_upgrade_price=2900, consulting_hours=2, currency="eur"))
    assert r.status_code == 201 and r.json()["interval_months"] == 1
    r = await client.post("/api/v1/projects/acme/plans", json=plan_json(
        kind="enterprise", name="Enterprise", price=500000, response_targets=TARGETS))
    assert r.status_code == 201 and r.json()["interval_months"] == 6
    plans = await Plan.filter(project_id=world.project.id).order_by("id")
    assert [(p.kind, p.currency, p.price) for p in plans] == [
        (PlanKind.PAY_AS_YOU_GO, "EUR", 4900), (PlanKind.MONTHLY, "EUR", 19900),
        (PlanKind.ENTERPRISE, "EUR", 500000)]
    assert plans[2].response_targets == TARGETS
    await login(None)
    listed = await client.get("/api/v1/projects/acme/plans")
    assert listed.status_code == 200
    assert listed.json()["seller"] == "Acme Support GmbH"
    assert [p["name"] for p in listed.json()["plans"]] == ["Enterprise", "Monthly", "Priority"]


@pytest.mark.parametrize(("fields", "field"), [
    ({"price": 0}, "price"),
    ({"price": 12.5}, "price"),
    ({"upgrade_priority": 6}, "upgrade_priority"),
    ({"kind": "enterprise", "response_targets": {"1": [30, 60]}}, "body"),
    ({"kind": "enterprise", "response_targets": {**TARGETS, "2": [120, 60]}}, "body"),
    ({"kind": "enterprise"}, "body"),
    ({"response_targets": TARGETS}, "body"),
    ({"included_upgrades": 2}, "body"),
    ({"currency": "USD"}, "currency"),
    ({"name": "  "}, "name"),
])
async def test_invalid_plans_are_refused_with_the_field(
        client: httpx.AsyncClient, world: World, login: Login, fields: dict[str, Any],
        field: str) -> None:
    await login(world.owner)
    r = await client.post("/api/v1/projects/acme/plans", json=plan_json(**fields))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid"
    assert any(name == field or name.startswith(field) for name in error["fields"]), error
    assert not await Plan.exists(project_id=world.project.id)


async def test_only_the_projects_own_leads_may_change_plans(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    other_lead = await make_user()
    await make_project("other", owner=other_lead)
    await login(world.owner)
    plan_id = (await client.post("/api/v1/projects/acme/plans", json=plan_json())).json()["id"]
    for user in (other_lead, world.maintainer, world.supporter, world.member, world.outsider):
        await login(user)
        r = await client.post("/api/v1/projects/acme/plans", json=plan_json(name="Mine"))
        assert r.status_code == 403, user.username
        r = await client.patch(f"/api/v1/projects/acme/plans/{plan_id}", json={"price": 1})
        assert r.status_code == 403
        assert (await client.get("/p/acme/billing/plans")).status_code == 403
        assert (await client.get("/api/v1/projects/acme/billing/settings")).status_code == 403
    # Another project's lead cannot reach this plan through their own project either.
    await login(other_lead)
    r = await client.patch(f"/api/v1/projects/other/plans/{plan_id}", json={"price": 1})
    assert r.status_code == 404
    await login(None)
    assert (await client.post("/api/v1/projects/acme/plans", json=plan_json())
            ).status_code == 401
    plan = await Plan.get(id=plan_id)
    assert plan.price == 4900 and plan.name == "Priority"
    # A lead (not only the owner) may.
    lead = await make_user()
    await add_member(world.project, lead, Role.LEAD)
    await login(lead)
    r = await client.patch(f"/api/v1/projects/acme/plans/{plan_id}", json={"price": 5900})
    assert r.status_code == 200 and r.json()["price"] == 5900


async def test_a_patch_is_validated_as_the_whole_plan_and_withdrawal_hides_it(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.owner)
    created = await client.post("/api/v1/projects/acme/plans", json=plan_json(
        kind="enterprise", name="Enterprise", price=500000, response_targets=TARGETS))
    plan_id = created.json()["id"]
    r = await client.patch(f"/api/v1/projects/acme/plans/{plan_id}",
                           json={"response_targets": {}})
    assert r.status_code == 422
    r = await client.patch(f"/api/v1/projects/acme/plans/{plan_id}", json={"is_active": False})
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert (await client.get("/api/v1/projects/acme/plans")).json()["plans"] == []
    page = await client.get("/p/acme/support/plans")
    assert "Enterprise" not in page.text and "offers no paid support" in page.text


async def test_the_currency_cannot_change_under_active_plans(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.owner)
    plan_id = (await client.post("/api/v1/projects/acme/plans", json=plan_json())).json()["id"]
    r = await client.patch("/api/v1/projects/acme/billing/settings", json={"currency": "USD"})
    assert r.status_code == 422 and "currency" in r.json()["error"]["fields"]
    await client.patch(f"/api/v1/projects/acme/plans/{plan_id}", json={"is_active": False})
    r = await client.patch("/api/v1/projects/acme/billing/settings",
                           json={"currency": "usd", "floss_discount_percent": 30})
    assert r.status_code == 200
    assert r.json()["currency"] == "USD" and r.json()["floss_discount_percent"] == 30
    # The old plan, in EUR, cannot be offered again in a USD project.
    r = await client.patch(f"/api/v1/projects/acme/plans/{plan_id}", json={"is_active": True})
    assert r.status_code == 422


async def test_the_leads_pages_add_edit_and_withdraw_plans(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.owner)
    page = await client.get("/p/acme/billing/plans")
    assert page.status_code == 200 and "Acme Support GmbH" in page.text
    r = await post_form(client, "/p/acme/billing/plans", {
        "kind": "monthly", "name": "Monthly", "price": "199.00", "included_upgrades": "3",
        "extra_upgrade_price": "29.50", "consulting_hours": "2", "upgrade_priority": "2"})
    assert r.status_code == 303, r.text
    plan = await Plan.get(project_id=world.project.id)
    assert (plan.price, plan.extra_upgrade_price, plan.included_upgrades) == (19900, 2950, 3)
    bad = await post_form(client, "/p/acme/billing/plans", {
        "kind": "pay_as_you_go", "name": "Cheap", "price": "-3"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    r = await post_form(client, f"/p/acme/billing/plans/{plan.id}", {
        "name": "Monthly plus", "price": "249", "included_upgrades": "4",
        "extra_upgrade_price": "25", "consulting_hours": "2", "upgrade_priority": "1"})
    assert r.status_code == 303
    await plan.refresh_from_db()
    assert (plan.name, plan.price, plan.upgrade_priority) == ("Monthly plus", 24900, 1)
    r = await post_form(client, f"/p/acme/billing/plans/{plan.id}/active", {"active": "0"},
                        page="/p/acme/billing/plans")
    assert r.status_code == 303
    await plan.refresh_from_db()
    assert plan.is_active is False
    r = await post_form(client, "/p/acme/billing/settings", {
        "currency": "EUR", "seller_name": "Acme e.V.", "seller_details": "Berlin",
        "floss_discount_percent": "40", "credit_team": "1"})
    assert r.status_code == 303
    settings = await BillingSettings.get(project_id=world.project.id)
    assert (settings.seller_name, settings.floss_discount_percent, settings.credit_team,
            settings.split_helped) == ("Acme e.V.", 40, True, False)


async def test_the_public_page_lists_active_plans_with_the_seller(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await Plan.create(project_id=world.project.id, kind=PlanKind.MONTHLY, name="Monthly",
                      currency="EUR", price=19900, included_upgrades=3)
    await Plan.create(project_id=world.project.id, kind=PlanKind.PAY_AS_YOU_GO, name="Old",
                      currency="EUR", price=100, is_active=False)
    page = await client.get("/p/acme/support/plans")
    assert page.status_code == 200
    assert "Acme Support GmbH" in page.text and "199.00 EUR per month" in page.text
    assert "Old" not in page.text and "/billing/subscribe/" in page.text


def test_money_is_shown_and_read_in_minor_units() -> None:
    assert format_money(123456, "usd") == "1,234.56 USD"
    assert format_money(500, "JPY") == "500 JPY"
    assert parse_money("12.5", "EUR") == 1250
    assert parse_money("12", "EUR") == 1200
    assert parse_money("1.234", "EUR") is None
    assert parse_money("abc", "EUR") is None
    assert parse_money("700", "JPY") == 700


async def test_the_demo_seeds_one_plan_of_each_kind_once(db: None, platform: Any) -> None:
    from forum.billing.demo import seed_plans

    project = await make_project("demo")
    created = await seed_plans(project.id)
    assert len(created) == 4
    assert await seed_plans(project.id) == []
    plans = await Plan.filter(project_id=project.id).order_by("price")
    assert [p.kind for p in plans] == [PlanKind.PAY_AS_YOU_GO, PlanKind.MONTHLY,
                                       PlanKind.ENTERPRISE]
    assert all(p.currency == "USD" for p in plans)
    assert (await BillingSettings.get(project_id=project.id)).seller_name == \
        "Demo Project Support"
