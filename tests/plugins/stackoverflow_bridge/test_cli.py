"""``forum stackoverflow-poll <project slug>``: one poll now, its outcome printed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from tortoise import Tortoise

from forum.cli import cli
from forum.db import init_db
from forum.platform import Platform
from tests.plugins.stackoverflow_bridge.conftest import bridge_on
from tests.plugins.stackoverflow_bridge.fake_stackexchange import FakeStackExchange, so_question


def with_db(platform: Platform, work: Callable[[], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        await init_db(platform.settings, platform.plugins)
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(main())


def test_poll_command(platform: Platform, api: FakeStackExchange, tmp_path: Path,
                      database_url: str) -> None:
    async def setup() -> str:
        return (await bridge_on(platform, tags="rust")).slug

    slug = with_db(platform, setup)
    api.add(so_question(1, "Borrow checker and closures", datetime.now(UTC) - timedelta(hours=1),
                        tags=["rust"]))
    env = {"FORUM_DATABASE_URL": database_url, "FORUM_DATA_DIR": str(tmp_path),
           "FORUM_SECRET_KEY": "test-secret-key-not-for-production",
           "FORUM_CONFIG_FILE": str(tmp_path / "absent.toml"), "FORUM_REDIS_URL": "",
           "FORUM_STACKEXCHANGE_API_URL": api.api_url}
    runner = CliRunner()
    done = runner.invoke(cli, ["stackoverflow-poll", slug], env=env,
                         catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert "polled: 1 new" in done.output
    assert [r.params["tagged"] for r in api.requests] == ["rust"]
    missing = runner.invoke(cli, ["stackoverflow-poll", "nope"], env=env,
                            catch_exceptions=False)
    assert missing.exit_code == 1
    assert "no project 'nope' with the Stack Overflow bridge switched on" in missing.output
