"""Recognition: the copy of billing's attributions, "your help earned $X" on the profile
and the recognition page, notifications, thank-yous with the helper's consent, pledges
against activity and the monthly recap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from forum import events
from forum.notifications.models import Notification, NotificationKind
from forum.platform import Platform
from forum.projects.models import Role, Visibility
from forum.reputation import recognition
from forum.reputation.recognition_models import HelpCredit, RecapSent, ThankYou
from forum.topics.models import TopicKind
from tests.factories import add_member, make_project, make_user
from tests.support import Login, post_form
from tests.topics.conftest import World, answer, make_world, start_topic, world

__all__ = ["world"]

_attribution = iter(range(1000, 100000))


def credit(world: World, user_id: int, amount: int, *, attribution_id: int | None = None,
           ticket_id: int = 7, reference: str = "DEMO-42", currency: str = "USD",
           post_id: int | None = 99) -> events.HelpCredited:
    return events.HelpCredited(
        project=world.project.id, attribution_id=attribution_id or next(_attribution),
        user_id=user_id, ticket_id=ticket_id, topic_id=70 + ticket_id, post_id=post_id,
        amount=amount, currency=currency, reference=reference)


async def test_projection_keys_credits_by_attribution_and_nets_refunds(
        platform: Platform, world: World) -> None:
    helper = world.member
    first = credit(world, helper.id, 5000, attribution_id=1)
    await platform.emit(first)
    await platform.emit(first)  # a replay
    assert await HelpCredit.filter(user_id=helper.id).count() == 1
    await platform.emit(credit(world, helper.id, 1250, ticket_id=8, reference="DEMO-43"))
    totals = await recognition.earned_totals(world.project.id, [helper.id])
    assert totals == {helper.id: (("USD", 6250),)}
    # A refund of the first ticket reverses its credit: the total falls, the row stays.
    await platform.emit(credit(world, helper.id, -5000, attribution_id=2))
    totals = await recognition.earned_totals(world.project.id, [helper.id])
    assert totals == {helper.id: (("USD", 1250),)}
    by_ticket = {t.reference: t.amount
                 for t in await recognition.earnings_by_ticket(world.project.id, helper.id)}
    assert by_ticket == {"DEMO-42": 0, "DEMO-43": 1250}
    # Another currency is summed apart, never converted.
    await platform.emit(credit(world, helper.id, 900, currency="eur", ticket_id=9))
    totals = await recognition.earned_totals(world.project.id, [helper.id])
    assert totals == {helper.id: (("EUR", 900), ("USD", 1250))}


def test_format_money() -> None:
    assert recognition.format_money(5000, "USD") == "$50.00"
    assert recognition.format_money(-320, "eur") == "-€3.20"
    assert recognition.format_money(123456, "CHF") == "1,234.56 CHF"
    assert recognition.format_money(1200, "JPY") == "¥1,200"


async def test_profile_and_recognition_page_show_what_help_earned(
        platform: Platform, world: World, client: httpx.AsyncClient, login: Login) -> None:
    helper = world.member
    await platform.emit(credit(world, helper.id, 5000))
    await platform.emit(credit(world, helper.id, 2500, ticket_id=8, reference="DEMO-43"))
    slug = world.project.slug
    await login(None)
    profile = await client.get(f"/p/{slug}/u/{helper.username}")
    assert profile.status_code == 200
    assert "Help earned $75.00 for the project" in profile.text
    # Others see the total, not which (possibly private) tickets paid what.
    page = await client.get(f"/p/{slug}/u/{helper.username}/recognition")
    assert page.status_code == 200
    assert "$75.00" in page.text and "DEMO-42" not in page.text
    api = (await client.get(f"/api/v1/projects/{slug}/users/{helper.username}/recognition"
                            )).json()
    assert api["earned"] == [{"currency": "USD", "amount": 7500, "display": "$75.00"}]
    assert api["tickets"] is None and api["pledge"] is None
    # The helper (and the team) see each ticket.
    await login(helper)
    page = await client.get(f"/p/{slug}/u/{helper.username}/recognition")
    assert "Your help earned" in page.text
    assert "DEMO-42" in page.text and "$50.00" in page.text and "$25.00" in page.text
    await login(world.supporter)
    api = (await client.get(f"/api/v1/projects/{slug}/users/{helper.username}/recognition"
                            )).json()
    assert [(t["reference"], t["amount"]["amount"]) for t in api["tickets"]] == [
        ("DEMO-43", 2500), ("DEMO-42", 5000)]
    # Someone never credited shows nothing earned.
    profile = await client.get(f"/p/{slug}/u/{world.outsider.username}")
    assert "Help earned" not in profile.text


async def test_help_earned_notifies_in_the_app_and_by_email(
        platform: Platform, world: World, run_jobs: Any, mailbox: Any,
        client: httpx.AsyncClient, login: Login) -> None:
    helper = world.member
    event = credit(world, helper.id, 5000)
    await platform.emit(event)
    await platform.emit(event)
    await platform.emit(credit(world, helper.id, -5000))  # a refund: no notification
    await run_jobs()
    notes = await Notification.filter(user_id=helper.id, kind=NotificationKind.HELP_EARNED)
    assert len(notes) == 1
    assert notes[0].data["summary"] == "Your answer on DEMO-42 earned $50.00 for the project"
    assert notes[0].data["url"] == f"/p/{world.project.slug}/u/{helper.username}/recognition"
    mails = [m for m in mailbox() if "earned $50.00" in str(m["Subject"])]
    assert len(mails) == 1 and mails[0]["To"] == helper.email
    await login(helper)
    listing = await client.get("/notifications")
    assert "Your answer on DEMO-42 earned $50.00 for the project" in listing.text
    opened = await client.get(f"/notifications/{notes[0].id}/open")
    assert opened.headers["location"] == notes[0].data["url"]


async def test_lead_records_a_thank_you_shown_only_with_consent(
        platform: Platform, world: World, client: httpx.AsyncClient, login: Login,
        run_jobs: Any) -> None:
    slug, helper = world.project.slug, world.member
    await login(world.owner)
    created = await client.post(f"/api/v1/projects/{slug}/recognition/thanks", json={
        "helper": helper.username, "kind": "money_sent", "amount": 2500, "currency": "usd",
        "note": "For the parser fix"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["shown"] is False and body["amount"]["display"] == "$25.00"
    assert body["lead"] == world.owner.username
    await run_jobs()
    note = await Notification.get(user_id=helper.id, kind=NotificationKind.THANKED)
    assert note.data["summary"] == "A project lead thanked you: sent you money ($25.00)"

    api = f"/api/v1/projects/{slug}/users/{helper.username}/recognition"
    await login(None)
    assert (await client.get(api)).json()["thank_yous"] == []
    assert "For the parser fix" not in (await client.get(
        f"/p/{slug}/u/{helper.username}/recognition")).text
    # The helper sees it and agrees to show it, with the form on their page.
    await login(helper)
    mine = (await client.get(api)).json()["thank_yous"]
    assert [t["note"] for t in mine] == ["For the parser fix"]
    page = f"/p/{slug}/u/{helper.username}/recognition"
    shown = await post_form(client, f"/p/{slug}/recognition/thanks/{body['id']}/consent",
                            {"shown": "1"}, page=page)
    assert shown.status_code == 303
    await login(None)
    public = (await client.get(api)).json()["thank_yous"]
    assert [t["note"] for t in public] == ["For the parser fix"]
    # And hides it again through the API.
    await login(helper)
    hidden = await client.put(
        f"/api/v1/projects/{slug}/recognition/thanks/{body['id']}/consent",
        json={"shown": False})
    assert hidden.status_code == 200 and hidden.json()["shown"] is False
    await login(None)
    assert (await client.get(api)).json()["thank_yous"] == []


async def test_only_the_projects_leads_record_thank_yous(
        platform: Platform, world: World, client: httpx.AsyncClient, login: Login) -> None:
    slug = world.project.slug
    url = f"/api/v1/projects/{slug}/recognition/thanks"
    data = {"helper": world.member.username, "kind": "swag"}
    await login(None)
    assert (await client.post(url, json=data)).status_code == 401
    for someone in (world.member, world.maintainer, world.supporter, world.outsider):
        await login(someone)
        assert (await client.post(url, json=data)).status_code == 403
        assert (await client.get(f"/api/v1/projects/{slug}/recognition")).status_code == 403
        assert (await client.get(f"/p/{slug}/recognition")).status_code == 403
    # The lead of another project is nobody here.
    other = await make_world()
    await login(other.owner)
    assert (await client.post(url, json=data)).status_code == 403
    # A members-only project is not found for outsiders.
    hidden = await make_project(default_visibility=Visibility.MEMBERS, owner=await make_user())
    response = await client.post(f"/api/v1/projects/{hidden.slug}/recognition/thanks",
                                 json=data)
    assert response.status_code == 404
    assert await ThankYou.all().count() == 0
    # A lead (not owner) may.
    lead = await make_user()
    await add_member(world.project, lead, Role.LEAD)
    await login(lead)
    assert (await client.post(url, json=data)).status_code == 201


async def test_thank_you_bad_input_and_others_consent(
        platform: Platform, world: World, client: httpx.AsyncClient, login: Login) -> None:
    slug = world.project.slug
    url = f"/api/v1/projects/{slug}/recognition/thanks"
    await login(world.owner)
    bad = [
        {"helper": world.member.username, "kind": "money_sent", "amount": 100},
        {"helper": world.member.username, "kind": "money_sent", "amount": -5,
         "currency": "USD"},
        {"helper": world.member.username, "kind": "note"},
        {"helper": world.member.username, "kind": "cake"},
        {"helper": "nobody-here", "kind": "swag"},
        {"helper": world.owner.username, "kind": "swag"},
    ]
    for data in bad:
        response = await client.post(url, json=data)
        assert response.status_code == 422, data
        assert response.json()["error"]["fields"]
    form = await post_form(client, f"/p/{slug}/recognition", {
        "helper": world.member.username, "kind": "money_sent", "amount": "12.345",
        "currency": "USD", "note": ""})
    assert form.status_code == 422
    assert "at most 2 decimals" in form.text and 'value="12.345"' in form.text
    form = await post_form(client, f"/p/{slug}/recognition", {
        "helper": world.member.username, "kind": "money_sent", "amount": "12.50",
        "currency": "eur", "note": "Thanks"})
    assert form.status_code == 303
    thank_you = await ThankYou.get(helper_id=world.member.id)
    assert (thank_you.amount, thank_you.currency, thank_you.shown) == (1250, "EUR", False)
    # Nobody but the helper switches its consent.
    for someone in (world.owner, world.moderator):
        await login(someone)
        response = await client.put(
            f"/api/v1/projects/{slug}/recognition/thanks/{thank_you.id}/consent",
            json={"shown": True})
        assert response.status_code == 404
    await thank_you.refresh_from_db()
    assert thank_you.shown is False


async def test_pledges_against_activity(
        platform: Platform, world: World, client: httpx.AsyncClient, login: Login) -> None:
    slug, helper = world.project.slug, world.member
    question = await start_topic(platform, world, world.supporter)
    reply = await answer(platform, world, question, helper)
    await answer(platform, world, question, helper, source="Also try `lenient=False`.")
    question.accepted_post_id = reply.id
    await question.save()
    ticket = await start_topic(platform, world, world.outsider, title="Paid help please",
                               kind=TopicKind.TICKET.value)
    await answer(platform, world, ticket, helper, source="Here is the fix for your ticket.")

    await login(helper)
    page = f"/p/{slug}/u/{helper.username}/recognition"
    response = await post_form(client, f"/p/{slug}/volunteer",
                               {"hours_per_week": "41", "note": ""}, page=page)
    assert response.status_code == 422
    response = await post_form(client, f"/p/{slug}/volunteer",
                               {"hours_per_week": "5", "note": "Evenings"}, page=page)
    assert response.status_code == 303
    assert (await client.put(f"/api/v1/projects/{slug}/volunteer",
                             json={"hours_per_week": -1})).status_code == 422
    await login(world.owner)
    out = (await client.get(f"/api/v1/projects/{slug}/recognition")).json()
    assert out["pledges"] == [{
        "username": helper.username, "hours_per_week": 5, "note": "Evenings", "weeks": 4,
        "activity": {"posts": 3, "answers": 2, "accepted_answers": 1,
                     "ticket_responses": 1}}]
    lead_page = await client.get(f"/p/{slug}/recognition")
    assert lead_page.status_code == 200 and "Evenings" in lead_page.text
    # Withdrawing: 0 hours.
    await login(helper)
    response = await client.put(f"/api/v1/projects/{slug}/volunteer",
                                json={"hours_per_week": 0})
    assert response.status_code == 204
    await login(world.owner)
    assert (await client.get(f"/api/v1/projects/{slug}/recognition")).json()["pledges"] == []
    await login(None)
    assert (await client.put(f"/api/v1/projects/{slug}/volunteer",
                             json={"hours_per_week": 3})).status_code == 401


async def test_lead_page_lists_who_earned_what(
        platform: Platform, world: World, client: httpx.AsyncClient, login: Login) -> None:
    await platform.emit(credit(world, world.member.id, 5000))
    await platform.emit(credit(world, world.supporter.id, 1000, ticket_id=8))
    await platform.emit(credit(world, world.member.id, 2000, ticket_id=9))
    await login(world.owner)
    out = (await client.get(f"/api/v1/projects/{world.project.slug}/recognition")).json()
    assert [(e["username"], e["earned"][0]["amount"], e["tickets"]) for e in out["earners"]
            ] == [(world.member.username, 7000, 2), (world.supporter.username, 1000, 1)]


async def test_monthly_recap_once_per_helper_and_month(
        platform: Platform, world: World, run_jobs: Any, mailbox: Any) -> None:
    helper, other = world.member, world.supporter
    await platform.emit(credit(world, helper.id, 5000))
    await platform.emit(credit(world, helper.id, 2500, ticket_id=8))
    await platform.emit(credit(world, other.id, 700, ticket_id=9))
    refunded = world.moderator  # only a reversal last month: no recap
    await platform.emit(credit(world, refunded.id, -300, ticket_id=10))
    # The helper's credits were last month; the other's this month.
    now = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    await HelpCredit.filter(user_id__in=[helper.id, refunded.id]).update(
        created_at=now - timedelta(days=3))
    await HelpCredit.filter(user_id=other.id).update(created_at=now + timedelta(hours=1))
    assert await recognition.send_monthly_recaps(platform, now) == 1
    assert await recognition.send_monthly_recaps(platform, now + timedelta(days=1)) == 0
    assert await RecapSent.filter(user_id=helper.id, month="2026-10").count() == 1
    await run_jobs()
    recaps = [m for m in mailbox() if "October 2026" in str(m["Subject"])]
    assert len(recaps) == 1 and recaps[0]["To"] == helper.email
    text = recaps[0].get_body(("plain",)).get_content()
    assert "$75.00 from 2 paid tickets" in text
    assert f"/p/{world.project.slug}/u/{helper.username}/recognition" in text


def test_recap_is_a_daily_cron_job(platform: Platform) -> None:
    crons = [c for c in platform.plugins.collect("forum_cron")
             if c.job == recognition.RECAP_JOB]
    assert len(crons) == 1 and crons[0].hour == {9} and crons[0].minute == {0}
    assert recognition.previous_month(datetime(2026, 1, 1, 9, tzinfo=UTC))[0] == "2025-12"


async def test_project_home_links_recognition(
        platform: Platform, world: World, client: httpx.AsyncClient, login: Login) -> None:
    slug = world.project.slug
    lead_link = f'href="/p/{slug}/recognition"'
    await login(world.owner)
    home = (await client.get(f"/p/{slug}")).text
    assert lead_link in home
    assert f"/p/{slug}/u/{world.owner.username}/recognition#volunteer" in home
    await login(world.member)
    home = (await client.get(f"/p/{slug}")).text
    assert lead_link not in home
    assert f"/p/{slug}/u/{world.member.username}/recognition#volunteer" in home
