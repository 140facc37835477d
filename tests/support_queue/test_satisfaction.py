"""Satisfaction ratings: the requester rates a solved ticket (and may change it until it is
closed), per-ticket and per-supporter figures, the fragment and the API, and refusals for
anyone else."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from forum.platform import Platform
from forum.support_queue import satisfaction
from forum.support_queue.models import Ticket, TicketState
from forum.support_queue.permissions import access_ticket
from forum.support_queue.team_models import Rating, SatisfactionRating
from forum.web.errors import Conflict, Forbidden
from tests.support import Login, post_form
from tests.support_queue.conftest import World, make_world, open_ticket


async def solved(platform: Platform, world: World, assignee_id: int | None = None,
                 **fields: object) -> Ticket:
    ticket = await open_ticket(platform, world, **fields)
    await Ticket.filter(id=ticket.id).update(state=TicketState.SOLVED, assignee_id=assignee_id)
    return await Ticket.get(id=ticket.id)


async def test_rate_change_and_freeze_on_close(platform: Platform, world: World) -> None:
    ticket = await solved(platform, world, world.supporter.id)
    ctx = await access_ticket(world.member, ticket.id)
    row = await satisfaction.rate(ctx, Rating.BAD, "  slow  ")
    assert (row.rating, row.comment) == (Rating.BAD, "slow")
    assert row.supporter_id == world.supporter.id  # type: ignore[attr-defined]
    row = await satisfaction.rate(ctx, Rating.GOOD, "")
    assert row.rating == Rating.GOOD and await SatisfactionRating.all().count() == 1
    await Ticket.filter(id=ticket.id).update(state=TicketState.CLOSED)
    ctx = await access_ticket(world.member, ticket.id)
    with pytest.raises(Conflict):
        await satisfaction.rate(ctx, Rating.BAD)
    assert (await SatisfactionRating.get(ticket_id=ticket.id)).rating == Rating.GOOD


async def test_only_the_requester_rates_and_only_when_solved(platform: Platform,
                                                             world: World) -> None:
    open_one = await open_ticket(platform, world)
    with pytest.raises(Conflict):
        await satisfaction.rate(await access_ticket(world.member, open_one.id), Rating.GOOD)
    ticket = await solved(platform, world)
    for user in (world.supporter, world.owner, world.outsider):
        with pytest.raises(Forbidden):
            await satisfaction.rate(await access_ticket(user, ticket.id), Rating.BAD)
    assert not await SatisfactionRating.exists()


async def test_figures_per_ticket_supporter_and_project(platform: Platform,
                                                        world: World) -> None:
    ratings = [(world.supporter.id, Rating.GOOD), (world.supporter.id, Rating.GOOD),
               (world.supporter.id, Rating.BAD), (world.owner.id, Rating.OKAY),
               (None, Rating.GOOD)]
    for assignee, rating in ratings:
        ticket = await solved(platform, world, assignee)
        await satisfaction.rate(await access_ticket(world.member, ticket.id), rating)
    other = await make_world()
    elsewhere = await open_ticket(platform, other)
    await Ticket.filter(id=elsewhere.id).update(state=TicketState.SOLVED)
    await satisfaction.rate(await access_ticket(other.member, elsewhere.id), Rating.BAD)

    mine = await satisfaction.summary(world.project.id, world.supporter.id)
    assert (mine.good, mine.okay, mine.bad, mine.total) == (2, 0, 1, 3)
    assert mine.score == pytest.approx(2 / 3)
    everyone = await satisfaction.summary(world.project.id)
    assert (everyone.good, everyone.okay, everyone.bad) == (3, 1, 1)
    per = await satisfaction.summaries_by_supporter(world.project.id)
    assert per == {world.supporter.id: satisfaction.Summary(2, 0, 1),
                   world.owner.id: satisfaction.Summary(0, 1, 0)}
    assert satisfaction.Summary().score is None


async def test_api(client: httpx.AsyncClient, login: Login, platform: Platform,
                   world: World) -> None:
    ticket = await solved(platform, world, world.supporter.id)
    url = f"/api/v1/tickets/{ticket.id}/rating"
    await login(world.member)
    assert (await client.get(url)).status_code == 404  # not rated yet
    rated = await client.put(url, json={"rating": "okay", "comment": "Fine"})
    assert rated.status_code == 200, rated.text
    assert rated.json()["rating"] == "okay" and rated.json()["changeable"] is True
    assert rated.json()["supporter"] == world.supporter.username
    assert (await client.put(url, json={"rating": "great"})).status_code == 422
    await login(world.supporter)
    assert (await client.get(url)).json()["rating"] == "okay"
    assert (await client.put(url, json={"rating": "good"})).status_code == 403
    await login(world.outsider)
    assert (await client.get(url)).status_code == 403
    assert (await client.put(url, json={"rating": "bad"})).status_code == 403
    assert (await SatisfactionRating.get(ticket_id=ticket.id)).rating == Rating.OKAY
    figures = f"/api/v1/projects/{world.project.slug}/satisfaction"
    assert (await client.get(figures)).status_code == 403
    await login(world.owner)
    body = (await client.get(figures)).json()
    assert body["project"] == {"good": 0, "okay": 1, "bad": 0, "total": 1, "score": 0.0}
    assert body["supporters"] == [{"username": world.supporter.username, "good": 0,
                                   "okay": 1, "bad": 0, "total": 1, "score": 0.0}]


async def test_private_tickets_stay_hidden(client: httpx.AsyncClient, login: Login,
                                           platform: Platform, world: World) -> None:
    ticket = await solved(platform, world)
    from forum.topics.models import Topic

    await Topic.filter(id=ticket.topic_id).update(is_private=True)  # type: ignore[attr-defined]
    await login(world.outsider)
    url = f"/api/v1/tickets/{ticket.id}/rating"
    assert (await client.put(url, json={"rating": "bad"})).status_code == 404
    assert (await client.get(url)).status_code == 404


async def test_fragment(client: httpx.AsyncClient, login: Login, platform: Platform,
                        world: World) -> None:
    ticket = await solved(platform, world, world.supporter.id)
    path = f"/p/{world.project.slug}/t/{ticket.topic_id}/rating"  # type: ignore[attr-defined]
    await login(world.member)
    form = await client.get(path)
    assert form.status_code == 200 and "How did we do?" in form.text
    sent = await post_form(client, path, {"rating": "good", "comment": "Thanks!"})
    assert sent.status_code == 303
    assert (await SatisfactionRating.get(ticket_id=ticket.id)).comment == "Thanks!"
    assert "Change your rating" in (await client.get(path)).text
    await login(world.supporter)
    shown = await client.get(path)
    assert "Rated <strong>good</strong>" in shown.text and "<form" not in shown.text
    await login(world.outsider)
    assert (await client.get(path)).status_code == 204
    await login(world.owner)
    refused = await post_form(client, path, {"rating": "bad"},
                              page=f"/p/{world.project.slug}/inbox")
    assert refused.status_code == 403
    assert (await SatisfactionRating.get(ticket_id=ticket.id)).rating == Rating.GOOD


async def test_the_ticket_panel_loads_the_rating_and_the_reply_box(
        client: httpx.AsyncClient, login: Login, platform: Platform, world: World) -> None:
    ticket = await solved(platform, world)
    topic_id = ticket.topic_id  # type: ignore[attr-defined]
    panel = f"/p/{world.project.slug}/t/{topic_id}/ticket-panel"
    await login(world.member)
    assert f'hx-get="/p/{world.project.slug}/t/{topic_id}/rating"' in (
        await client.get(panel)).text
    await login(world.outsider)
    assert "/rating" not in (await client.get(panel)).text
    await Ticket.filter(id=ticket.id).update(state=TicketState.CLOSED)
    await login(world.member)
    assert f'hx-get="/p/{world.project.slug}/t/{topic_id}/reply-after-close"' in (
        await client.get(panel)).text


async def test_solving_asks_the_requester_for_a_rating(
        client: httpx.AsyncClient, login: Login, platform: Platform, world: World,
        run_jobs: Any, mailbox: Any) -> None:
    ticket = await open_ticket(platform, world, title="Login loops forever")
    await login(world.supporter)
    solved_now = await client.post(f"/api/v1/tickets/{ticket.id}/state",
                                   json={"state": "solved"})
    assert solved_now.status_code == 200, solved_now.text
    await run_jobs()
    asks = [m for m in mailbox() if m["To"] == world.member.email
            and "how did we do?" in m["Subject"]]
    assert len(asks) == 1
    assert f"/p/{world.project.slug}/t/{ticket.topic_id}-" in asks[0].get_body(  # type: ignore[attr-defined]
        ("plain",)).get_content()


async def test_satisfaction_page(client: httpx.AsyncClient, login: Login,
                                 platform: Platform, world: World) -> None:
    for rating in (Rating.GOOD, Rating.BAD):
        ticket = await solved(platform, world, world.supporter.id)
        await satisfaction.rate(await access_ticket(world.member, ticket.id), rating)
    page = f"/p/{world.project.slug}/satisfaction"
    await login(world.supporter)
    response = await client.get(page)
    assert response.status_code == 200
    assert "All time: 50% good (1 good, 0 okay, 1 bad)" in response.text
    assert f"<td>{world.supporter.username}</td>" in response.text
    for user in (world.member, world.outsider):
        await login(user)
        assert (await client.get(page)).status_code == 403
