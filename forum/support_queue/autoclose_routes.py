"""Auto-close settings (``/p/{slug}/settings/auto-close``, ``/api/v1/projects/{slug}/
auto-close``: leads change them, the team reads them) and replying to a closed ticket
(``/p/{slug}/t/{topic_id}/reply-after-close``, ``POST /api/v1/tickets/{id}/
reply-after-close``: the requester reopens it within the grace period, or opens a
follow-up)."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.accounts.permissions import current_user, require_user
from forum.projects.permissions import Action, access_project
from forum.projects.routes import form_data, login_redirect, platform_of, see_other
from forum.support_queue import autoclose
from forum.support_queue.models import Ticket, TicketState
from forum.support_queue.permissions import access_ticket, access_ticket_of_topic
from forum.support_queue.team_schemas import AutoCloseIn, AutoCloseOut, FollowUpIn, FollowUpOut
from forum.support_queue.templates_service import require_team
from forum.topics.models import Topic
from forum.web.api import api_route
from forum.web.errors import NotFound, invalid_from_pydantic
from forum.web.templating import flash, render

TAG = "support"


def path_int(request: Request, name: str) -> int:
    value = int(request.path_params[name])
    if not 0 < value < 2**31:
        raise NotFound()
    return value


def rule_out(rule: autoclose.Rule) -> AutoCloseOut:
    return AutoCloseOut(enabled=rule.enabled, idle_days=rule.idle_days,
                        warn_days=rule.warn_days, grace_days=rule.grace_days)


async def ticket_url(ticket: Ticket, slug: str) -> str:
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    return f"/p/{slug}/t/{topic.id}-{topic.slug}"


async def settings_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await access_project(user, request.path_params["slug"], Action.MANAGE_SETTINGS)
    rule = await autoclose.rule_for(access.project.id)
    values: dict[str, object] = dict(rule_out(rule).model_dump())
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        data = await form_data(request)
        values = {"enabled": bool(data.get("enabled")), "idle_days": data.get("idle_days"),
                  "warn_days": data.get("warn_days"), "grace_days": data.get("grace_days")}
        try:
            body = AutoCloseIn.model_validate(values)
        except ValidationError as exc:
            invalid = invalid_from_pydantic(exc)
            errors, status = invalid.fields, 422
        else:
            await autoclose.do_save_rule(access.project.id, autoclose.Rule(
                body.enabled, body.idle_days, body.warn_days, body.grace_days))
            flash(request, "Auto-close settings saved.", "success")
            return see_other(f"/p/{access.project.slug}/settings/auto-close")
    return await render(request, "support_queue/template_autoclose_settings.html", {
        "current_project": access.project, "values": values, "errors": errors},
        status_code=status)


async def reply_after_close_page(request: Request) -> Response:
    """GET: the requester's reply box on a closed ticket (an htmx fragment); POST: send."""
    user = current_user(request)
    ctx = await access_ticket_of_topic(user, path_int(request, "topic_id"))
    if ctx.project.slug != request.path_params["slug"]:
        raise NotFound("No such ticket.")
    if request.method == "GET":
        if not ctx.is_requester or ctx.ticket.state != TicketState.CLOSED:
            return Response(status_code=204)
        rule = await autoclose.rule_for(ctx.project.id)
        closed_at = ctx.ticket.closed_at
        return await render(request, "support_queue/template_reply_after_close.html", {
            "current_project": ctx.project, "ctx": ctx, "grace_days": rule.grace_days,
            "reopens": closed_at is not None and autoclose.within_grace(closed_at, rule)})
    if user is None:
        return login_redirect(request)
    data = await form_data(request)
    try:
        body = FollowUpIn.model_validate({"source": data.get("source", "")})
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from None
    done = await autoclose.reply_after_close(platform_of(request), ctx, body.source)
    flash(request, "Your ticket is open again." if done.reopened else
          "The old ticket stays closed: your reply opened a new ticket.", "success")
    return see_other(await ticket_url(done.ticket, ctx.project.slug) + f"#post-{done.post_id}")


@api_route("GET", "/api/v1/projects/{slug}/auto-close", response=AutoCloseOut, tag=TAG,
           errors=(403, 404))
async def api_get_rule(request: Request) -> AutoCloseOut:
    """The project's auto-close rule (team only)."""
    access = await access_project(require_user(request), request.path_params["slug"])
    require_team(access)
    return rule_out(await autoclose.rule_for(access.project.id))


@api_route("PUT", "/api/v1/projects/{slug}/auto-close", body=AutoCloseIn,
           response=AutoCloseOut, tag=TAG, errors=(403, 404))
async def api_set_rule(request: Request, body: AutoCloseIn) -> AutoCloseOut:
    """Change the auto-close rule (owners and leads)."""
    access = await access_project(require_user(request), request.path_params["slug"],
                                  Action.MANAGE_SETTINGS)
    rule = autoclose.Rule(body.enabled, body.idle_days, body.warn_days, body.grace_days)
    await autoclose.do_save_rule(access.project.id, rule)
    return rule_out(rule)


@api_route("POST", "/api/v1/tickets/{ticket_id:int}/reply-after-close", body=FollowUpIn,
           response=FollowUpOut, status=201, tag=TAG, errors=(403, 404, 409))
async def api_reply_after_close(request: Request, body: FollowUpIn) -> FollowUpOut:
    """Reply to your closed ticket: within the grace period it reopens, later a new ticket
    linked to it is opened."""
    ctx = await access_ticket(require_user(request), path_int(request, "ticket_id"))
    done = await autoclose.reply_after_close(platform_of(request), ctx, body.source)
    return FollowUpOut(ticket_id=done.ticket.id, reopened=done.reopened, post_id=done.post_id,
                       url=await ticket_url(done.ticket, ctx.project.slug))


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/settings/auto-close", settings_page, methods=["GET", "POST"],
              name="support_autoclose_settings"),
        Route("/p/{slug}/t/{topic_id:int}/reply-after-close", reply_after_close_page,
              methods=["GET", "POST"], name="support_reply_after_close"),
        api_get_rule, api_set_rule, api_reply_after_close,
    ]
