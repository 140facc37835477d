"""Pages and API endpoints of penalties, the audit log and terms.

Project pages: ``/p/{slug}/u/{username}/penalties`` (moderators), ``/p/{slug}/my-penalties``
(the penalised user), ``/p/{slug}/audit`` (owner, leads, admins), ``/p/{slug}/terms``.
Platform pages: ``/admin/penalties``, ``/admin/audit``, ``/admin/terms``, ``/terms``.
The JSON API mirrors each of them under ``/api/v1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.accounts.models import User
from forum.accounts.permissions import current_user, require_user
from forum.moderation import audit, penalties, terms
from forum.moderation.penalty_models import Penalty, PenaltyKind, TermsDocument
from forum.moderation.penalty_schemas import (
    AcceptedOut,
    AuditEntryOut,
    AuditPage,
    AuditQuery,
    LiftIn,
    PenaltyIn,
    PenaltyList,
    PenaltyOut,
    PlatformPenaltyIn,
    TermsDocumentOut,
    TermsOut,
    TermsPublishIn,
)
from forum.projects.models import Project
from forum.projects.permissions import Action, ProjectAccess, access_project
from forum.projects.routes import form_data, login_redirect, platform_of, see_other
from forum.web.api import api_route
from forum.web.errors import Forbidden, NotFound, UserError, invalid_from_pydantic
from forum.web.templating import flash, render

TAG = "moderation"
M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Mapping[str, Any]) -> M:
    try:
        return model.model_validate({k: v for k, v in data.items() if k in model.model_fields})
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from None


def path_int(request: Request, name: str) -> int:
    value = int(request.path_params[name])
    if not 0 < value < 2**31:
        raise NotFound()
    return value


def require_platform_admin(user: User) -> User:
    if not user.is_platform_admin:
        raise Forbidden("Only platform admins may do that.")
    return user


# Output


def penalty_out(penalty: Penalty, username: str, project_slug: str | None) -> PenaltyOut:
    return PenaltyOut(
        id=penalty.id, username=username, project=project_slug, kind=penalty.kind,
        reason=penalty.reason, created_at=penalty.created_at, ends_at=penalty.ends_at,
        active=penalties.is_active(penalty), lifted_at=penalty.lifted_at,
        lift_reason=penalty.lift_reason, message=penalties.explain(penalty))


async def penalty_list(items: list[Penalty], username: str | None = None) -> PenaltyList:
    project_ids = {p.project_id for p in items if p.project_id is not None}
    slugs: dict[int, str] = {}
    if project_ids:
        slugs = dict(await Project.filter(id__in=project_ids)
                     .values_list("id", "slug"))
    names: dict[int, str] = {}
    if username is None and items:
        user_ids = {p.user_id for p in items}
        names = dict(await User.filter(id__in=user_ids)
                     .values_list("id", "username"))
    return PenaltyList(penalties=[
        penalty_out(p, username or names.get(p.user_id, ""),
                    slugs.get(p.project_id) if p.project_id is not None else None)
        for p in items])


def entry_out(entry: audit.AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id, project=entry.project.slug if entry.project else None,
        actor=entry.actor.username if entry.actor else None, action=entry.action,
        target_type=entry.target_type, target_id=entry.target_id, detail=entry.detail,
        created_at=entry.created_at)


def document_out(doc: TermsDocument, slug: str | None, accepted: bool) -> TermsDocumentOut:
    return TermsDocumentOut(id=doc.id, project=slug, kind=doc.kind, version=doc.version,
                            source=doc.source, html=doc.cooked,
                            published_at=doc.published_at, accepted=accepted)


# Penalties of one user in a project


async def _moderated_user(request: Request) -> tuple[User, ProjectAccess, User]:
    actor = require_user(request)
    access = await access_project(actor, request.path_params["slug"], Action.MODERATE)
    target = await penalties.access_user(request.path_params["username"])
    return actor, access, target


async def _render_user_penalties(request: Request, access: ProjectAccess, target: User, *,
                                 values: Mapping[str, str] | None = None,
                                 errors: dict[str, str] | None = None, message: str = "",
                                 status: int = 200) -> Response:
    items = await penalties.penalties_of(target.id, access.project.id)
    return await render(request, "moderation/penalties_user.html", {
        "current_project": access.project, "project": access.project, "target": target,
        "penalties": (await penalty_list(items, target.username)).penalties,
        "kinds": list(PenaltyKind), "values": values or {"kind": "silence", "days": "7",
                                                          "reason": ""},
        "errors": errors or {}, "message": message,
    }, status_code=status)


async def user_penalties_page(request: Request) -> Response:
    if current_user(request) is None:
        return login_redirect(request)
    actor, access, target = await _moderated_user(request)
    if request.method == "GET":
        return await _render_user_penalties(request, access, target)
    form = await form_data(request)
    try:
        data = parse(PenaltyIn, form)
        await penalties.check_penalise(
            platform_of(request), actor, target, access,
            penalties.PenaltyDraft(data.kind, data.reason, data.days))
    except UserError as exc:
        if exc.status != 422:
            raise
        return await _render_user_penalties(request, access, target, values=form,
                                            errors=exc.fields, message=exc.message,
                                            status=422)
    flash(request, f"{target.username} is {penalties.VERBS[data.kind]} in this project.",
          "success")
    return see_other(request.url.path)


async def lift_user_penalty(request: Request) -> Response:
    actor, access, target = await _moderated_user(request)
    penalty = await penalties.access_penalty(path_int(request, "id"), project=access.project,
                                             user=target)
    note = parse(LiftIn, await form_data(request)).note
    await penalties.check_lift(platform_of(request), actor, penalty, access, note)
    flash(request, "The penalty is lifted.", "success")
    return see_other(f"/p/{access.project.slug}/u/{target.username}/penalties")


@api_route("GET", "/api/v1/projects/{slug}/users/{username}/penalties", response=PenaltyList,
           errors=(403, 404), tag=TAG)
async def api_user_penalties(request: Request) -> PenaltyList:
    """A user's penalties in the project and on the platform (moderators)."""
    _, access, target = await _moderated_user(request)
    return await penalty_list(await penalties.penalties_of(target.id, access.project.id),
                              target.username)


@api_route("POST", "/api/v1/projects/{slug}/users/{username}/penalties", body=PenaltyIn,
           response=PenaltyOut, status=201, errors=(403, 404), tag=TAG)
async def api_penalise(request: Request, body: PenaltyIn) -> PenaltyOut:
    """Silence, suspend or ban a user in the project (moderators)."""
    actor, access, target = await _moderated_user(request)
    penalty = await penalties.check_penalise(
        platform_of(request), actor, target, access,
        penalties.PenaltyDraft(body.kind, body.reason, body.days))
    return penalty_out(penalty, target.username, access.project.slug)


@api_route("POST", "/api/v1/projects/{slug}/users/{username}/penalties/{id:int}/lift",
           body=LiftIn, response=PenaltyOut, errors=(403, 404, 409), tag=TAG)
async def api_lift(request: Request, body: LiftIn) -> PenaltyOut:
    """Lift a project penalty before it ends (moderators)."""
    actor, access, target = await _moderated_user(request)
    penalty = await penalties.access_penalty(path_int(request, "id"), project=access.project,
                                             user=target)
    penalty = await penalties.check_lift(platform_of(request), actor, penalty, access,
                                         body.note)
    return penalty_out(penalty, target.username, access.project.slug)


# The penalised user's own view


async def my_penalties_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await access_project(user, request.path_params["slug"])
    items = await penalties.penalties_of(user.id, access.project.id)
    return await render(request, "moderation/penalties_mine.html", {
        "current_project": access.project, "project": access.project,
        "penalties": (await penalty_list(items, user.username)).penalties})


@api_route("GET", "/api/v1/projects/{slug}/my-penalties", response=PenaltyList,
           errors=(404,), tag=TAG)
async def api_my_penalties(request: Request) -> PenaltyList:
    """Your own penalties in the project and on the platform: why and until when."""
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"])
    return await penalty_list(await penalties.penalties_of(user.id, access.project.id),
                              user.username)


# Platform-wide penalties (admins)


async def _render_admin_penalties(request: Request, *, values: Mapping[str, str] | None = None,
                                  errors: dict[str, str] | None = None, message: str = "",
                                  status: int = 200) -> Response:
    items = await penalties.platform_penalties(active_only=False)
    return await render(request, "moderation/penalties_admin.html", {
        "penalties": (await penalty_list(items)).penalties, "kinds": list(PenaltyKind),
        "values": values or {"kind": "suspend", "days": "7", "reason": "", "username": ""},
        "errors": errors or {}, "message": message,
    }, status_code=status)


async def admin_penalties_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    require_platform_admin(user)
    if request.method == "GET":
        return await _render_admin_penalties(request)
    form = await form_data(request)
    try:
        data = parse(PlatformPenaltyIn, form)
        target = await penalties.access_user(data.username)
        await penalties.check_penalise(
            platform_of(request), user, target, None,
            penalties.PenaltyDraft(data.kind, data.reason, data.days))
    except UserError as exc:
        if exc.status not in (404, 422):
            raise
        errors = exc.fields or ({"username": exc.message} if exc.status == 404 else {})
        return await _render_admin_penalties(request, values=form, errors=errors,
                                             message=exc.message, status=exc.status)
    flash(request, f"{target.username} is {penalties.VERBS[data.kind]} on the platform.",
          "success")
    return see_other("/admin/penalties")


async def admin_lift(request: Request) -> Response:
    user = require_platform_admin(require_user(request))
    penalty = await penalties.access_penalty(path_int(request, "id"), project=None)
    note = parse(LiftIn, await form_data(request)).note
    await penalties.check_lift(platform_of(request), user, penalty, None, note)
    flash(request, "The penalty is lifted.", "success")
    return see_other("/admin/penalties")


@api_route("GET", "/api/v1/admin/penalties", response=PenaltyList, errors=(403,), tag=TAG)
async def api_admin_penalties(request: Request) -> PenaltyList:
    """Platform-wide penalties, newest first (admins)."""
    require_platform_admin(require_user(request))
    active_only = request.query_params.get("active", "") in ("1", "true")
    return await penalty_list(await penalties.platform_penalties(active_only=active_only))


@api_route("POST", "/api/v1/admin/penalties", body=PlatformPenaltyIn, response=PenaltyOut,
           status=201, errors=(403, 404), tag=TAG)
async def api_admin_penalise(request: Request, body: PlatformPenaltyIn) -> PenaltyOut:
    """Silence, suspend or ban a user on the whole platform (admins)."""
    actor = require_user(request)
    require_platform_admin(actor)
    target = await penalties.access_user(body.username)
    penalty = await penalties.check_penalise(
        platform_of(request), actor, target, None,
        penalties.PenaltyDraft(body.kind, body.reason, body.days))
    return penalty_out(penalty, target.username, None)


@api_route("POST", "/api/v1/admin/penalties/{id:int}/lift", body=LiftIn,
           response=PenaltyOut, errors=(403, 404, 409), tag=TAG)
async def api_admin_lift(request: Request, body: LiftIn) -> PenaltyOut:
    """Lift a platform-wide penalty before it ends (admins)."""
    actor = require_platform_admin(require_user(request))
    penalty = await penalties.access_penalty(path_int(request, "id"), project=None)
    penalty = await penalties.check_lift(platform_of(request), actor, penalty, None,
                                         body.note)
    target = await User.get(id=penalty.user_id)
    return penalty_out(penalty, target.username, None)


# The audit log


def _day(value: Any) -> datetime:
    return datetime.combine(value, time.min, tzinfo=UTC)


async def audit_page_of(request: Request, project: Project | None) -> AuditPage:
    filters = parse(AuditQuery, request.query_params)
    actor_id: int | None = None
    if filters.actor:
        actor = await User.get_or_none(username_lower=filters.actor.lower())
        actor_id = actor.id if actor else -1
    project_id = project.id if project else None
    platform_only = False
    if project is None and filters.project:
        if filters.project == "platform":
            platform_only = True
        else:
            chosen = await Project.get_or_none(slug=filters.project)
            project_id = chosen.id if chosen else -1
    rows, next_before = await audit.search(
        project_id=project_id, platform_only=platform_only, actor_id=actor_id,
        action=filters.action, target_type=filters.target_type, target_id=filters.target_id,
        since=_day(filters.since) if filters.since else None,
        until=_day(filters.until) + timedelta(days=1) if filters.until else None,
        before=filters.before)
    return AuditPage(entries=[entry_out(e) for e in rows], next_before=next_before)


def _next_url(request: Request, before: int | None) -> str | None:
    if before is None:
        return None
    params = dict(request.query_params)
    params["before"] = str(before)
    return str(request.url.replace_query_params(**params))


async def _audit_project(request: Request) -> ProjectAccess:
    return await access_project(require_user(request), request.path_params["slug"],
                                Action.MANAGE_SETTINGS)


async def project_audit_page(request: Request) -> Response:
    if current_user(request) is None:
        return login_redirect(request)
    access = await _audit_project(request)
    page = await audit_page_of(request, access.project)
    return await render(request, "moderation/audit.html", {
        "current_project": access.project, "project": access.project, "page": page,
        "filters": dict(request.query_params), "next_url": _next_url(request, page.next_before),
        "action_url": f"/p/{access.project.slug}/audit"})


async def admin_audit_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    require_platform_admin(user)
    page = await audit_page_of(request, None)
    return await render(request, "moderation/audit.html", {
        "project": None, "page": page, "filters": dict(request.query_params),
        "next_url": _next_url(request, page.next_before), "action_url": "/admin/audit"})


@api_route("GET", "/api/v1/projects/{slug}/audit", response=AuditPage, errors=(403, 404, 422),
           tag=TAG)
async def api_project_audit(request: Request) -> AuditPage:
    """The project's audit log, newest first (owner, leads, admins). Query parameters:
    actor, action (a prefix), target_type, target_id, since, until, before."""
    access = await _audit_project(request)
    return await audit_page_of(request, access.project)


@api_route("GET", "/api/v1/admin/audit", response=AuditPage, errors=(403, 422), tag=TAG)
async def api_admin_audit(request: Request) -> AuditPage:
    """The whole platform's audit log (admins); ``project`` filters by slug, or
    ``platform`` for platform-wide actions only."""
    require_platform_admin(require_user(request))
    return await audit_page_of(request, None)


# Terms and code of conduct


async def _terms_out(user: User | None, project: Project | None) -> TermsOut:
    current = await terms.current_documents(user.id if user else None,
                                            project.id if project else None)
    slug = project.slug if project else None
    return TermsOut(documents=[
        document_out(c.document, None if c.is_platform else slug, c.accepted)
        for c in current], all_accepted=all(c.accepted for c in current))


async def _terms_project(request: Request) -> ProjectAccess:
    return await access_project(current_user(request), request.path_params["slug"])


async def project_terms_page(request: Request) -> Response:
    access = await _terms_project(request)
    user = current_user(request)
    return await render(request, "moderation/terms.html", {
        "current_project": access.project, "project": access.project,
        "documents": await terms.current_documents(user.id if user else None,
                                                   access.project.id),
        "accept_url": f"/p/{access.project.slug}/terms/accept",
        "publish_url": (f"/p/{access.project.slug}/terms/publish"
                        if user and access.can(Action.MANAGE_SETTINGS) else None)})


async def platform_terms_page(request: Request) -> Response:
    user = current_user(request)
    return await render(request, "moderation/terms.html", {
        "project": None, "documents": await terms.current_documents(
            user.id if user else None, None),
        "accept_url": "/terms/accept",
        "publish_url": "/admin/terms" if user and user.is_platform_admin else None})


async def accept_project_terms(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await _terms_project(request)
    accepted = await terms.do_accept(user, access.project.id)
    flash(request, "Thank you: you accepted the current terms." if accepted
          else "You had already accepted the current terms.", "success")
    return see_other(f"/p/{access.project.slug}/terms")


async def accept_platform_terms(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    accepted = await terms.do_accept(user, None)
    flash(request, "Thank you: you accepted the current terms." if accepted
          else "You had already accepted the current terms.", "success")
    return see_other("/terms")


async def _publish_form(request: Request, access: ProjectAccess | None) -> Response:
    user = require_user(request)
    terms.require_publisher(user, access)
    project = access.project if access else None
    back = f"/p/{project.slug}/terms" if project else "/terms"
    values: Mapping[str, str] = {"kind": "code_of_conduct", "source": ""}
    errors: dict[str, str] = {}
    message = ""
    if request.method == "POST":
        values = await form_data(request)
        try:
            data = parse(TermsPublishIn, values)
            doc = await terms.check_publish(platform_of(request), user, access, data.kind,
                                            data.source)
        except UserError as exc:
            if exc.status != 422:
                raise
            errors, message = exc.fields, exc.message
        else:
            flash(request, f"{terms.KIND_TITLES[doc.kind]} version {doc.version} is "
                  "published.", "success")
            return see_other(back)
    current = await terms.current_documents(user.id, project.id if project else None)
    latest = {c.document.kind.value: c.document.source for c in current
              if c.is_platform == (project is None)}
    return await render(request, "moderation/terms_publish.html", {
        "current_project": project, "project": project, "values": values, "errors": errors,
        "message": message, "latest": latest, "back": back,
    }, status_code=422 if errors or message else 200)


async def project_publish_page(request: Request) -> Response:
    if current_user(request) is None:
        return login_redirect(request)
    access = await access_project(require_user(request), request.path_params["slug"],
                                  Action.MANAGE_SETTINGS)
    return await _publish_form(request, access)


async def admin_publish_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    require_platform_admin(user)
    return await _publish_form(request, None)


@api_route("GET", "/api/v1/projects/{slug}/terms", response=TermsOut, auth=False,
           errors=(404,), tag=TAG)
async def api_project_terms(request: Request) -> TermsOut:
    """The current terms and code of conduct of the platform and the project, and whether
    you accepted them."""
    access = await _terms_project(request)
    return await _terms_out(current_user(request), access.project)


@api_route("POST", "/api/v1/projects/{slug}/terms/accept", response=AcceptedOut,
           errors=(404,), tag=TAG)
async def api_accept_project_terms(request: Request) -> AcceptedOut:
    """Accept the current versions of the platform's and the project's documents."""
    user = require_user(request)
    access = await _terms_project(request)
    docs = await terms.do_accept(user, access.project.id)
    return AcceptedOut(accepted=[
        document_out(d, None if d.project_id is None else access.project.slug, True)
        for d in docs])


@api_route("POST", "/api/v1/projects/{slug}/terms", body=TermsPublishIn,
           response=TermsDocumentOut, status=201, errors=(403, 404), tag=TAG)
async def api_publish_project_terms(request: Request, body: TermsPublishIn) -> TermsDocumentOut:
    """Publish a new version of the project's terms or code of conduct (owner, leads)."""
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"], Action.MANAGE_SETTINGS)
    doc = await terms.check_publish(platform_of(request), user, access, body.kind,
                                    body.source)
    return document_out(doc, access.project.slug, True)


@api_route("GET", "/api/v1/terms", response=TermsOut, auth=False, tag=TAG)
async def api_platform_terms(request: Request) -> TermsOut:
    """The platform's current terms and code of conduct."""
    return await _terms_out(current_user(request), None)


@api_route("POST", "/api/v1/terms/accept", response=AcceptedOut, tag=TAG)
async def api_accept_platform_terms(request: Request) -> AcceptedOut:
    """Accept the current versions of the platform's documents."""
    user = require_user(request)
    docs = await terms.do_accept(user, None)
    return AcceptedOut(accepted=[document_out(d, None, True) for d in docs])


@api_route("POST", "/api/v1/admin/terms", body=TermsPublishIn, response=TermsDocumentOut,
           status=201, errors=(403,), tag=TAG)
async def api_publish_platform_terms(request: Request, body: TermsPublishIn
                                     ) -> TermsDocumentOut:
    """Publish a new version of the platform's terms or code of conduct (admins)."""
    user = require_user(request)
    doc = await terms.check_publish(platform_of(request), user, None, body.kind, body.source)
    return document_out(doc, None, True)


def routes() -> list[BaseRoute]:
    user_base = "/p/{slug}/u/{username}/penalties"
    return [
        Route(user_base, user_penalties_page, methods=["GET", "POST"],
              name="moderation_user_penalties"),
        Route(user_base + "/{id:int}/lift", lift_user_penalty, methods=["POST"],
              name="moderation_lift_penalty"),
        Route("/p/{slug}/my-penalties", my_penalties_page, name="moderation_my_penalties"),
        Route("/admin/penalties", admin_penalties_page, methods=["GET", "POST"],
              name="moderation_admin_penalties"),
        Route("/admin/penalties/{id:int}/lift", admin_lift, methods=["POST"],
              name="moderation_admin_lift"),
        Route("/p/{slug}/audit", project_audit_page, name="moderation_audit"),
        Route("/admin/audit", admin_audit_page, name="moderation_admin_audit"),
        Route("/p/{slug}/terms", project_terms_page, name="moderation_terms"),
        Route("/p/{slug}/terms/accept", accept_project_terms, methods=["POST"],
              name="moderation_terms_accept"),
        Route("/p/{slug}/terms/publish", project_publish_page, methods=["GET", "POST"],
              name="moderation_terms_publish"),
        Route("/terms", platform_terms_page, name="moderation_platform_terms"),
        Route("/terms/accept", accept_platform_terms, methods=["POST"],
              name="moderation_platform_terms_accept"),
        Route("/admin/terms", admin_publish_page, methods=["GET", "POST"],
              name="moderation_admin_terms"),
        api_user_penalties, api_penalise, api_lift, api_my_penalties,
        api_admin_penalties, api_admin_penalise, api_admin_lift,
        api_project_audit, api_admin_audit,
        api_project_terms, api_accept_project_terms, api_publish_project_terms,
        api_platform_terms, api_accept_platform_terms, api_publish_platform_terms,
    ]
