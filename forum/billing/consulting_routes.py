"""``/p/{slug}/billing/consulting``: book the consulting hours a plan includes with a team
member, and answer bookings (confirm, decline, cancel); the same under ``/api/v1``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.accounts.models import User
from forum.accounts.permissions import current_user, require_user
from forum.billing import consulting
from forum.billing.checkout_routes import form_of, login_redirect, platform_of, see
from forum.billing.models import ConsultingBooking
from forum.billing.schemas import BookingIn, BookingOut, ConsultingOut
from forum.projects.permissions import ProjectAccess, access_project
from forum.web.api import api_route
from forum.web.errors import UserError
from forum.web.templating import flash, render

TAG = "billing"


def booking_out(booking: ConsultingBooking) -> BookingOut:
    return BookingOut(id=booking.id, customer=booking.customer.username,
                      consultant=booking.consultant.username, starts_at=booking.starts_at,
                      hours=booking.hours, note=booking.note, state=booking.state.value)


async def _overview(user: User, access: ProjectAccess) -> ConsultingOut:
    have = await consulting.allowance(user.id, access.project.id)
    team = await consulting.team_members(access.project.id)
    return ConsultingOut(
        hours_included=have.plan.consulting_hours if have else 0,
        hours_left=have.left if have else 0,
        team=[m.username for m in team if m.id != user.id],
        bookings=[booking_out(b) for b in await consulting.bookings_for(user, access)])


async def consulting_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await access_project(user, request.path_params["slug"])
    here = f"/p/{access.project.slug}/billing/consulting"
    if request.method == "POST":
        form = await form_of(request)
        try:
            hours = int(form.get("hours", "") or 0)
        except ValueError:
            hours = 0
        try:
            starts_at = consulting.local_time(form.get("starts_at", ""), user.time_zone)
            await consulting.book(platform_of(request), user, access.project,
                                  consulting.BookingRequest(form.get("consultant", ""),
                                                            starts_at, hours,
                                                            form.get("note", "")))
        except UserError as exc:
            flash(request, exc.message, "error")
        else:
            flash(request, "Booked: the team member confirms it by email.", "success")
        return see(here)
    return await render(request, "billing/consulting.html", {
        "project": access.project, "overview": await _overview(user, access),
        "user_id": user.id, "time_zone": user.time_zone})


async def answer(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await access_project(user, request.path_params["slug"])
    booking = await consulting.access_booking(user, access, request.path_params["id"])
    try:
        target = consulting.check_answer(user, access, booking, request.path_params["action"])
        await consulting.do_answer(platform_of(request), user, access.project, booking, target)
    except UserError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"The booking is {target.value}.", "success")
    return see(f"/p/{access.project.slug}/billing/consulting")


async def calendar(request: Request) -> Response:
    """``/p/{slug}/billing/consulting/{id}.ics``: the booking for a calendar, to its customer,
    its team member and the project's leads (404 for anyone else)."""
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await access_project(user, request.path_params["slug"])
    booking = await consulting.access_booking(user, access, request.path_params["id"])
    await booking.fetch_related("customer", "consultant")
    return Response(
        consulting.calendar_file(platform_of(request), access.project, booking),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition":
                 f'attachment; filename="{access.project.slug}-consulting-{booking.id}.ics"'})


@api_route("GET", "/api/v1/projects/{slug}/consulting", response=ConsultingOut, tag=TAG)
async def api_consulting(request: Request) -> ConsultingOut:
    """Your consulting hours with the project, its team, and the bookings you may see."""
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"])
    return await _overview(user, access)


@api_route("POST", "/api/v1/projects/{slug}/consulting", body=BookingIn, response=BookingOut,
           status=201, errors=(403, 422), tag=TAG)
async def api_book(request: Request, body: BookingIn) -> BookingOut:
    """Book consulting hours your plan includes with a team member."""
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"])
    booking = await consulting.book(platform_of(request), user, access.project,
                                    consulting.BookingRequest(body.consultant, body.starts_at,
                                                              body.hours, body.note))
    await booking.fetch_related("customer", "consultant")
    return booking_out(booking)


@api_route("POST", "/api/v1/projects/{slug}/consulting/{id:int}/{action:str}",
           response=BookingOut, errors=(403, 404, 409), tag=TAG)
async def api_answer(request: Request) -> BookingOut:
    """Confirm or decline a booking (its team member or a lead), or cancel it (either side)."""
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"])
    booking = await consulting.access_booking(user, access, request.path_params["id"])
    target = consulting.check_answer(user, access, booking, request.path_params["action"])
    await consulting.do_answer(platform_of(request), user, access.project, booking, target)
    await booking.fetch_related("customer", "consultant")
    return booking_out(booking)


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/billing/consulting", consulting_page, methods=["GET", "POST"],
              name="billing_consulting"),
        Route("/p/{slug}/billing/consulting/{id:int}.ics", calendar,
              name="billing_consulting_calendar"),
        Route("/p/{slug}/billing/consulting/{id:int}/{action:str}", answer, methods=["POST"],
              name="billing_consulting_answer"),
        api_consulting, api_book, api_answer,
    ]
