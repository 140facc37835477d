"""Rating a solved ticket: the fragment ``/p/{slug}/t/{topic_id}/rating`` (the ticket panel
loads it; the requester's form while solved, the rating for the team), ``GET|PUT
/api/v1/tickets/{id}/rating`` and the team's figures at
``GET /api/v1/projects/{slug}/satisfaction``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.accounts.models import User
from forum.accounts.permissions import current_user, require_user
from forum.projects.permissions import access_project
from forum.projects.routes import form_data, login_redirect, see_other
from forum.support_queue import satisfaction
from forum.support_queue.permissions import (
    TicketContext,
    access_ticket,
    access_ticket_of_topic,
    require_team_or_requester,
)
from forum.support_queue.team_models import Rating, SatisfactionRating
from forum.support_queue.team_schemas import (
    RatingIn,
    RatingOut,
    SatisfactionOut,
    SatisfactionSummary,
    SupporterSatisfaction,
)
from forum.support_queue.templates_service import require_team
from forum.web.api import api_route
from forum.web.errors import NotFound, invalid_from_pydantic
from forum.web.templating import flash, render

TAG = "support"


def path_int(request: Request, name: str) -> int:
    value = int(request.path_params[name])
    if not 0 < value < 2**31:
        raise NotFound()
    return value


async def rating_out(ctx: TicketContext, row: SatisfactionRating) -> RatingOut:
    supporter_id = row.supporter_id  # type: ignore[attr-defined]
    supporter = None if supporter_id is None else await User.get_or_none(id=supporter_id)
    return RatingOut(ticket_id=ctx.ticket.id, rating=row.rating, comment=row.comment,
                     supporter=supporter.username if supporter else None,
                     created_at=row.created_at, updated_at=row.updated_at,
                     changeable=satisfaction.may_rate(ctx))


def summary_out(found: satisfaction.Summary) -> SatisfactionSummary:
    return SatisfactionSummary(good=found.good, okay=found.okay, bad=found.bad,
                               total=found.total, score=found.score)


async def rating_fragment(request: Request) -> Response:
    user = current_user(request)
    ctx = await access_ticket_of_topic(user, path_int(request, "topic_id"))
    if ctx.project.slug != request.path_params["slug"]:
        raise NotFound("No such ticket.")
    if request.method == "POST":
        if user is None:
            return login_redirect(request)
        data = await form_data(request)
        try:
            body = RatingIn.model_validate({"rating": data.get("rating", ""),
                                            "comment": data.get("comment", "")})
        except ValidationError as exc:
            raise invalid_from_pydantic(exc) from None
        await satisfaction.rate(ctx, body.rating, body.comment)
        if "hx-request" not in request.headers:
            flash(request, "Thank you for your rating.", "success")
            return see_other(f"/p/{ctx.project.slug}/t/{ctx.topic.id}-{ctx.topic.slug}")
    if not (ctx.is_team or ctx.is_requester):
        return Response(status_code=204)  # nothing for other readers
    row = await satisfaction.ticket_rating(ctx.ticket.id)
    return await render(request, "support_queue/template_rating.html", {
        "current_project": ctx.project, "ctx": ctx, "row": row,
        "can_rate": satisfaction.may_rate(ctx), "ratings": list(Rating)})


async def satisfaction_page(request: Request) -> Response:
    """The team's satisfaction figures: the project's, the last 30 days', per supporter."""
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await access_project(user, request.path_params["slug"])
    require_team(access)
    project_id = access.project.id
    since = datetime.now(UTC) - timedelta(days=30)
    per = await satisfaction.summaries_by_supporter(project_id)
    recent = await satisfaction.summaries_by_supporter(project_id, since)
    names = {u.id: u.username for u in await User.filter(id__in=list(per))}
    rows = sorted(((names.get(uid, "?"), found, recent.get(uid, satisfaction.Summary()))
                   for uid, found in per.items()), key=lambda row: row[0].lower())
    return await render(request, "support_queue/template_satisfaction.html", {
        "current_project": access.project,
        "total": await satisfaction.summary(project_id),
        "last_30": await satisfaction.summary(project_id, since=since), "rows": rows})


@api_route("GET", "/api/v1/tickets/{ticket_id:int}/rating", response=RatingOut, tag=TAG,
           errors=(403, 404))
async def api_get_rating(request: Request) -> RatingOut:
    """The requester's satisfaction rating of a ticket (requester and team)."""
    ctx = await access_ticket(require_user(request), path_int(request, "ticket_id"))
    require_team_or_requester(ctx, "see a ticket's rating")
    row = await satisfaction.ticket_rating(ctx.ticket.id)
    if row is None:
        raise NotFound("This ticket has not been rated.")
    return await rating_out(ctx, row)


@api_route("PUT", "/api/v1/tickets/{ticket_id:int}/rating", body=RatingIn,
           response=RatingOut, tag=TAG, errors=(403, 404, 409))
async def api_rate(request: Request, body: RatingIn) -> RatingOut:
    """Rate your solved ticket good, okay or bad (changeable until it is closed)."""
    ctx = await access_ticket(require_user(request), path_int(request, "ticket_id"))
    row = await satisfaction.rate(ctx, body.rating, body.comment)
    return await rating_out(ctx, row)


@api_route("GET", "/api/v1/projects/{slug}/satisfaction", response=SatisfactionOut, tag=TAG,
           errors=(403, 404))
async def api_satisfaction(request: Request) -> SatisfactionOut:
    """Satisfaction ratings of the project's tickets, in total and per supporter (team)."""
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"])
    require_team(access)
    project_id = access.project.id
    per = await satisfaction.summaries_by_supporter(project_id)
    names = dict(await User.filter(id__in=list(per)).values_list("id", "username"))
    return SatisfactionOut(
        project=summary_out(await satisfaction.summary(project_id)),
        supporters=[SupporterSatisfaction(username=str(names.get(uid, "")),
                                          **summary_out(found).model_dump())
                    for uid, found in sorted(per.items(), key=lambda i: str(names.get(i[0])))])


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/t/{topic_id:int}/rating", rating_fragment, methods=["GET", "POST"],
              name="support_rating"),
        Route("/p/{slug}/satisfaction", satisfaction_page, name="support_satisfaction"),
        api_get_rating, api_rate, api_satisfaction,
    ]
