"""Replying under a mention with the link to its thread (off by default, per network).

The job is queued when a mention starts a thread. Mastodon gets an ``Idempotency-Key``
(the same on every retry, so a retried job never posts twice); Bluesky a post with
``reply`` root/parent references and the link as a facet; X a post with
``in_reply_to_tweet_id``, only while this month's spend stays under the project's cap
(the price is reserved before posting and given back when the post fails). X and Bluesky
have no idempotency key, so a reply whose request may have reached them (a timeout) is
not sent again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from forum.jobs import JobContext
from forum.platform import Platform
from forum.projects.plugin_settings import plugin_project
from forum.web.outbound import outbound_transport
from plugins.twitter_bridge.models import ImportedMention, SourceState
from plugins.twitter_bridge.poll import (
    NAME,
    bridge_settings,
    build_source,
    source_state,
    wait_until,
)
from plugins.twitter_bridge.sources import (
    AuthFailed,
    BridgeSettings,
    Malformed,
    Mention,
    RateLimited,
    Transient,
)
from plugins.twitter_bridge.x import XSource
from plugins.twitter_bridge.x_oauth import XTokens, connection

log = logging.getLogger(__name__)


def reply_text(settings: BridgeSettings, handle: str, url: str) -> str:
    text = settings.reply_template.replace("{handle}", handle)
    return text.replace("{url}", url) if "{url}" in text else f"{text} {url}".strip()


def idempotency_key(row: ImportedMention) -> str:
    return f"forum-twitter-bridge-{row.project_id}-{row.source}-{row.id}"


def as_mention(row: ImportedMention, link: str) -> Mention:
    return Mention(source=row.source, external_id=row.external_id,
                   conversation_id=row.conversation_id, parent_id=row.parent_id,
                   author_id="", author_handle=row.author_handle, author_name=row.author_name,
                   author_url=row.author_url, text=row.excerpt, created_at=row.mentioned_at,
                   url=row.url, reply_ref={**row.reply_ref, "link": link})


async def reserve_spend(state: SourceState, settings: BridgeSettings, now: datetime) -> bool:
    """Reserve one X post's price in this month's spend; False when it would pass the cap.
    The update is conditional on the amount read, so two workers cannot both pass it."""
    month = now.strftime("%Y-%m")
    spent = state.spend_cents if state.spend_month == month else 0
    price = settings.x_price_per_post_cents
    if spent + price > settings.x_monthly_cap_cents:
        return False
    changed = await SourceState.filter(id=state.id, spend_month=state.spend_month,
                                       spend_cents=state.spend_cents).update(
        spend_month=month, spend_cents=spent + price)
    return changed == 1


async def refund_spend(state_id: int, settings: BridgeSettings, now: datetime) -> None:
    state = await SourceState.get(id=state_id)
    if state.spend_month == now.strftime("%Y-%m"):
        await SourceState.filter(id=state_id).update(
            spend_cents=max(0, state.spend_cents - settings.x_price_per_post_cents))


async def send_reply(ctx: JobContext, *, mention_id: int) -> None:
    await reply_to_mention(ctx.platform, mention_id)


async def reply_to_mention(platform: Platform, mention_id: int) -> str:
    """Reply under one imported mention; returns its reply state. A reply that was sent,
    or failed for good, is not tried again."""
    row = await ImportedMention.get_or_none(id=mention_id)
    if row is None or row.reply_state in ("sent", "failed") or row.topic_id is None:
        return row.reply_state if row else "gone"
    project = await plugin_project(NAME, row.project_id)
    settings = await bridge_settings(platform, row.project_id)
    if project is None or not settings.replies_on(row.source):
        await ImportedMention.filter(id=row.id).update(reply_state="none")
        return "none"
    state = await source_state(row.project_id, row.source)
    now = datetime.now(UTC)
    if state.not_before is not None and state.not_before > now:
        await platform.enqueue("twitter_bridge.reply", mention_id=row.id,
                               _delay=state.not_before - now)
        return "queued"
    if row.source == "x" and not await reserve_spend(state, settings, now):
        await ImportedMention.filter(id=row.id).update(
            reply_state="capped", reply_error="The monthly spending cap for X is reached.")
        return "capped"
    link = f"{platform.settings.public_url}/p/{project.slug}/t/{row.topic_id}"
    text = reply_text(settings, row.author_handle, link)
    try:
        transport = outbound_transport(platform.settings)
        adapter = build_source(settings, row.source, transport)
        if isinstance(adapter, XSource) and await connection(row.project_id) is not None:
            adapter.tokens = XTokens(platform, row.project_id, settings, transport)
        external_id = await adapter.reply(as_mention(row, link), text, idempotency_key(row))
    except RateLimited as exc:
        if row.source == "x":
            await refund_spend(state.id, settings, now)
        until = wait_until(exc, now)
        await SourceState.filter(id=state.id).update(not_before=until)
        await platform.enqueue("twitter_bridge.reply", mention_id=row.id, _delay=until - now)
        return "queued"
    except (AuthFailed, Malformed) as exc:
        if row.source == "x":
            await refund_spend(state.id, settings, now)
        log.warning("reply to %s %s failed: %s", row.source, row.external_id, exc.reason)
        await ImportedMention.filter(id=row.id).update(reply_state="failed",
                                                       reply_error=exc.reason[:500])
        if isinstance(exc, AuthFailed):
            await SourceState.filter(id=state.id).update(failing=True,
                                                          failure=exc.reason[:500])
        return "failed"
    except Transient as exc:
        if exc.maybe_sent and row.source != "mastodon":  # no idempotency key: no retry
            await ImportedMention.filter(id=row.id).update(
                reply_state="failed",
                reply_error=(f"{exc.reason}; the reply may have been posted, so it is "
                             "not sent again")[:500])
            return "failed"
        if row.source == "x":
            await refund_spend(state.id, settings, now)
        raise
    await ImportedMention.filter(id=row.id).update(reply_state="sent", reply_error="",
                                                   reply_external_id=external_id[:300])
    return "sent"
