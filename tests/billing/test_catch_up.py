"""Stripe events the webhook missed are taken in later (``forum billing catch-up`` and a
daily cron) exactly as if delivered: once each, from Stripe's current state."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from tortoise import Tortoise

from forum.billing.catch_up import CRON_DAYS, catch_up
from forum.billing.gateway import GatewayError, StripeGateway
from forum.billing.jobs import CATCH_UP
from forum.billing.models import LedgerEntry, LedgerKind, StripeEvent
from forum.cli import cli
from forum.db import init_db
from forum.platform import Platform
from forum.support_queue.models import Ticket
from tests.billing.conftest import start_upgrade
from tests.billing.fake_stripe import FakeStripe
from tests.support_queue.conftest import World, open_ticket


async def test_missed_events_are_taken_in_once(
        client: httpx.AsyncClient, platform: Platform, world: World,
        fake_stripe: FakeStripe) -> None:
    ticket = await open_ticket(platform, world)
    _, session = await start_upgrade(platform, world.project.id, world.member.id, ticket.id,
                                     amount=4000)
    paid = fake_stripe.complete_checkout(session["id"])  # the webhook was down: not delivered
    charge = str(await _charge_of(fake_stripe, session["id"]))
    refunded = fake_stripe.refund(charge, 1000)
    await fake_stripe.deliver(client, refunded[0])  # this one did arrive (and found nothing)
    assert not await LedgerEntry.exists()
    report = await catch_up(platform, 2)
    handled = [e for e in paid + refunded if e["type"] in {
        "checkout.session.completed", "charge.refunded", "invoice.paid"}]
    assert report.listed == len(handled) and report.failed == []
    assert (report.taken, report.seen) == (len(handled) - 1, 1)
    kinds = sorted(e.kind for e in await LedgerEntry.all())
    assert kinds == [LedgerKind.PAYMENT, LedgerKind.REFUND]
    await ticket.refresh_from_db()
    assert (ticket.tier, ticket.amount_paid) == ("pay_as_you_go", 3000)
    # The events were listed since two days ago, for the types billing acts on only.
    [listing] = fake_stripe.calls_to("GET", "/v1/events")
    assert "checkout.session.completed" in listing.params["types"]
    assert int(listing.params["created"]["gte"]) <= fake_stripe.now() - 2 * 86400 + 5
    # Again: nothing new, nothing written twice.
    again = await catch_up(platform, 2)
    assert (again.taken, again.seen) == (0, len(handled))
    assert await LedgerEntry.all().count() == 2
    assert await StripeEvent.all().count() == len(handled)


async def _charge_of(fake: FakeStripe, session_id: str) -> str:
    intent = fake.objects[fake.objects[session_id]["payment_intent"]]
    return str(intent["latest_charge"])


async def test_pages_are_followed_and_stripe_failures_are_reported(
        client: httpx.AsyncClient, platform: Platform, world: World,
        fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> None:
    import forum.billing.catch_up as module

    monkeypatch.setattr(module, "PAGE", 2)
    for _ in range(3):
        ticket = await open_ticket(platform, world)
        _, session = await start_upgrade(platform, world.project.id, world.member.id,
                                         ticket.id, amount=2500)
        fake_stripe.complete_checkout(session["id"])
    once = StripeGateway(fake_stripe.api_key, webhook_secret=fake_stripe.webhook_secret,
                         api_base=fake_stripe.url, max_network_retries=0)
    fake_stripe.fail_next.append((500, {"error": {"message": "Stripe is down",
                                                  "type": "api_error"}}))
    with pytest.raises(GatewayError, match="payment provider failed"):
        await catch_up(platform, 1, gateway=once)  # the listing failed: nothing done
    assert not await StripeEvent.exists()
    # Reading one event's session fails: the others are taken in, that one is reported
    # (and taken in next time).
    original = once.retrieve_checkout_session
    failures = [GatewayError("The payment provider failed: Stripe is down")]

    async def flaky(id: str, **kw: Any) -> dict[str, Any]:
        if failures:
            raise failures.pop()
        return await original(id, **kw)

    monkeypatch.setattr(once, "retrieve_checkout_session", flaky)
    report = await catch_up(platform, 1, gateway=once)
    assert len(report.failed) == 1 and "Stripe is down" in report.failed[0]
    assert report.taken == report.listed - 1
    assert len(fake_stripe.calls_to("GET", "/v1/events")) >= 3  # pages of two
    [missed] = [e.split(":")[0] for e in report.failed]
    assert not await StripeEvent.exists(event_id=missed)
    later = await catch_up(platform, 1, gateway=once)
    assert (later.taken, later.failed) == (1, [])
    assert await StripeEvent.exists(event_id=missed)
    assert await LedgerEntry.filter(kind=LedgerKind.PAYMENT).count() == 3
    assert sorted(t.tier for t in await Ticket.all()) == ["pay_as_you_go"] * 3
    # The cron's job does the same for the last three days.
    assert CATCH_UP in {c.job for c in platform.jobs.registry.cron}
    assert CRON_DAYS == 3
    with pytest.raises(ValueError, match="between 1 and 30"):
        await catch_up(platform, 31)


def test_the_command(tmp_path: Path, database_url: str, fake_stripe: FakeStripe,
                     platform: Platform) -> None:
    env = {"FORUM_DATABASE_URL": database_url, "FORUM_DATA_DIR": str(tmp_path),
           "FORUM_SECRET_KEY": "test-secret-key-not-for-production",
           "FORUM_CONFIG_FILE": str(tmp_path / "absent.toml"), "FORUM_REDIS_URL": "",
           "FORUM_STRIPE_API_KEY": fake_stripe.api_key,
           "FORUM_STRIPE_WEBHOOK_SECRET": fake_stripe.webhook_secret,
           "FORUM_STRIPE_API_BASE": fake_stripe.url}

    def forum(*args: str, **extra: str) -> Any:
        return CliRunner().invoke(cli, list(args), env={**env, **extra})

    done = forum("billing", "catch-up", "--days", "2")
    assert done.exit_code == 0, done.output
    assert done.output == "0 events in the last 2 days: 0 taken in now, 0 already, 0 failed\n"
    bad = forum("billing", "catch-up", "--days", "45")
    assert bad.exit_code == 1 and bad.output == "forum: --days must be between 1 and 30\n"
    off = forum("billing", "catch-up", FORUM_STRIPE_API_KEY="")
    assert off.exit_code == 1 and off.output.startswith("forum: ") \
        and off.output.count("\n") == 1
    assert _events_in(platform) == 0


def _events_in(platform: Platform) -> int:
    async def count() -> int:
        await init_db(platform.settings, platform.plugins)
        try:
            return await StripeEvent.all().count()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(count())
