""""Helped" marks: the team marks the posts of a paid ticket that helped solve it."""

from __future__ import annotations

import itertools

import httpx

from forum import events
from forum.billing.models import HelpedMark
from forum.platform import Platform
from forum.support_queue.models import Ticket
from forum.topics.models import Post
from tests.support import Login, post_form
from tests.support_queue.conftest import open_ticket
from tests.topics.conftest import World, answer, make_world, start_topic, world

__all__ = ["world"]

_n = itertools.count(1)


async def paid_ticket(platform: Platform, world: World, amount: int = 5000
                      ) -> tuple[Ticket, Post, Post, Post]:
    """A ticket paid for, its opening post (the requester's), an answer by a community
    helper and one by the team."""
    ticket = await open_ticket(platform, world)
    if amount:
        await platform.emit(events.TicketWorthChanged(
            project=world.project.id, ticket_id=ticket.id, tier="pay_as_you_go",
            amount_paid=amount, currency="USD"))
    await ticket.fetch_related("topic", "project")
    opening = await Post.get(topic_id=ticket.topic.id, number=1)
    helper = await answer(platform, world, ticket.topic, world.outsider,
                          source=f"Upgrade to 2.{next(_n)}, it fixes the empty input crash.")
    team = await answer(platform, world, ticket.topic, world.supporter,
                        source=f"Confirmed: 2.{next(_n)} has the fix.")
    return ticket, opening, helper, team


async def test_team_marks_posts_that_helped(
        platform: Platform, world: World, client: httpx.AsyncClient, login: Login) -> None:
    ticket, opening, helper, team = await paid_ticket(platform, world)
    url = f"/p/{world.project.slug}/tickets/{ticket.number}/helped"
    await login(world.supporter)
    page = await client.get(url)
    assert page.status_code == 200
    assert f'value="{helper.id}"' in page.text and ticket.reference in page.text
    assert "(the requester)" in page.text
    response = await post_form(client, url, {"post": [str(helper.id), str(team.id)]})
    assert response.status_code == 303
    marks = await HelpedMark.filter(ticket_id=ticket.id).order_by("post_id")
    assert [(m.post_id, m.marked_by_id) for m in marks] == [  # type: ignore[attr-defined]
        (helper.id, world.supporter.id), (team.id, world.supporter.id)]
    # The API sets exactly the posts given.
    api = f"/api/v1/projects/{world.project.slug}/tickets/{ticket.number}/helped"
    out = await client.put(api, json={"post_ids": [helper.id]})
    assert out.status_code == 200
    assert [(p["id"], p["helped"], p["markable"]) for p in out.json()["posts"]] == [
        (opening.id, False, False), (helper.id, True, True), (team.id, False, True)]
    assert await HelpedMark.filter(ticket_id=ticket.id).values_list("post_id", flat=True) == [
        helper.id]


async def test_the_ticket_panel_links_the_marks_for_the_team(
        platform: Platform, world: World, client: httpx.AsyncClient, login: Login) -> None:
    ticket, *_ = await paid_ticket(platform, world)
    await ticket.fetch_related("topic")
    topic_url = f"/p/{world.project.slug}/t/{ticket.topic.id}/ticket-panel"
    link = f"/p/{world.project.slug}/tickets/{ticket.number}/helped"
    await login(world.supporter)
    assert link in (await client.get(topic_url)).text
    await login(world.member)  # the requester
    assert link not in (await client.get(topic_url)).text


async def test_bad_marks_are_refused(
        platform: Platform, world: World, client: httpx.AsyncClient, login: Login) -> None:
    ticket, opening, _, _ = await paid_ticket(platform, world)
    elsewhere = await start_topic(platform, world, world.outsider)
    api = f"/api/v1/projects/{world.project.slug}/tickets/{ticket.number}/helped"
    await login(world.supporter)
    requester = await client.put(api, json={"post_ids": [opening.id]})
    assert requester.status_code == 422
    assert "requester" in requester.json()["error"]["fields"]["post_ids"]
    other_post = await Post.get(topic_id=elsewhere.id, number=1)
    assert (await client.put(api, json={"post_ids": [other_post.id]})).status_code == 422
    assert (await client.put(api, json={"post_ids": "all"})).status_code == 422
    free, _, free_helper, _ = await paid_ticket(platform, world, amount=0)
    free_api = f"/api/v1/projects/{world.project.slug}/tickets/{free.number}/helped"
    assert (await client.put(free_api, json={"post_ids": [free_helper.id]})).status_code == 409
    missing = f"/api/v1/projects/{world.project.slug}/tickets/9999/helped"
    assert (await client.get(missing)).status_code == 404
    assert (await client.get(f"/p/{world.project.slug}/tickets/x/helped")).status_code == 404
    assert await HelpedMark.all().count() == 0


async def test_only_the_projects_team_marks(
        platform: Platform, world: World, client: httpx.AsyncClient, login: Login) -> None:
    ticket, _, helper, _ = await paid_ticket(platform, world)
    page = f"/p/{world.project.slug}/tickets/{ticket.number}/helped"
    api = f"/api/v1/projects/{world.project.slug}/tickets/{ticket.number}/helped"
    await login(None)
    assert (await client.put(api, json={"post_ids": [helper.id]})).status_code == 401
    # The requester, the helper who answered, a plain member: not the team.
    other = await make_world()
    for someone in (world.member, world.outsider, other.owner, other.supporter):
        await login(someone)
        assert (await client.get(page)).status_code == 403
        assert (await client.put(api, json={"post_ids": [helper.id]})).status_code == 403
    # The team of another project cannot reach this ticket through its own project.
    other_ticket, *_ = await paid_ticket(platform, other)
    await login(world.supporter)
    assert (await client.put(
        f"/api/v1/projects/{other.project.slug}/tickets/{other_ticket.number}/helped",
        json={"post_ids": [helper.id]})).status_code == 403
    # Its own project's number does not reach another project's ticket.
    await login(other.supporter)
    response = await client.put(
        f"/api/v1/projects/{other.project.slug}/tickets/{other_ticket.number}/helped",
        json={"post_ids": [helper.id]})
    assert response.status_code == 422  # not a post of that ticket
    assert await HelpedMark.all().count() == 0
