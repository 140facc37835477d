"""The bridge's pages: a project's mirrored questions, and "poll now" for its leads.

Both answer 404 in a project that has not switched the bridge on (or that the visitor
may not see); polling now needs a project owner or lead (403 for anyone else).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.platform import Platform
from forum.projects.permissions import Action, ProjectAccess, access_project
from forum.projects.plugin_settings import project_plugin_settings
from forum.projects.service import enabled_plugin_names
from forum.web.errors import Invalid, NotFound
from forum.web.templating import flash, render
from plugins.stackoverflow_bridge.models import ApiThrottle, MirroredQuestion, PollCursor
from plugins.stackoverflow_bridge.poll import (
    METHOD_IDS,
    METHOD_NEW,
    NAME,
    BridgeSettings,
    key_id,
)

PER_PAGE = 50


@dataclass(frozen=True)
class BridgeStatus:
    """What a lead sees of the polls: the last outcome, the cursor, the API's limits."""

    last_poll_at: datetime | None
    last_result: str
    cursor: datetime | None
    quota_remaining: int | None
    quota_max: int | None
    backoff: dict[str, datetime]


async def access_bridge(request: Request, action: Action = Action.VIEW) -> ProjectAccess:
    """The project of the URL, if the bridge is switched on there and ``action`` allowed."""
    platform: Platform = request.app.state.platform
    access = await access_project(request.state.user, request.path_params["slug"])
    if NAME not in await enabled_plugin_names(platform, access.project.id):
        raise NotFound("The Stack Overflow bridge is not switched on in this project.")
    if action is not Action.VIEW:
        access = await access_project(request.state.user, access.project.slug, action)
    return access


async def bridge_status(platform: Platform, project_id: int) -> BridgeStatus:
    settings = await project_plugin_settings(platform, project_id, NAME)
    assert isinstance(settings, BridgeSettings)
    kid = key_id(settings.app_key or platform.settings.stackexchange_key.get_secret_value())
    cursor = await PollCursor.get_or_none(project_id=project_id)
    quota = await ApiThrottle.get_or_none(key_id=kid, method="")
    now = datetime.now(UTC)
    backoff = {row.method: row.not_before for row in await ApiThrottle.filter(
        key_id=kid, method__in=[METHOD_NEW, METHOD_IDS])
        if row.not_before is not None and row.not_before > now}
    return BridgeStatus(
        last_poll_at=cursor.last_poll_at if cursor else None,
        last_result=cursor.last_result if cursor else "",
        cursor=datetime.fromtimestamp(cursor.fromdate, UTC)
        if cursor and cursor.fromdate else None,
        quota_remaining=quota.quota_remaining if quota else None,
        quota_max=quota.quota_max if quota else None,
        backoff=backoff)


async def question_list(request: Request) -> Response:
    """The project's questions from Stack Overflow, newest first."""
    access = await access_bridge(request)
    raw_page = request.query_params.get("page", "1")
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= 10_000:
        raise Invalid("Unknown page.", fields={"page": "is not valid"})
    page = int(raw_page)
    rows = await MirroredQuestion.filter(project_id=access.project.id, topic_id__gt=0) \
        .order_by("-created_at", "-id").offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)
    platform: Platform = request.app.state.platform
    is_lead = access.can(Action.MANAGE_SETTINGS)
    return await render(request, "stackoverflow_bridge/list.html", {
        "current_project": access.project, "questions": rows[:PER_PAGE], "page": page,
        "has_next": len(rows) > PER_PAGE, "is_lead": is_lead,
        "status": await bridge_status(platform, access.project.id) if is_lead else None,
        "bridge_settings": await project_plugin_settings(platform, access.project.id, NAME),
    })


async def poll_now(request: Request) -> Response:
    """Queue a poll of this project at once (leads)."""
    access = await access_bridge(request, Action.MANAGE_SETTINGS)
    platform: Platform = request.app.state.platform
    await platform.enqueue("stackoverflow_bridge.poll", project_id=access.project.id)
    flash(request, "A poll of Stack Overflow is queued; new questions appear here shortly.",
          "success")
    return RedirectResponse(f"/p/{access.project.slug}/stackoverflow", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/stackoverflow", question_list, name="stackoverflow_list"),
        Route("/p/{slug}/stackoverflow/poll", poll_now, methods=["POST"],
              name="stackoverflow_poll"),
    ]
