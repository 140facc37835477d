"""A bridge whose address is this machine or a private network is refused (see
forum/web/outbound.py), unless the operator allows it."""

from __future__ import annotations

import pytest

from forum.platform import Platform
from plugins.twitter_bridge.models import SourceState
from plugins.twitter_bridge.poll import poll_source
from tests.plugins.twitter_bridge.conftest import Bridge, network_settings
from tests.plugins.twitter_bridge.fakes import FakeMastodon


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"allow_private_outbound": False}


async def test_a_bridge_pointed_at_a_local_address_is_marked_failing(
        bridge: Bridge, fake_mastodon: FakeMastodon, platform: Platform) -> None:
    await bridge.configure(**network_settings(fake_mastodon=fake_mastodon))
    assert await poll_source(platform, bridge.project.id, "mastodon") == 0
    assert fake_mastodon.requests == []
    state = await SourceState.get(project_id=bridge.project.id, source="mastodon")
    assert state.failing and "private or local address" in state.failure
