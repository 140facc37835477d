"""The support inbox: ``/p/{slug}/inbox`` with its "take next" and bulk forms, and
``/api/v1/projects/{slug}/inbox``, ``.../inbox/take-next``, ``.../inbox/bulk``. Team only."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.accounts.models import User
from forum.accounts.permissions import current_user, require_user
from forum.projects.permissions import Action, ProjectAccess, access_project
from forum.projects.routes import login_redirect, platform_of, see_other
from forum.support_queue import inbox, sla
from forum.support_queue.inbox_schemas import BulkIn, BulkOut, InboxOut, InboxQuery, InboxTicket
from forum.support_queue.models import Ticket, TicketState
from forum.support_queue.queue import reader_for
from forum.web.api import api_route
from forum.web.errors import Conflict, UserError, invalid_from_pydantic
from forum.web.templating import flash, render

TAG = "support"
SETTABLE_STATES = [TicketState.QUEUED, TicketState.WAITING, TicketState.ON_HOLD,
                   TicketState.SOLVED, TicketState.CLOSED]


async def team_access(user: User | None, slug: str) -> ProjectAccess:
    access = await access_project(user, slug)
    inbox.require_team(access)
    return access


def parse_query(request: Request) -> InboxQuery:
    try:
        return InboxQuery.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from None


def ticket_row(slug: str, row: inbox.InboxRow) -> InboxTicket:
    ticket = row.ticket
    due = sla.current_due(ticket)
    assignee = getattr(ticket, "assignee", None)
    return InboxTicket(
        id=ticket.id, reference=ticket.reference_in(slug), topic_id=ticket.topic.id,
        title=ticket.topic.title, url=f"/p/{slug}/t/{ticket.topic.id}-{ticket.topic.slug}",
        position=row.position, state=ticket.state, priority=ticket.priority, tier=ticket.tier,
        amount_paid=ticket.amount_paid, currency=ticket.currency,
        requester=ticket.requester.username,
        assignee=assignee.username if isinstance(assignee, User) else None,
        waiting_since=ticket.last_requester_reaction_at,
        due_at=None if due is None else due[1], breach=row.breach)


# Pages


async def inbox_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await team_access(user, request.path_params["slug"])
    query = parse_query(request)
    page = await inbox.inbox_page(platform_of(request), access.project.id, user.id,
                                  query.filter, offset=query.offset, limit=query.limit)
    slug = access.project.slug
    return await render(request, "support_queue/inbox_list.html", {
        "current_project": access.project, "page": page,
        "rows": [ticket_row(slug, r) for r in page.rows], "filters": inbox.FILTERS,
        "team": await inbox.team_members(access.project.id),
        "states": SETTABLE_STATES, "is_lead": access.can(Action.MANAGE_SETTINGS),
        "priority_names": await sla.priority_names(access.project.id),
        "next_url": (f"/p/{slug}/inbox?" + urlencode({
            "filter": query.filter, "offset": query.offset + query.limit,
            "limit": query.limit})) if page.has_more else None,
    })


async def take_next_form(request: Request) -> Response:
    user = require_user(request)
    access = await team_access(user, request.path_params["slug"])
    ticket = await inbox.take_next(platform_of(request), access, user)
    if ticket is None:
        flash(request, "No unassigned ticket is waiting: the queue is clear.", "info")
        return see_other(f"/p/{access.project.slug}/inbox")
    await ticket.fetch_related("topic")
    flash(request, f"{ticket.reference_in(access.project.slug)} is yours now.", "success")
    return see_other(f"/p/{access.project.slug}/t/{ticket.topic.id}-{ticket.topic.slug}")


async def bulk_form(request: Request) -> Response:
    user = require_user(request)
    access = await team_access(user, request.path_params["slug"])
    form = await request.form()
    back = f"/p/{access.project.slug}/inbox"
    which = str(form.get("filter") or "all")
    if which in inbox.FILTERS and which != "all":
        back += "?" + urlencode({"filter": which})
    raw_ids = [str(v) for v in form.getlist("ticket_ids")]
    action = str(form.get("action") or "")
    value = str(form.get(f"{action}_value") or form.get("value") or "")
    try:
        body = BulkIn.model_validate({
            "ticket_ids": [int(v) for v in raw_ids if v.isdigit()], "action": action,
            "value": value})
        result = await inbox.check_bulk(platform_of(request), access, user, body.ticket_ids,
                                        body.action, body.value)
    except ValidationError:
        flash(request, "Select tickets and an action first.", "error")
        return see_other(back)
    except UserError as exc:
        if exc.status == 404:
            raise
        flash(request, exc.message, "error")
        return see_other(back)
    message = f"Updated {len(result.done)} ticket{'' if len(result.done) == 1 else 's'}."
    if result.skipped:
        message += f" Skipped {len(result.skipped)}: " + "; ".join(
            sorted(set(result.skipped.values())))
    flash(request, message, "success" if result.done else "error")
    return see_other(back)


# API


@api_route("GET", "/api/v1/projects/{slug}/inbox", response=InboxOut, tag=TAG,
           errors=(403, 404, 422))
async def api_inbox(request: Request) -> InboxOut:
    """The support inbox in queue order (query: filter, limit, offset); team only."""
    user = require_user(request)
    access = await team_access(user, request.path_params["slug"])
    query = parse_query(request)
    page = await inbox.inbox_page(platform_of(request), access.project.id, user.id,
                                  query.filter, offset=query.offset, limit=query.limit)
    return InboxOut(filter=page.filter, counts=page.counts, offset=page.offset,
                    limit=page.limit,
                    tickets=[ticket_row(access.project.slug, r) for r in page.rows])


@api_route("POST", "/api/v1/projects/{slug}/inbox/take-next", response=InboxTicket,
           tag=TAG, errors=(403, 404, 409))
async def api_take_next(request: Request) -> InboxTicket:
    """Self-assign the top unassigned ticket of the queue (409 when none is left)."""
    user = require_user(request)
    access = await team_access(user, request.path_params["slug"])
    ticket = await inbox.take_next(platform_of(request), access, user)
    if ticket is None:
        raise Conflict("No unassigned ticket is waiting.")
    loaded = await Ticket.filter(id=ticket.id).select_related("topic", "requester").get()
    loaded.assignee = user
    reader_now = datetime.now(UTC)
    position = await (await reader_for(access.project.id, platform=platform_of(request),
                                       now=reader_now)).position(loaded)
    lead = await sla.warning_lead(access.project.id)
    return ticket_row(access.project.slug, inbox.InboxRow(
        position, loaded, sla.breach_status(loaded, reader_now, lead)))


@api_route("POST", "/api/v1/projects/{slug}/inbox/bulk", body=BulkIn, response=BulkOut,
           tag=TAG, errors=(403, 404, 409))
async def api_bulk(request: Request, body: BulkIn) -> BulkOut:
    """Assign (value: a team member's username, "" to unassign), set the priority
    (value 1..5) or the state of several tickets at once."""
    user = require_user(request)
    access = await team_access(user, request.path_params["slug"])
    result = await inbox.check_bulk(platform_of(request), access, user, body.ticket_ids,
                                    body.action, body.value)
    return BulkOut(done=result.done, skipped=result.skipped)


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/inbox", inbox_page, name="support_inbox"),
        Route("/p/{slug}/inbox/take-next", take_next_form, methods=["POST"],
              name="support_inbox_take_next"),
        Route("/p/{slug}/inbox/bulk", bulk_form, methods=["POST"], name="support_inbox_bulk"),
        api_inbox, api_take_next, api_bulk,
    ]
