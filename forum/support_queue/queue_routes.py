"""The queue's settings page and API (project leads) and the team's view of the order.

``/p/{slug}/settings/support/queue``: the settings form. ``GET``/``PUT
/api/v1/projects/{slug}/support/queue``: the same settings. ``GET
/api/v1/projects/{slug}/queue``: the queued tickets in order with their positions, for the
team only, a page at a time (``limit``, ``offset``, ``filter`` = unassigned, mine, or a
tier).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.accounts.models import User
from forum.accounts.permissions import current_user, require_user
from forum.projects.models import Project
from forum.projects.permissions import Action, access_project
from forum.projects.routes import form_data, login_redirect, parse, platform_of, see_other
from forum.queueing import PAID_TIERS, UNPAID_TIER
from forum.support_queue.queue import (
    QueueFilter,
    load_queue_settings,
    reader_for,
    save_queue_settings,
    tickets_of,
)
from forum.support_queue.queue_schemas import (
    QueueEntryOut,
    QueuePageOut,
    QueueSettingsIn,
    QueueSettingsOut,
)
from forum.topics.permissions import Viewer
from forum.topics.routes import topic_url
from forum.web.api import api_route
from forum.web.errors import Forbidden, Invalid, UserError
from forum.web.templating import flash, render

TAG = "support"
MAX_LIMIT = 100
MAX_OFFSET = 1_000_000
FILTERS = ("unassigned", "mine", *PAID_TIERS, UNPAID_TIER)


async def _team_project(request: Request) -> tuple[Project, User]:
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"])
    if not Viewer.of(access, user).is_team:
        raise Forbidden("Only the project team may see the support queue.")
    return access.project, user


async def _lead_project(request: Request) -> tuple[Project, User]:
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"], Action.MANAGE_SETTINGS)
    return access.project, user


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(f"{name} must be a whole number.", fields={name: "Not a number."}
                      ) from None
    if not low <= value <= high:
        raise Invalid(f"{name} must be between {low} and {high}.",
                      fields={name: f"Between {low} and {high}."})
    return value


def parse_filter(raw: str | None, user: User) -> QueueFilter | None:
    if not raw:
        return None
    if raw not in FILTERS:
        raise Invalid("Unknown filter.", fields={"filter": "One of " + ", ".join(FILTERS)})
    if raw == "unassigned":
        return QueueFilter(unassigned=True)
    if raw == "mine":
        return QueueFilter(assignee_id=user.id)
    return QueueFilter(tier=raw)


@api_route("GET", "/api/v1/projects/{slug}/queue", response=QueuePageOut,
           errors=(403, 404, 422), tag=TAG)
async def api_queue(request: Request) -> QueuePageOut:
    """The project's queued tickets in queue order, with positions (team only).

    Query: ``limit`` (1-100, default 50), ``offset``, ``filter`` (unassigned, mine, or a
    tier); positions are always those in the whole queue."""
    project, user = await _team_project(request)
    limit = _int_param(request, "limit", 50, 1, MAX_LIMIT)
    offset = _int_param(request, "offset", 0, 0, MAX_OFFSET)
    filters = parse_filter(request.query_params.get("filter"), user)
    reader = await reader_for(project.id, platform=platform_of(request))
    page = await tickets_of(await reader.page(offset, limit, filters))
    entries = []
    for position, ticket in page:
        due = (ticket.first_response_due_at if ticket.first_response_at is None
               else ticket.next_response_due_at)
        entries.append(QueueEntryOut(
            position=position, ticket_id=ticket.id, reference=ticket.reference_in(project.slug),
            topic_id=ticket.topic.id, title=ticket.topic.title,
            url=topic_url(project.slug, ticket.topic), state=str(ticket.state),
            tier=str(ticket.tier), amount_paid=ticket.amount_paid, currency=ticket.currency,
            priority=ticket.priority, requester=ticket.requester.username,
            assignee_id=ticket.assignee_id,  # type: ignore[attr-defined]
            waiting_since=ticket.last_requester_reaction_at, submitted_at=ticket.submitted_at,
            due_at=due))
    await reader.load()  # exact counts for the total
    return QueuePageOut(policy=reader.policy_name, total=reader.total, limit=limit,
                        offset=offset, entries=entries)


@api_route("GET", "/api/v1/projects/{slug}/support/queue", response=QueueSettingsOut,
           errors=(403, 404), tag=TAG)
async def api_queue_settings(request: Request) -> QueueSettingsOut:
    """The project's queue settings (project leads)."""
    project, _ = await _lead_project(request)
    return QueueSettingsOut(**QueueSettingsIn.of(await load_queue_settings(project.id))
                            .model_dump())


@api_route("PUT", "/api/v1/projects/{slug}/support/queue", body=QueueSettingsIn,
           response=QueueSettingsOut, errors=(403, 404), tag=TAG)
async def api_save_queue_settings(request: Request, body: QueueSettingsIn) -> QueueSettingsOut:
    """Change the project's queue settings (omitted fields take their defaults)."""
    project, _ = await _lead_project(request)
    await save_queue_settings(project.id, body.data())
    return QueueSettingsOut(**body.model_dump())


async def settings_page(request: Request) -> Response:
    if current_user(request) is None:
        return login_redirect(request)
    project, _ = await _lead_project(request)
    current = QueueSettingsIn.of(await load_queue_settings(project.id))
    values = {k: str(v) for k, v in current.model_dump().items()}
    errors: dict[str, str] = {}
    message, status = "", 200
    if request.method == "POST":
        form = await form_data(request)
        values = {**values, **form, "enabled": "true" if form.get("enabled") else "false"}
        try:
            data = parse(QueueSettingsIn, values)
            await save_queue_settings(project.id, data.data())
        except UserError as exc:
            errors, message, status = dict(exc.fields), exc.message, exc.status
        else:
            flash(request, "Queue settings saved.", "success")
            return see_other(f"/p/{project.slug}/settings/support/queue")
    reader = await reader_for(project.id, platform=platform_of(request))
    await reader.load()
    numbers = [(name, field.description or name)
               for name, field in QueueSettingsIn.model_fields.items() if name != "enabled"]
    return await render(request, "support_queue/queue_settings.html", {
        "current_project": project, "numbers": numbers, "values": values,
        "enabled": values.get("enabled") in ("True", "true"),
        "enabled_label": QueueSettingsIn.model_fields["enabled"].description,
        "policy_name": reader.policy_name, "queued": reader.total,
        "errors": errors, "message": message}, status_code=status)


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/settings/support/queue", settings_page, methods=["GET", "POST"],
              name="support_queue_settings"),
        api_queue, api_queue_settings, api_save_queue_settings,
    ]
