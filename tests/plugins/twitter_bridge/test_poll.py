"""Polling a project's networks: threads from mentions, staged authors, cursors kept in
the database, no duplicates, replies joining their thread, rate-limit waits, expired
tokens, bad responses, and nothing polled where the bridge is off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum.accounts.models import OAuthIdentity
from forum.jobs.models import Job
from forum.platform import Platform
from forum.projects.plugin_settings import do_toggle_plugin
from forum.topics.models import Post, Topic, TopicKind
from plugins.twitter_bridge.models import ImportedMention, SourceState
from plugins.twitter_bridge.poll import poll_source
from plugins.twitter_bridge.sources import Transient
from tests.factories import make_project
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


async def test_x_mentions_become_threads_with_staged_authors(
        bridge: Bridge, fake_x: FakeX, platform: Platform) -> None:
    await bridge.configure(**network_settings(fake_x=fake_x))
    fake_x.add_user("11", "ada", "Ada Lovelace")
    fake_x.tweets = [tweet(101, "Is @forumproject any good for *support*?", "11")]
    assert await poll_source(platform, bridge.project.id, "x") == 1

    row = await ImportedMention.get(project_id=bridge.project.id, source="x", external_id="101")
    topic = await Topic.get(id=row.topic_id).select_related("author")
    assert topic.kind == TopicKind.DISCUSSION
    assert topic.title.startswith("X: @ada: Is @forumproject any good")
    assert topic.plugin_data["twitter_bridge"] == {
        "source": "x", "id": "101", "url": "https://x.com/ada/status/101", "author": "ada"}
    assert topic.created_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    first = await Post.get(topic_id=topic.id, number=1)
    assert "[the original on X](https://x.com/ada/status/101)" in first.source
    assert "> Is @forumproject any good for *support*?" in first.source
    assert "https://x.com/status/101" not in first.source
    identity = await OAuthIdentity.get(provider="x", provider_user_id="11").select_related("user")
    assert identity.user.id == topic.author.id
    assert identity.user.email.endswith("@staged.invalid")
    state = await SourceState.get(project_id=bridge.project.id, source="x")
    assert (state.cursor, state.imported, state.failing) == ("101", 1, False)

    # The next poll asks since the stored cursor and imports nothing twice.
    fake_x.tweets.append(tweet(102, "second", "11"))
    assert await poll_source(platform, bridge.project.id, "x") == 1
    assert fake_x.requests[-1].param("since_id") == "101"
    fake_x.tweets.append(tweet(101, "replayed by a confused API", "11"))
    await SourceState.filter(id=state.id).update(cursor=None)
    assert await poll_source(platform, bridge.project.id, "x") == 0
    assert await ImportedMention.filter(project_id=bridge.project.id).count() == 2
    assert await Topic.filter(project_id=bridge.project.id).count() == 2


async def test_x_reply_in_a_known_conversation_joins_its_thread(
        bridge: Bridge, fake_x: FakeX, platform: Platform) -> None:
    await bridge.configure(**network_settings(fake_x=fake_x))
    fake_x.add_user("11", "ada", "Ada")
    fake_x.add_user("12", "bo", "Bo")
    fake_x.tweets = [tweet(101, "question @forumproject", "11")]
    await poll_source(platform, bridge.project.id, "x")
    fake_x.tweets.append(tweet(105, "@ada same here", "12", conversation=101, replied_to=101))
    fake_x.tweets.append(tweet(106, "unrelated @forumproject", "12"))
    assert await poll_source(platform, bridge.project.id, "x") == 2
    opening = await ImportedMention.get(external_id="101")
    joined = await ImportedMention.get(external_id="105")
    other = await ImportedMention.get(external_id="106")
    assert joined.topic_id == opening.topic_id
    assert joined.post_id is not None
    post = await Post.get(id=joined.post_id)
    assert post.topic_id == opening.topic_id  # type: ignore[attr-defined]
    assert "@ada same here" in post.source
    assert other.topic_id != opening.topic_id
    assert await Topic.filter(project_id=bridge.project.id).count() == 2


async def test_mastodon_reply_to_a_mention_joins_by_parent(
        bridge: Bridge, fake_mastodon: FakeMastodon, platform: Platform) -> None:
    await bridge.configure(**network_settings(fake_mastodon=fake_mastodon))
    ada, bo = account("7", "ada@social.example", "Ada"), account("8", "bo", "Bo")
    fake_mastodon.notifications = [
        notification(1, 500, ada, "<p>@forum <b>hello</b> <a href=\"javascript:x\">x</a></p>")]
    await poll_source(platform, bridge.project.id, "mastodon")
    fake_mastodon.notifications += [notification(2, 501, bo, "<p>reply</p>", in_reply_to=500),
                                    notification(3, 502, ada, "<p>deeper</p>", in_reply_to=501)]
    assert await poll_source(platform, bridge.project.id, "mastodon") == 2
    assert fake_mastodon.requests[-1].param("since_id") == "1"
    topics = {row.topic_id for row in await ImportedMention.filter(source="mastodon")}
    assert len(topics) == 1
    first = await Post.get(topic_id=topics.pop(), number=1)
    assert "javascript" not in first.source and "<b>" not in first.source
    assert "> @forum hello x" in first.source


async def test_bluesky_reply_joins_the_thread_of_its_root(
        bridge: Bridge, fake_bluesky: FakeBluesky, platform: Platform) -> None:
    await bridge.configure(**network_settings(fake_bluesky=fake_bluesky))
    opening = bsky_notification(1, "ada.bsky.social", "hi @forum.bsky.social")
    fake_bluesky.notifications = [opening]
    await poll_source(platform, bridge.project.id, "bluesky")
    ref = (opening["uri"], opening["cid"])
    fake_bluesky.notifications.insert(0, bsky_notification(
        2, "bo.bsky.social", "me too", reason="reply", root=ref, parent=ref))
    assert await poll_source(platform, bridge.project.id, "bluesky") == 1
    rows = await ImportedMention.filter(source="bluesky").order_by("id")
    assert rows[0].topic_id == rows[1].topic_id and rows[1].post_id is not None
    state = await SourceState.get(source="bluesky")
    assert state.cursor == "2026-11-20T10:02:00.000Z"


async def test_429_waits_until_the_reset(bridge: Bridge, fake_mastodon: FakeMastodon,
                                         platform: Platform) -> None:
    await bridge.configure(**network_settings(fake_mastodon=fake_mastodon))
    reset = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    fake_mastodon.fail_next(429, {"error": "Too many requests"},
                            {"x-ratelimit-remaining": "0",
                             "x-ratelimit-reset": reset.isoformat()})
    assert await poll_source(platform, bridge.project.id, "mastodon") == 0
    state = await SourceState.get(source="mastodon")
    assert state.not_before == reset
    assert not state.failing
    calls = len(fake_mastodon.requests)
    assert await poll_source(platform, bridge.project.id, "mastodon") == 0
    assert len(fake_mastodon.requests) == calls  # nothing asked before the reset
    await SourceState.filter(id=state.id).update(not_before=datetime.now(UTC) - timedelta(1))
    await poll_source(platform, bridge.project.id, "mastodon")
    assert len(fake_mastodon.requests) == calls + 1


async def test_an_exhausted_limit_waits_without_a_429(
        bridge: Bridge, fake_x: FakeX, platform: Platform) -> None:
    await bridge.configure(**network_settings(fake_x=fake_x))
    reset = int((datetime.now(UTC) + timedelta(minutes=15)).timestamp())
    fake_x.rate_headers = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
    await poll_source(platform, bridge.project.id, "x")
    state = await SourceState.get(source="x")
    assert state.not_before == datetime.fromtimestamp(reset, UTC)


async def test_expired_token_marks_the_source_failing(
        bridge: Bridge, fake_mastodon: FakeMastodon, platform: Platform) -> None:
    await bridge.configure(**network_settings(fake_mastodon=fake_mastodon,
                                              mastodon_access_token="expired"))
    assert await poll_source(platform, bridge.project.id, "mastodon") == 0
    state = await SourceState.get(source="mastodon")
    assert state.failing
    assert state.failure == ("Mastodon refused the credentials (401): "
                             "The access token is invalid")
    # A good token clears it at the next poll.
    await bridge.configure(**network_settings(fake_mastodon=fake_mastodon))
    await poll_source(platform, bridge.project.id, "mastodon")
    state = await SourceState.get(source="mastodon")
    assert (state.failing, state.failure) == (False, "")


async def test_malformed_response_is_recorded_and_nothing_imported(
        bridge: Bridge, fake_x: FakeX, platform: Platform) -> None:
    await bridge.configure(**network_settings(fake_x=fake_x))
    fake_x.fail_next(200, "<html>gateway</html>")
    assert await poll_source(platform, bridge.project.id, "x") == 0
    state = await SourceState.get(source="x")
    assert state.failing and "not JSON" in state.failure
    assert state.cursor is None


async def test_server_errors_raise_for_the_jobs_retry(
        bridge: Bridge, fake_bluesky: FakeBluesky, platform: Platform) -> None:
    await bridge.configure(**network_settings(fake_bluesky=fake_bluesky))
    fake_bluesky.fail_next(502, "bad gateway")
    with pytest.raises(Transient):
        await poll_source(platform, bridge.project.id, "bluesky")
    state = await SourceState.get(source="bluesky")
    assert state.failure == "Bluesky answered 502" and not state.failing


async def test_cron_job_polls_configured_networks_of_enabled_projects_only(
        bridge: Bridge, fake_x: FakeX, fake_mastodon: FakeMastodon, platform: Platform,
        run_jobs: object) -> None:
    await bridge.configure(**network_settings(fake_x=fake_x, fake_mastodon=fake_mastodon))
    fake_x.add_user("11", "ada", "Ada")
    fake_x.tweets = [tweet(101, "hi", "11")]
    fake_mastodon.notifications = [notification(1, 500, account("7", "ada"), "<p>hi</p>")]
    off = await make_project("offproject", name="Off")
    await platform.enqueue("twitter_bridge.poll_all")
    await run_jobs()  # type: ignore[operator]
    polls = await Job.filter(name="twitter_bridge.poll").order_by("id")
    assert [p.kwargs for p in polls] == [{"project_id": bridge.project.id, "source": "x"},
                                         {"project_id": bridge.project.id,
                                          "source": "mastodon"}]
    assert await ImportedMention.filter(project_id=bridge.project.id).count() == 2
    assert off.id not in {p.kwargs["project_id"] for p in polls}


async def test_switched_off_nothing_is_polled(
        bridge: Bridge, fake_x: FakeX, platform: Platform, run_jobs: object) -> None:
    await bridge.configure(**network_settings(fake_x=fake_x))
    await do_toggle_plugin(platform, bridge.project, "twitter_bridge", False)
    await platform.enqueue("twitter_bridge.poll_all")
    await platform.enqueue("twitter_bridge.poll", project_id=bridge.project.id, source="x")
    await run_jobs()  # type: ignore[operator]
    assert fake_x.requests == []
    assert await Job.filter(name="twitter_bridge.poll").count() == 1  # only the direct one
    assert await ImportedMention.all().count() == 0


async def test_members_only_project_gets_its_mentions_too(
        fake_mastodon: FakeMastodon, platform: Platform, db: None) -> None:
    from forum.projects.models import Visibility
    from forum.projects.plugin_settings import do_save_plugin_settings
    from plugins.twitter_bridge.sources import BridgeSettings

    project = await make_project("closed", default_visibility=Visibility.MEMBERS)
    await do_toggle_plugin(platform, project, "twitter_bridge", True)
    values = BridgeSettings.model_validate(network_settings(fake_mastodon=fake_mastodon))
    await do_save_plugin_settings(platform, project, "twitter_bridge", values)
    fake_mastodon.notifications = [notification(1, 500, account("7", "ada"), "<p>hi</p>"),
                                   notification(2, 501, account("8", "bo"), "<p>re</p>",
                                                in_reply_to=500)]
    assert await poll_source(platform, project.id, "mastodon") == 2
    rows = await ImportedMention.filter(project_id=project.id).order_by("id")
    assert rows[0].topic_id == rows[1].topic_id and rows[1].post_id is not None
