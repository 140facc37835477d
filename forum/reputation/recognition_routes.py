"""Recognition pages and their JSON twins: a helper's page (what their help earned the
project, thank-yous they agreed to show, their pledge), the leads' page (who earned what,
recording a thank-you, pledges against activity), the helper's consent switch and pledge.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.accounts.models import User
from forum.accounts.permissions import current_user, require_user
from forum.projects.permissions import Action, ProjectAccess, access_project
from forum.reputation import recognition as service
from forum.reputation.recognition_models import ThankYou, ThankYouKind
from forum.reputation.recognition_schemas import (
    Activity,
    ConsentIn,
    EarnerOut,
    LeadRecognitionOut,
    Money,
    PledgeActivityOut,
    PledgeIn,
    PledgeOut,
    RecognitionOut,
    ThankYouIn,
    ThankYouOut,
    TicketEarningOut,
)
from forum.topics.permissions import Viewer
from forum.web.api import api_route
from forum.web.errors import Invalid, NotFound, invalid_from_pydantic
from forum.web.templating import flash, render

TAG = "recognition"


def money(currency: str, amount: int) -> Money:
    return Money(currency=currency, amount=amount,
                 display=service.format_money(amount, currency))


def thank_you_out(thank_you: ThankYou, helper: str) -> ThankYouOut:
    amount = (money(thank_you.currency, thank_you.amount)
              if thank_you.amount is not None and thank_you.currency else None)
    return ThankYouOut(id=thank_you.id, helper=helper,
                       lead=thank_you.lead.username if thank_you.lead else None,
                       kind=ThankYouKind(thank_you.kind), amount=amount, note=thank_you.note,
                       shown=thank_you.shown, created_at=thank_you.created_at)


# A helper's recognition


async def _helper(request: Request) -> tuple[ProjectAccess, User, User | None]:
    viewer = current_user(request)
    access = await access_project(viewer, request.path_params["slug"])
    username = request.path_params["username"]
    helper = await User.get_or_none(username_lower=username.lower(), is_active=True)
    if helper is None:
        raise NotFound("No such user.")
    return access, helper, viewer


async def recognition_out(access: ProjectAccess, helper: User, viewer: User | None
                          ) -> RecognitionOut:
    project = access.project
    is_self = viewer is not None and viewer.id == helper.id
    insider = is_self or Viewer.of(access, viewer).is_team
    totals = (await service.earned_totals(project.id, [helper.id])).get(helper.id, ())
    tickets = None
    pledge = None
    if insider:
        tickets = [TicketEarningOut(
            reference=t.reference, ticket_url=f"/p/{project.slug}/t/{t.topic_id}",
            amount=money(t.currency, t.amount), last_credited_at=t.last_at)
            for t in await service.earnings_by_ticket(project.id, helper.id)]
        found = await service.pledge_of(project.id, helper.id)
        if found is not None:
            pledge = PledgeOut(username=helper.username, hours_per_week=found.hours_per_week,
                               note=found.note, updated_at=found.updated_at)
    thanks = await service.thank_yous_for(project.id, helper.id, shown_only=not is_self)
    return RecognitionOut(
        project=project.slug, username=helper.username,
        earned=[money(c, a) for c, a in totals], tickets=tickets,
        thank_yous=[thank_you_out(t, helper.username) for t in thanks], pledge=pledge)


async def recognition_page(request: Request) -> Response:
    access, helper, viewer = await _helper(request)
    if helper.username != request.path_params["username"]:
        return RedirectResponse(f"/p/{access.project.slug}/u/{helper.username}/recognition",
                                status_code=301)
    out = await recognition_out(access, helper, viewer)
    return await render(request, "reputation/recognition.html", {
        "current_project": access.project, "project": access.project, "person": helper,
        "view": out, "is_self": viewer is not None and viewer.id == helper.id,
        "is_lead": access.can(Action.MANAGE_SETTINGS) and viewer is not None})


@api_route("GET", "/api/v1/projects/{slug}/users/{username}/recognition",
           response=RecognitionOut, auth=False, errors=(404,), tag=TAG)
async def api_recognition(request: Request) -> RecognitionOut:
    """What a helper's posts earned the project, and the thank-yous they show."""
    access, helper, viewer = await _helper(request)
    return await recognition_out(access, helper, viewer)


# The helper's consent to show a thank-you, and their pledge


async def _consent(request: Request, shown: bool) -> ThankYou:
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"])
    try:
        thank_you_id = int(request.path_params["thank_you_id"])
    except ValueError:
        raise NotFound("No such thank-you.") from None
    thank_you = await service.access_own_thank_you(user, access.project.id, thank_you_id)
    return await service.do_set_thank_you_shown(thank_you, shown)


async def consent_form(request: Request) -> Response:
    form = await request.form()
    shown = form.get("shown") == "1"
    await _consent(request, shown)
    user = require_user(request)
    flash(request, "The thank-you now shows on your profile." if shown
          else "The thank-you is hidden from your profile.", "success")
    return RedirectResponse(f"/p/{request.path_params['slug']}/u/{user.username}/recognition",
                            status_code=303)


@api_route("PUT", "/api/v1/projects/{slug}/recognition/thanks/{thank_you_id}/consent",
           body=ConsentIn, response=ThankYouOut, errors=(401, 404, 422), tag=TAG)
async def api_consent(request: Request, body: ConsentIn) -> ThankYouOut:
    """Show a thank-you addressed to you on your profile, or hide it (the default)."""
    thank_you = await _consent(request, body.shown)
    await thank_you.fetch_related("lead")
    return thank_you_out(thank_you, require_user(request).username)


async def _pledge(request: Request, body: PledgeIn) -> PledgeOut | None:
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"])
    pledge = await service.do_pledge(access.project.id, user, body.hours_per_week, body.note)
    if pledge is None:
        return None
    return PledgeOut(username=user.username, hours_per_week=pledge.hours_per_week,
                     note=pledge.note, updated_at=pledge.updated_at)


async def pledge_form(request: Request) -> Response:
    user = require_user(request)
    form = await request.form()
    try:
        body = PledgeIn.model_validate({"hours_per_week": form.get("hours_per_week", ""),
                                        "note": form.get("note", "")})
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from None
    out = await _pledge(request, body)
    flash(request, f"You pledged {out.hours_per_week} hours a week." if out
          else "Your pledge was withdrawn.", "success")
    return RedirectResponse(f"/p/{request.path_params['slug']}/u/{user.username}/recognition",
                            status_code=303)


@api_route("PUT", "/api/v1/projects/{slug}/volunteer", body=PledgeIn, response=PledgeOut,
           errors=(401, 404, 422), tag=TAG)
async def api_pledge(request: Request, body: PledgeIn) -> PledgeOut | Response:
    """Pledge hours per week (0-40) to the project's support; 0 withdraws (204)."""
    out = await _pledge(request, body)
    return out if out is not None else Response(status_code=204)


# The leads' page


async def _lead(request: Request) -> tuple[ProjectAccess, User]:
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"], Action.MANAGE_SETTINGS)
    return access, user


async def lead_out(access: ProjectAccess) -> LeadRecognitionOut:
    project = access.project
    earners = await service.project_earners(project.id)
    thanks = await service.recent_thank_yous(project.id)
    pledges = await service.pledges_with_activity(project.id)
    return LeadRecognitionOut(
        project=project.slug,
        earners=[EarnerOut(username=e.username, earned=[money(c, a) for c, a in e.totals],
                           tickets=e.tickets) for e in earners],
        thank_yous=[thank_you_out(t, t.helper.username) for t in thanks],
        pledges=[PledgeActivityOut(
            username=p.username, hours_per_week=p.hours_per_week, note=p.note,
            weeks=service.ACTIVITY_WEEKS, activity=Activity(
                posts=p.activity.posts, answers=p.activity.answers,
                accepted_answers=p.activity.accepted,
                ticket_responses=p.activity.ticket_responses)) for p in pledges])


def parse_amount(text: str) -> int | None:
    """"25" or "25.50" (major units, as a form takes it) to minor units; "" is None."""
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise Invalid("Please correct: amount.",
                      fields={"amount": "Write an amount like 25 or 25.50."}) from None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise Invalid("Please correct: amount.",
                      fields={"amount": "Write a positive amount with at most 2 decimals."})
    return int(value * 100)


def thank_you_from_form(form: Any) -> ThankYouIn:
    amount = parse_amount(str(form.get("amount", "")))
    currency = str(form.get("currency", "")).strip() or None
    try:
        return ThankYouIn.model_validate({
            "helper": form.get("helper", ""), "kind": form.get("kind", ""),
            "amount": amount, "currency": currency if amount is not None else None,
            "note": form.get("note", "")})
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from None


async def lead_page(request: Request) -> Response:
    access, user = await _lead(request)
    values = {"helper": request.query_params.get("helper", ""), "kind": "note",
              "amount": "", "currency": "", "note": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        values = {name: str(form.get(name, "")) for name in values}
        try:
            body = thank_you_from_form(form)
            await service.check_record_thank_you(
                request.app.state.platform, access.project, user, body.helper, body.kind,
                body.amount, body.currency, body.note)
        except Invalid as exc:
            errors = exc.fields or {"body": exc.message}
        else:
            flash(request, f"Thank-you to {body.helper} recorded; they were notified.",
                  "success")
            return RedirectResponse(request.url.path, status_code=303)
    out = await lead_out(access)
    return await render(request, "reputation/recognition_lead.html", {
        "current_project": access.project, "project": access.project, "view": out,
        "kinds": [k.value for k in ThankYouKind], "values": values, "errors": errors,
    }, status_code=422 if errors else 200)


@api_route("GET", "/api/v1/projects/{slug}/recognition", response=LeadRecognitionOut,
           errors=(401, 403, 404), tag=TAG)
async def api_lead(request: Request) -> LeadRecognitionOut:
    """Who earned the project what, thank-yous recorded and pledges against activity
    (owners and leads)."""
    access, _ = await _lead(request)
    return await lead_out(access)


@api_route("POST", "/api/v1/projects/{slug}/recognition/thanks", body=ThankYouIn,
           response=ThankYouOut, status=201, errors=(401, 403, 404, 422), tag=TAG)
async def api_record_thank_you(request: Request, body: ThankYouIn) -> ThankYouOut:
    """Record a thank-you to a helper (owners and leads); the helper is notified."""
    access, user = await _lead(request)
    thank_you = await service.check_record_thank_you(
        request.app.state.platform, access.project, user, body.helper, body.kind,
        body.amount, body.currency, body.note)
    thank_you.lead = user
    helper = await User.get(id=thank_you.helper_id)  # type: ignore[attr-defined]
    return thank_you_out(thank_you, helper.username)


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/u/{username}/recognition", recognition_page,
              name="recognition_helper"),
        Route("/p/{slug}/recognition", lead_page, methods=["GET", "POST"],
              name="recognition_lead"),
        Route("/p/{slug}/recognition/thanks/{thank_you_id}/consent", consent_form,
              methods=["POST"], name="recognition_consent"),
        Route("/p/{slug}/volunteer", pledge_form, methods=["POST"],
              name="recognition_pledge"),
        api_recognition, api_consent, api_pledge, api_lead, api_record_thank_you,
    ]

