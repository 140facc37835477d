"""Pages, forms and API of flags, the review queue, watched words and moderation settings.

Thin endpoints: parse, one verb of ``flags``, ``review`` or ``watched_words``, render or
redirect. A refused form shows the form again with the reason and its 4xx status; a
refused queue action shows the error page with its status.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.accounts.permissions import current_user, require_user
from forum.moderation import flags, review, watched_words
from forum.moderation.audit import record
from forum.moderation.models import Flag, FlagReason, WordAction
from forum.moderation.schemas import (
    DecisionIn,
    DecisionList,
    DecisionOut,
    FlagIn,
    FlagOut,
    FlagSummary,
    ModerationSettings,
    ModerationSettingsOut,
    ReviewItemOut,
    ReviewList,
    WatchedWordIn,
    WatchedWordList,
    WatchedWordOut,
    load_settings,
    save_settings,
)
from forum.projects.models import Project
from forum.projects.permissions import Action, access_project
from forum.projects.routes import form_data, login_redirect, parse, platform_of, see_other
from forum.topics.access import locate_post
from forum.topics.permissions import Viewer
from forum.topics.routes import topic_url
from forum.web.api import api_route
from forum.web.errors import UserError
from forum.web.templating import flash, render

TAG = "moderation"
REASONS = [(r.value, flags.REASON_LABELS[r]) for r in FlagReason]


async def _project_viewer(request: Request, action: Action = Action.VIEW
                          ) -> tuple[Project, Viewer]:
    user = current_user(request)
    access = await access_project(user, request.path_params["slug"], action)
    return access.project, Viewer.of(access, user)


def _flag_input(form: dict[str, str]) -> FlagIn:
    return parse(FlagIn, {"reason": form.get("reason", ""), "note": form.get("note", "")})


# Flagging a post


async def flag_post_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    found = await locate_post(user, request.path_params["id"])
    values = {"reason": "", "note": ""}
    errors: dict[str, str] = {}
    message, status = "", 200
    if request.method == "POST":
        values = {**values, **await form_data(request)}
        try:
            flagged = await flags.flag_post(platform_of(request), found, _flag_input(values))
        except UserError as exc:
            errors, message, status = dict(exc.fields), exc.message, exc.status
        else:
            flash(request, "Thank you: the post was hidden and waits for a moderator."
                  if flagged.post_hidden else "Thank you: a moderator will look at it.",
                  "success")
            return see_other(topic_url(found.project.slug, found.topic)
                             + f"#post-{found.post.number}")
    return await render(request, "moderation/flag.html", {
        "current_project": found.project, "post": found.post, "topic": found.topic,
        "target_user": None, "action": f"/posts/{found.post.id}/flag",
        "back": topic_url(found.project.slug, found.topic) + f"#post-{found.post.number}",
        "reasons": REASONS, "values": values, "errors": errors, "message": message,
    }, status_code=status)


async def flag_user_page(request: Request) -> Response:
    if current_user(request) is None:
        return login_redirect(request)
    project, viewer = await _project_viewer(request)
    username = request.path_params["username"]
    values = {"reason": "", "note": ""}
    errors: dict[str, str] = {}
    message, status = "", 200
    back = f"/p/{project.slug}/u/{username}"
    if request.method == "POST":
        values = {**values, **await form_data(request)}
        try:
            await flags.flag_user(platform_of(request), viewer, project, username,
                                  _flag_input(values))
        except UserError as exc:
            errors, message, status = dict(exc.fields), exc.message, exc.status
        else:
            flash(request, "Thank you: a moderator will look at it.", "success")
            return see_other(back)
    return await render(request, "moderation/flag.html", {
        "current_project": project, "post": None, "topic": None, "target_user": username,
        "action": f"/p/{project.slug}/u/{username}/flag", "back": back,
        "reasons": REASONS, "values": values, "errors": errors, "message": message,
    }, status_code=status)


async def flag_out(flag: Flag, hidden: bool = False) -> FlagOut:
    await flag.fetch_related("target_user")
    return FlagOut(id=flag.id, target_type=str(flag.target_type),
                   post_id=flag.post_id,  # type: ignore[attr-defined]
                   target_user=flag.target_user.username, reason=flag.reason, note=flag.note,
                   status=str(flag.status), weight=flag.weight, created_at=flag.created_at,
                   post_hidden=hidden)


@api_route("POST", "/api/v1/posts/{id:int}/flags", body=FlagIn, response=FlagOut,
           status=201, errors=(403, 404, 409), tag=TAG)
async def api_flag_post(request: Request, body: FlagIn) -> FlagOut:
    """Flag a post for the moderators (spam, off-topic, inappropriate, conduct, other)."""
    found = await locate_post(require_user(request), request.path_params["id"])
    flagged = await flags.flag_post(platform_of(request), found, body)
    return await flag_out(flagged.flag, flagged.post_hidden)


@api_route("POST", "/api/v1/projects/{slug}/users/{username}/flags", body=FlagIn,
           response=FlagOut, status=201, errors=(403, 404, 409), tag=TAG)
async def api_flag_user(request: Request, body: FlagIn) -> FlagOut:
    """Flag a user's conduct in a project for the moderators."""
    require_user(request)
    project, viewer = await _project_viewer(request)
    flag = await flags.flag_user(platform_of(request), viewer, project,
                                 request.path_params["username"], body)
    return await flag_out(flag)


# The review queue


def entry_out(project: Project, entry: review.QueueEntry) -> ReviewItemOut:
    item, post = entry.item, entry.post
    url = (topic_url(project.slug, entry.topic) + f"#post-{post.number}"
           if post is not None and entry.topic is not None else None)
    return ReviewItemOut(
        id=item.id, kind=str(item.kind), status=str(item.status), reason=item.reason,
        post_id=post.id if post is not None else None, post_url=url,
        post_excerpt=post.source[:500] if post is not None else "",
        post_hidden=post is not None and post.hidden_at is not None,
        target_user=entry.target_user.username,
        claimed_by=entry.claimed_by.username if entry.claimed_by else None,
        claimed_until=item.claimed_until if entry.claimed_by else None,
        created_at=item.created_at,
        flags=[FlagSummary(flagger=u.username, reason=f.reason, note=f.note, weight=f.weight,
                           created_at=f.created_at) for f, u in entry.flags])


async def _reviewer(request: Request) -> tuple[Project, Viewer]:
    project, viewer = await _project_viewer(request)
    await review.require_reviewer(platform_of(request), viewer, project)
    return project, viewer


async def review_page(request: Request) -> Response:
    if current_user(request) is None:
        return login_redirect(request)
    project, viewer = await _reviewer(request)
    entries = await review.pending(project)
    return await render(request, "moderation/review.html", {
        "current_project": project, "entries": entries, "viewer": viewer,
        "reason_labels": flags.REASON_LABELS,
        "topic_url": topic_url, "can_delete": viewer.is_moderator,
    })


async def review_history_page(request: Request) -> Response:
    if current_user(request) is None:
        return login_redirect(request)
    project, _ = await _reviewer(request)
    return await render(request, "moderation/review_history.html", {
        "current_project": project, "decisions": await review.history(project)})


QUEUE_ACTIONS = {"claim", "release", "approve", "reject", "delete"}
DONE = {"claim": "Claimed.", "release": "Released.", "approve": "Approved.",
        "reject": "Rejected.", "delete": "Deleted."}


async def review_action(request: Request) -> Response:
    project, viewer = await _project_viewer(request)
    item = await review.access_item(project, request.path_params["id"])
    action = request.path_params["action"]
    form = await form_data(request)
    platform = platform_of(request)
    if action not in QUEUE_ACTIONS:
        return await render(request, "error.html", {
            "status": 404, "message": "Page not found.", "fields": {}}, status_code=404)
    if action == "claim":
        await review.claim(platform, viewer, project, item)
    elif action == "release":
        await review.release(platform, viewer, project, item)
    else:
        await review.decide(platform, viewer, project, item, action,
                            form.get("note", "")[:500])
    flash(request, DONE[action], "success")
    return see_other(f"/p/{project.slug}/review")


async def _pending_item_out(project: Project, item_id: int) -> ReviewItemOut:
    item = await review.access_item(project, item_id)
    [entry] = await review.queue_entries([item])
    return entry_out(project, entry)


@api_route("GET", "/api/v1/projects/{slug}/review", response=ReviewList,
           errors=(403, 404), tag=TAG)
async def api_review(request: Request) -> ReviewList:
    """The project's pending review items, oldest first."""
    require_user(request)
    project, _ = await _reviewer(request)
    return ReviewList(items=[entry_out(project, e) for e in await review.pending(project)])


@api_route("GET", "/api/v1/projects/{slug}/review/history", response=DecisionList,
           errors=(403, 404), tag=TAG)
async def api_review_history(request: Request) -> DecisionList:
    """The latest claims, releases and decisions in the review queue."""
    require_user(request)
    project, _ = await _reviewer(request)
    return DecisionList(decisions=[
        DecisionOut(id=d.id, item_id=d.item_id, actor=u.username if u else None,  # type: ignore[attr-defined]
                    action=d.action, note=d.note, created_at=d.created_at)
        for d, u in await review.history(project)])


@api_route("POST", "/api/v1/projects/{slug}/review/{id:int}/claim", response=ReviewItemOut,
           errors=(403, 404, 409), tag=TAG)
async def api_review_claim(request: Request) -> ReviewItemOut:
    """Claim a review item so no other moderator works on it meanwhile."""
    require_user(request)
    project, viewer = await _project_viewer(request)
    item = await review.access_item(project, request.path_params["id"])
    await review.claim(platform_of(request), viewer, project, item)
    return await _pending_item_out(project, item.id)


@api_route("POST", "/api/v1/projects/{slug}/review/{id:int}/release", response=ReviewItemOut,
           errors=(403, 404, 409), tag=TAG)
async def api_review_release(request: Request) -> ReviewItemOut:
    """Give up one's claim on a review item."""
    require_user(request)
    project, viewer = await _project_viewer(request)
    item = await review.access_item(project, request.path_params["id"])
    await review.release(platform_of(request), viewer, project, item)
    return await _pending_item_out(project, item.id)


@api_route("POST", "/api/v1/projects/{slug}/review/{id:int}/decision", body=DecisionIn,
           response=ReviewItemOut, errors=(403, 404, 409), tag=TAG)
async def api_review_decide(request: Request, body: DecisionIn) -> ReviewItemOut:
    """Approve, reject or delete a review item's post (or dismiss/agree a user's flags)."""
    require_user(request)
    project, viewer = await _project_viewer(request)
    item = await review.access_item(project, request.path_params["id"])
    await review.decide(platform_of(request), viewer, project, item, body.action, body.note)
    return await _pending_item_out(project, item.id)


# Watched words and moderation settings (project leads)


async def watched_words_page(request: Request) -> Response:
    if current_user(request) is None:
        return login_redirect(request)
    project, _ = await _project_viewer(request, Action.MANAGE_SETTINGS)
    values = {"word": "", "action": "block", "replacement": ""}
    errors: dict[str, str] = {}
    message, status = "", 200
    if request.method == "POST":
        values = {**values, **await form_data(request)}
        try:
            data = parse(WatchedWordIn, values)
            word = await watched_words.add_word(project, require_user(request), data)
        except UserError as exc:
            errors, message, status = dict(exc.fields), exc.message, exc.status
        else:
            flash(request, f'"{word.word}" is watched now.', "success")
            return see_other(f"/p/{project.slug}/settings/watched-words")
    return await render(request, "moderation/watched_words.html", {
        "current_project": project, "words": await watched_words.project_words(project.id),
        "actions": [a.value for a in WordAction], "values": values, "errors": errors,
        "message": message,
    }, status_code=status)


async def watched_word_delete(request: Request) -> Response:
    project, _ = await _project_viewer(request, Action.MANAGE_SETTINGS)
    await watched_words.remove_word(project, require_user(request), request.path_params["id"])
    flash(request, "The word is no longer watched.", "success")
    return see_other(f"/p/{project.slug}/settings/watched-words")


def word_out(word: Any) -> WatchedWordOut:
    return WatchedWordOut(id=word.id, word=word.word, action=word.action,
                          replacement=word.replacement)


@api_route("GET", "/api/v1/projects/{slug}/watched-words", response=WatchedWordList,
           errors=(403, 404), tag=TAG)
async def api_watched_words(request: Request) -> WatchedWordList:
    """The project's watched words."""
    require_user(request)
    project, _ = await _project_viewer(request, Action.MANAGE_SETTINGS)
    return WatchedWordList(words=[word_out(w)
                                  for w in await watched_words.project_words(project.id)])


@api_route("POST", "/api/v1/projects/{slug}/watched-words", body=WatchedWordIn,
           response=WatchedWordOut, status=201, errors=(403, 404, 409), tag=TAG)
async def api_add_watched_word(request: Request, body: WatchedWordIn) -> WatchedWordOut:
    """Watch a word: block posts with it, hold them for review, or replace it."""
    user = require_user(request)
    project, _ = await _project_viewer(request, Action.MANAGE_SETTINGS)
    return word_out(await watched_words.add_word(project, user, body))


@api_route("DELETE", "/api/v1/projects/{slug}/watched-words/{id:int}", status=204,
           errors=(403, 404), tag=TAG)
async def api_remove_watched_word(request: Request) -> None:
    """Stop watching a word."""
    user = require_user(request)
    project, _ = await _project_viewer(request, Action.MANAGE_SETTINGS)
    await watched_words.remove_word(project, user, request.path_params["id"])


async def settings_page(request: Request) -> Response:
    if current_user(request) is None:
        return login_redirect(request)
    project, _ = await _project_viewer(request, Action.MANAGE_SETTINGS)
    current = await load_settings(project.id)
    values = {k: str(v) for k, v in current.model_dump().items()}
    errors: dict[str, str] = {}
    message, status = "", 200
    if request.method == "POST":
        values = {**values, **await form_data(request)}
        try:
            data = parse(ModerationSettings, values)
            await _save_settings(project, require_user(request).id, data)
        except UserError as exc:
            errors, message, status = dict(exc.fields), exc.message, exc.status
        else:
            flash(request, "Moderation settings saved.", "success")
            return see_other(f"/p/{project.slug}/settings/moderation")
    fields = [(name, f.description or name) for name, f in ModerationSettings.model_fields.items()]
    return await render(request, "moderation/settings.html", {
        "current_project": project, "fields": fields, "values": values, "errors": errors,
        "message": message}, status_code=status)


async def _save_settings(project: Project, actor_id: int, data: ModerationSettings) -> None:
    await save_settings(project.id, data)
    await record(project.id, actor_id, "moderation.settings", "project", project.id,
                 data.model_dump())


@api_route("GET", "/api/v1/projects/{slug}/moderation/settings",
           response=ModerationSettingsOut, errors=(403, 404), tag=TAG)
async def api_settings(request: Request) -> ModerationSettingsOut:
    """The project's moderation settings (flag sensitivity, claims, posting limits)."""
    require_user(request)
    project, _ = await _project_viewer(request, Action.MANAGE_SETTINGS)
    return ModerationSettingsOut(**(await load_settings(project.id)).model_dump())


@api_route("PUT", "/api/v1/projects/{slug}/moderation/settings", body=ModerationSettings,
           response=ModerationSettingsOut, errors=(403, 404), tag=TAG)
async def api_save_settings(request: Request, body: ModerationSettings
                            ) -> ModerationSettingsOut:
    """Change the project's moderation settings (omitted fields take their defaults)."""
    user = require_user(request)
    project, _ = await _project_viewer(request, Action.MANAGE_SETTINGS)
    await _save_settings(project, user.id, body)
    return ModerationSettingsOut(**body.model_dump())


def routes() -> list[BaseRoute]:
    return [
        Route("/posts/{id:int}/flag", flag_post_page, methods=["GET", "POST"],
              name="posts_flag"),
        Route("/p/{slug}/u/{username}/flag", flag_user_page, methods=["GET", "POST"],
              name="users_flag"),
        Route("/p/{slug}/review", review_page, name="review_queue"),
        Route("/p/{slug}/review/history", review_history_page, name="review_history"),
        Route("/p/{slug}/review/{id:int}/{action}", review_action, methods=["POST"],
              name="review_action"),
        Route("/p/{slug}/settings/watched-words", watched_words_page,
              methods=["GET", "POST"], name="watched_words"),
        Route("/p/{slug}/settings/watched-words/{id:int}/delete", watched_word_delete,
              methods=["POST"], name="watched_word_delete"),
        Route("/p/{slug}/settings/moderation", settings_page, methods=["GET", "POST"],
              name="moderation_settings"),
        api_flag_post, api_flag_user, api_review, api_review_history, api_review_claim,
        api_review_release, api_review_decide, api_watched_words, api_add_watched_word,
        api_remove_watched_word, api_settings, api_save_settings,
    ]

