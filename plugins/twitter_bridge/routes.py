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
from forum.web.outbound import outbound_transport
from forum.web.templating import flash, render
from plugins.twitter_bridge import x_oauth
from plugins.twitter_bridge.models import ImportedMention, SourceState
from plugins.twitter_bridge.poll import NAME, bridge_settings
from plugins.twitter_bridge.sources import SOURCE_NAMES, SOURCES, BridgeSettings, SourceError

NETWORK_HELP = {
    "x": "X reads with the app's bearer token and a recent-search query (or the "
         "account's user id for its mentions timeline). Replies post as the project's "
         "X account: connect it below. X charges for every post, so replies are off "
         "until you switch them on and stop at the monthly spending cap.",
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
    platform = request.app.state.platform
    return await render(request, "twitter_bridge/settings.html", {
        "current_project": project, "project": project, "blocks": _blocks(values),
        "states": states, "configured": values.configured(),
        "x_connection": await x_oauth.connection(project.id),
        "x_client_id_set": bool(values.x_client_id),
        "x_callback_url": x_oauth.redirect_uri(platform, project.slug),
        "x_scopes": x_oauth.SCOPES,
    })


async def save_settings(request: Request) -> Response:
    access = await _bridge_access(request, Action.MANAGE_PLUGINS)
    form = await request.form()
    raw = form_values(BridgeSettings, {k: v for k, v in form.items() if isinstance(v, str)})
    await check_plugin_settings(request.app.state.platform, access, NAME, raw)
    flash(request, "Social mentions settings saved.", "success")
    return RedirectResponse(f"/p/{access.project.slug}/mentions/settings", status_code=303)


def _back(slug: str) -> RedirectResponse:
    return RedirectResponse(f"/p/{slug}/mentions/settings#network-x", status_code=303)


async def x_connect(request: Request) -> Response:
    """Start the OAuth 2.0 PKCE flow: to X's consent page with a one-use state."""
    access = await _bridge_access(request, Action.MANAGE_PLUGINS)
    project = access.project
    platform = request.app.state.platform
    values = await bridge_settings(platform, project.id)
    if not values.x_client_id:
        flash(request, "Set the X OAuth 2.0 client ID first, then connect the account.",
              "error")
        return _back(project.slug)
    state, challenge = x_oauth.start_flow(request.session, request.state.user.id, project.id)
    url = x_oauth.authorize_url(values, x_oauth.redirect_uri(platform, project.slug),
                                state, challenge)
    return RedirectResponse(url, status_code=303)


async def x_callback(request: Request) -> Response:
    """Where X sends the lead back: check the state, exchange the code, store the tokens."""
    access = await _bridge_access(request, Action.MANAGE_PLUGINS)
    project = access.project
    platform = request.app.state.platform
    query = request.query_params
    verifier = x_oauth.take_flow(request.session, query.get("state", ""),
                                 request.state.user.id, project.id)
    if verifier is None:
        flash(request, "The X connection was not completed: the request expired or was "
                       "not started here. Try again.", "error")
        return _back(project.slug)
    if query.get("error"):
        message = ("You did not authorize the app on X." if query["error"] == "access_denied"
                   else f"X refused the connection ({query['error'][:100]}).")
        flash(request, message, "error")
        return _back(project.slug)
    code = query.get("code", "")
    if not code:
        flash(request, "X sent no authorization code. Try again.", "error")
        return _back(project.slug)
    values = await bridge_settings(platform, project.id)
    transport = outbound_transport(platform.settings)
    try:
        tokens = await x_oauth.exchange_code(values, code, verifier,
                                             x_oauth.redirect_uri(platform, project.slug),
                                             transport)
        handle = await x_oauth.fetch_handle(values, tokens.access_token, transport)
    except x_oauth.TokenRefused as exc:
        flash(request, f"X refused the authorization code ({exc.error}). Check the client "
                       "ID, secret and callback URL, then try again.", "error")
        return _back(project.slug)
    except SourceError as exc:
        flash(request, f"X could not be reached: {exc.reason}", "error")
        return _back(project.slug)
    await x_oauth.do_connect(platform, project.id, handle, tokens)
    await SourceState.filter(project_id=project.id, source="x").update(failing=False,
                                                                       failure="")
    flash(request, f"Connected as @{handle}." if handle else "The X account is connected.",
          "success")
    return _back(project.slug)


async def x_disconnect(request: Request) -> Response:
    access = await _bridge_access(request, Action.MANAGE_PLUGINS)
    await x_oauth.do_disconnect(access.project.id)
    flash(request, "The X account is disconnected; its tokens are forgotten.", "success")
    return _back(access.project.slug)


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/mentions", mentions_page, name="twitter_bridge_mentions"),
        Route("/p/{slug}/mentions/settings", settings_page,
              name="twitter_bridge_settings"),
        Route("/p/{slug}/mentions/settings", save_settings, methods=["POST"],
              name="twitter_bridge_settings_save"),
        Route("/p/{slug}/mentions/x/connect", x_connect, methods=["POST"],
              name="twitter_bridge_x_connect"),
        Route("/p/{slug}/mentions/x/callback", x_callback, name="twitter_bridge_x_callback"),
        Route("/p/{slug}/mentions/x/disconnect", x_disconnect, methods=["POST"],
              name="twitter_bridge_x_disconnect"),
    ]
