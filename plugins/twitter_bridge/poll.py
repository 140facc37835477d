"""Polling: every five minutes, each project that switched the bridge on and each network
it configured gets a ``twitter_bridge.poll`` job. A poll reads mentions after the stored
cursor and turns each new one into a thread (or a reply in a thread it belongs to).

Failures never crash the worker: a 429 stores "not before" the reset time, a 401/403
marks the source failing with the reason (shown to project leads), a malformed response
is logged and stored as the reason, and a network error or 5xx raises so the job is
retried with backoff. The cursor only moves after the mentions it covers are imported,
and the unique (project, source, external id) row is claimed before a topic is made, so
nothing is imported twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from forum.accounts.service import stage_user
from forum.jobs import JobContext
from forum.platform import Platform
from forum.projects.plugin_settings import (
    plugin_project,
    project_plugin_settings,
    projects_with_plugin,
)
from forum.topics.permissions import Viewer
from forum.topics.service import access_topic, import_reply, import_topic
from forum.web.errors import UserError
from forum.web.outbound import outbound_transport
from plugins.twitter_bridge.bluesky import BlueskySource
from plugins.twitter_bridge.mastodon import MastodonSource
from plugins.twitter_bridge.models import ImportedMention, SourceState
from plugins.twitter_bridge.sources import (
    SOURCE_NAMES,
    SOURCES,
    AuthFailed,
    BridgeSettings,
    Malformed,
    Mention,
    MentionSource,
    RateLimited,
    SourceError,
    Transient,
)
from plugins.twitter_bridge.x import XSource

log = logging.getLogger(__name__)
NAME = "twitter_bridge"
DEFAULT_WAIT = timedelta(seconds=60)  # a 429 without a reset time
MAX_WAIT = timedelta(hours=24)


def build_source(settings: BridgeSettings, source: str,
                 transport: httpx.AsyncBaseTransport | None = None) -> MentionSource:
    """The adapter for ``source`` from a project's settings (AuthFailed/Malformed when
    they are incomplete). ``transport``: ``outbound_transport(platform.settings)``, since
    the addresses are the project's choice."""
    if source == "x":
        return XSource(bearer_token=settings.secret("x_bearer_token"),
                       query=settings.x_search_query, user_id=settings.x_user_id,
                       reply_token=settings.secret("x_reply_token"),
                       api_url=settings.x_api_url, transport=transport)
    if source == "mastodon":
        return MastodonSource(instance_url=settings.mastodon_instance_url,
                              access_token=settings.secret("mastodon_access_token"),
                              transport=transport)
    if source == "bluesky":
        return BlueskySource(service_url=settings.bluesky_service_url,
                             handle=settings.bluesky_handle,
                             app_password=settings.secret("bluesky_app_password"),
                             transport=transport)
    raise Malformed(f"unknown source {source!r}")


async def bridge_settings(platform: Platform, project_id: int) -> BridgeSettings:
    found = await project_plugin_settings(platform, project_id, NAME)
    return found if isinstance(found, BridgeSettings) else BridgeSettings.model_validate({})


async def source_state(project_id: int, source: str) -> SourceState:
    state = await SourceState.get_or_none(project_id=project_id, source=source)
    if state is None:
        try:
            state = await SourceState.create(project_id=project_id, source=source)
        except IntegrityError:  # another worker made it a moment ago
            state = await SourceState.get(project_id=project_id, source=source)
    return state


def wait_until(error: SourceError, now: datetime) -> datetime:
    reset = error.rate.reset_at
    if reset is None or reset <= now:
        return now + DEFAULT_WAIT
    return min(reset, now + MAX_WAIT)


async def poll_all(ctx: JobContext) -> None:
    """Cron: queue one poll per project with the bridge on and per configured network."""
    for project_id in await projects_with_plugin(NAME):
        settings = await bridge_settings(ctx.platform, project_id)
        for source in settings.configured():
            await ctx.platform.enqueue("twitter_bridge.poll", project_id=project_id,
                                       source=source)


async def poll(ctx: JobContext, *, project_id: int, source: str) -> None:
    """Import the new mentions of one project on one network."""
    await poll_source(ctx.platform, project_id, source)


async def poll_now(platform: Platform, project_id: int,
                   sources: list[str]) -> list[str] | None:
    """Poll now (the CLI): one line per network; ``None`` where the bridge is off."""
    if await plugin_project(NAME, project_id) is None:
        return None
    settings = await bridge_settings(platform, project_id)
    lines = []
    for source in sources or settings.configured():
        try:
            count = await poll_source(platform, project_id, source)
        except Transient as exc:
            lines.append(f"{source}: {exc.reason} (try again later)")
            continue
        state = await source_state(project_id, source)
        if state.failing:
            lines.append(f"{source}: failing: {state.failure}")
        elif state.not_before is not None and state.not_before > datetime.now(UTC):
            lines.append(f"{source}: {count} new, rate limited until "
                         f"{state.not_before:%Y-%m-%d %H:%M} UTC")
        else:
            lines.append(f"{source}: {count} new")
    return lines


async def poll_source(platform: Platform, project_id: int, source: str) -> int:
    """Import new mentions; returns how many were imported. Raises only ``Transient``
    (for the job's retry with backoff)."""
    if source not in SOURCES:
        return 0
    project = await plugin_project(NAME, project_id)
    if project is None:  # switched off (or gone) since the job was queued
        return 0
    settings = await bridge_settings(platform, project_id)
    state = await source_state(project_id, source)
    now = datetime.now(UTC)
    if state.not_before is not None and state.not_before > now:
        log.info("%s for project %s: rate limited until %s", source, project_id,
                 state.not_before)
        return 0
    try:
        adapter = build_source(settings, source, outbound_transport(platform.settings))
        page = await adapter.fetch(state.cursor)
    except RateLimited as exc:
        await SourceState.filter(id=state.id).update(not_before=wait_until(exc, now))
        return 0
    except (AuthFailed, Malformed) as exc:
        log.warning("%s for project %s failed: %s", source, project_id, exc.reason)
        await SourceState.filter(id=state.id).update(failing=True, failure=exc.reason[:500],
                                                      last_polled_at=now)
        return 0
    except Transient as exc:
        await SourceState.filter(id=state.id).update(failure=exc.reason[:500])
        raise
    imported = 0
    for mention in page.mentions:
        try:
            row = await import_mention(platform, project, settings, mention)
        except UserError as exc:  # refused for good (no public category ...): skipped
            log.warning("%s mention %s not imported: %s", source, mention.external_id, exc)
            continue
        if row is not None:
            imported += 1
    changes: dict[str, Any] = {"failing": False, "failure": "", "last_polled_at": now,
                               "imported": state.imported + imported}
    if page.cursor:
        changes["cursor"] = page.cursor[:100]
    if page.rate.exhausted and page.rate.reset_at is not None:
        changes["not_before"] = min(page.rate.reset_at, now + MAX_WAIT)
    await SourceState.filter(id=state.id).update(**changes)
    return imported


async def find_thread(project_id: int, mention: Mention) -> ImportedMention | None:
    """The imported mention whose thread ``mention`` belongs to: it answers one, or one of
    our replies, or shares its conversation."""
    keys = [key for key in (mention.parent_id, mention.conversation_id) if key]
    if not keys:
        return None
    return await ImportedMention.filter(
        Q(external_id__in=keys) | Q(conversation_id__in=keys) |
        Q(reply_external_id__in=keys),
        project_id=project_id, source=mention.source, topic_id__not_isnull=True,
    ).order_by("id").first()


def quote(text: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in text.splitlines())


def mention_body(mention: Mention) -> str:
    network = SOURCE_NAMES[mention.source]
    who = mention.author_name or mention.author_handle
    author = f"[{who} (@{mention.author_handle})]({mention.author_url})" \
        if mention.author_url.startswith("https://") else f"{who} (@{mention.author_handle})"
    original = f"[the original on {network}]({mention.url})" \
        if mention.url.startswith("https://") else f"the original on {network}"
    return (f"{author} on {network}:\n\n{quote(mention.text)}\n\n"
            f"*Imported from {network}: see {original}.*")


def mention_title(mention: Mention) -> str:
    first = " ".join(mention.text.split())
    return f"{SOURCE_NAMES[mention.source]}: @{mention.author_handle}: {first[:120]}"


async def import_mention(platform: Platform, project: Any, settings: BridgeSettings,
                         mention: Mention) -> ImportedMention | None:
    """One mention as a thread, or as a reply in its thread; ``None`` if it was already
    imported. The row is claimed first, so a second worker skips it."""
    project_id = project.id
    try:
        row = await ImportedMention.create(
            project_id=project_id, source=mention.source,
            external_id=mention.external_id[:300],
            conversation_id=(mention.conversation_id or None),
            parent_id=mention.parent_id, author_handle=mention.author_handle[:200],
            author_name=mention.author_name[:200], author_url=mention.author_url[:500],
            url=mention.url[:500], excerpt=" ".join(mention.text.split())[:300],
            mentioned_at=mention.created_at, reply_ref=mention.reply_ref)
    except IntegrityError:
        return None
    try:
        thread = await find_thread(project_id, mention)
        author = await stage_user(platform, mention.source, mention.author_id,
                                  mention.author_handle, mention.author_name,
                                  profile={"url": mention.author_url})
        body = mention_body(mention)
        origin = {"source": mention.source, "id": mention.external_id, "url": mention.url,
                  "author": mention.author_handle}
        if thread is not None and thread.topic_id is not None:
            topic, _ = await access_topic(Viewer(None, None, True), project, thread.topic_id)
            post = await import_reply(platform, topic, author, body,
                                      created_at=mention.created_at)
            await ImportedMention.filter(id=row.id).update(
                topic_id=topic.id, post_id=post.id,
                conversation_id=thread.conversation_id or mention.conversation_id)
        else:
            topic = await import_topic(platform, project, author, mention_title(mention), body,
                                       kind="discussion", created_at=mention.created_at,
                                       plugin_key=NAME, plugin_data=origin)
            await ImportedMention.filter(id=row.id).update(topic_id=topic.id)
            if settings.replies_on(mention.source):
                await ImportedMention.filter(id=row.id).update(reply_state="queued")
                await platform.enqueue("twitter_bridge.reply", mention_id=row.id)
    except Exception:
        await ImportedMention.filter(id=row.id).delete()  # tried again at the next poll
        raise
    await row.refresh_from_db()
    return row
