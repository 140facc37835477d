"""The escalation form: ``/p/{slug}/t/{id}/github/escalate`` (GET shows it prefilled,
POST creates the issue and goes back to the topic). See ``escalate.py``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.web.errors import Conflict, Invalid, UserError
from forum.web.templating import flash, render
from plugins.github_import import escalate

FORM_FIELDS = ("title", "body", "repo", "labels")


def _topic_path(esc: escalate.Escalation) -> str:
    tail = f"-{esc.topic.slug}" if esc.topic.slug else ""
    return f"/p/{esc.project.slug}/t/{esc.topic.id}{tail}"


async def _load(request: Request) -> escalate.Escalation:
    return await escalate.access_escalation(
        request.app.state.platform, request.state.user, request.path_params["slug"],
        request.path_params["id"])


async def escalate_form(request: Request) -> Response:
    platform = request.app.state.platform
    esc = await _load(request)
    values = await escalate.prefill(platform, esc)
    return await render(request, "github_import/escalate.html", {
        "esc": esc, "values": values, "errors": {}, "message": "",
        "topic_path": _topic_path(esc)}, status_code=409 if esc.link else 200)


async def escalate_submit(request: Request) -> Response:
    platform = request.app.state.platform
    esc = await _load(request)
    form = await request.form()
    values = {name: str(form.get(name, "") or "") for name in FORM_FIELDS}
    try:
        draft = escalate.check_escalate(esc, values)
    except (Invalid, Conflict) as exc:
        return await render(request, "github_import/escalate.html", {
            "esc": esc, "values": values, "errors": exc.fields, "message": exc.message,
            "topic_path": _topic_path(esc)}, status_code=exc.status)
    from plugins.github_import.connection import client_for

    link = await escalate.do_escalate(platform, esc, draft, client_for)
    flash(request, f"GitHub issue {link.repo}#{link.issue_number} created.", "success")
    return RedirectResponse(_topic_path(esc), status_code=303)


async def topic_actions(request: Request) -> Response:
    """The "Escalate to GitHub issue" link for a maintainer (htmx, from the topic page's
    outlet); empty for anyone else, in a project without the plugin, or once linked."""
    try:
        esc = await _load(request)
    except UserError:
        return HTMLResponse("")
    if esc.link is not None or not esc.repos:
        return HTMLResponse("")
    return await render(request, "github_import/escalate_link.html", {"esc": esc})


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/t/{id:int}/github/actions", topic_actions, methods=["GET"],
              name="github_topic_actions"),
        Route("/p/{slug}/t/{id:int}/github/escalate", escalate_form, methods=["GET"],
              name="github_escalate_form"),
        Route("/p/{slug}/t/{id:int}/github/escalate", escalate_submit, methods=["POST"],
              name="github_escalate"),
    ]
