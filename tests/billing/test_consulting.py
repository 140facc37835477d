"""Consulting hours: booked within the plan's allowance with a team member, answered by
them, given back when declined or cancelled; nobody else sees or answers a booking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from forum.accounts.models import User
from forum.billing.models import (
    BookingState,
    ConsultingBooking,
    Plan,
    PlanKind,
    Subscription,
)
from forum.projects.models import Project, Role
from tests import support
from tests.factories import add_member, make_project, make_user


@dataclass
class World:
    project: Project
    customer: User
    supporter: User
    lead: User
    stranger: User
    subscription: Subscription


@pytest.fixture
async def world(db: None) -> World:
    owner = await make_user("owner")
    project = await make_project("acme", owner=owner)
    supporter, lead = await make_user("sam"), await make_user("lena")
    await add_member(project, supporter, Role.SUPPORTER)
    await add_member(project, lead, Role.LEAD)
    customer, stranger = await make_user("cora"), await make_user("stan")
    plan = await Plan.create(project=project, kind=PlanKind.MONTHLY, name="Team",
                             currency="USD", price=50000, consulting_hours=3)
    subscription = await Subscription.create(
        project=project, user=customer, plan=plan, amount=50000, currency="USD",
        status="active", stripe_subscription_id="sub_consult",
        current_period_start=datetime.now(UTC) - timedelta(days=3),
        current_period_end=datetime.now(UTC) + timedelta(days=27))
    return World(project, customer, supporter, lead, stranger, subscription)


def ahead(days: int = 2) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()


async def test_customer_books_within_the_allowance(client: httpx.AsyncClient, world: World,
                                                   login: support.Login, mailbox: Any,
                                                   run_jobs: Any) -> None:
    await login(world.customer)
    overview = (await client.get("/api/v1/projects/acme/consulting")).json()
    assert (overview["hours_included"], overview["hours_left"]) == (3, 3)
    assert set(overview["team"]) == {"owner", "sam", "lena"}
    made = await client.post("/api/v1/projects/acme/consulting", json={
        "consultant": "sam", "starts_at": ahead(), "hours": 2, "note": "Upgrade plan"})
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "requested" and made.json()["consultant"] == "sam"
    too_many = await client.post("/api/v1/projects/acme/consulting", json={
        "consultant": "sam", "starts_at": ahead(), "hours": 2})
    assert too_many.status_code == 422
    assert "1 consulting hour left" in too_many.json()["error"]["message"]
    await run_jobs()
    [mail] = [m for m in mailbox() if m["To"] == "sam@example.org"]
    text = mail.get_body(("plain",)).get_content()
    assert "2 hours from" in text and "Upgrade plan" in text
    assert "/p/acme/billing/consulting" in text


async def test_bad_bookings_are_refused(client: httpx.AsyncClient, world: World,
                                        login: support.Login) -> None:
    await login(world.customer)
    cases = [
        ({"consultant": "stan", "starts_at": ahead(), "hours": 1}, "consultant"),
        ({"consultant": "cora", "starts_at": ahead(), "hours": 1}, "consultant"),
        ({"consultant": "sam", "starts_at": ahead(-1), "hours": 1}, "starts_at"),
        ({"consultant": "sam", "starts_at": ahead(400), "hours": 1}, "starts_at"),
        ({"consultant": "sam", "starts_at": "2030-01-01T10:00:00", "hours": 1}, "starts_at"),
        ({"consultant": "sam", "starts_at": ahead(), "hours": 0}, "hours"),
    ]
    for body, field in cases:
        response = await client.post("/api/v1/projects/acme/consulting", json=body)
        assert response.status_code == 422, body
        assert field in response.json()["error"]["fields"], (body, response.json())
    assert await ConsultingBooking.all().count() == 0


async def test_without_a_plan_with_hours_booking_is_forbidden(
        client: httpx.AsyncClient, world: World, login: support.Login) -> None:
    await login(world.stranger)
    response = await client.post("/api/v1/projects/acme/consulting", json={
        "consultant": "sam", "starts_at": ahead(), "hours": 1})
    assert response.status_code == 403
    await Subscription.filter(id=world.subscription.id).update(status="canceled")
    await login(world.customer)
    response = await client.post("/api/v1/projects/acme/consulting", json={
        "consultant": "sam", "starts_at": ahead(), "hours": 1})
    assert response.status_code == 403


async def test_answers_and_who_may_give_them(client: httpx.AsyncClient, world: World,
                                             login: support.Login) -> None:
    await login(world.customer)
    made = (await client.post("/api/v1/projects/acme/consulting", json={
        "consultant": "sam", "starts_at": ahead(), "hours": 3})).json()
    path = f"/api/v1/projects/acme/consulting/{made['id']}"
    # The customer cannot confirm their own request; a stranger does not see it at all.
    assert (await client.post(f"{path}/confirm", json={})).status_code == 403
    await login(world.stranger)
    assert (await client.post(f"{path}/cancel", json={})).status_code == 404
    listed = (await client.get("/api/v1/projects/acme/consulting")).json()["bookings"]
    assert listed == []
    # Another project's lead cannot reach it either.
    other_lead = await make_user("olga")
    await make_project("other", owner=other_lead)
    await login(other_lead)
    assert (await client.post(f"{path}/confirm", json={})).status_code == 404
    await login(world.supporter)
    confirmed = await client.post(f"{path}/confirm", json={})
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "confirmed"
    assert (await client.post(f"{path}/decline", json={})).status_code == 409
    assert (await client.post(f"{path}/explode", json={})).status_code == 404
    # Cancelling gives the hours back.
    await login(world.customer)
    assert (await client.post(f"{path}/cancel", json={})).status_code == 200
    overview = (await client.get("/api/v1/projects/acme/consulting")).json()
    assert overview["hours_left"] == 3
    assert (await ConsultingBooking.get(id=made["id"])).state == BookingState.CANCELLED


async def test_a_lead_sees_every_booking_and_a_past_one_cannot_be_cancelled(
        client: httpx.AsyncClient, world: World, login: support.Login) -> None:
    booking = await ConsultingBooking.create(
        project=world.project, subscription=world.subscription, customer=world.customer,
        consultant=world.supporter, starts_at=datetime.now(UTC) - timedelta(hours=1), hours=1,
        state=BookingState.CONFIRMED)
    await login(world.lead)
    [seen] = (await client.get("/api/v1/projects/acme/consulting")).json()["bookings"]
    assert seen["id"] == booking.id
    response = await client.post(f"/api/v1/projects/acme/consulting/{booking.id}/cancel",
                                  json={})
    assert response.status_code == 409


async def test_the_page_books_in_the_customers_time_zone(
        client: httpx.AsyncClient, world: World, login: support.Login) -> None:
    await User.filter(id=world.customer.id).update(time_zone="Europe/Paris")
    await login(world.customer)
    page = await client.get("/p/acme/billing/consulting")
    assert page.status_code == 200 and "3</strong> left" in page.text
    day = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    response = await support.post_form(client, "/p/acme/billing/consulting", {
        "consultant": "sam", "starts_at": f"{day}T15:00", "hours": "1", "note": ""})
    assert response.status_code == 303
    booking = await ConsultingBooking.get(customer_id=world.customer.id)
    paris = booking.starts_at.astimezone(UTC)
    assert paris.hour in (13, 14)  # 15:00 in Paris is 14:00 UTC in winter, 13:00 in summer
    page = await client.get("/p/acme/billing/consulting")
    assert "2</strong> left" in page.text and f'data-booking-id="{booking.id}"' in page.text
    bad = await support.post_form(client, "/p/acme/billing/consulting", {
        "consultant": "sam", "starts_at": "tomorrow", "hours": "1"})
    assert bad.status_code == 303
    assert await ConsultingBooking.filter(customer_id=world.customer.id).count() == 1


async def booked(world: World, starts_in: timedelta, state: BookingState,
                 **fields: Any) -> ConsultingBooking:
    return await ConsultingBooking.create(
        project=world.project, subscription=world.subscription, customer=world.customer,
        consultant=world.supporter, starts_at=datetime.now(UTC) + starts_in, hours=2,
        state=state, **fields)


async def test_both_sides_are_reminded_once_the_day_before(
        platform: Any, world: World, mailbox: Any, run_jobs: Any) -> None:
    from forum.billing.consulting import send_reminders
    from forum.billing.jobs import CONSULTING_REMINDERS

    soon = await booked(world, timedelta(hours=20), BookingState.CONFIRMED,
                        note="Bring the logs")
    await booked(world, timedelta(hours=30), BookingState.CONFIRMED)  # the day after
    await booked(world, timedelta(hours=5), BookingState.REQUESTED)  # never confirmed
    await booked(world, timedelta(hours=5), BookingState.CANCELLED)
    await booked(world, timedelta(hours=-1), BookingState.CONFIRMED)  # already begun
    assert await send_reminders(platform) == 1
    await run_jobs()
    mails = {m["To"]: m for m in mailbox()}
    assert set(mails) == {"cora@example.org", "sam@example.org"}
    text = mails["cora@example.org"].get_body(("plain",)).get_content()
    assert "coming up, with sam" in text and "2 hours from" in text
    assert "Bring the logs" in text
    when = soon.starts_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert mails["sam@example.org"]["Subject"] == f"[Acme] Reminder: consulting session at {when}"
    assert (await ConsultingBooking.get(id=soon.id)).reminded_at is not None
    # The hourly cron runs the same job; nothing is sent twice.
    assert CONSULTING_REMINDERS in {c.job for c in platform.jobs.registry.cron}
    assert await send_reminders(platform) == 0
    await platform.enqueue(CONSULTING_REMINDERS)
    await run_jobs()
    assert len(mailbox()) == 2


async def test_a_booking_as_a_calendar_file_for_its_two_sides_only(
        client: httpx.AsyncClient, world: World, login: support.Login) -> None:
    import icalendar

    booking = await booked(world, timedelta(days=3), BookingState.CONFIRMED,
                           note="Upgrade; then, questions")
    url = f"/p/acme/billing/consulting/{booking.id}.ics"
    for user in (world.customer, world.supporter, world.lead):
        await login(user)
        response = await client.get(url)
        assert response.status_code == 200, user.username
    assert response.headers["content-type"].startswith("text/calendar")
    assert f"acme-consulting-{booking.id}.ics" in response.headers["content-disposition"]
    [event] = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert event.decoded("dtstart") == booking.starts_at.astimezone(UTC).replace(microsecond=0)
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(hours=2)
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["summary"]) == "Acme consulting: cora with sam"
    assert "Upgrade; then, questions" in str(event["description"])  # escaped, read back
    assert str(event["uid"]) == f"consulting-{booking.id}@testserver"
    page = await client.get("/p/acme/billing/consulting")
    assert f'href="{url}"' in page.text
    await login(world.stranger)
    assert (await client.get(url)).status_code == 404
    other_lead = await make_user("olga")
    await make_project("other", owner=other_lead)
    await login(other_lead)
    assert (await client.get(url)).status_code == 404
    assert (await client.get(url.replace("/acme/", "/other/"))).status_code == 404
