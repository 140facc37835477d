"""Pages and API of response templates and per-ticket notification levels.

Pages: ``/p/{slug}/templates`` (list, create), ``/p/{slug}/templates/{id}`` (edit, delete),
the composer's picker ``/p/{slug}/t/{topic_id}/template-picker`` (an htmx fragment the
ticket panel loads) and ``/p/{slug}/t/{topic_id}/template-insert`` (the reply textarea with
the chosen template appended), the level control ``/p/{slug}/t/{topic_id}/notify-level``.
API: ``/api/v1/projects/{slug}/response-templates[/{id}]``,
``GET /api/v1/tickets/{id}/response-templates/{tid}/render`` and
``GET|PUT /api/v1/tickets/{id}/notify-level``. All for the project's team only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.accounts.models import User
from forum.accounts.permissions import current_user, require_user
from forum.projects.models import Project
from forum.projects.permissions import ProjectAccess, access_project
from forum.projects.routes import (
    form_data,
    login_redirect,
    platform_of,
    see_other,
    time_zones,
)
from forum.support_queue import digest, levels
from forum.support_queue import templates_service as service
from forum.support_queue.models import Ticket
from forum.support_queue.team_models import DigestPreference, NotifyLevel, ResponseTemplate
from forum.support_queue.team_schemas import (
    DigestPreferenceIn,
    DigestPreferenceOut,
    NotifyLevelIn,
    NotifyLevelOut,
    RenderedTemplate,
    TemplateIn,
    TemplateList,
    TemplateOut,
    TemplatePatch,
)
from forum.web.api import api_route
from forum.web.errors import Invalid, NotFound, invalid_from_pydantic
from forum.web.templating import flash, render

TAG = "support"
MAX_DRAFT = 60_000


def path_int(request: Request, name: str) -> int:
    value = int(request.path_params[name])
    if not 0 < value < 2**31:
        raise NotFound()
    return value


async def team_access(user: User | None, slug: str) -> ProjectAccess:
    access = await access_project(user, slug)
    service.require_team(access)
    return access


async def team_ticket(user: User, ticket_id: int) -> tuple[Ticket, ProjectAccess]:
    """A ticket of a project where ``user`` is on the team; anyone else is told it does not
    exist (private tickets must not leak)."""
    ticket = await Ticket.get_or_none(id=ticket_id)
    if ticket is None:
        raise NotFound("No such ticket.")
    project = await Project.get(id=ticket.project_id)  # type: ignore[attr-defined]
    access = await access_project(user, project.slug)
    if not service.is_team(access):
        raise NotFound("No such ticket.")
    return ticket, access


async def team_ticket_by_topic(user: User, slug: str, topic_id: int
                               ) -> tuple[Ticket, ProjectAccess]:
    access = await team_access(user, slug)
    ticket = await Ticket.get_or_none(topic_id=topic_id, project_id=access.project.id)
    if ticket is None:
        raise NotFound("No such ticket.")
    return ticket, access


async def template_out(access: ProjectAccess, user: User, template: ResponseTemplate
                       ) -> TemplateOut:
    owner_id = template.owner_id  # type: ignore[attr-defined]
    owner = None
    if owner_id is not None:
        other = None if owner_id == user.id else await User.get_or_none(id=owner_id)
        owner = user.username if other is None else other.username
    return TemplateOut(id=template.id, name=template.name, body=template.body,
                       project_wide=owner_id is None, owner=owner,
                       editable=service.may_edit(access, user, template),
                       updated_at=template.updated_at)


# Pages


async def templates_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await team_access(user, request.path_params["slug"])
    errors: dict[str, str] = {}
    values = {"name": "", "body": "", "project_wide": ""}
    status = 200
    if request.method == "POST":
        data = await form_data(request)
        values.update({k: data.get(k, "") for k in values})
        try:
            await service.check_create(access, user, data.get("name", ""),
                                       data.get("body", ""), bool(data.get("project_wide")))
        except Invalid as exc:
            errors, status = exc.fields or {"name": exc.message}, 422
        else:
            flash(request, "Template saved.", "success")
            return see_other(f"/p/{access.project.slug}/templates")
    templates = await service.templates_for(access, user)
    return await render(request, "support_queue/template_list.html", {
        "current_project": access.project, "templates": templates,
        "editable": {t.id for t in templates if service.may_edit(access, user, t)},
        "is_lead": service.is_lead(access), "variables": service.VARIABLES,
        "values": values, "errors": errors}, status_code=status)


async def template_edit_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await team_access(user, request.path_params["slug"])
    template_id = path_int(request, "template_id")
    template = await service.access_editable(access, user, template_id)
    errors: dict[str, str] = {}
    values = {"name": template.name, "body": template.body}
    status = 200
    if request.method == "POST":
        data = await form_data(request)
        if data.get("delete"):
            await service.check_delete(access, user, template_id)
            flash(request, "Template deleted.", "success")
            return see_other(f"/p/{access.project.slug}/templates")
        values = {"name": data.get("name", ""), "body": data.get("body", "")}
        try:
            await service.check_update(access, user, template_id, values["name"],
                                       values["body"])
        except Invalid as exc:
            errors, status = exc.fields or {"name": exc.message}, 422
        else:
            flash(request, "Template saved.", "success")
            return see_other(f"/p/{access.project.slug}/templates")
    return await render(request, "support_queue/template_edit.html", {
        "current_project": access.project, "template": template, "values": values,
        "errors": errors, "variables": service.VARIABLES}, status_code=status)


async def template_picker(request: Request) -> Response:
    """The select above a ticket's reply box (loaded by htmx into the ticket panel)."""
    user = require_user(request)
    ticket, access = await team_ticket_by_topic(user, request.path_params["slug"],
                                                path_int(request, "topic_id"))
    templates = await service.templates_for(access, user)
    return await render(request, "support_queue/template_picker.html", {
        "current_project": access.project, "ticket": ticket,
        "topic_id": ticket.topic_id,  # type: ignore[attr-defined]
        "templates": templates})


async def template_insert(request: Request) -> Response:
    """The reply textarea again, with the chosen template rendered after what was typed."""
    user = require_user(request)
    ticket, access = await team_ticket_by_topic(user, request.path_params["slug"],
                                                path_int(request, "topic_id"))
    # POST from the picker (a long draft does not fit in a URL); GET works too.
    data = await form_data(request) if request.method == "POST" else dict(
        request.query_params)
    draft = data.get("source", "")[:MAX_DRAFT]
    raw_id = data.get("template_id", "")
    text = ""
    if raw_id.isdigit():
        template = await service.access_template(access, user, int(raw_id))
        facts = await service.ticket_facts(platform_of(request).settings, ticket)
        text = service.render_body(template.body, facts)
    source = f"{draft.rstrip()}\n\n{text}" if draft.strip() and text else (draft or text)
    return await render(request, "support_queue/template_textarea.html", {
        "current_project": access.project, "source": source,
        "topic_id": ticket.topic_id})  # type: ignore[attr-defined]


async def notify_level_control(request: Request) -> Response:
    """GET: the level select for the signed-in supporter; POST: change it."""
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    ticket, access = await team_ticket_by_topic(user, request.path_params["slug"],
                                                path_int(request, "topic_id"))
    if request.method == "POST":
        data = await form_data(request)
        try:
            level = NotifyLevel(data.get("level", ""))
        except ValueError:
            raise Invalid("Choose a notification level.",
                          fields={"level": "every, digest or mute"}) from None
        await levels.do_set_level(ticket, user.id, level)
        if "hx-request" not in request.headers:
            flash(request, "Notification level saved.", "success")
            return see_other(f"/p/{access.project.slug}/t/{ticket.topic_id}")  # type: ignore[attr-defined]
    level = await levels.supporter_level(ticket.id, user.id)
    return await render(request, "support_queue/team_notify_level.html", {
        "current_project": access.project, "ticket": ticket, "level": level,
        "topic_id": ticket.topic_id, "levels": list(NotifyLevel)})  # type: ignore[attr-defined]


async def digest_page(request: Request) -> Response:
    """When the signed-in supporter's daily digest comes."""
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    errors: dict[str, str] = {}
    status = 200
    schedule = await digest.schedule_of(user)
    values = {"enabled": schedule.enabled, "hour": str(schedule.hour),
              "time_zone": schedule.zone.key}
    if request.method == "POST":
        data = await form_data(request)
        values = {"enabled": bool(data.get("enabled")), "hour": data.get("hour", ""),
                  "time_zone": data.get("time_zone", "")}
        try:
            body = DigestPreferenceIn.model_validate(values)
        except ValidationError as exc:
            errors, status = invalid_from_pydantic(exc).fields, 422
        else:
            await do_save_digest_preference(user, body)
            flash(request, "Digest settings saved.", "success")
            return see_other("/support/digest")
    return await render(request, "support_queue/digest_preferences.html", {
        "values": values, "errors": errors, "zones": time_zones(),
        "next_at": schedule.next_at(datetime.now(UTC)) if schedule.enabled else None,
        "is_supporter": user.id in await digest.supporter_ids_of([user.id])},
        status_code=status)


async def do_save_digest_preference(user: User, body: DigestPreferenceIn) -> None:
    await DigestPreference.update_or_create(
        defaults={"enabled": body.enabled, "hour": body.hour, "time_zone": body.time_zone},
        user_id=user.id)


async def digest_out(user: User) -> DigestPreferenceOut:
    schedule = await digest.schedule_of(user)
    return DigestPreferenceOut(
        enabled=schedule.enabled, hour=schedule.hour, time_zone=schedule.zone.key,
        next_digest_at=schedule.next_at(datetime.now(UTC)) if schedule.enabled else None)


# API


@api_route("GET", "/api/v1/projects/{slug}/response-templates", response=TemplateList,
           tag=TAG, errors=(403, 404))
async def api_list_templates(request: Request) -> TemplateList:
    """Response templates: the project-wide ones and your own (team only)."""
    user = require_user(request)
    access = await team_access(user, request.path_params["slug"])
    templates = await service.templates_for(access, user)
    return TemplateList(templates=[await template_out(access, user, t) for t in templates],
                        variables=service.VARIABLES)


@api_route("POST", "/api/v1/projects/{slug}/response-templates", body=TemplateIn,
           response=TemplateOut, status=201, tag=TAG, errors=(403, 404))
async def api_create_template(request: Request, body: TemplateIn) -> TemplateOut:
    """Add a response template (project-wide: owners and leads only)."""
    user = require_user(request)
    access = await team_access(user, request.path_params["slug"])
    template = await service.check_create(access, user, body.name, body.body,
                                          body.project_wide)
    return await template_out(access, user, template)


@api_route("GET", "/api/v1/projects/{slug}/response-templates/{template_id:int}",
           response=TemplateOut, tag=TAG, errors=(403, 404))
async def api_get_template(request: Request) -> TemplateOut:
    """One response template."""
    user = require_user(request)
    access = await team_access(user, request.path_params["slug"])
    template = await service.access_template(access, user, path_int(request, "template_id"))
    return await template_out(access, user, template)


@api_route("PATCH", "/api/v1/projects/{slug}/response-templates/{template_id:int}",
           body=TemplatePatch, response=TemplateOut, tag=TAG, errors=(403, 404))
async def api_update_template(request: Request, body: TemplatePatch) -> TemplateOut:
    """Change a response template's name or text."""
    user = require_user(request)
    access = await team_access(user, request.path_params["slug"])
    template = await service.check_update(access, user, path_int(request, "template_id"),
                                          body.name, body.body)
    return await template_out(access, user, template)


@api_route("DELETE", "/api/v1/projects/{slug}/response-templates/{template_id:int}",
           status=204, tag=TAG, errors=(403, 404))
async def api_delete_template(request: Request) -> None:
    """Delete a response template."""
    user = require_user(request)
    access = await team_access(user, request.path_params["slug"])
    await service.check_delete(access, user, path_int(request, "template_id"))


@api_route("GET", "/api/v1/tickets/{ticket_id:int}/response-templates/{template_id:int}/render",
           response=RenderedTemplate, tag=TAG, errors=(404,))
async def api_render_template(request: Request) -> RenderedTemplate:
    """A response template filled in for one ticket (the text the composer inserts)."""
    user = require_user(request)
    ticket, access = await team_ticket(user, path_int(request, "ticket_id"))
    template = await service.access_template(access, user, path_int(request, "template_id"))
    facts = await service.ticket_facts(platform_of(request).settings, ticket)
    return RenderedTemplate(template_id=template.id, ticket_id=ticket.id,
                            text=service.render_body(template.body, facts))


@api_route("GET", "/api/v1/tickets/{ticket_id:int}/notify-level", response=NotifyLevelOut,
           tag=TAG, errors=(404,))
async def api_get_level(request: Request) -> NotifyLevelOut:
    """Your notification level for a ticket (team only)."""
    user = require_user(request)
    ticket, _ = await team_ticket(user, path_int(request, "ticket_id"))
    explicit = await levels.explicit_level(ticket.id, user.id)
    return NotifyLevelOut(ticket_id=ticket.id, level=explicit or await levels.supporter_level(
        ticket.id, user.id), explicit=explicit is not None)


@api_route("PUT", "/api/v1/tickets/{ticket_id:int}/notify-level", body=NotifyLevelIn,
           response=NotifyLevelOut, tag=TAG, errors=(404,))
async def api_set_level(request: Request, body: NotifyLevelIn) -> NotifyLevelOut:
    """Set your notification level for a ticket: every, digest or mute."""
    user = require_user(request)
    ticket, _ = await team_ticket(user, path_int(request, "ticket_id"))
    await levels.do_set_level(ticket, user.id, body.level)
    return NotifyLevelOut(ticket_id=ticket.id, level=body.level, explicit=True)


@api_route("GET", "/api/v1/support/digest-preference", response=DigestPreferenceOut,
           tag=TAG)
async def api_get_digest(request: Request) -> DigestPreferenceOut:
    """When your daily support digest comes (local hour, time zone, Monday to Friday)."""
    return await digest_out(require_user(request))


@api_route("PUT", "/api/v1/support/digest-preference", body=DigestPreferenceIn,
           response=DigestPreferenceOut, tag=TAG)
async def api_set_digest(request: Request, body: DigestPreferenceIn) -> DigestPreferenceOut:
    """Set your digest's hour and time zone, or switch it off."""
    user = require_user(request)
    await do_save_digest_preference(user, body)
    return await digest_out(user)


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/templates", templates_page, methods=["GET", "POST"],
              name="support_templates"),
        Route("/p/{slug}/templates/{template_id:int}", template_edit_page,
              methods=["GET", "POST"], name="support_template_edit"),
        Route("/p/{slug}/t/{topic_id:int}/template-picker", template_picker,
              name="support_template_picker"),
        Route("/p/{slug}/t/{topic_id:int}/template-insert", template_insert,
              methods=["GET", "POST"], name="support_template_insert"),
        Route("/p/{slug}/t/{topic_id:int}/notify-level", notify_level_control,
              methods=["GET", "POST"], name="support_notify_level"),
        Route("/support/digest", digest_page, methods=["GET", "POST"],
              name="support_digest_preferences"),
        api_list_templates, api_create_template, api_get_template, api_update_template,
        api_delete_template, api_render_template, api_get_level, api_set_level,
        api_get_digest, api_set_digest,
    ]


