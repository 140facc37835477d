"""Who is buying: professional, personal, or a free/open-source project verified through
GitHub (scope read:org) against a fake GitHub served over HTTP; the discount applies only
while the verification holds (365 days)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from forum.billing.buyer import (
    discount_percent,
    discounted,
    do_record_verification,
    floss_verified,
)
from forum.billing.floss import parse_target
from forum.billing.models import BillingSettings, BuyerProfile, BuyerPurpose, Plan, PlanKind
from forum.platform import Platform
from tests.billing.fake_github_oauth import (
    FakeFlossGitHub,
    ServedFake,
    github_email,
    github_settings,
    github_user,
)
from tests.billing.fake_stripe import FakeStripe, stripe_settings
from tests.support import Login, post_form
from tests.support_queue.conftest import World, make_world, open_ticket

PLANS = "/p/demo/support/plans"


@pytest.fixture(scope="module")
def served_github() -> Iterator[FakeFlossGitHub]:
    fake = FakeFlossGitHub()
    with ServedFake(fake):
        yield fake


@pytest.fixture
def github(served_github: FakeFlossGitHub) -> FakeFlossGitHub:
    served_github.reset()
    served_github.sign_in_as(github_user(583231, "octocat"), [github_email("o@example.org")])
    return served_github


@pytest.fixture
def settings_overrides(fake_stripe: FakeStripe, served_github: FakeFlossGitHub
                       ) -> dict[str, Any]:
    return {**stripe_settings(fake_stripe), **github_settings(served_github)}


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    world = await make_world("demo")
    await BillingSettings.create(project_id=world.project.id, currency="USD",
                                 floss_discount_percent=50)
    return world


async def claim(client: httpx.AsyncClient, github: FakeFlossGitHub, target: str
                ) -> httpx.Response:
    """Say "for a FLOSS project", go through GitHub and come back: the callback's answer."""
    r = await post_form(client, f"/p/demo/billing/buyer?next={PLANS}", {
        "purpose": "floss", "floss_target": target,
        "floss_website": "https://octo.example.org", "next": PLANS})
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith("/p/demo/billing/buyer/verify")
    r = await client.get(r.headers["location"])
    assert r.status_code == 302
    assert r.headers["location"].startswith(f"{github.url}/login/oauth/authorize")
    async with httpx.AsyncClient() as browser:
        back = await browser.get(r.headers["location"])
    assert back.status_code == 302
    callback = back.headers["location"]
    assert callback.startswith("http://testserver/billing/floss/callback?")
    return await client.get(callback.removeprefix("http://testserver"))


async def test_an_active_org_member_is_verified_and_gets_the_discount(
        client: httpx.AsyncClient, world: World, github: FakeFlossGitHub, login: Login,
        platform: Platform) -> None:
    github.orgs["octo-org"] = {"octocat": "active"}
    await Plan.create(project_id=world.project.id, kind=PlanKind.PAY_AS_YOU_GO,
                      name="Priority", currency="USD", price=4999)
    ticket = await open_ticket(platform, world)
    await login(world.member)
    r = await claim(client, github, "https://github.com/octo-org")
    assert r.status_code == 303 and r.headers["location"] == PLANS
    assert github.scopes == ["read:org"]
    assert github.api_calls == ["/user", "/user/memberships/orgs/octo-org"]
    profile = await BuyerProfile.get(user_id=world.member.id, project_id=world.project.id)
    assert (profile.purpose, profile.floss_target, profile.github_login) == (
        BuyerPurpose.FLOSS, "octo-org", "octocat")
    assert profile.floss_website == "https://octo.example.org"
    assert profile.verified_at is not None and profile.verification_expires_at is not None
    assert profile.verification_expires_at - profile.verified_at == timedelta(days=365)
    offer = (await client.get(f"/api/v1/projects/demo/tickets/{ticket.number}/upgrade")).json()
    assert offer["discount_percent"] == 50
    assert (offer["options"][0]["amount"], offer["options"][0]["list_amount"]) == (2499, 4999)
    api = await client.get("/api/v1/projects/demo/billing/buyer")
    assert api.json()["discount_percent"] == 50 and api.json()["github_login"] == "octocat"


async def test_a_repository_collaborator_is_verified(
        client: httpx.AsyncClient, world: World, github: FakeFlossGitHub,
        login: Login) -> None:
    github.collaborators["octo-org/octo-repo"] = {"octocat"}
    await login(world.member)
    r = await claim(client, github, "octo-org/octo-repo")
    assert r.status_code == 303
    assert github.api_calls == ["/user", "/repos/octo-org/octo-repo/collaborators/octocat"]
    profile = await BuyerProfile.get(user_id=world.member.id)
    assert floss_verified(profile)


@pytest.mark.parametrize(("target", "setup"), [
    ("octo-org", {"orgs": {"octo-org": {"octocat": "pending"}}}),
    ("octo-org", {"orgs": {"octo-org": {"someone-else": "active"}}}),
    ("octo-org/octo-repo", {"collaborators": {"octo-org/octo-repo": {"hubot"}}}),
])
async def test_no_membership_no_discount(
        client: httpx.AsyncClient, world: World, github: FakeFlossGitHub, login: Login,
        target: str, setup: dict[str, Any]) -> None:
    github.orgs.update(setup.get("orgs", {}))
    github.collaborators.update(setup.get("collaborators", {}))
    await login(world.member)
    r = await claim(client, github, target)
    assert r.status_code == 303 and r.headers["location"] == PLANS
    page = await client.get(PLANS)
    assert "does not show you as" in page.text
    profile = await BuyerProfile.get(user_id=world.member.id)
    assert profile.purpose == BuyerPurpose.FLOSS and profile.verified_at is None
    settings = await BillingSettings.get(project_id=world.project.id)
    assert discount_percent(profile, settings) == 0


async def test_the_verification_expires_and_a_new_target_needs_a_new_one(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    settings = await BillingSettings.get(project_id=world.project.id)
    profile = await BuyerProfile.create(user_id=world.member.id, project_id=world.project.id,
                                        purpose=BuyerPurpose.FLOSS, floss_target="octo-org",
                                        floss_website="https://octo.example.org")
    assert discount_percent(profile, settings) == 0
    verified = datetime.now(UTC) - timedelta(days=364)
    await do_record_verification(profile, "octocat", now=verified)
    assert discount_percent(profile, settings) == 50
    assert discount_percent(profile, settings, now=verified + timedelta(days=365)) == 0
    await login(world.member)
    # The same claim again keeps the verification ...
    r = await post_form(client, "/p/demo/billing/buyer", {
        "purpose": "floss", "floss_target": "Octo-Org", "floss_website": "https://o.example"})
    assert r.status_code == 303 and r.headers["location"] == PLANS
    await profile.refresh_from_db()
    assert floss_verified(profile)
    # ... another organisation does not.
    r = await post_form(client, "/p/demo/billing/buyer", {
        "purpose": "floss", "floss_target": "other-org", "floss_website": "https://o.example"})
    assert r.headers["location"].startswith("/p/demo/billing/buyer/verify")
    await profile.refresh_from_db()
    assert profile.verified_at is None and not floss_verified(profile)
    # Saying "professional" ends the discount too.
    await post_form(client, "/p/demo/billing/buyer", {"purpose": "professional"})
    await profile.refresh_from_db()
    assert profile.purpose == BuyerPurpose.PROFESSIONAL and profile.floss_target == ""


async def test_bad_claims_are_refused(client: httpx.AsyncClient, world: World,
                                      login: Login) -> None:
    await login(world.member)
    r = await post_form(client, "/p/demo/billing/buyer", {
        "purpose": "floss", "floss_target": "not a/valid/name", "floss_website": "x"})
    assert r.status_code == 422 and 'role="alert"' in r.text
    r = await client.put("/api/v1/projects/demo/billing/buyer", json={
        "purpose": "floss", "floss_target": "octo-org", "floss_website": "ftp://x"})
    assert r.status_code == 422
    r = await client.put("/api/v1/projects/demo/billing/buyer", json={"purpose": "rich"})
    assert r.status_code == 422
    assert not await BuyerProfile.exists()
    # A callback nobody started here is refused.
    r = await client.get("/billing/floss/callback?code=x&state=y")
    assert r.status_code == 400


async def test_the_next_address_stays_on_this_site(client: httpx.AsyncClient, world: World,
                                                   login: Login) -> None:
    await login(world.member)
    r = await post_form(client, "/p/demo/billing/buyer", {
        "purpose": "personal", "next": "https://evil.example/"})
    assert r.status_code == 303 and r.headers["location"] == PLANS


def test_targets_and_discounts() -> None:
    assert parse_target(" octo-org ") == "octo-org"
    assert parse_target("https://github.com/octo-org/octo.repo.git") == "octo-org/octo.repo"
    for bad in ("", "-org", "a/b/c", "org/re po", "o rg"):
        with pytest.raises(ValueError):
            parse_target(bad)
    assert discounted(4999, 50) == 2499  # rounded down to the cent
    assert discounted(4999, 0) == 4999
    assert discounted(1, 100) == 1
