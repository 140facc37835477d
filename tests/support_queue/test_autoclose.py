"""Auto-close: the warning before, closing after the idle time, interaction resetting the
clock, late warnings still giving the requester their days, replies after closing (reopen
within the grace period, a linked follow-up later), the settings, and refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from forum.platform import Platform
from forum.support_queue import autoclose
from forum.support_queue.models import Ticket, TicketState
from forum.support_queue.permissions import access_ticket
from forum.support_queue.team_models import AutoCloseSettings, TicketFollowUp
from forum.topics.models import Post, Topic, TopicState
from forum.web.errors import Conflict, Forbidden
from tests.support import Login, post_form
from tests.support_queue.conftest import World, open_ticket

NOW = datetime.now(UTC).replace(microsecond=0)


async def idle_ticket(platform: Platform, world: World, days: float,
                      state: TicketState = TicketState.WAITING) -> Ticket:
    """A ticket whose last interaction was ``days`` before NOW."""
    ticket = await open_ticket(platform, world, title="It hangs on shutdown")
    then = NOW - timedelta(days=days)
    await Ticket.filter(id=ticket.id).update(
        state=state, submitted_at=then, created_at=then,
        paused_at=then if state == TicketState.WAITING else None,
        solved_at=then if state == TicketState.SOLVED else None)
    await Topic.filter(id=ticket.topic_id).update(last_posted_at=then)  # type: ignore[attr-defined]
    return await Ticket.get(id=ticket.id)


def warnings_to(mailbox: Any, email: str) -> list[Any]:
    return [m for m in mailbox() if m["To"] == email and "will be closed" in m["Subject"]]


async def test_warn_then_close(platform: Platform, world: World, run_jobs: Any,
                               mailbox: Any) -> None:
    fresher = await idle_ticket(platform, world, 26)
    assert await autoclose.run_autoclose(platform, NOW) == autoclose.AutoCloseRun([], [])
    ticket = await idle_ticket(platform, world, 27.5)
    run = await autoclose.run_autoclose(platform, NOW)
    assert run == autoclose.AutoCloseRun([ticket.id], [])
    assert (await Ticket.get(id=ticket.id)).state == TicketState.WAITING
    await run_jobs()
    [mail] = warnings_to(mailbox, world.member.email)
    text = mail.get_body(("plain",)).get_content()
    assert f"{world.project.slug.upper()}-{ticket.number}" in mail["Subject"]
    assert f"/p/{world.project.slug}/t/{ticket.topic_id}-" in text  # type: ignore[attr-defined]
    # Warned once, not again on the next runs (the fresher ticket's turn comes).
    assert await autoclose.run_autoclose(platform, NOW + timedelta(days=1)) == (
        autoclose.AutoCloseRun([fresher.id], []))
    later = NOW + timedelta(days=3)
    run = await autoclose.run_autoclose(platform, later)
    assert run.closed == [ticket.id]
    closed = await Ticket.get(id=ticket.id)
    assert closed.state == TicketState.CLOSED and closed.closed_at == later
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    assert topic.state == TopicState.CLOSED
    await run_jobs()
    assert len(warnings_to(mailbox, world.member.email)) == 2  # this ticket's, the fresher's


async def test_solved_tickets_close_too_and_queued_ones_never(platform: Platform,
                                                              world: World) -> None:
    solved = await idle_ticket(platform, world, 40, TicketState.SOLVED)
    queued = await idle_ticket(platform, world, 400, TicketState.QUEUED)
    on_hold = await idle_ticket(platform, world, 400, TicketState.ON_HOLD)
    run = await autoclose.run_autoclose(platform, NOW)
    assert run.warned == [solved.id]
    # A late warning (the worker was down) still gives the requester their 3 days.
    assert (await autoclose.run_autoclose(platform, NOW + timedelta(days=2))).closed == []
    assert (await autoclose.run_autoclose(platform, NOW + timedelta(days=3))).closed == [
        solved.id]
    states = dict(await Ticket.filter(id__in=[queued.id, on_hold.id]).values_list("id", "state"))
    assert states == {queued.id: TicketState.QUEUED, on_hold.id: TicketState.ON_HOLD}


async def test_interaction_after_the_warning_restarts_the_clock(platform: Platform,
                                                               world: World) -> None:
    ticket = await idle_ticket(platform, world, 28)
    assert (await autoclose.run_autoclose(platform, NOW)).warned == [ticket.id]
    await Topic.filter(id=ticket.topic_id).update(  # type: ignore[attr-defined]
        last_posted_at=NOW + timedelta(days=1))
    assert await autoclose.run_autoclose(platform, NOW + timedelta(days=5)) == (
        autoclose.AutoCloseRun([], []))
    # Idle again long enough: a new warning first, never a close without one.
    run = await autoclose.run_autoclose(platform, NOW + timedelta(days=29))
    assert run == autoclose.AutoCloseRun([ticket.id], [])


async def test_project_rule(platform: Platform, world: World) -> None:
    ticket = await idle_ticket(platform, world, 12)
    await AutoCloseSettings.create(project=world.project, idle_days=10, warn_days=2)
    assert (await autoclose.run_autoclose(platform, NOW)).warned == [ticket.id]
    assert (await autoclose.run_autoclose(platform, NOW + timedelta(days=2))).closed == [
        ticket.id]
    other = await idle_ticket(platform, world, 100)
    await AutoCloseSettings.filter(project=world.project).update(enabled=False)
    assert await autoclose.run_autoclose(platform, NOW) == autoclose.AutoCloseRun([], [])
    assert (await Ticket.get(id=other.id)).state == TicketState.WAITING


async def closed_ticket(platform: Platform, world: World, days_ago: float) -> Ticket:
    ticket = await open_ticket(platform, world, title="Memory leak in the worker")
    await Ticket.filter(id=ticket.id).update(state=TicketState.CLOSED,
                                             closed_at=NOW - timedelta(days=days_ago))
    await Topic.filter(id=ticket.topic_id).update(state=TopicState.CLOSED)  # type: ignore[attr-defined]
    return await Ticket.get(id=ticket.id)


async def test_a_reply_within_the_grace_period_reopens(platform: Platform,
                                                       world: World) -> None:
    ticket = await closed_ticket(platform, world, 6)
    ctx = await access_ticket(world.member, ticket.id)
    done = await autoclose.reply_after_close(platform, ctx, "It came back after the update.",
                                             NOW)
    assert done.reopened and done.ticket.id == ticket.id
    reopened = await Ticket.get(id=ticket.id)
    assert reopened.state == TicketState.QUEUED and reopened.closed_at is None
    post = await Post.get(id=done.post_id)
    assert post.topic_id == ticket.topic_id and post.number == 2  # type: ignore[attr-defined]
    assert post.source == "It came back after the update."


async def test_a_later_reply_opens_a_linked_ticket(platform: Platform, world: World) -> None:
    ticket = await closed_ticket(platform, world, 8)
    ctx = await access_ticket(world.member, ticket.id)
    done = await autoclose.reply_after_close(platform, ctx, "Same problem in 3.0.", NOW)
    assert not done.reopened and done.ticket.id != ticket.id
    assert (await Ticket.get(id=ticket.id)).state == TicketState.CLOSED
    new = await Ticket.get(id=done.ticket.id)
    assert new.state == TicketState.QUEUED
    assert new.requester_id == world.member.id  # type: ignore[attr-defined]
    topic = await Topic.get(id=new.topic_id)  # type: ignore[attr-defined]
    reference = f"{world.project.slug.upper()}-{ticket.number}"
    assert topic.title == f"Follow-up to {reference}: Memory leak in the worker"
    opening = await Post.get(id=done.post_id)
    assert opening.source.startswith(f"Follow-up to [{reference}](/p/{world.project.slug}/t/")
    assert opening.source.endswith("Same problem in 3.0.")
    assert await autoclose.follow_ups_of(ticket.id) == [new.id]
    assert await TicketFollowUp.filter(previous_id=ticket.id).count() == 1


async def test_only_the_requester_replies_after_close(platform: Platform,
                                                      world: World) -> None:
    ticket = await closed_ticket(platform, world, 1)
    for user in (world.supporter, world.outsider):
        with pytest.raises(Forbidden):
            await autoclose.reply_after_close(platform, await access_ticket(user, ticket.id),
                                              "Hi", NOW)
    open_one = await open_ticket(platform, world)
    with pytest.raises(Conflict):
        await autoclose.reply_after_close(platform, await access_ticket(world.member,
                                                                        open_one.id), "Hi", NOW)
    assert (await Ticket.get(id=ticket.id)).state == TicketState.CLOSED


async def test_reply_after_close_web_and_api(client: httpx.AsyncClient, login: Login,
                                             platform: Platform, world: World) -> None:
    ticket = await closed_ticket(platform, world, 1)
    path = f"/p/{world.project.slug}/t/{ticket.topic_id}/reply-after-close"  # type: ignore[attr-defined]
    await login(world.supporter)
    assert (await client.get(path)).status_code == 204
    await login(world.member)
    form = await client.get(path)
    assert form.status_code == 200 and "Replying reopens it." in form.text
    sent = await post_form(client, path, {"source": "Still broken"})
    assert sent.status_code == 303 and f"/t/{ticket.topic_id}-" in sent.headers["location"]  # type: ignore[attr-defined]
    assert (await Ticket.get(id=ticket.id)).state == TicketState.QUEUED
    old = await closed_ticket(platform, world, 30)
    api = await client.post(f"/api/v1/tickets/{old.id}/reply-after-close",
                            json={"source": "Again"})
    assert api.status_code == 201, api.text
    assert api.json()["reopened"] is False and api.json()["ticket_id"] != old.id
    await login(world.outsider)
    refused = await client.post(f"/api/v1/tickets/{old.id}/reply-after-close",
                                json={"source": "Me too"})
    assert refused.status_code == 403


async def test_settings_page_and_api(client: httpx.AsyncClient, login: Login,
                                     world: World) -> None:
    page = f"/p/{world.project.slug}/settings/auto-close"
    api = f"/api/v1/projects/{world.project.slug}/auto-close"
    await login(world.owner)
    assert (await client.get(page)).status_code == 200
    saved = await post_form(client, page, {"enabled": "1", "idle_days": "14",
                                           "warn_days": "2", "grace_days": "5"})
    assert saved.status_code == 303
    assert (await client.get(api)).json() == {"enabled": True, "idle_days": 14,
                                              "warn_days": 2, "grace_days": 5}
    bad = await post_form(client, page, {"idle_days": "3", "warn_days": "5",
                                         "grace_days": "1"})
    assert bad.status_code == 422
    put = await client.put(api, json={"enabled": False, "idle_days": 20, "warn_days": 20,
                                      "grace_days": 1})
    assert put.status_code == 422
    put = await client.put(api, json={"enabled": False, "idle_days": 20, "warn_days": 2,
                                      "grace_days": 1})
    assert put.status_code == 200 and put.json()["enabled"] is False
    await login(world.supporter)
    assert (await client.get(api)).status_code == 200
    assert (await client.put(api, json={"idle_days": 60})).status_code == 403
    assert (await client.get(page)).status_code == 403
    await login(world.member)
    assert (await client.get(api)).status_code == 403
    rule = await autoclose.rule_for(world.project.id)
    assert (rule.enabled, rule.idle_days) == (False, 20)


async def test_replies_by_email_to_a_closed_ticket(platform: Platform, world: World) -> None:
    from forum.mail.inbound import ask_domains

    recent = await closed_ticket(platform, world, 2)
    old = await closed_ticket(platform, world, 20)

    async def mail(ticket: Ticket, user_id: int, text: str) -> Any:
        return await ask_domains(platform, "forum_mail_reply", target_kind="topic",
                                 target_id=ticket.topic_id,  # type: ignore[attr-defined]
                                 user_id=user_id, text=text, message_id="<m@x>")

    reopened = await mail(recent, world.member.id, "Broken again")
    assert reopened.ok and f"/t/{recent.topic_id}-" in reopened.url  # type: ignore[attr-defined]
    assert (await Ticket.get(id=recent.id)).state == TicketState.QUEUED
    followed = await mail(old, world.member.id, "And again")
    assert followed.ok and await autoclose.follow_ups_of(old.id)
    # Anyone else's mail to a closed ticket is left to the topics domain (which refuses).
    refused = await mail(old, world.supporter.id, "Closing remark")
    assert refused is not None and not refused.ok
    assert (await Ticket.get(id=old.id)).state == TicketState.CLOSED


async def test_recent_interaction_does_not_hold_up_the_batch(
        platform: Platform, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(autoclose, "BATCH", 1)
    recently_solved = await idle_ticket(platform, world, 40, TicketState.SOLVED)
    await Ticket.filter(id=recently_solved.id).update(solved_at=NOW - timedelta(days=1))
    idle = await idle_ticket(platform, world, 40)
    assert recently_solved.id < idle.id
    assert (await autoclose.run_autoclose(platform, NOW)).warned == [idle.id]
