"""Notification pages (list, bell count, preferences), watch forms and the JSON API."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.accounts.permissions import current_user, require_user
from forum.notifications import service
from forum.notifications.models import EMAIL_FIELD, Notification, WatchLevel
from forum.notifications.schemas import (
    MarkReadIn,
    MarkReadOut,
    NotificationList,
    NotificationOut,
    PreferencesIn,
    PreferencesOut,
    WatchIn,
    WatchOut,
)
from forum.web.api import api_route
from forum.web.errors import Invalid
from forum.web.templating import flash, render

TAG = "notifications"
PREFERENCE_FIELDS = sorted(set(EMAIL_FIELD.values()))
PREFERENCE_LABELS = {
    "email_mentions": "Someone mentions me",
    "email_replies": "Someone replies to me",
    "email_quotes": "Someone quotes me",
    "email_accepted": "My answer is accepted",
    "email_votes": "Someone votes on my post",
    "email_watching": "New posts and topics I watch",
    "email_badges": "I earn a badge",
}


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return see_other(f"/login?{urlencode({'next': target})}")


def parse_cursor(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise Invalid("The cursor is not valid.", fields={"cursor": "Not a valid cursor."})
    return int(raw)


async def form_level(request: Request) -> WatchLevel:
    form = await request.form()
    raw = form.get("level")
    try:
        return WatchLevel(str(raw))
    except ValueError:
        choices = ", ".join(level.value for level in WatchLevel)
        raise Invalid(f"Choose a level: {choices}.",
                      fields={"level": "Not a watch level."}) from None


# Pages


async def notifications_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    before = parse_cursor(request.query_params.get("before"))
    rows = await service.list_notifications(user, before=before,
                                            limit=service.PAGE_SIZE + 1)
    more = len(rows) > service.PAGE_SIZE
    rows = rows[:service.PAGE_SIZE]
    items = [{"id": n.id, "summary": service.describe(n), "unread": n.read_at is None,
              "created_at": n.created_at, "kind": n.kind} for n in rows]
    return await render(request, "notifications/list.html", {
        "items": items, "unread": await service.unread_count(user),
        "next_before": rows[-1].id if more and rows else None,
    })


async def mark_all_read(request: Request) -> Response:
    user = require_user(request)
    await service.do_mark_read(user)
    flash(request, "All notifications marked read.", "success")
    return see_other("/notifications")


async def open_notification(request: Request) -> Response:
    """Follow a notification to its post, marking it read on the way."""
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    notification = await service.access_notification(user, request.path_params["id"])
    await service.do_mark_read(user, [notification.id])
    return see_other(service.post_url(notification))


async def unread_count_fragment(request: Request) -> Response:
    """The bell's badge, loaded by htmx from the header."""
    user = current_user(request)
    count = 0 if user is None else await service.unread_count(user)
    # Polled every minute: rendered alone, without the layout's context queries.
    template = request.app.state.templates.get_template("notifications/count.html")
    return HTMLResponse(template.render(count=count), headers={"Cache-Control": "no-store"})


async def preferences_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    if request.method == "POST":
        form = await request.form()
        values: dict[str, object] = {name: form.get(name) == "on" for name in PREFERENCE_FIELDS}
        values["email_frequency"] = form.get("email_frequency", "immediately")
        body = PreferencesIn.model_validate(values)
        await service.do_save_preferences(user, body.model_dump(exclude_none=True))
        flash(request, "Notification preferences saved.", "success")
        return see_other("/notifications/preferences")
    pref = await service.preferences(user)
    return await render(request, "notifications/preferences.html", {
        "pref": pref, "fields": [(n, PREFERENCE_LABELS[n]) for n in PREFERENCE_FIELDS]})


TOPIC_LEVELS = [
    (WatchLevel.WATCHING, "Watching: every new post"),
    (WatchLevel.TRACKING, "Tracking: when mentioned or replied to, with unread counts"),
    (WatchLevel.NORMAL, "Normal: when mentioned or replied to"),
    (WatchLevel.MUTED, "Muted: never"),
]
CATEGORY_LEVELS = [
    (WatchLevel.WATCHING, "Watching: every new topic and post"),
    (WatchLevel.TRACKING, "Tracking: when mentioned or replied to, with unread counts"),
    (WatchLevel.NORMAL, "Normal: when mentioned or replied to"),
    (WatchLevel.MUTED, "Muted: never, for every topic here"),
]


async def watch_topic_fragment(request: Request) -> Response:
    """The watch-level form of a topic page (loaded by htmx); empty for visitors."""
    user = current_user(request)
    level = WatchLevel.NORMAL
    if user is not None:
        _, topic, _ = await service.access_topic(user, request.path_params["id"],
                                                 request.path_params["slug"])
        level = await service.topic_level(user, topic)
    return await render(request, "notifications/watch_form.html", {
        "action": request.url.path, "level": level, "levels": TOPIC_LEVELS,
        "scope": "topic", "help": "Replying to a topic tracks it."},
        headers={"Cache-Control": "no-store"})


async def watch_category_fragment(request: Request) -> Response:
    """The watch-level form of a category page (loaded by htmx); empty for visitors."""
    user = current_user(request)
    level = WatchLevel.NORMAL
    if user is not None:
        _, category = await service.access_category(user, request.path_params["slug"],
                                                    request.path_params["category"])
        level = await service.category_level(user, category)
    return await render(request, "notifications/watch_form.html", {
        "action": request.url.path, "level": level, "levels": CATEGORY_LEVELS,
        "scope": "category", "help": "Its topics follow this unless you set one yourself."},
        headers={"Cache-Control": "no-store"})


async def unsubscribe(request: Request) -> Response:
    """The link in every notification email: confirm, then stop notification emails."""
    settings = request.app.state.platform.settings
    if request.method == "POST":
        form = await request.form()
        token = str(form.get("token", ""))
    else:
        token = request.query_params.get("token", "")
    user = await service.access_unsubscribe(settings, token)
    done = request.method == "POST"
    if done:
        await service.do_save_preferences(user, {"email_frequency": "never"})
    return await render(request, "notifications/unsubscribe.html",
                        {"token": token, "done": done, "email": user.email})


async def watch_topic_form(request: Request) -> Response:
    if request.method == "GET":
        return await watch_topic_fragment(request)
    user = require_user(request)
    level = await form_level(request)
    project, topic, _ = await service.access_topic(user, request.path_params["id"],
                                                   request.path_params["slug"])
    await service.do_watch_topic(user, topic, level)
    flash(request, f"You are now {level.value} this topic." if level != WatchLevel.NORMAL
          else "Notifications for this topic are back to normal.", "success")
    return see_other(f"/p/{project.slug}/t/{topic.id}-{topic.slug}")


async def watch_category_form(request: Request) -> Response:
    if request.method == "GET":
        return await watch_category_fragment(request)
    user = require_user(request)
    level = await form_level(request)
    project, category = await service.access_category(user, request.path_params["slug"],
                                                      request.path_params["category"])
    await service.do_watch_category(user, category, level)
    flash(request, f"Category notifications: {level.value}.", "success")
    return see_other(f"/p/{project.slug}/c/{category.slug}")


# API


def notification_out(n: Notification) -> NotificationOut:
    data = n.data
    return NotificationOut(
        id=n.id, kind=n.kind, project=str(data.get("project_slug", "")),
        topic_id=n.topic_id, post_id=n.post_id,  # type: ignore[attr-defined]
        post_number=data.get("post_number"),
        actor=data.get("actor") or None,
        summary=service.describe(n), url=service.post_url(n), data=data,
        created_at=n.created_at, read_at=n.read_at)


@api_route("GET", "/api/v1/notifications", response=NotificationList, errors=(422,), tag=TAG)
async def api_list(request: Request) -> NotificationList:
    """Your notifications, newest first (?unread=1 for unread only; ?cursor= pages on)."""
    user = require_user(request)
    unread_only = request.query_params.get("unread", "") in {"1", "true", "yes"}
    before = parse_cursor(request.query_params.get("cursor"))
    raw_limit = request.query_params.get("limit", str(service.PAGE_SIZE))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise Invalid("limit must be 1 to 100.", fields={"limit": "Between 1 and 100."})
    limit = int(raw_limit)
    rows = await service.list_notifications(user, unread_only=unread_only, before=before,
                                            limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return NotificationList(
        notifications=[notification_out(n) for n in rows],
        unread_count=await service.unread_count(user),
        next_cursor=str(rows[-1].id) if more and rows else None)


@api_route("GET", "/api/v1/notifications/{id:int}", response=NotificationOut, errors=(404,),
           tag=TAG)
async def api_get(request: Request) -> NotificationOut:
    """One of your notifications (404 for anyone else's)."""
    user = require_user(request)
    return notification_out(await service.access_notification(user, request.path_params["id"]))


@api_route("POST", "/api/v1/notifications/read", body=MarkReadIn, response=MarkReadOut,
           errors=(404,), tag=TAG)
async def api_mark_read(request: Request, body: MarkReadIn) -> MarkReadOut:
    """Mark notifications read: {"ids": [...]} (all yours, else 404) or {"all": true}."""
    user = require_user(request)
    if body.all:
        marked = await service.do_mark_read(user)
    else:
        marked = await service.check_mark_read(user, body.ids)
    return MarkReadOut(marked=marked, unread_count=await service.unread_count(user))


def preferences_out(pref: object) -> PreferencesOut:
    return PreferencesOut.model_validate(pref, from_attributes=True)


@api_route("GET", "/api/v1/notifications/preferences", response=PreferencesOut, tag=TAG)
async def api_get_preferences(request: Request) -> PreferencesOut:
    """Which notifications you also receive by email."""
    user = require_user(request)
    return preferences_out(await service.preferences(user))


@api_route("PUT", "/api/v1/notifications/preferences", body=PreferencesIn,
           response=PreferencesOut, tag=TAG)
async def api_put_preferences(request: Request, body: PreferencesIn) -> PreferencesOut:
    """Change your email preferences; omitted fields keep their value."""
    user = require_user(request)
    return preferences_out(
        await service.do_save_preferences(user, body.model_dump(exclude_none=True)))


@api_route("GET", "/api/v1/topics/{id:int}/watch", response=WatchOut, errors=(404,), tag=TAG)
async def api_get_topic_watch(request: Request) -> WatchOut:
    """Your watch level for a topic (through its category when you set none for it)."""
    user = require_user(request)
    _, topic, _ = await service.access_topic(user, request.path_params["id"])
    return WatchOut(level=await service.topic_level(user, topic))


@api_route("PUT", "/api/v1/topics/{id:int}/watch", body=WatchIn, response=WatchOut,
           errors=(404,), tag=TAG)
async def api_put_topic_watch(request: Request, body: WatchIn) -> WatchOut:
    """Set your watch level for a topic: watching, tracking, normal or muted."""
    user = require_user(request)
    _, topic, _ = await service.access_topic(user, request.path_params["id"])
    await service.do_watch_topic(user, topic, body.level)
    return WatchOut(level=body.level)


@api_route("PUT", "/api/v1/projects/{slug}/categories/{category}/watch", body=WatchIn,
           response=WatchOut, errors=(404,), tag=TAG)
async def api_put_category_watch(request: Request, body: WatchIn) -> WatchOut:
    """Set your watch level for a category; its topics inherit it."""
    user = require_user(request)
    _, category = await service.access_category(user, request.path_params["slug"],
                                                request.path_params["category"])
    await service.do_watch_category(user, category, body.level)
    return WatchOut(level=body.level)


def routes() -> list[BaseRoute]:
    return [
        Route("/notifications", notifications_page, name="notifications"),
        Route("/notifications/read-all", mark_all_read, methods=["POST"],
              name="notifications_read_all"),
        Route("/notifications/count", unread_count_fragment, name="notifications_count"),
        Route("/notifications/preferences", preferences_page, methods=["GET", "POST"],
              name="notification_preferences"),
        Route("/notifications/unsubscribe", unsubscribe, methods=["GET", "POST"],
              name="notifications_unsubscribe"),
        Route("/notifications/{id:int}/open", open_notification, name="notification_open"),
        Route("/p/{slug}/t/{id:int}/watch", watch_topic_form, methods=["GET", "POST"],
              name="topic_watch"),
        Route("/p/{slug}/c/{category}/watch", watch_category_form, methods=["GET", "POST"],
              name="category_watch"),
        api_list, api_get, api_mark_read, api_get_preferences, api_put_preferences,
        api_get_topic_watch, api_put_topic_watch, api_put_category_watch,
    ]
