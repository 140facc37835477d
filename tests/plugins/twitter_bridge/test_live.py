"""Opt-in live tests against the real networks: read-only, deselected unless the
credentials are in the environment (see ``tests/conftest.py``)."""

from __future__ import annotations

import os

import pytest

from plugins.twitter_bridge.bluesky import BlueskySource
from plugins.twitter_bridge.mastodon import MastodonSource
from plugins.twitter_bridge.x import XSource


@pytest.mark.live("FORUM_MASTODON_TEST_URL", "FORUM_MASTODON_TEST_TOKEN")
async def test_live_mastodon_reads_mention_notifications() -> None:
    source = MastodonSource(instance_url=os.environ["FORUM_MASTODON_TEST_URL"],
                            access_token=os.environ["FORUM_MASTODON_TEST_TOKEN"])
    page = await source.fetch(None)
    assert page.rate.remaining is not None
    assert all(m.source == "mastodon" and m.url for m in page.mentions)


@pytest.mark.live("FORUM_X_TEST_BEARER")
async def test_live_x_recent_search() -> None:
    source = XSource(bearer_token=os.environ["FORUM_X_TEST_BEARER"],
                     query=os.environ.get("FORUM_X_TEST_QUERY", "python -is:retweet"))
    page = await source.fetch(None)
    assert page.rate.remaining is not None
    assert all(m.url.startswith("https://x.com/") for m in page.mentions)


@pytest.mark.live("FORUM_BLUESKY_TEST_HANDLE", "FORUM_BLUESKY_TEST_PASSWORD")
async def test_live_bluesky_lists_notifications() -> None:
    source = BlueskySource(service_url=os.environ.get("FORUM_BLUESKY_TEST_URL", ""),
                           handle=os.environ["FORUM_BLUESKY_TEST_HANDLE"],
                           app_password=os.environ["FORUM_BLUESKY_TEST_PASSWORD"])
    page = await source.fetch(None)
    assert all(m.url.startswith("https://bsky.app/profile/") for m in page.mentions)
