"""Consulting hours: a monthly or enterprise plan includes some per billing period, and its
customer books them with a member of the project's team.

The customer proposes a time and a length; the team member confirms or declines; either
side may cancel before the time. Declined and cancelled bookings give their hours back.
Hours count against the period in which they were booked (the subscription's current one).
A day before a confirmed booking both sides get a reminder (an hourly cron), and each side
can add the booking to a calendar from an iCalendar file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from tortoise.expressions import Q
from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from forum.accounts.models import User
from forum.billing.checkout import LIVE_STATUSES
from forum.billing.models import BookingState, ConsultingBooking, Plan, Subscription
from forum.projects.models import Membership
from forum.projects.permissions import Action
from forum.topics.permissions import TEAM_ROLES
from forum.web.errors import Forbidden, Invalid, NotFound, UserError

if TYPE_CHECKING:
    from forum.platform import Platform
    from forum.projects.models import Project
    from forum.projects.permissions import ProjectAccess

COUNTED = (BookingState.REQUESTED, BookingState.CONFIRMED)
MAX_AHEAD = timedelta(days=366)
MAX_NOTE = 2000
ANSWERS = {"confirm": BookingState.CONFIRMED, "decline": BookingState.DECLINED,
           "cancel": BookingState.CANCELLED}


@dataclass(frozen=True)
class Allowance:
    """A customer's consulting hours with a project in the current billing period."""

    subscription: Subscription
    plan: Plan
    used: int

    @property
    def left(self) -> int:
        return max(0, self.plan.consulting_hours - self.used)


@dataclass(frozen=True)
class BookingRequest:
    consultant_username: str
    starts_at: datetime  # aware
    hours: int
    note: str = ""


def is_lead(access: ProjectAccess) -> bool:
    return access.can(Action.MANAGE_SETTINGS)


async def allowance(user_id: int, project_id: int) -> Allowance | None:
    """The live subscription with consulting hours (the newest), and what is used of it."""
    subscription = await Subscription.filter(
        user_id=user_id, project_id=project_id, status__in=list(LIVE_STATUSES),
        plan__consulting_hours__gt=0).select_related("plan").order_by("-id").first()
    if subscription is None:
        return None
    query = ConsultingBooking.filter(subscription_id=subscription.id, state__in=COUNTED)
    if subscription.current_period_start is not None:
        query = query.filter(created_at__gte=subscription.current_period_start)
    row = await query.annotate(total=Sum("hours")).first().values("total")
    used = int((row or {}).get("total") or 0)
    return Allowance(subscription, subscription.plan, used)


async def team_members(project_id: int) -> list[User]:
    """Who a customer may book: the project's team, by name."""
    user_ids = await Membership.filter(
        project_id=project_id, role__in=list(TEAM_ROLES)).values_list("user_id", flat=True)
    return await User.filter(id__in=list(user_ids), is_active=True).order_by("username")


def local_time(text: str, time_zone: str) -> datetime:
    """A ``datetime-local`` form value read in the user's time zone, as UTC."""
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid("Give the date and time as YYYY-MM-DD HH:MM.",
                      fields={"starts_at": "a date and time"}) from None
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    try:
        zone = ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return naive.replace(tzinfo=zone).astimezone(UTC)


async def check_book(customer: User, project: Project, request: BookingRequest,
                     now: datetime | None = None) -> tuple[Allowance, User]:
    """422 unless the customer has the hours, the consultant is on the team and the time is
    ahead; 403 without a plan that includes consulting."""
    now = now or datetime.now(UTC)
    have = await allowance(customer.id, project.id)
    if have is None:
        raise Forbidden("Consulting hours come with a monthly or enterprise plan that "
                        "includes them; this project has none of yours.")
    if not 1 <= request.hours <= have.left:
        raise Invalid(f"You have {have.left} consulting hour{'' if have.left == 1 else 's'} "
                      "left this period.", fields={"hours": f"1 to {have.left}"})
    consultant = next((m for m in await team_members(project.id)
                       if m.username_lower == request.consultant_username.strip().lower()),
                      None)
    if consultant is None or consultant.id == customer.id:
        raise Invalid("Choose someone from the project's team.",
                      fields={"consultant": "a team member"})
    if request.starts_at.tzinfo is None:
        raise Invalid("Give the time with its time zone.", fields={"starts_at": "aware"})
    if not now < request.starts_at < now + MAX_AHEAD:
        raise Invalid("Choose a time within the next year.",
                      fields={"starts_at": "in the future, within a year"})
    if len(request.note) > MAX_NOTE:
        raise Invalid(f"Keep the note under {MAX_NOTE} characters.", fields={"note": "shorter"})
    return have, consultant


async def do_book(platform: Platform, customer: User, project: Project, have: Allowance,
                  consultant: User, request: BookingRequest) -> ConsultingBooking:
    async with in_transaction():
        booking = await ConsultingBooking.create(
            project_id=project.id, subscription_id=have.subscription.id,
            customer_id=customer.id, consultant_id=consultant.id,
            starts_at=request.starts_at, hours=request.hours, note=request.note.strip())
        await _tell(platform, consultant, project, booking, customer, "requested")
    return booking


async def book(platform: Platform, customer: User, project: Project,
               request: BookingRequest) -> ConsultingBooking:
    have, consultant = await check_book(customer, project, request)
    return await do_book(platform, customer, project, have, consultant, request)


async def access_booking(user: User, access: ProjectAccess, booking_id: int
                         ) -> ConsultingBooking:
    """A booking its customer, its consultant or the project's leads may see; 404 else."""
    booking = await ConsultingBooking.get_or_none(id=booking_id,
                                                  project_id=access.project.id)
    if booking is None or not (
            user.id in (booking.customer_id, booking.consultant_id)  # type: ignore[attr-defined]
            or is_lead(access)):
        raise NotFound("No such booking.")
    return booking


def check_answer(user: User, access: ProjectAccess, booking: ConsultingBooking, action: str,
                 now: datetime | None = None) -> BookingState:
    """The state ``action`` moves the booking to: the consultant (or a lead) confirms or
    declines a request; either side cancels before the time. 409 otherwise."""
    now = now or datetime.now(UTC)
    target = ANSWERS.get(action)
    if target is None:
        raise NotFound("No such action.")
    is_customer = user.id == booking.customer_id  # type: ignore[attr-defined]
    is_consultant = (user.id == booking.consultant_id  # type: ignore[attr-defined]
                     or is_lead(access))
    if target in (BookingState.CONFIRMED, BookingState.DECLINED):
        if not is_consultant:
            raise Forbidden("Only the team member booked answers a booking.")
        if booking.state != BookingState.REQUESTED:
            raise UserError(409, f"This booking is already {booking.state.value}.",
                            code="conflict")
    else:
        if not (is_customer or is_consultant):
            raise Forbidden("Only the customer or the team member cancels a booking.")
        if booking.state not in COUNTED or booking.starts_at <= now:
            raise UserError(409, "Only a booking still ahead can be cancelled.",
                            code="conflict")
    return target


async def do_answer(platform: Platform, user: User, project: Project,
                    booking: ConsultingBooking, target: BookingState) -> ConsultingBooking:
    async with in_transaction():
        changed = await ConsultingBooking.filter(id=booking.id, state=booking.state).update(
            state=target)
        if not changed:
            raise UserError(409, "Someone answered this booking a moment ago.",
                            code="conflict")
        booking.state = target
        others = [uid for uid in (booking.customer_id, booking.consultant_id)  # type: ignore[attr-defined]
                  if uid != user.id]
        for other in await User.filter(id__in=others):
            await _tell(platform, other, project, booking, user, target.value)
    return booking


async def bookings_for(user: User, access: ProjectAccess) -> list[ConsultingBooking]:
    """The customer's own bookings and those with the user as consultant; leads see all."""
    query = ConsultingBooking.filter(project_id=access.project.id)
    if not is_lead(access):
        query = query.filter(Q(customer_id=user.id) | Q(consultant_id=user.id))
    return await query.select_related("customer", "consultant").order_by("-starts_at")


async def _tell(platform: Platform, to: User, project: Project, booking: ConsultingBooking,
                by: User, what: str) -> None:
    starts_at = booking.starts_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    await platform.send_mail(to.email, "billing_consulting", {
        "project": project.name, "by": by.username, "what": what, "hours": booking.hours,
        "starts_at": starts_at,
        "note": booking.note,
        "url": f"{platform.settings.public_url}/p/{project.slug}/billing/consulting",
    }, subject=f"[{project.name}] Consulting booking {what}" if what != "reminder" else
        f"[{project.name}] Reminder: consulting session at {starts_at}")


# Reminders and calendar files

REMIND_AHEAD = timedelta(hours=24)


async def send_reminders(platform: Platform, now: datetime | None = None) -> int:
    """Remind both sides of each confirmed booking that starts within a day, once (the
    row is claimed before the mail goes out). Returns how many bookings were reminded."""
    now = now or datetime.now(UTC)
    due = await ConsultingBooking.filter(
        state=BookingState.CONFIRMED, reminded_at=None, starts_at__gt=now,
        starts_at__lte=now + REMIND_AHEAD).select_related("project", "customer", "consultant")
    reminded = 0
    for booking in due:
        if not await ConsultingBooking.filter(id=booking.id, reminded_at=None).update(
                reminded_at=now):
            continue  # another worker took it
        for to, other in ((booking.customer, booking.consultant),
                          (booking.consultant, booking.customer)):
            await _tell(platform, to, booking.project, booking, other, "reminder")
        reminded += 1
    return reminded


CALENDAR_STATUS = {BookingState.REQUESTED: "TENTATIVE", BookingState.CONFIRMED: "CONFIRMED",
                   BookingState.DECLINED: "CANCELLED", BookingState.CANCELLED: "CANCELLED"}


def calendar_file(platform: Platform, project: Project, booking: ConsultingBooking) -> bytes:
    """The booking as an iCalendar file (RFC 5545) for the customer's or the team member's
    calendar. Its UID stays the same, so a changed booking replaces the event."""
    url = f"{platform.settings.public_url}/p/{project.slug}/billing/consulting"
    host = urlsplit(platform.settings.public_url).hostname or "forum"
    cal = icalendar.Calendar()
    cal.add("prodid", "-//forum//consulting//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"consulting-{booking.id}@{host}")
    event.add("dtstamp", booking.updated_at or datetime.now(UTC))
    event.add("dtstart", booking.starts_at.astimezone(UTC))
    event.add("dtend", booking.starts_at.astimezone(UTC) + timedelta(hours=booking.hours))
    event.add("summary", f"{project.name} consulting: {booking.customer.username} with "
                         f"{booking.consultant.username}")
    event.add("description", "\n\n".join(part for part in (booking.note, url) if part))
    event.add("url", url)
    event.add("status", CALENDAR_STATUS[booking.state])
    cal.add_component(event)
    return bytes(cal.to_ical())

