"""The "helped" marks page of a paid ticket and its JSON twin (the project's team)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.accounts.permissions import current_user, require_user
from forum.billing import helped
from forum.web.api import api_route
from forum.web.errors import Invalid
from forum.web.templating import flash, render

TAG = "billing"


class HelpedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    post_ids: list[int] = Field(max_length=500, description="Exactly the posts that helped.")


class HelpedPostOut(BaseModel):
    id: int
    number: int
    author: str
    helped: bool
    markable: bool = Field(description="False for the requester's own posts.")


class HelpedOut(BaseModel):
    reference: str
    paid: bool
    posts: list[HelpedPostOut]


async def _ticket(request: Request) -> helped.HelpedTicket:
    return await helped.access_helped_ticket(
        request.app.state.platform, current_user(request), request.path_params["slug"],
        request.path_params["number"])


async def helped_out(ticket: helped.HelpedTicket) -> HelpedOut:
    return HelpedOut(reference=ticket.facts.reference, paid=ticket.is_paid, posts=[
        HelpedPostOut(id=tp.post.id, number=tp.post.number, author=tp.post.author.username,
                      helped=tp.helped, markable=tp.markable)
        for tp in await helped.ticket_posts(ticket)])


async def helped_page(request: Request) -> Response:
    ticket = await _ticket(request)
    if request.method == "POST":
        form = await request.form()
        try:
            ids = [int(str(v)) for v in form.getlist("post")]
        except ValueError:
            raise Invalid("Please correct: post.",
                          fields={"post": "Choose posts of this ticket."}) from None
        marked = await helped.check_set_helped(ticket, require_user(request), ids)
        flash(request, f"{len(marked)} post{'s' if len(marked) != 1 else ''} marked as "
              "having helped.", "success")
        return RedirectResponse(request.url.path, status_code=303)
    return await render(request, "billing/helped_ticket.html", {
        "current_project": ticket.access.project, "project": ticket.access.project,
        "facts": ticket.facts, "view": await helped_out(ticket)})


@api_route("GET", "/api/v1/projects/{slug}/tickets/{number}/helped", response=HelpedOut,
           errors=(401, 403, 404), tag=TAG)
async def api_helped(request: Request) -> HelpedOut:
    """A ticket's posts and which the team marked as having helped (the team)."""
    return await helped_out(await _ticket(request))


@api_route("PUT", "/api/v1/projects/{slug}/tickets/{number}/helped", body=HelpedIn,
           response=HelpedOut, errors=(401, 403, 404, 409, 422), tag=TAG)
async def api_set_helped(request: Request, body: HelpedIn) -> HelpedOut:
    """Mark exactly these posts of a paid ticket as having helped (the team)."""
    ticket = await _ticket(request)
    await helped.check_set_helped(ticket, require_user(request), body.post_ids)
    return await helped_out(ticket)


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/tickets/{number}/helped", helped_page, methods=["GET", "POST"],
              name="billing_helped"),
        api_helped, api_set_helped,
    ]
