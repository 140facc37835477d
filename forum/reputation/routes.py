"""Reputation pages and their JSON twins: privileges, leaderboards, a user's history and
the project's rules (owners and leads).

Every page starts from ``access_project`` (a members-only project is a 404 to outsiders)
and shows only posts the viewer may read; who cast a vote is shown to moderators only.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.accounts.models import User
from forum.accounts.permissions import current_user, require_user
from forum.projects.permissions import Action, ProjectAccess, access_project
from forum.reputation import service
from forum.reputation.models import ReputationEntry
from forum.reputation.privileges import privilege_table
from forum.reputation.schemas import (
    PRIVILEGE_LABELS,
    EntryOut,
    HistoryOut,
    LeaderboardOut,
    LeaderboardRow,
    Privilege,
    PrivilegeOut,
    PrivilegesOut,
    ReputationSettings,
)
from forum.topics.models import Post, Topic
from forum.topics.permissions import Viewer, read_scope
from forum.web.api import api_route
from forum.web.errors import Forbidden, NotFound, invalid_from_pydantic
from forum.web.templating import flash, render

TAG = "reputation"
SCALAR_FIELDS = [name for name in ReputationSettings.model_fields if name != "thresholds"]
FIELD_LABELS = {
    "question_upvote": "Question voted up", "answer_upvote": "Answer voted up",
    "downvoted": "Post voted down (lost by its author)",
    "downvote_cost": "Voting an answer down (lost by the voter)",
    "accepted": "Answer accepted", "accepter": "Accepting an answer (the asker)",
    "daily_cap": "Daily cap from up-votes", "floor": "Lowest reputation",
    "new_user_hours": "New users: account younger than (hours)",
    "new_user_max_topics": "New users: topics on the first day",
    "new_user_max_replies": "New users: replies on the first day",
    "new_user_max_links": "New users: links per post",
    "new_user_max_mentions": "New users: mentions per post",
    "vote_lock_minutes": "Votes lock after (minutes)",
    "votes_per_day": "New votes per user per UTC day",
    "serial_vote_count": "Serial voting: votes on one person's posts",
    "serial_vote_window_hours": "Serial voting: within (hours)",
    "downvote_ratio_min_votes": "Down-vote limit: after this many votes",
    "downvote_ratio_max": "Down-vote limit: largest share of down-votes (0-1)",
}


async def _access(request: Request, action: Action = Action.VIEW
                  ) -> tuple[ProjectAccess, Viewer]:
    user = current_user(request)
    access = await access_project(user, request.path_params["slug"], action)
    return access, Viewer.of(access, user)


# Privileges


async def privileges_out(access: ProjectAccess, viewer: Viewer) -> PrivilegesOut:
    have, rows = await privilege_table(access.project.id, viewer.user_id, viewer.is_team)
    return PrivilegesOut(
        project=access.project.slug, reputation=have, is_staff=viewer.is_team,
        privileges=[PrivilegeOut(name=r.privilege, label=r.label, threshold=r.threshold,
                                 held=r.held) for r in rows])


async def privileges_page(request: Request) -> Response:
    access, viewer = await _access(request)
    out = await privileges_out(access, viewer)
    return await render(request, "reputation/privileges.html", {
        "current_project": access.project, "project": access.project, "view": out})


@api_route("GET", "/api/v1/projects/{slug}/privileges", response=PrivilegesOut, auth=False,
           errors=(404,), tag=TAG)
async def api_privileges(request: Request) -> PrivilegesOut:
    """The privileges of a project, their thresholds and which the caller holds."""
    access, viewer = await _access(request)
    return await privileges_out(access, viewer)


# Leaderboards


async def leaderboard_out(request: Request, access: ProjectAccess) -> LeaderboardOut:
    period, by = service.parse_board(request.query_params.get("period"),
                                     request.query_params.get("by"))
    rows = await service.leaderboard(access.project.id, period, by)
    return LeaderboardOut(project=access.project.slug, period=period.value, by=by.value,
                          rows=[LeaderboardRow(rank=i, username=name, value=value)
                                for i, (_, name, value) in enumerate(rows, 1)])


async def leaderboard_page(request: Request) -> Response:
    access, _ = await _access(request)
    out = await leaderboard_out(request, access)
    return await render(request, "reputation/leaderboard.html", {
        "current_project": access.project, "project": access.project, "board": out,
        "periods": [p.value for p in service.Period], "boards": [b.value for b in service.Board]})


@api_route("GET", "/api/v1/projects/{slug}/leaderboard", response=LeaderboardOut, auth=False,
           errors=(404, 422), tag=TAG)
async def api_leaderboard(request: Request) -> LeaderboardOut:
    """Top users by reputation gained or accepted answers (period: week, month, year, all;
    by: reputation, accepted)."""
    access, _ = await _access(request)
    return await leaderboard_out(request, access)


# A user's history


async def _post_urls(viewer: Viewer, project_id: int, slug: str, post_ids: set[int]
                     ) -> dict[int, str]:
    """Links to the posts among ``post_ids`` the viewer may read (no titles: the id only)."""
    if not post_ids:
        return {}
    scope = await read_scope(viewer, project_id)
    posts = await Post.filter(id__in=list(post_ids)).values_list(
        "id", "topic_id", "number", "deleted_at")
    topics = {t.id: t for t in await Topic.filter(
        id__in=list({p[1] for p in posts}), project_id=project_id)}
    urls: dict[int, str] = {}
    for post_id, topic_id, number, deleted in posts:
        topic = topics.get(topic_id)
        if topic is None or topic.category_id not in scope.category_ids:  # type: ignore[attr-defined]
            continue
        if topic.is_private and not (scope.see_private
                                     or topic.author_id == scope.user_id):  # type: ignore[attr-defined]
            continue
        if (topic.deleted_at is not None or deleted is not None) and not scope.see_deleted:
            continue
        urls[int(post_id)] = f"/p/{slug}/t/{topic_id}#post-{number}"
    return urls


async def history_out(request: Request, access: ProjectAccess, viewer: Viewer) -> HistoryOut:
    username = request.path_params["username"]
    person = await User.get_or_none(username_lower=username.lower(), is_active=True)
    if person is None:
        raise NotFound("No such user.")
    before = service.parse_cursor(request.query_params.get("before"))
    project = access.project
    entries, cursor = await service.history(project.id, person.id, before)
    urls = await _post_urls(viewer, project.id, project.slug,
                            {e.post_id for e in entries if e.post_id is not None})
    voters: dict[int, str] = {}
    if viewer.is_moderator:
        voters = dict(await User.filter(id__in=list(
            {e.voter_id for e in entries if e.voter_id is not None})).values_list(
            "id", "username"))
    return HistoryOut(
        project=project.slug, username=person.username,
        reputation=await service.reputation_of(project.id, person.id),
        entries=[_entry_out(e, urls, voters) for e in entries], next_cursor=cursor)


def _entry_out(entry: ReputationEntry, urls: dict[int, str], voters: dict[int, str]
               ) -> EntryOut:
    return EntryOut(id=entry.id, delta=entry.delta, reason=entry.reason,
                    post_id=entry.post_id if entry.post_id in urls else None,
                    post_url=urls.get(entry.post_id) if entry.post_id is not None else None,
                    voter=voters.get(entry.voter_id) if entry.voter_id is not None else None,
                    created_at=entry.created_at)


async def history_page(request: Request) -> Response:
    access, viewer = await _access(request)
    out = await history_out(request, access, viewer)
    next_url = f"{request.url.path}?before={out.next_cursor}" if out.next_cursor else None
    return await render(request, "reputation/history.html", {
        "current_project": access.project, "project": access.project, "history": out,
        "is_moderator": viewer.is_moderator, "next_url": next_url})


@api_route("GET", "/api/v1/projects/{slug}/users/{username}/reputation", response=HistoryOut,
           auth=False, errors=(404, 422), tag=TAG)
async def api_history(request: Request) -> HistoryOut:
    """A user's reputation and its ledger in the project, newest first (``before`` pages)."""
    access, viewer = await _access(request)
    return await history_out(request, access, viewer)


# The project's rules


async def settings_page(request: Request) -> Response:
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"], Action.MANAGE_SETTINGS)
    rules = await service.rules_of(access.project.id)
    errors: dict[str, str] = {}
    values: dict[str, Any] = rules.model_dump()
    if request.method == "POST":
        form = await request.form()
        data: dict[str, Any] = {name: form.get(name, "") for name in SCALAR_FIELDS}
        data["thresholds"] = {p.value: form.get(f"threshold_{p.value}", "") for p in Privilege}
        try:
            chosen = ReputationSettings.model_validate(data)
        except ValidationError as exc:
            errors = invalid_from_pydantic(exc).fields
            values = {**data, "thresholds": {Privilege(k): v
                                             for k, v in data["thresholds"].items()}}
        else:
            await service.check_update_rules(access, chosen)
            flash(request, "Reputation rules saved.", "success")
            return RedirectResponse(request.url.path, status_code=303)
    return await render(request, "reputation/settings.html", {
        "current_project": access.project, "project": access.project, "values": values,
        "fields": [(name, FIELD_LABELS.get(name, name)) for name in SCALAR_FIELDS],
        "privileges": [(p, PRIVILEGE_LABELS[p]) for p in Privilege], "errors": errors,
    }, status_code=422 if errors else 200)


async def _rules_access(request: Request) -> ProjectAccess:
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"], Action.VIEW)
    if not service.can_configure(access):
        raise Forbidden("Only a project owner or lead may see and change the reputation "
                        "rules.")
    return access


@api_route("GET", "/api/v1/projects/{slug}/settings/reputation", response=ReputationSettings,
           errors=(403, 404), tag=TAG)
async def api_get_rules(request: Request) -> ReputationSettings:
    """The project's reputation rules (owners and leads)."""
    access = await _rules_access(request)
    return await service.rules_of(access.project.id)


@api_route("PUT", "/api/v1/projects/{slug}/settings/reputation", body=ReputationSettings,
           response=ReputationSettings, errors=(403, 404), tag=TAG)
async def api_put_rules(request: Request, body: ReputationSettings) -> ReputationSettings:
    """Replace the project's reputation rules (owners and leads); omitted fields take the
    defaults."""
    access = await _rules_access(request)
    return await service.check_update_rules(access, body)


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/privileges", privileges_page, name="reputation_privileges"),
        Route("/p/{slug}/leaderboard", leaderboard_page, name="reputation_leaderboard"),
        Route("/p/{slug}/u/{username}/reputation", history_page, name="reputation_history"),
        Route("/p/{slug}/settings/reputation", settings_page, methods=["GET", "POST"],
              name="reputation_settings"),
        api_privileges, api_leaderboard, api_history, api_get_rules, api_put_rules,
    ]

