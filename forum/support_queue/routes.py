"""The tickets' pages: the new-ticket form, the ticket panel (an htmx fragment on the topic
page), its buttons and forms, the convert button on questions, and the project's ticket
settings. Each form handler calls one verb and redirects (303) to the ticket; a refusal is
flashed there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.accounts.permissions import current_user
from forum.projects.models import Membership
from forum.projects.permissions import Action, access_project
from forum.projects.routes import platform_of
from forum.support_queue import service
from forum.support_queue.models import Ticket, TicketState, Tier
from forum.support_queue.permissions import TicketContext, within_reopen_grace
from forum.support_queue.schemas import TicketIn, TicketPatch
from forum.support_queue.standing import standing, state_label
from forum.support_queue.update import update_ticket
from forum.support_queue.views import draft_reason, topic_url
from forum.text import CookContext, cook
from forum.topics.access import locate_topic
from forum.topics.models import TopicKind
from forum.topics.permissions import TEAM_ROLES, Viewer
from forum.web.errors import NotFound, UserError, invalid_from_pydantic
from forum.web.templating import flash, render

GUIDELINES_MAX = 20_000
MY_TICKETS = 200


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _login(path: str) -> RedirectResponse:
    return RedirectResponse(f"/login?{urlencode({'next': path})}", status_code=303)


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def _ticket(request: Request) -> TicketContext:
    """The ticket whose topic is ``id`` in project ``slug``, if the viewer may read it."""
    ctx = await service.access_ticket_of_topic(current_user(request), request.path_params["id"])
    if ctx.project.slug != request.path_params["slug"]:
        raise NotFound("No such ticket.")
    return ctx


def _guidelines_html(slug: str, source: str) -> str:
    if not source.strip():
        return ""
    try:
        return cook(source, CookContext(slug)).html
    except ValueError:
        return ""


# Opening a ticket


async def new_ticket(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return _login(request.url.path)
    access = await access_project(user, request.path_params["slug"])
    project = access.project
    platform = platform_of(request)
    settings = await service.support_settings(project.id)
    values = {"title": "", "source": "", "is_private": "1" if settings.private_by_default else ""}
    errors: dict[str, str] = {}
    message = ""
    status = 200
    if request.method == "POST":
        values = {**values, "is_private": "", **await _form(request)}
        try:
            data = TicketIn.model_validate({
                "title": values["title"], "source": values["source"],
                "is_private": bool(values.get("is_private")),
                "submit": values.get("action") != "draft"})
            ticket = await service.create_ticket(
                platform, Viewer.of(access, user), project, data,
                ip=request.client.host if request.client else None)
        except ValidationError as exc:
            error = invalid_from_pydantic(exc)
            errors, message, status = dict(error.fields), error.message, error.status
        except UserError as exc:
            errors, message, status = dict(exc.fields), exc.message, exc.status
        else:
            ctx = await service.access_ticket(user, ticket.id)
            reference = ticket.reference_in(project.slug)
            if ticket.state == TicketState.DRAFT:
                flash(request, f"Ticket {reference} is saved as a draft; submit it when it "
                      "is ready.", "info")
            else:
                flash(request, f"Ticket {reference} is in the support queue.", "success")
            return _see(topic_url(ctx))
    return await render(request, "support_queue/new_ticket.html", {
        "current_project": project, "values": values, "errors": errors, "message": message,
        "guidelines": _guidelines_html(project.slug, settings.guidelines),
    }, status_code=status)


@dataclass(frozen=True)
class TicketRow:
    reference: str
    title: str
    url: str
    state: str
    created_at: datetime


async def my_tickets(request: Request) -> Response:
    """The signed-in user's own tickets in the project, newest first (drafts included)."""
    user = current_user(request)
    if user is None:
        return _login(request.url.path)
    access = await access_project(user, request.path_params["slug"])
    project = access.project
    tickets = await Ticket.filter(project_id=project.id, requester_id=user.id,
                                  topic__deleted_at__isnull=True
                                  ).select_related("topic").order_by("-id").limit(MY_TICKETS)
    rows = [TicketRow(t.reference_in(project.slug), t.topic.title,
                      f"/p/{project.slug}/t/{t.topic.id}-{t.topic.slug}",
                      state_label(t.state), t.created_at) for t in tickets]
    return await render(request, "support_queue/my_tickets.html",
                        {"current_project": project, "rows": rows})


# The panel on the ticket page


async def _team(project_id: int) -> list[Any]:
    rows = await Membership.filter(project_id=project_id, role__in=list(TEAM_ROLES)
                                   ).select_related("user").order_by("user__username")
    return [m.user for m in rows if m.user.is_active]


async def ticket_panel(request: Request) -> Response:
    ctx = await _ticket(request)
    platform = platform_of(request)
    ticket = ctx.ticket
    await ticket.fetch_related("assignee", "requester")
    where = await standing(ticket, platform)
    team = ctx.is_team
    context: dict[str, Any] = {
        "ctx": ctx, "ticket": ticket, "p": ctx.project, "topic": ctx.topic,
        "reference": ticket.reference_in(ctx.project.slug),
        "state_label": state_label(ticket.state),
        "standing": where, "is_team": team, "is_requester": ctx.is_requester,
        "draft_reason": await draft_reason(platform, ctx),
        "can_reopen": ticket.state in (TicketState.SOLVED, TicketState.CLOSED)
        and (team or (ctx.is_requester and within_reopen_grace(ticket))),
        "tiers": [t.value for t in Tier],
        "team_members": await _team(ctx.project.id) if team else [],
        "notes": await service.list_notes(ctx) if team else [],
        "base": f"/p/{ctx.project.slug}/t/{ctx.topic.id}/ticket",
    }
    return await render(request, "support_queue/_panel.html", context)


async def _act(request: Request, action: Any) -> Response:
    """Run ``action(ctx, form)`` for a panel form; flash a refusal; back to the ticket."""
    ctx = await _ticket(request)
    form = await _form(request)
    try:
        done = await action(ctx, form)
    except ValidationError as exc:
        flash(request, invalid_from_pydantic(exc).message, "error")
    except UserError as exc:
        flash(request, exc.message, "error")
    else:
        if done:
            flash(request, done, "success")
    return _see(topic_url(ctx))


async def submit_ticket(request: Request) -> Response:
    platform = platform_of(request)

    async def act(ctx: TicketContext, form: dict[str, str]) -> str:
        await service.check_submit(platform, ctx.viewer, ctx.ticket, ctx.topic)
        await service.do_submit(platform, ctx.viewer, ctx.ticket, ctx.topic)
        return f"Ticket {ctx.ticket.reference_in(ctx.project.slug)} is in the support queue."
    return await _act(request, act)


async def set_state(request: Request) -> Response:
    platform = platform_of(request)

    async def act(ctx: TicketContext, form: dict[str, str]) -> str:
        ticket = await service.set_state(platform, ctx, form.get("state", ""))
        return f"The ticket is now: {state_label(ticket.state).lower()}."
    return await _act(request, act)


async def assign(request: Request) -> Response:
    platform = platform_of(request)

    async def act(ctx: TicketContext, form: dict[str, str]) -> str:
        ticket = await service.assign(platform, ctx, form.get("assignee") or None)
        return "Assigned." if ticket.assignee_id is not None else "Unassigned."  # type: ignore[attr-defined]
    return await _act(request, act)


async def worth(request: Request) -> Response:
    platform = platform_of(request)

    async def act(ctx: TicketContext, form: dict[str, str]) -> str:
        patch = TicketPatch.model_validate({
            "priority": form.get("priority") or None, "tier": form.get("tier") or None,
            "amount_paid": form.get("amount_paid") or None})
        await update_ticket(platform, ctx, patch)
        return "Saved."
    return await _act(request, act)


async def visibility(request: Request) -> Response:
    platform = platform_of(request)

    async def act(ctx: TicketContext, form: dict[str, str]) -> str:
        service.check_visibility(ctx)
        private = form.get("is_private") == "1"
        await service.do_set_visibility(platform, ctx, private)
        return "The ticket is now private." if private else "The ticket is now public."
    return await _act(request, act)


async def add_note(request: Request) -> Response:
    async def act(ctx: TicketContext, form: dict[str, str]) -> str:
        from forum.support_queue.schemas import NoteIn

        note = NoteIn.model_validate({"source": form.get("source", "")})
        await service.add_note(ctx, note.source)
        return "Note added (the team sees it, the requester does not)."
    return await _act(request, act)


# Converting a question to a ticket and back


async def convert_control(request: Request) -> Response:
    user = current_user(request)
    found = await locate_topic(user, request.path_params["id"])
    if found.project.slug != request.path_params["slug"]:
        raise NotFound("No such topic.")
    is_asker = user is not None and user.id == found.topic.author_id  # type: ignore[attr-defined]
    show = user is not None and (found.viewer.is_team or is_asker) and found.topic.kind in (
        TopicKind.QUESTION, TopicKind.TICKET)
    return await render(request, "support_queue/_convert.html", {
        "show": show, "topic": found.topic, "p": found.project})


async def convert(request: Request) -> Response:
    user = current_user(request)
    found = await locate_topic(user, request.path_params["id"])
    url = f"/p/{found.project.slug}/t/{found.topic.id}-{found.topic.slug}"
    if user is None:
        return _login(url)
    to = (await _form(request)).get("to", "")
    if to not in ("ticket", "question"):
        flash(request, "Convert to a ticket or a question.", "error")
        return _see(url)
    try:
        await service.convert(platform_of(request), user, found.topic.id, to)
    except UserError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"This topic is now a {to}.", "success")
    return _see(url)


# The project's ticket settings (leads)


async def ticket_settings(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return _login(request.url.path)
    access = await access_project(user, request.path_params["slug"], Action.MANAGE_SETTINGS)
    settings = await service.support_settings(access.project.id)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = await _form(request)
        guidelines = form.get("guidelines", "").replace("\r\n", "\n").strip()
        if len(guidelines) > GUIDELINES_MAX:
            errors["guidelines"] = f"At most {GUIDELINES_MAX:,} characters."
            status = 422
        else:
            settings.private_by_default = form.get("private_by_default") == "1"
            settings.guidelines = guidelines
            await settings.save(update_fields=["private_by_default", "guidelines", "updated_at"])
            flash(request, "Ticket settings saved.", "success")
            return _see(request.url.path)
    return await render(request, "support_queue/ticket_settings.html", {
        "current_project": access.project, "support": settings, "errors": errors,
    }, status_code=status)


def routes() -> list[BaseRoute]:
    ticket = "/p/{slug}/t/{id:int}/ticket"
    return [
        Route("/p/{slug}/tickets", my_tickets, name="support_my_tickets"),
        Route("/p/{slug}/tickets/new", new_ticket, methods=["GET", "POST"],
              name="support_new_ticket"),
        Route("/p/{slug}/t/{id:int}/ticket-panel", ticket_panel, name="support_ticket_panel"),
        Route(f"{ticket}/submit", submit_ticket, methods=["POST"]),
        Route(f"{ticket}/state", set_state, methods=["POST"]),
        Route(f"{ticket}/assign", assign, methods=["POST"]),
        Route(f"{ticket}/worth", worth, methods=["POST"]),
        Route(f"{ticket}/visibility", visibility, methods=["POST"]),
        Route(f"{ticket}/notes", add_note, methods=["POST"]),
        Route("/p/{slug}/t/{id:int}/convert-control", convert_control),
        Route("/p/{slug}/t/{id:int}/convert", convert, methods=["POST"]),
        Route("/p/{slug}/settings/support/tickets", ticket_settings, methods=["GET", "POST"],
              name="support_ticket_settings"),
    ]
