"""Pages: the imported mentions of a project by network (``/p/{slug}/mentions``) and the
bridge's settings page (``/p/{slug}/mentions/settings``, project owners and leads): one
block per network explaining what it needs, its state (failing and why, rate-limit wait,
this month's X spend), and write-only secrets."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.projects.permissions import Action, ProjectAccess, access_project
from forum.projects.plugin_settings import (
    check_plugin_settings,
    form_fields,
    form_values,
)
from forum.projects.service import enabled_plugin_names
from forum.web.errors import NotFound
from forum.web.templating import flash, render
from plugins.twitter_bridge.models import ImportedMention, SourceState
from plugins.twitter_bridge.poll import NAME, bridge_settings
from plugins.twitter_bridge.sources import SOURCE_NAMES, SOURCES, BridgeSettings

NETWORK_HELP = {
    "x": "X reads with the app's bearer token and a recent-search query (or the "
         "account's user id for its mentions timeline). Replies need a user-context "
         "OAuth 2 token and are limited by the monthly spending cap, because X charges "
         "for every post.",
    "mastodon": "Mastodon reads the mention notifications of the project's account "
                "and replies as it. Only public and unlisted mentions are imported.",
    "bluesky": "Bluesky signs in as the project's account with an app password and reads "
               "its mention and reply notifications.",
}


async def _bridge_access(request: Request, action: Action) -> ProjectAccess:
    access = await access_project(request.state.user, request.path_params["slug"], action)
    platform = request.app.state.platform
    if NAME not in await enabled_plugin_names(platform, access.project.id):
        raise NotFound("The social mentions bridge is not switched on in this project.")
    return access


async def mentions_page(request: Request) -> Response:
    access = await _bridge_access(request, Action.VIEW)
    project = access.project
    rows = await ImportedMention.filter(project_id=project.id, topic_id__not_isnull=True) \
        .order_by("-mentioned_at").limit(300)
    by_source: dict[str, list[ImportedMention]] = {source: [] for source in SOURCES}
    for row in rows:
        by_source.setdefault(row.source, []).append(row)
    states = {state.source: state for state in
              await SourceState.filter(project_id=project.id)}
    return await render(request, "twitter_bridge/mentions.html", {
        "current_project": project, "project": project,
        "can_manage": access.can(Action.MANAGE_PLUGINS),
        "sources": [(source, SOURCE_NAMES[source], by_source.get(source, []),
                     states.get(source)) for source in SOURCES],
    })


def _blocks(values: BridgeSettings) -> list[dict[str, Any]]:
    fields = form_fields(BridgeSettings, values)
    blocks = [{"key": "general", "title": "Replies", "help": "", "fields": [
        f for f in fields if not f.name.startswith(tuple(f"{s}_" for s in SOURCES))]}]
    for source in SOURCES:
        blocks.append({"key": source, "title": SOURCE_NAMES[source],
                       "help": NETWORK_HELP[source],
                       "fields": [f for f in fields if f.name.startswith(f"{source}_")]})
    return blocks


async def settings_page(request: Request) -> Response:
    access = await _bridge_access(request, Action.MANAGE_PLUGINS)
    project = access.project
    values = await bridge_settings(request.app.state.platform, project.id)
    states = {state.source: state for state in
              await SourceState.filter(project_id=project.id)}
    return await render(request, "twitter_bridge/settings.html", {
        "current_project": project, "project": project, "blocks": _blocks(values),
        "states": states, "configured": values.configured(),
    })


async def save_settings(request: Request) -> Response:
    access = await _bridge_access(request, Action.MANAGE_PLUGINS)
    form = await request.form()
    raw = form_values(BridgeSettings, {k: v for k, v in form.items() if isinstance(v, str)})
    await check_plugin_settings(request.app.state.platform, access, NAME, raw)
    flash(request, "Social mentions settings saved.", "success")
    return RedirectResponse(f"/p/{access.project.slug}/mentions/settings", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/mentions", mentions_page, name="twitter_bridge_mentions"),
        Route("/p/{slug}/mentions/settings", settings_page,
              name="twitter_bridge_settings"),
        Route("/p/{slug}/mentions/settings", save_settings, methods=["POST"],
              name="twitter_bridge_settings_save"),
    ]
