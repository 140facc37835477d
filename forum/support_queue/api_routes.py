"""The tickets JSON API: open, read, submit, change state, assign, PATCH (team), internal
notes (team) and converting a question to a ticket and back.

A ticket the caller may not read is a 404, as if it did not exist.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute

from forum.accounts.permissions import require_user
from forum.projects.permissions import access_project
from forum.projects.routes import platform_of
from forum.support_queue import service
from forum.support_queue.models import TicketNote
from forum.support_queue.schemas import (
    ConvertIn,
    ConvertOut,
    NoteIn,
    NoteList,
    NoteOut,
    TicketAssignIn,
    TicketIn,
    TicketOut,
    TicketPatch,
    TicketStateIn,
    UserRef,
)
from forum.support_queue.update import update_ticket
from forum.support_queue.views import ticket_out
from forum.topics.permissions import Viewer
from forum.web.api import api_route

TAG = "tickets"


def _ip(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


async def _ticket(request: Request) -> service.TicketContext:
    user = getattr(request.state, "user", None)
    return await service.access_ticket(user, request.path_params["id"])


@api_route("POST", "/api/v1/projects/{slug}/tickets", body=TicketIn, response=TicketOut,
           status=201, errors=(401, 403, 404), tag=TAG)
async def create_ticket(request: Request, body: TicketIn) -> TicketOut:
    """Open a ticket (submitted, or a draft when terms must be accepted first or
    ``submit`` is false)."""
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"])
    platform = platform_of(request)
    ticket = await service.create_ticket(platform, Viewer.of(access, user), access.project,
                                         body, ip=_ip(request))
    return await ticket_out(platform, await service.access_ticket(user, ticket.id))


@api_route("GET", "/api/v1/tickets/{id:int}", response=TicketOut, auth=False,
           errors=(404,), tag=TAG)
async def get_ticket(request: Request) -> TicketOut:
    """A ticket with its state, reference, queue position and expected response."""
    return await ticket_out(platform_of(request), await _ticket(request))


@api_route("POST", "/api/v1/tickets/{id:int}/submit", response=TicketOut,
           errors=(401, 403, 404, 409), tag=TAG)
async def submit_ticket(request: Request) -> TicketOut:
    """Submit a draft ticket to the queue (its requester)."""
    require_user(request)
    ctx = await _ticket(request)
    platform = platform_of(request)
    await service.check_submit(platform, ctx.viewer, ctx.ticket, ctx.topic)
    await service.do_submit(platform, ctx.viewer, ctx.ticket, ctx.topic)
    return await ticket_out(platform, await _ticket(request))


@api_route("POST", "/api/v1/tickets/{id:int}/state", body=TicketStateIn, response=TicketOut,
           errors=(401, 403, 404, 409), tag=TAG)
async def set_ticket_state(request: Request, body: TicketStateIn) -> TicketOut:
    """Move a ticket to another state, or reopen it."""
    require_user(request)
    ctx = await _ticket(request)
    platform = platform_of(request)
    await service.set_state(platform, ctx, body.state)
    return await ticket_out(platform, await _ticket(request))


@api_route("POST", "/api/v1/tickets/{id:int}/assign", body=TicketAssignIn,
           response=TicketOut, errors=(401, 403, 404, 409), tag=TAG)
async def assign_ticket(request: Request, body: TicketAssignIn) -> TicketOut:
    """Assign or transfer a ticket to a team member (team only); null unassigns."""
    require_user(request)
    ctx = await _ticket(request)
    platform = platform_of(request)
    await service.assign(platform, ctx, body.assignee)
    return await ticket_out(platform, await _ticket(request))


@api_route("PATCH", "/api/v1/tickets/{id:int}", body=TicketPatch, response=TicketOut,
           errors=(401, 403, 404, 409), tag=TAG)
async def patch_ticket(request: Request, body: TicketPatch) -> TicketOut:
    """Change priority, tier, amount paid, currency, assignee or visibility (team only)."""
    require_user(request)
    ctx = await _ticket(request)
    platform = platform_of(request)
    await update_ticket(platform, ctx, body)
    return await ticket_out(platform, await _ticket(request))


def note_out(note: TicketNote) -> NoteOut:
    return NoteOut(id=note.id, author=UserRef(id=note.author.id, username=note.author.username),
                   cooked=note.cooked, created_at=note.created_at)


@api_route("GET", "/api/v1/tickets/{id:int}/notes", response=NoteList,
           errors=(401, 403, 404), tag=TAG)
async def list_notes(request: Request) -> NoteList:
    """The ticket's internal notes (team only)."""
    require_user(request)
    notes = await service.list_notes(await _ticket(request))
    return NoteList(notes=[note_out(n) for n in notes])


@api_route("POST", "/api/v1/tickets/{id:int}/notes", body=NoteIn, response=NoteOut,
           status=201, errors=(401, 403, 404), tag=TAG)
async def add_note(request: Request, body: NoteIn) -> NoteOut:
    """Add an internal note (team only; never shown to the requester)."""
    require_user(request)
    note = await service.add_note(await _ticket(request), body.source)
    await note.fetch_related("author")
    return note_out(note)


@api_route("POST", "/api/v1/topics/{id:int}/convert", body=ConvertIn, response=ConvertOut,
           errors=(401, 403, 404, 409), tag=TAG)
async def convert_topic(request: Request, body: ConvertIn) -> ConvertOut:
    """Turn a question into a ticket, or a ticket back into a question (team or asker)."""
    user = require_user(request)
    ticket = await service.convert(platform_of(request), user, request.path_params["id"],
                                   body.to)
    return ConvertOut(topic_id=request.path_params["id"], kind=body.to,
                      ticket_id=ticket.id if ticket is not None else None)


def routes() -> list[BaseRoute]:
    return [create_ticket, get_ticket, submit_ticket, set_ticket_state, assign_ticket,
            patch_ticket, list_notes, add_note, convert_topic]
