"""Replies with the thread's link: off by default, Mastodon's Idempotency-Key, Bluesky's
reply references and UTF-8 link facet, X's in_reply_to under the monthly spending cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum.jobs.models import Job
from forum.platform import Platform
from plugins.twitter_bridge.models import ImportedMention, SourceState
from plugins.twitter_bridge.poll import poll_source
from plugins.twitter_bridge.replies import reply_to_mention
from plugins.twitter_bridge.sources import Transient
from tests.plugins.twitter_bridge.conftest import Bridge, network_settings
from tests.plugins.twitter_bridge.fakes import (
    FakeBluesky,
    FakeMastodon,
    FakeX,
    account,
    bsky_notification,
    notification,
    tweet,
)


async def test_replies_are_off_by_default(bridge: Bridge, fake_mastodon: FakeMastodon,
                                          platform: Platform, run_jobs: object) -> None:
    await bridge.configure(**network_settings(fake_mastodon=fake_mastodon))
    fake_mastodon.notifications = [notification(1, 500, account("7", "ada"), "<p>hi</p>")]
    await poll_source(platform, bridge.project.id, "mastodon")
    await run_jobs()  # type: ignore[operator]
    assert await Job.filter(name="twitter_bridge.reply").count() == 0
    assert fake_mastodon.of("/api/v1/statuses", "POST") == []
    assert (await ImportedMention.get(external_id="500")).reply_state == "none"


async def test_mastodon_reply_with_the_link_and_an_idempotency_key(
        bridge: Bridge, fake_mastodon: FakeMastodon, platform: Platform,
        run_jobs: object) -> None:
    await bridge.configure(**network_settings(
        fake_mastodon=fake_mastodon, mastodon_replies=True,
        reply_template="Thanks {handle}, discussed here: {url}"))
    fake_mastodon.notifications = [
        notification(1, 500, account("7", "ada@social.example"), "<p>hi</p>",
                     visibility="unlisted")]
    await poll_source(platform, bridge.project.id, "mastodon")
    row = await ImportedMention.get(external_id="500")
    assert row.reply_state == "queued"
    fake_mastodon.fail_next(503, "try later")
    with pytest.raises(Transient):  # the job's first try; the runner retries it
        await reply_to_mention(platform, row.id)
    await run_jobs()  # type: ignore[operator]
    posts = fake_mastodon.of("/api/v1/statuses", "POST")
    key = f"forum-twitter-bridge-{bridge.project.id}-mastodon-{row.id}"
    assert [p.headers["idempotency-key"] for p in posts] == [key, key]
    link = f"http://testserver/p/bridged/t/{row.topic_id}"
    assert posts[-1].body == {
        "status": f"@ada@social.example Thanks ada@social.example, discussed here: {link}",
        "in_reply_to_id": "500", "visibility": "unlisted"}
    row = await ImportedMention.get(id=row.id)
    assert (row.reply_state, row.reply_external_id) == ("sent", "9000")
    assert await reply_to_mention(platform, row.id) == "sent"  # a stray retry posts nothing
    assert len(fake_mastodon.of("/api/v1/statuses", "POST")) == 2


async def test_bluesky_reply_refs_and_facet_for_non_ascii_text(
        bridge: Bridge, fake_bluesky: FakeBluesky, platform: Platform,
        run_jobs: object) -> None:
    await bridge.configure(**network_settings(
        fake_bluesky=fake_bluesky, bluesky_replies=True,
        reply_template="Merci ! Déjà discuté ici 👉 {url}"))
    note = bsky_notification(1, "ada.bsky.social", "salut @forum.bsky.social")
    fake_bluesky.notifications = [note]
    await poll_source(platform, bridge.project.id, "bluesky")
    await run_jobs()  # type: ignore[operator]
    row = await ImportedMention.get(source="bluesky")
    link = f"http://testserver/p/bridged/t/{row.topic_id}"
    record = fake_bluesky.records[0]["record"]
    text = f"Merci ! Déjà discuté ici 👉 {link}"
    assert record["text"] == text
    own = {"uri": note["uri"], "cid": note["cid"]}
    assert record["reply"] == {"root": own, "parent": own}
    start = len("Merci ! Déjà discuté ici 👉 ".encode())
    assert start == 33 and len("Merci ! Déjà discuté ici 👉 ") == 27
    assert record["facets"][0]["index"] == {"byteStart": start, "byteEnd": start + len(link)}
    assert record["facets"][0]["features"] == [
        {"$type": "app.bsky.richtext.facet#link", "uri": link}]
    assert row.reply_state == "sent"
    assert row.reply_external_id is not None and row.reply_external_id.startswith("at://")


async def test_x_replies_stop_at_the_monthly_cap(bridge: Bridge, fake_x: FakeX,
                                                 platform: Platform, run_jobs: object) -> None:
    await bridge.configure(**network_settings(fake_x=fake_x, x_replies=True,
                                              x_monthly_cap_cents=20,
                                              x_price_per_post_cents=10))
    fake_x.add_user("11", "ada", "Ada")
    fake_x.tweets = [tweet(101 + n, f"mention {n}", "11") for n in range(3)]
    await poll_source(platform, bridge.project.id, "x")
    await run_jobs()  # type: ignore[operator]
    posted = fake_x.of("/2/tweets", "POST")
    assert [p.body["reply"] for p in posted] == [{"in_reply_to_tweet_id": "101"},
                                                 {"in_reply_to_tweet_id": "102"}]
    states = {r.external_id: r.reply_state for r in await ImportedMention.filter(source="x")}
    assert states == {"101": "sent", "102": "sent", "103": "capped"}
    state = await SourceState.get(source="x")
    month = datetime.now(UTC).strftime("%Y-%m")
    assert (state.spend_month, state.spend_cents) == (month, 20)

    # A new month starts from nothing.
    await SourceState.filter(id=state.id).update(spend_month="2000-01", spend_cents=20)
    capped = await ImportedMention.get(external_id="103")
    assert await reply_to_mention(platform, capped.id) == "sent"
    state = await SourceState.get(source="x")
    assert (state.spend_month, state.spend_cents) == (month, 10)


async def test_x_failed_reply_is_refunded_and_marks_the_token(
        bridge: Bridge, fake_x: FakeX, platform: Platform) -> None:
    await bridge.configure(**network_settings(fake_x=fake_x, x_replies=True,
                                              x_monthly_cap_cents=100,
                                              x_reply_token="expired-user-token"))
    fake_x.add_user("11", "ada", "Ada")
    fake_x.tweets = [tweet(101, "hi", "11")]
    await poll_source(platform, bridge.project.id, "x")
    row = await ImportedMention.get(external_id="101")
    assert await reply_to_mention(platform, row.id) == "failed"
    row = await ImportedMention.get(id=row.id)
    assert "401" in row.reply_error
    state = await SourceState.get(source="x")
    assert state.spend_cents == 0
    assert state.failing and "X refused the credentials (401)" in state.failure


async def test_rate_limited_reply_waits_for_the_reset(
        bridge: Bridge, fake_mastodon: FakeMastodon, platform: Platform) -> None:
    await bridge.configure(**network_settings(fake_mastodon=fake_mastodon,
                                              mastodon_replies=True))
    fake_mastodon.notifications = [notification(1, 500, account("7", "ada"), "<p>hi</p>")]
    await poll_source(platform, bridge.project.id, "mastodon")
    row = await ImportedMention.get(external_id="500")
    reset = (datetime.now(UTC) + timedelta(minutes=5)).replace(microsecond=0)
    fake_mastodon.fail_next(429, {"error": "Too many requests"},
                            {"x-ratelimit-reset": reset.isoformat()})
    assert await reply_to_mention(platform, row.id) == "queued"
    assert (await SourceState.get(source="mastodon")).not_before == reset
    waiting = await Job.filter(name="twitter_bridge.reply").order_by("-id").first()
    assert waiting is not None and waiting.run_at >= reset - timedelta(seconds=1)
    assert await reply_to_mention(platform, row.id) == "queued"  # still waiting: no request
    assert len(fake_mastodon.of("/api/v1/statuses", "POST")) == 1


async def test_x_reply_that_timed_out_is_not_sent_again(
        bridge: Bridge, fake_x: FakeX, platform: Platform,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    from plugins.twitter_bridge import x as x_module

    await bridge.configure(**network_settings(fake_x=fake_x, x_replies=True,
                                              x_monthly_cap_cents=100))
    fake_x.add_user("11", "ada", "Ada")
    fake_x.tweets = [tweet(101, "hi", "11")]
    await poll_source(platform, bridge.project.id, "x")
    row = await ImportedMention.get(external_id="101")
    monkeypatch.setattr(x_module, "TIMEOUT", httpx.Timeout(0.2))
    fake_x.delay = 1.0
    assert await reply_to_mention(platform, row.id) == "failed"
    row = await ImportedMention.get(id=row.id)
    assert "may have been posted" in row.reply_error
    assert (await SourceState.get(source="x")).spend_cents == 1  # counted: it may be paid
    assert len(fake_x.of("/2/tweets", "POST")) == 1
    assert await reply_to_mention(platform, row.id) == "failed"
    assert len(fake_x.of("/2/tweets", "POST")) == 1
