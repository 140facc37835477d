"""``forum mentions-poll <project slug>``: poll now, one line per network."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from tortoise import Tortoise

from forum.cli import cli
from forum.db import init_db
from forum.platform import Platform
from forum.projects.plugin_settings import do_save_plugin_settings, do_toggle_plugin
from plugins.twitter_bridge.sources import BridgeSettings
from tests.factories import make_project
from tests.plugins.twitter_bridge.conftest import network_settings
from tests.plugins.twitter_bridge.fakes import (
    FakeBluesky,
    FakeMastodon,
    account,
    bsky_notification,
    notification,
)


def with_db(platform: Platform, work: Callable[[], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        await init_db(platform.settings, platform.plugins)
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(main())


def test_mentions_poll_command(platform: Platform, fake_mastodon: FakeMastodon,
                               fake_bluesky: FakeBluesky, tmp_path: Path,
                               database_url: str) -> None:
    async def setup() -> str:
        project = await make_project("cli-bridged")
        await do_toggle_plugin(platform, project, "twitter_bridge", True)
        values = network_settings(fake_mastodon=fake_mastodon, fake_bluesky=fake_bluesky,
                                  bluesky_app_password="wrong-password")
        await do_save_plugin_settings(platform, project, "twitter_bridge",
                                      BridgeSettings.model_validate(values))
        return project.slug

    slug = with_db(platform, setup)
    fake_mastodon.notifications = [notification(1, 500, account("7", "ada"), "<p>hi</p>")]
    fake_bluesky.notifications = [bsky_notification(1, "bo.bsky.social", "hey")]
    env = {"FORUM_DATABASE_URL": database_url, "FORUM_DATA_DIR": str(tmp_path),
           "FORUM_SECRET_KEY": "test-secret-key-not-for-production",
           "FORUM_ALLOW_PRIVATE_OUTBOUND": "1",
           "FORUM_CONFIG_FILE": str(tmp_path / "absent.toml"), "FORUM_REDIS_URL": ""}
    runner = CliRunner()
    done = runner.invoke(cli, ["mentions-poll", slug], env=env,
                         catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        "mastodon: 1 new",
        "bluesky: failing: Bluesky refused the credentials (401): "
        "Invalid identifier or password"]
    again = runner.invoke(cli, ["mentions-poll", slug, "--source", "mastodon"],
                          env=env, catch_exceptions=False)
    assert again.output.splitlines() == ["mastodon: 0 new"]
    missing = runner.invoke(cli, ["mentions-poll", "nope"], env=env, catch_exceptions=False)
    assert missing.exit_code == 1
    assert "no project 'nope' with the social mentions bridge switched on" in missing.output
