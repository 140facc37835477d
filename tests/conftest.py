"""Shared fixtures: settings, a fresh database per test, the app and an HTTP client.

The database backend is chosen by ``FORUM_TEST_DATABASE``: ``sqlite`` (default) or
``postgres`` (uses ``FORUM_TEST_POSTGRES_URL``, a server started by scripts/services.sh).
Each test gets its own database cloned from a template built once per session.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import Tortoise

from forum.app import create_app
from forum.db import init_db
from forum.platform import Platform, build_platform
from forum.plugins import PluginManager
from forum.settings import Settings
from tests import support


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Opt-in live tests (``@pytest.mark.live("STRIPE_API_KEY", ...)``) talk to a real
    service; they are deselected unless every variable they name is in the environment."""
    kept, dropped = [], []
    for item in items:
        marker = item.get_closest_marker("live")
        if marker is not None and not all(os.environ.get(name) for name in marker.args):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept

BACKEND = os.environ.get("FORUM_TEST_DATABASE", "sqlite")
POSTGRES_URL = os.environ.get("FORUM_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:55432/postgres")
REDIS_URL = os.environ.get("FORUM_TEST_REDIS_URL", "redis://127.0.0.1:56379/0")


def make_plugins() -> PluginManager:
    from tests.plugins import sample_plugin

    return PluginManager(extra=[sample_plugin], load_entry_points=True)


def base_settings(data_dir: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "secret_key": "test-secret-key-not-for-production",
        "run_embedded_worker": False,
        "base_url": "http://testserver",
        "rate_limit_login": "1000/minute",
        "rate_limit_signup": "1000/minute",
        "rate_limit_reset": "1000/minute",
        "job_retry_base_seconds": 0.01,
        # The fakes of GitHub, Mastodon ... listen on 127.0.0.1 (tests/web/test_outbound.py
        # checks the rule itself).
        "allow_private_outbound": True,
    }
    values.update(overrides)
    return Settings(**values)


async def _build_schema(settings: Settings, plugins: PluginManager) -> None:
    await init_db(settings, plugins)
    await Tortoise.generate_schemas()
    await Tortoise.close_connections()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with the current schema, built once and cloned for every test."""
    plugins = make_plugins()
    if BACKEND == "postgres":
        name = f"forum_tpl_{uuid.uuid4().hex[:8]}"
        support.pg_execute(POSTGRES_URL, f"CREATE DATABASE {name}")
        url = support.pg_url_for(POSTGRES_URL, name)
        asyncio.run(_build_schema(base_settings(tmp_path_factory.mktemp("tpl"), url), plugins))
        yield url
        _drop_spent_databases()
        support.pg_execute(POSTGRES_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        return
    path = tmp_path_factory.mktemp("tpl") / "template.sqlite3"
    asyncio.run(_build_schema(base_settings(path.parent, f"sqlite://{path}"), plugins))
    yield str(path)


_spent_databases: list[str] = []
SPENT_DATABASES_KEPT = 25


def _drop_spent_databases() -> None:
    while _spent_databases:
        support.pg_execute(POSTGRES_URL,
                           f"DROP DATABASE IF EXISTS {_spent_databases.pop()} WITH (FORCE)")


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> Iterator[str]:
    if BACKEND == "postgres":
        name = f"forum_t_{uuid.uuid4().hex[:10]}"
        template = database_template.rsplit("/", 1)[1]
        # FILE_COPY copies the template's files instead of logging every block (WAL_LOG,
        # PostgreSQL 15's default). A CREATE right after a DROP waits about a second on the
        # server, so spent databases are dropped in batches: together these took each
        # test's set-up from about 0.9 s to 0.1 s.
        support.pg_execute(POSTGRES_URL,
                           f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        yield support.pg_url_for(POSTGRES_URL, name)
        _spent_databases.append(name)
        if len(_spent_databases) >= SPENT_DATABASES_KEPT:
            _drop_spent_databases()
        return
    path = tmp_path / "forum.sqlite3"
    shutil.copy(database_template, path)
    yield f"sqlite://{path}"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change settings for its tests."""
    return {}


@pytest.fixture(autouse=True)
def reputation_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests outside tests/reputation act with every privilege open and no new-user limits
    (reputation's own tests import an override, tests/reputation/rep_support.py)."""
    from forum.reputation import config
    from forum.reputation.schemas import Privilege, ReputationSettings

    open_rules = ReputationSettings(thresholds=dict.fromkeys(Privilege, 1), new_user_hours=0)
    monkeypatch.setattr(config, "default_rules", lambda: open_rules)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, settings_overrides: dict[str, Any]) -> Settings:
    return base_settings(tmp_path, database_url, **settings_overrides)


@pytest.fixture
def platform(settings: Settings) -> Platform:
    return build_platform(settings, make_plugins())


@pytest.fixture
async def db(platform: Platform) -> AsyncIterator[None]:
    """The database open, for tests of services without the web app."""
    await init_db(platform.settings, platform.plugins)
    try:
        yield
    finally:
        await Tortoise.close_connections()


@pytest.fixture
async def app(platform: Platform) -> AsyncIterator[Any]:
    application = create_app(platform.settings, platform=platform)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 follow_redirects=False) as c:
        yield c


@pytest.fixture
def run_jobs(platform: Platform) -> Any:
    """``await run_jobs()`` runs every due job of the embedded queue now."""
    from forum.jobs.embedded import EmbeddedQueue

    async def run() -> int:
        queue = platform.jobs
        assert isinstance(queue, EmbeddedQueue)
        queue._platform = platform
        return await queue.drain()

    return run


@pytest.fixture
def mailbox(settings: Settings) -> Any:
    """``mailbox()`` returns the messages written so far (no SMTP host in tests: files)."""
    from email import policy
    from email.parser import BytesParser

    def read() -> list[Any]:
        if not settings.mail_dir.exists():
            return []
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(p.read_bytes()) for p in sorted(settings.mail_dir.glob("*.eml"))]

    return read


@pytest.fixture
def login(client: httpx.AsyncClient, settings: Settings) -> support.Login:
    """``await login(user)`` signs ``client`` in as ``user``; ``await login(None)`` out."""
    from forum.app import SESSION_COOKIE

    async def sign_in(user: Any) -> None:
        client.cookies.clear()
        if user is not None:
            client.cookies.set(SESSION_COOKIE, support.session_cookie(settings, user))

    return sign_in
