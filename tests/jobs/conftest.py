"""Job runner tests: the platform also loads the test-only jobs of ``jobs_plugin``.

Redis: tests marked ``redis`` use the server of scripts/services.sh
(``FORUM_TEST_REDIS_URL``), in database 13 (14 on PostgreSQL runs), each test with a queue
name of its own whose keys it deletes at the end. Nothing is flushed: several test runs
may share the server at once.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis.asyncio

from forum.platform import Platform, build_platform
from forum.plugins import PluginManager
from forum.settings import Settings
from tests.conftest import BACKEND, REDIS_URL
from tests.jobs import jobs_plugin

REDIS_DB = 14 if BACKEND == "postgres" else 13


def redis_test_url() -> str:
    parts = urlsplit(REDIS_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{REDIS_DB}", "", ""))


def make_plugins() -> PluginManager:
    from tests.plugins import sample_plugin

    return PluginManager(extra=[sample_plugin, jobs_plugin], load_entry_points=True)


@pytest.fixture
def platform(settings: Settings) -> Platform:
    return build_platform(settings, make_plugins())


@pytest.fixture
async def redis_db() -> AsyncIterator[redis.asyncio.Redis]:
    """A connection to the tests' Redis database."""
    client = redis.asyncio.Redis.from_url(redis_test_url())
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def queue_name() -> str:
    return f"forum-test:{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def arq_platform(settings: Settings, redis_db: redis.asyncio.Redis,
                       queue_name: str) -> AsyncIterator[Platform]:
    """A platform whose jobs go to Redis (as with FORUM_REDIS_URL) on a queue of its own."""
    from arq.constants import (
        health_check_key_suffix,
        in_progress_key_prefix,
        job_key_prefix,
        result_key_prefix,
        retry_key_prefix,
    )

    from forum.jobs.redis import ArqQueue

    arq_settings = settings.model_copy(update={"redis_url": redis_test_url()})
    platform = build_platform(arq_settings, make_plugins())
    assert isinstance(platform.jobs, ArqQueue)
    queue = ArqQueue(platform.jobs.registry, arq_settings, queue_name=queue_name)
    platform.jobs = queue
    try:
        yield platform
    finally:
        await queue.stop()
        left = [job_id.decode() for job_id in await redis_db.zrange(queue_name, 0, -1)]
        keys = [prefix + job_id for job_id in left for prefix in (
            job_key_prefix, retry_key_prefix, in_progress_key_prefix, result_key_prefix)]
        await redis_db.delete(queue_name, queue_name + health_check_key_suffix, *keys)


