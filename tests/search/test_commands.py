"""``forum reindex [--project SLUG]`` rebuilds the index from the database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tortoise import Tortoise

from forum.cli import cli
from forum.db import init_db
from forum.platform import Platform
from forum.search import SearchQuery
from tests.factories import make_project, make_user
from tests.search.data import make_category, make_topic


@pytest.fixture
def forum(tmp_path: Path, database_url: str) -> Callable[..., Result]:
    env = {
        "FORUM_DATABASE_URL": database_url,
        "FORUM_DATA_DIR": str(tmp_path),
        "FORUM_SECRET_KEY": "test-secret-key-not-for-production",
        "FORUM_CONFIG_FILE": str(tmp_path / "absent.toml"),
        "FORUM_REDIS_URL": "",
        "FORUM_MEILISEARCH_URL": "",
    }

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return run


def with_db(platform: Platform, work: Callable[[], Any]) -> Any:
    async def main() -> Any:
        await init_db(platform.settings, platform.plugins)
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(main())


def test_reindex_all_and_one_project(forum: Callable[..., Result], platform: Platform) -> None:
    async def seed() -> tuple[int, int]:
        owner = await make_user()
        first = await make_project("first", owner=owner)
        second = await make_project("second", owner=owner)
        await make_topic(first, await make_category(first), owner, "One", "harbour")
        await make_topic(first, await make_category(first), owner, "Two", "harbour")
        await make_topic(second, await make_category(second), owner, "Three", "harbour")
        return first.id, second.id

    first_id, second_id = with_db(platform, seed)

    async def count(project_id: int) -> int:
        await platform.search.setup()
        result = await platform.search.search(SearchQuery(
            project_id=project_id, text="harbour", see_private=True, see_deleted=True,
            allowed_category_ids=frozenset(range(1, 100))))
        return result.total

    result = forum("reindex", "--project", "first")
    assert result.exit_code == 0, result.output
    assert "Indexed 2 topics." in result.output
    assert with_db(platform, lambda: count(first_id)) == 2
    assert with_db(platform, lambda: count(second_id)) == 0
    result = forum("reindex")
    assert "Indexed 3 topics." in result.output
    assert with_db(platform, lambda: count(second_id)) == 1


def test_reindex_unknown_project(forum: Callable[..., Result]) -> None:
    result = forum("reindex", "--project", "nope")
    assert result.exit_code == 1
    assert "no project 'nope'" in result.output
