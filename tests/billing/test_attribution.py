"""Crediting helpers when a paid ticket is solved: the accepted answer's author by default,
an equal split among "helped" posts, never the requester, team members only when the project
says so; refunds take credit back in proportion; solving twice credits once."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from forum import events
from forum.billing.attribution import on_ticket_resolved, split_equally
from forum.billing.models import Attribution, BillingSettings, HelpedMark, LedgerEntry
from forum.hookspecs import hookimpl
from forum.platform import Platform
from forum.support_queue.models import Ticket
from forum.topics.models import Post, Topic
from tests.billing.conftest import start_upgrade
from tests.billing.fake_stripe import FakeStripe
from tests.support_queue.conftest import open_ticket
from tests.topics.conftest import World, answer

_n = itertools.count(1)


class Credits:
    def __init__(self) -> None:
        self.seen: list[events.HelpCredited] = []

    @hookimpl
    def on_help_credited(self, event: events.HelpCredited, platform: Platform) -> None:
        self.seen.append(event)


@pytest.fixture
def credits(platform: Platform) -> Credits:
    recorder = Credits()
    platform.plugins.pm.register(recorder, name="credits")
    return recorder


async def paid_ticket(client: httpx.AsyncClient, platform: Platform, world: World,
                      fake: FakeStripe, amount: int = 5000) -> tuple[Ticket, str, list[Post]]:
    """A paid ticket with answers by a community helper, the requester and the team."""
    ticket = await open_ticket(platform, world)
    _, session = await start_upgrade(platform, world.project.id, world.member.id, ticket.id,
                                     amount=amount)
    events_ = fake.complete_checkout(session["id"])
    await fake.deliver_all(client, events_)
    charge = events_[2]["data"]["object"]["id"]
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    posts = [await answer(platform, world, topic, author, source=f"Try 2.{next(_n)} please.")
             for author in (world.outsider, world.member, world.supporter)]
    return ticket, charge, posts


async def accept(ticket: Ticket, post: Post) -> None:
    await Topic.filter(id=ticket.topic_id).update(  # type: ignore[attr-defined]
        accepted_post_id=post.id)


def rows(attributions: list[Attribution]) -> list[tuple[Any, ...]]:
    return sorted((a.user_id, a.post_id, a.amount) for a in attributions)  # type: ignore[attr-defined]


def test_equal_split_gives_the_remainder_to_the_first() -> None:
    assert split_equally(100, 3) == [34, 33, 33]
    assert split_equally(-100, 3) == [-34, -33, -33]
    assert split_equally(7, 1) == [7]


async def test_the_accepted_answer_earns_the_project_net(
        client: httpx.AsyncClient, platform: Platform, world: World, fake_stripe: FakeStripe,
        credits: Credits, run_jobs: Any) -> None:
    ticket, _, (helper, _, _) = await paid_ticket(client, platform, world, fake_stripe)
    await accept(ticket, helper)
    await platform.emit(events.TicketResolved(
        project=world.project.id, ticket_id=ticket.id, requester_id=world.member.id,
        tier="pay_as_you_go", amount_paid=5000, currency="USD"))
    await run_jobs()
    [row] = await Attribution.all()
    payment = await LedgerEntry.get(ticket_id=ticket.id)
    assert (row.user_id, row.post_id, row.amount, row.entry_id, row.ticket_id) == (  # type: ignore[attr-defined]
        world.outsider.id, helper.id, payment.project_net, payment.id, ticket.id)
    assert row.amount == 4575
    [event] = credits.seen
    assert (event.user_id, event.amount, event.currency, event.reference, event.post_id) == (
        world.outsider.id, 4575, "USD", "DEMO-1", helper.id)
    assert event.attribution_id == row.id
    # Solving again (reopened and solved) credits nothing more.
    assert await on_ticket_resolved(platform, world.project.id, ticket.id) == 0
    assert await Attribution.all().count() == 1 and len(credits.seen) == 1


async def test_the_requester_and_the_team_are_not_credited_by_default(
        client: httpx.AsyncClient, platform: Platform, world: World,
        fake_stripe: FakeStripe) -> None:
    ticket, _, (_, own, team) = await paid_ticket(client, platform, world, fake_stripe)
    await accept(ticket, own)
    assert await on_ticket_resolved(platform, world.project.id, ticket.id) == 0
    await accept(ticket, team)
    assert await on_ticket_resolved(platform, world.project.id, ticket.id) == 0
    assert not await Attribution.exists()
    await BillingSettings.filter(project_id=world.project.id).update(credit_team=True)
    assert await on_ticket_resolved(platform, world.project.id, ticket.id) == 1
    [row] = await Attribution.all()
    assert row.user_id == world.supporter.id  # type: ignore[attr-defined]


async def test_a_free_ticket_credits_nobody(client: httpx.AsyncClient, platform: Platform,
                                            world: World, run_jobs: Any) -> None:
    ticket = await open_ticket(platform, world)
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    helper = await answer(platform, world, topic, world.outsider)
    await accept(ticket, helper)
    await platform.emit(events.TicketResolved(
        project=world.project.id, ticket_id=ticket.id, requester_id=world.member.id,
        tier="free", amount_paid=0, currency="USD"))
    await run_jobs()
    assert not await Attribution.exists()


async def test_split_among_helped_posts(client: httpx.AsyncClient, platform: Platform,
                                        world: World, fake_stripe: FakeStripe) -> None:
    await BillingSettings.filter(project_id=world.project.id).update(split_helped=True,
                                                                     credit_team=True)
    ticket, _, (helper, own, team) = await paid_ticket(client, platform, world, fake_stripe,
                                                       amount=4000)
    other = await make_helper_answer(platform, world, ticket)
    for post in (helper, own, team, other):
        await HelpedMark.create(post=post, ticket_id=ticket.id)
    await on_ticket_resolved(platform, world.project.id, ticket.id)
    # net = 4000 - 146 - 200 = 3654, in three shares (the requester's post is skipped).
    payment = await LedgerEntry.get(ticket_id=ticket.id)
    assert payment.project_net == 3654
    assert rows(await Attribution.all()) == sorted([
        (world.outsider.id, helper.id, 1218), (world.supporter.id, team.id, 1218),
        (world.maintainer.id, other.id, 1218)])


async def make_helper_answer(platform: Platform, world: World, ticket: Ticket) -> Post:
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    return await answer(platform, world, topic, world.maintainer,
                        source=f"Also check the 2.{next(_n)} notes.")


async def test_a_refund_after_the_credit_takes_it_back_in_proportion(
        client: httpx.AsyncClient, platform: Platform, world: World, fake_stripe: FakeStripe,
        credits: Credits) -> None:
    ticket, charge, (helper, _, _) = await paid_ticket(client, platform, world, fake_stripe)
    await accept(ticket, helper)
    await on_ticket_resolved(platform, world.project.id, ticket.id)
    await fake_stripe.deliver_all(client, fake_stripe.refund(charge, 1000))
    credited = await Attribution.all().order_by("id")
    # The refund takes back 1000 less the platform's 5% (Stripe keeps its fee): net -950.
    assert [a.amount for a in credited] == [4575, -950]
    refund = await LedgerEntry.get(kind="refund")
    assert refund.project_net == -950
    assert credited[1].entry_id == refund.id  # type: ignore[attr-defined]
    assert [e.amount for e in credits.seen] == [4575, -950]
    await fake_stripe.deliver_all(client, fake_stripe.refund(charge))
    # Fully refunded, the project is left with Stripe's fee to pay: no credit stays.
    assert sum(a.amount for a in await Attribution.all()) == 0
    assert credits.seen[-1].amount == -3625


async def test_a_refund_before_the_credit_is_followed_at_once(
        client: httpx.AsyncClient, platform: Platform, world: World,
        fake_stripe: FakeStripe) -> None:
    ticket, charge, (helper, _, _) = await paid_ticket(client, platform, world, fake_stripe)
    await fake_stripe.deliver_all(client, fake_stripe.refund(charge, 2500))
    await accept(ticket, helper)
    await on_ticket_resolved(platform, world.project.id, ticket.id)
    amounts = [a.amount for a in await Attribution.all().order_by("id")]
    # What is left of the net: 4575 - (2500 - 125 of the platform's fee back).
    assert amounts[0] == 4575 and sum(amounts) == 4575 - 2375
    assert await on_ticket_resolved(platform, world.project.id, ticket.id) == 0
