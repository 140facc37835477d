"""A ban ends the banned user's subscriptions at once, without refund: the project's on a
project ban, every project's on a platform ban; other penalties leave them alone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from forum import events
from forum.billing.models import LedgerEntry, Plan, PlanKind, Subscription
from forum.platform import Platform
from tests.billing.conftest import start_subscription
from tests.billing.fake_stripe import FakeStripe
from tests.factories import make_project
from tests.support_queue.conftest import World


async def subscribed(client: httpx.AsyncClient, platform: Platform, project_id: int,
                     user_id: int, fake: FakeStripe) -> Subscription:
    plan = await Plan.create(project_id=project_id, kind=PlanKind.MONTHLY, name="Monthly",
                             currency="USD", price=20000)
    _, subscription, session = await start_subscription(platform, project_id, user_id, plan)
    await fake.deliver_all(client, fake.complete_checkout(session["id"]))
    await subscription.refresh_from_db()
    assert subscription.status == "active"
    return subscription


def penalty(project: int | None, user_id: int, kind: str = "ban") -> events.UserPenalised:
    return events.UserPenalised(project=project, user_id=user_id, kind=kind, penalty_id=1,
                                actor_id=None)


async def test_a_project_ban_cancels_that_projects_subscription_without_refund(
        client: httpx.AsyncClient, platform: Platform, world: World, fake_stripe: FakeStripe,
        run_jobs: Any) -> None:
    here = await subscribed(client, platform, world.project.id, world.member.id, fake_stripe)
    elsewhere_project = await make_project("other")
    elsewhere = await subscribed(client, platform, elsewhere_project.id, world.member.id,
                                 fake_stripe)
    await platform.emit(penalty(world.project.id, world.member.id))
    await run_jobs()
    await here.refresh_from_db()
    assert (here.status, here.cancel_reason) == ("canceled", "banned")
    assert here.canceled_at is not None
    [call] = fake_stripe.calls_to("DELETE", "/v1/subscriptions/")
    assert call.path == f"/v1/subscriptions/{here.stripe_subscription_id}"
    assert call.params == {"prorate": "false", "invoice_now": "false"}
    assert fake_stripe.objects[here.stripe_subscription_id]["status"] == "canceled"
    assert not fake_stripe.of_type("refund")
    assert not await LedgerEntry.filter(gross__lt=0).exists()
    await elsewhere.refresh_from_db()
    assert elsewhere.status == "active"
    # Stripe's customer.subscription.deleted then changes nothing we decided.
    deleted = [e for e in fake_stripe.events if e["type"] == "customer.subscription.deleted"]
    await fake_stripe.deliver_all(client, deleted)
    await here.refresh_from_db()
    assert (here.status, here.cancel_reason) == ("canceled", "banned")


async def test_a_platform_ban_cancels_every_subscription(
        client: httpx.AsyncClient, platform: Platform, world: World, fake_stripe: FakeStripe,
        run_jobs: Any) -> None:
    here = await subscribed(client, platform, world.project.id, world.member.id, fake_stripe)
    other = await make_project("other")
    elsewhere = await subscribed(client, platform, other.id, world.member.id, fake_stripe)
    someone_else = await subscribed(client, platform, world.project.id, world.supporter.id,
                                    fake_stripe)
    await platform.emit(penalty(None, world.member.id))
    await run_jobs()
    for row in (here, elsewhere, someone_else):
        await row.refresh_from_db()
    assert [here.cancel_reason, elsewhere.cancel_reason] == ["banned", "banned"]
    assert someone_else.status == "active"
    assert len(fake_stripe.calls_to("DELETE", "/v1/subscriptions/")) == 2


@pytest.mark.parametrize("kind", ["silence", "suspend"])
async def test_lesser_penalties_keep_subscriptions(
        client: httpx.AsyncClient, platform: Platform, world: World, fake_stripe: FakeStripe,
        run_jobs: Any, kind: str) -> None:
    here = await subscribed(client, platform, world.project.id, world.member.id, fake_stripe)
    await platform.emit(penalty(world.project.id, world.member.id, kind))
    await run_jobs()
    await here.refresh_from_db()
    assert here.status == "active" and here.cancel_reason == ""
    assert not fake_stripe.calls_to("DELETE", "/v1/")


async def test_a_ban_through_moderation(client: httpx.AsyncClient, platform: Platform,
                                        world: World, fake_stripe: FakeStripe,
                                        run_jobs: Any) -> None:
    from forum.moderation.penalties import PenaltyDraft, do_penalise
    from forum.moderation.penalty_models import PenaltyKind

    here = await subscribed(client, platform, world.project.id, world.member.id, fake_stripe)
    await do_penalise(platform, world.owner, world.member, world.project,
                      PenaltyDraft(kind=PenaltyKind.BAN, reason="Code of conduct: abuse",
                                   days=None))
    await run_jobs()
    await here.refresh_from_db()
    assert (here.status, here.cancel_reason) == ("canceled", "banned")
