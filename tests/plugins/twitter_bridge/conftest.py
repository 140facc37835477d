"""Fixtures: the three network fakes served on loopback, and a project that switched the
bridge on with settings pointing at them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from forum.platform import Platform
from forum.projects.plugin_settings import do_save_plugin_settings, do_toggle_plugin
from plugins.twitter_bridge.sources import BridgeSettings
from tests.factories import make_project, make_user
from tests.fake_server import Served
from tests.plugins.twitter_bridge.fakes import (
    BLUESKY_HANDLE,
    BLUESKY_PASSWORD,
    MASTODON_TOKEN,
    X_BEARER,
    X_USER_TOKEN,
    FakeBluesky,
    FakeMastodon,
    FakeX,
)

NAME = "twitter_bridge"


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    fake = FakeX()
    with Served(fake):
        yield fake


@pytest.fixture
def fake_mastodon() -> Iterator[FakeMastodon]:
    fake = FakeMastodon()
    with Served(fake):
        yield fake


@pytest.fixture
def fake_bluesky() -> Iterator[FakeBluesky]:
    fake = FakeBluesky()
    with Served(fake):
        yield fake


@dataclass
class Bridge:
    project: Any
    owner: Any
    platform: Platform

    async def configure(self, **values: Any) -> BridgeSettings:
        settings = BridgeSettings.model_validate(values)
        await do_save_plugin_settings(self.platform, self.project, NAME, settings)
        return settings


def network_settings(fake_x: FakeX | None = None, fake_mastodon: FakeMastodon | None = None,
                     fake_bluesky: FakeBluesky | None = None, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if fake_x is not None:
        values.update(x_bearer_token=X_BEARER, x_search_query="@forumproject",
                      x_reply_token=X_USER_TOKEN, x_api_url=fake_x.url)
    if fake_mastodon is not None:
        values.update(mastodon_instance_url=fake_mastodon.url,
                      mastodon_access_token=MASTODON_TOKEN)
    if fake_bluesky is not None:
        values.update(bluesky_service_url=fake_bluesky.url, bluesky_handle=BLUESKY_HANDLE,
                      bluesky_app_password=BLUESKY_PASSWORD)
    values.update(extra)
    return values


@pytest.fixture
async def bridge(db: None, platform: Platform) -> Bridge:
    owner = await make_user("bridgeowner")
    project = await make_project("bridged", owner=owner, name="Bridged")
    await do_toggle_plugin(platform, project, NAME, True)
    return Bridge(project=project, owner=owner, platform=platform)
