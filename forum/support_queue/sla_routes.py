"""The business calendar and SLA settings: pages for leads and owners, and the API.

Pages: ``/p/{slug}/settings/support/calendar`` and ``/p/{slug}/settings/support/sla``.
API: ``GET``/``PUT``/``DELETE /api/v1/projects/{slug}/support/calendar`` and
``GET``/``PUT /api/v1/projects/{slug}/support/sla``. Reading is for the team (supporters
plan with the due times), changing for the project's owners and leads.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from zoneinfo import available_timezones

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.accounts.permissions import current_user, require_user
from forum.projects.models import Project
from forum.projects.permissions import Action, access_project
from forum.projects.routes import form_data, login_redirect, platform_of, see_other
from forum.support_queue.calendar import WEEKDAY_NAMES, WEEKDAYS
from forum.support_queue.models import Tier
from forum.support_queue.sla import PRIORITIES
from forum.support_queue.sla_config import (
    calendar_out,
    check_calendar,
    check_sla,
    do_reset_calendar,
    do_save_calendar,
    do_save_sla,
    sla_out,
)
from forum.support_queue.sla_schemas import (
    MAX_MINUTES,
    CalendarIn,
    CalendarOut,
    HolidayIO,
    SlaIn,
    SlaOut,
    TargetIO,
)
from forum.web.api import api_route
from forum.web.errors import Invalid, UserError, invalid_from_pydantic
from forum.web.templating import flash, render

TAG = "support"
TIERS = list(reversed(list(Tier)))  # enterprise first


async def _project(request: Request, action: Action) -> Project:
    access = await access_project(require_user(request), request.path_params["slug"], action)
    return access.project


# API


@api_route("GET", "/api/v1/projects/{slug}/support/calendar", response=CalendarOut,
           errors=(401, 403, 404), tag=TAG)
async def api_calendar(request: Request) -> CalendarOut:
    """The project's business calendar (the team)."""
    return await calendar_out(await _project(request, Action.WORK_SUPPORT_QUEUE))


@api_route("PUT", "/api/v1/projects/{slug}/support/calendar", body=CalendarIn,
           response=CalendarOut, errors=(401, 403, 404, 422), tag=TAG)
async def api_save_calendar(request: Request, body: CalendarIn) -> CalendarOut:
    """Replace the project's business calendar (owners and leads)."""
    project = await _project(request, Action.MANAGE_SETTINGS)
    await do_save_calendar(platform_of(request), project, check_calendar(body))
    return await calendar_out(project)


@api_route("DELETE", "/api/v1/projects/{slug}/support/calendar", status=204,
           errors=(401, 403, 404), tag=TAG)
async def api_reset_calendar(request: Request) -> None:
    """Go back to the default calendar: the project's time zone, Mon-Fri 09:00-17:00."""
    project = await _project(request, Action.MANAGE_SETTINGS)
    await do_reset_calendar(platform_of(request), project)


@api_route("GET", "/api/v1/projects/{slug}/support/sla", response=SlaOut,
           errors=(401, 403, 404), tag=TAG)
async def api_sla(request: Request) -> SlaOut:
    """Response targets per tier and priority, priority names, warning lead (the team)."""
    return await sla_out(await _project(request, Action.WORK_SUPPORT_QUEUE))


@api_route("PUT", "/api/v1/projects/{slug}/support/sla", body=SlaIn, response=SlaOut,
           errors=(401, 403, 404, 422), tag=TAG)
async def api_save_sla(request: Request, body: SlaIn) -> SlaOut:
    """Replace the project's SLA (owners and leads); pairs left out take the defaults."""
    project = await _project(request, Action.MANAGE_SETTINGS)
    await do_save_sla(platform_of(request), project, check_sla(body))
    return await sla_out(project)


# Pages


@lru_cache(maxsize=1)
def zone_names() -> list[str]:
    return sorted(available_timezones())


def calendar_values(out: CalendarOut) -> dict[str, str]:
    values = {"time_zone": out.time_zone,
              "holidays": "\n".join(
                  " ".join(p for p in (h.date.isoformat(), "yearly" if h.yearly else "", h.name)
                           if p) for h in out.holidays)}
    for day in WEEKDAYS:
        values[f"hours_{day}"] = ", ".join(out.hours.get(day, []))
    return values


def parse_holidays(text: str) -> list[HolidayIO]:
    """One a line: ``2026-12-25 yearly Christmas`` ("yearly" and the name optional)."""
    found: list[HolidayIO] = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if not words:
            continue
        try:
            day = date.fromisoformat(words[0])
        except ValueError:
            raise Invalid("Please correct the calendar.", fields={
                "holidays": f"Line {number}: start with a date like 2026-12-25."}) from None
        yearly = len(words) > 1 and words[1].lower() == "yearly"
        name = " ".join(words[2 if yearly else 1:])[:80]
        found.append(HolidayIO(date=day, yearly=yearly, name=name))
    return found


def calendar_from_form(form: dict[str, str]) -> CalendarIn:
    hours = {day: [part.strip() for part in form.get(f"hours_{day}", "").split(",")
                   if part.strip()] for day in WEEKDAYS}
    try:
        return CalendarIn(time_zone=form.get("time_zone", ""), hours=hours,
                          holidays=parse_holidays(form.get("holidays", "")))
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from None


def form_errors(fields: dict[str, str]) -> dict[str, str]:
    """Field names of the API ("hours.mon") as the form names them ("hours_mon")."""
    errors: dict[str, str] = {}
    for name, message in fields.items():
        key = name.replace(".", "_")
        if key.startswith("holidays"):
            key = "holidays"
        errors.setdefault(key, message)
    return errors


async def calendar_page(request: Request) -> Response:
    if current_user(request) is None:
        return login_redirect(request)
    project = await _project(request, Action.MANAGE_SETTINGS)
    out = await calendar_out(project)
    values = calendar_values(out)
    errors: dict[str, str] = {}
    message, status = "", 200
    if request.method == "POST":
        form = await form_data(request)
        if form.get("reset"):
            await do_reset_calendar(platform_of(request), project)
            flash(request, "The calendar is back to the default.", "success")
            return see_other(f"/p/{project.slug}/settings/support/calendar")
        values = {**values, **{k: v for k, v in form.items() if k in values}}
        try:
            data = check_calendar(calendar_from_form(form))
        except UserError as exc:
            if exc.status != 422:
                raise
            errors, message, status = form_errors(exc.fields), exc.message, 422
        else:
            await do_save_calendar(platform_of(request), project, data)
            flash(request, "Business calendar saved; due times follow it.", "success")
            return see_other(f"/p/{project.slug}/settings/support/calendar")
    return await render(request, "support_queue/calendar_settings.html", {
        "current_project": project, "values": values, "errors": errors, "message": message,
        "days": [(day, WEEKDAY_NAMES[day]) for day in WEEKDAYS], "zones": zone_names(),
        "is_default": out.is_default}, status_code=status)


def _target_field(kind: str, tier: Tier, priority: int) -> str:
    return f"{kind}_{tier.value}_{priority}"


def sla_values(out: SlaOut) -> dict[str, str]:
    values = {"warning_lead_minutes": str(out.warning_lead_minutes)}
    for n, name in enumerate(out.priority_names, start=1):
        values[f"name_{n}"] = name
    for target in out.policies:
        for kind, minutes in (("first", target.first_response_minutes),
                              ("next", target.next_response_minutes)):
            values[_target_field(kind, target.tier, target.priority)] = (
                "" if minutes is None else str(minutes))
    return values


def sla_from_form(form: dict[str, str]) -> SlaIn:
    """The SLA a form describes; 422 naming the form's own fields."""
    errors: dict[str, str] = {}
    policies: list[TargetIO] = []

    def minutes(name: str, low: int, high: int) -> int | None:
        raw = form.get(name, "").strip()
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            errors[name] = f"A whole number of minutes from {low} to {high}, or blank."
            return None
        return value

    for tier in TIERS:
        for priority in PRIORITIES:
            first = minutes(_target_field("first", tier, priority), 1, MAX_MINUTES)
            next_ = minutes(_target_field("next", tier, priority), 1, MAX_MINUTES)
            policies.append(TargetIO(tier=tier, priority=priority,
                                     first_response_minutes=first,
                                     next_response_minutes=next_))
    lead = minutes("warning_lead_minutes", 0, 7 * 24 * 60)
    names = [form.get(f"name_{n}", "").strip() for n in PRIORITIES]
    for n, name in enumerate(names, start=1):
        if not name or len(name) > 60:
            errors[f"name_{n}"] = "A name of 1 to 60 characters."
    if errors:
        raise Invalid("Please correct the highlighted fields.", fields=errors)
    return SlaIn(priority_names=names, warning_lead_minutes=lead if lead is not None else 60,
                 policies=policies)


async def sla_page(request: Request) -> Response:
    if current_user(request) is None:
        return login_redirect(request)
    project = await _project(request, Action.MANAGE_SETTINGS)
    out = await sla_out(project)
    values = sla_values(out)
    errors: dict[str, str] = {}
    message, status = "", 200
    if request.method == "POST":
        form = await form_data(request)
        values = {**values, **{k: v for k, v in form.items() if k in values}}
        try:
            data = check_sla(sla_from_form(form))
        except UserError as exc:
            if exc.status != 422:
                raise
            errors, message, status = dict(exc.fields), exc.message, 422
        else:
            await do_save_sla(platform_of(request), project, data)
            flash(request, "SLA saved; due times follow it.", "success")
            return see_other(f"/p/{project.slug}/settings/support/sla")
    rows = [(tier, tier.value.replace("_", " ").capitalize(),
             [(p, _target_field("first", tier, p), _target_field("next", tier, p))
              for p in PRIORITIES]) for tier in TIERS]
    return await render(request, "support_queue/sla_settings.html", {
        "current_project": project, "values": values, "errors": errors, "message": message,
        "rows": rows, "priorities": PRIORITIES, "defaults": {
            (t.tier, t.priority): t.is_default for t in out.policies}}, status_code=status)


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/settings/support/calendar", calendar_page, methods=["GET", "POST"],
              name="support_calendar_settings"),
        Route("/p/{slug}/settings/support/sla", sla_page, methods=["GET", "POST"],
              name="support_sla_settings"),
        api_calendar, api_save_calendar, api_reset_calendar, api_sla, api_save_sla,
    ]
