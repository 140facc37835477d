"""The plugin shown in docs/plugins.md works as the page says.

The files are taken from the page's code blocks marked ``path=...``, installed as a real
distribution (a dist-info with the page's entry point) and exercised: discovery, its
tables, its route and settings, its event handler, its cron entry and job, its footer
outlet, its CLI command and its place in the migrations.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tomllib
import types
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from click.testing import CliRunner
from tortoise import Tortoise

from forum.app import create_app
from forum.db import close_db, init_db, make_migrations
from forum.jobs.embedded import EmbeddedQueue
from forum.jobs.models import Job
from forum.platform import Platform, build_platform
from forum.plugins import PluginManager
from forum.projects.plugin_settings import do_save_plugin_settings, do_toggle_plugin
from forum.settings import Settings
from tests import support
from tests.conftest import BACKEND, POSTGRES_URL, base_settings
from tests.factories import make_project, make_user
from tests.plugins.conftest import InstallDistribution

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
BLOCK = re.compile(r"^```\w+ path=(\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def documented_files() -> dict[str, str]:
    return {path: body for path, body in BLOCK.findall(DOC.read_text())}


def test_the_page_has_every_file() -> None:
    assert set(documented_files()) == {
        "pyproject.toml", "myplugin/models.py", "myplugin/plugin.py",
        "myplugin/templates/myplugin/footer.html",
    }


@pytest.fixture
def myplugin(install_distribution: InstallDistribution) -> Iterator[types.ModuleType]:
    """The documented plugin, installed; its modules are forgotten afterwards."""
    files = documented_files()
    entry_points = tomllib.loads(files.pop("pyproject.toml"))["project"]["entry-points"]
    dist = install_distribution("forum-myplugin", entry_points["forum.plugins"])
    site = dist.parent
    for relative, body in {**files, "myplugin/__init__.py": "",
                           "myplugin/migrations/__init__.py": ""}.items():
        target = site / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)
    try:
        import myplugin.plugin

        yield myplugin.plugin
    finally:
        for name in [n for n in sys.modules if n == "myplugin" or n.startswith("myplugin.")]:
            del sys.modules[name]


@pytest.fixture
def doc_database(tmp_path: Path) -> Iterator[str]:
    """An empty database of the test backend (the shared template lacks myplugin's table)."""
    if BACKEND == "postgres":
        name = f"forum_doc_{uuid.uuid4().hex[:10]}"
        support.pg_execute(POSTGRES_URL, f"CREATE DATABASE {name}")
        yield support.pg_url_for(POSTGRES_URL, name)
        support.pg_execute(POSTGRES_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        return
    yield f"sqlite://{tmp_path / 'doc.sqlite3'}"


@pytest.fixture
def doc_settings(tmp_path: Path, doc_database: str) -> Settings:
    return base_settings(tmp_path, doc_database)


async def build_schema(settings: Settings, plugins: PluginManager) -> None:
    await init_db(settings, plugins)
    try:
        await Tortoise.generate_schemas()
    finally:
        await close_db()


@pytest.fixture
async def doc_app(myplugin: types.ModuleType,
                  doc_settings: Settings) -> AsyncIterator[tuple[Platform, httpx.AsyncClient]]:
    platform = build_platform(doc_settings, PluginManager())
    await build_schema(doc_settings, platform.plugins)
    app = create_app(doc_settings, platform=platform)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield platform, c


def test_entry_point_is_discovered(myplugin: types.ModuleType) -> None:
    plugins = PluginManager()
    assert "myplugin" in plugins.names()
    assert plugins.optional["myplugin"] is myplugin
    assert "myplugin" not in PluginManager(disabled=["myplugin"]).names()


async def test_route_settings_and_event(doc_app: tuple[Platform, httpx.AsyncClient],
                                        myplugin: types.ModuleType) -> None:
    platform, client = doc_app
    owner = await make_user()
    project = await make_project("docs", owner=owner)
    url = "/api/v1/projects/docs/greetings"

    # Off in a new project: the route refuses, in the API's error shape.
    response = await client.get(url)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"

    # Switched on: the event handler greeted the project; settings have their defaults.
    assert await do_toggle_plugin(platform, project, "myplugin", True)
    response = await client.get(url)
    assert response.status_code == 200
    assert response.json() == {"project": "docs", "greeting": "Welcome!",
                               "greetings": ["myplugin was switched on"]}

    await do_save_plugin_settings(platform, project, "myplugin",
                                  myplugin.MySettings(greeting="Hello", shout=True))
    assert (await client.get(url)).json()["greeting"] == "HELLO"

    # Another project that has not switched it on sees nothing.
    await make_project("other", owner=owner)
    assert (await client.get("/api/v1/projects/other/greetings")).status_code == 404

    # Documented in the OpenAPI document, shown in the footer, settings form declared.
    openapi = (await client.get("/api/v1/openapi.json")).json()
    assert "/api/v1/projects/{slug}/greetings" in openapi["paths"]
    page = await client.get("/no/such/page", headers={"accept": "text/html"})
    assert "Greetings by myplugin" in page.text.split('<footer class="site-footer">')[1]
    schema = platform.plugins.collect_by_plugin("forum_settings_schema")["myplugin"]
    assert (schema.title, schema.schema) == ("Greetings", myplugin.MySettings)


async def test_cron_entry_prunes_old_greetings(
    doc_app: tuple[Platform, httpx.AsyncClient], myplugin: types.ModuleType
) -> None:
    platform, _ = doc_app
    greeting = sys.modules["myplugin.models"].Greeting
    old = await greeting.create(project_id=1, text="old")
    await greeting.filter(id=old.id).update(created_at=datetime.now(UTC) - timedelta(days=31))
    await greeting.create(project_id=1, text="new")

    queue = platform.jobs
    assert isinstance(queue, EmbeddedQueue)
    # The core's domains have cron entries of their own: look at this plugin's only.
    await queue.run_cron(datetime(2030, 3, 4, 4, 29, tzinfo=UTC))
    assert await Job.filter(name="myplugin.prune").count() == 0
    await queue.run_cron(datetime(2030, 3, 4, 4, 30, tzinfo=UTC))
    [job] = await Job.filter(name="myplugin.prune")
    assert job.kwargs == {"days": 30}
    await Job.exclude(name="myplugin.prune").delete()
    queue._platform = platform
    assert await queue.drain() == 1
    assert await greeting.all().values_list("text", flat=True) == ["new"]


def test_cli_command(myplugin: types.ModuleType, doc_settings: Settings) -> None:
    plugins = PluginManager()
    platform = build_platform(doc_settings, plugins)
    asyncio.run(build_schema(doc_settings, plugins))
    group = click.Group("forum")
    plugins.pm.hook.forum_cli(cli=group)
    result = CliRunner().invoke(group, ["--help"])
    assert "myplugin-count" in result.output
    state: Any = types.SimpleNamespace(platform=platform)
    result = CliRunner().invoke(group, ["myplugin-count"], obj=state)
    assert result.exit_code == 0, result.output
    assert result.output == "0 greetings\n"


async def test_app_is_known_to_migrations(myplugin: types.ModuleType,
                                          doc_settings: Settings) -> None:
    pending = await make_migrations(doc_settings, PluginManager(), write=False)
    assert "myplugin.0001_initial" in pending
