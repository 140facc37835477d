"""The sample plugin (tests/plugins/sample_plugin.py) proves every kind of hook works.

Each test takes one hook and checks its effect through the platform, the way a real
plugin would be used: its route answers, its model has a table and a migration, its cron
entry runs, its event handler hears only projects that switched it on, its CLI command
is listed and runs, its template outlet renders in the layout, its settings schema is
collected.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner
from tortoise import connections

from forum import events
from forum.db import close_db, init_db, make_migrations, migrate, tortoise_config
from forum.hookspecs import PluginSettings
from forum.jobs.embedded import EmbeddedQueue
from forum.jobs.models import Job, JobState
from forum.platform import Platform
from forum.plugins import PluginManager
from forum.projects.models import ProjectPlugin
from forum.projects.plugin_settings import do_toggle_plugin
from forum.web.templating import build_environment
from tests.conftest import base_settings, make_plugins
from tests.factories import make_project, make_user
from tests.plugins import sample_plugin
from tests.plugins.conftest import InstallDistribution
from tests.plugins.sample.models import SampleRecord
from tests.plugins.sample_plugin import SampleSettings

SAMPLE_MIGRATIONS = Path(__file__).parent / "sample" / "migrations"


# Route


async def test_route_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/sample/hello")
    assert response.status_code == 200
    assert response.json() == {"hello": "from the sample plugin"}


def test_route_is_absent_without_the_plugin() -> None:
    plugins = PluginManager(load_entry_points=False)
    paths = {getattr(route, "path", None) for route in plugins.collect("forum_routes")}
    assert "/healthz" in paths
    assert "/sample/hello" not in paths


# Template outlet


async def test_template_outlet_renders_in_layout_footer(client: httpx.AsyncClient) -> None:
    response = await client.get("/sample/page")
    assert response.status_code == 200
    assert "Hello from a plugin page" in response.text
    footer = response.text.split('<footer class="site-footer">', 1)[1].split("</footer>", 1)[0]
    assert "Sample plugin footer" in footer


async def test_template_outlet_renders_on_core_pages(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page", headers={"accept": "text/html"})
    assert response.status_code == 404
    footer = response.text.split('<footer class="site-footer">', 1)[1]
    assert "Sample plugin footer" in footer


def test_outlet_is_not_registered_without_the_plugin() -> None:
    with_sample = build_environment(PluginManager(extra=[sample_plugin], load_entry_points=False))
    without = build_environment(PluginManager(load_entry_points=False))
    assert "sample/footer.html" in with_sample.globals["outlet_templates"]["footer"]
    assert "sample/footer.html" not in without.globals["outlet_templates"].get("footer", [])


# Model


async def test_model_table_exists(db: None) -> None:
    record = await SampleRecord.create(kind="test", label="stored")
    assert (await SampleRecord.get(id=record.id)).label == "stored"
    rows = await connections.get("default").execute_query_dict(
        "SELECT COUNT(*) AS n FROM sample_records")
    assert rows[0]["n"] == 1


def test_model_app_is_configured(platform: Platform) -> None:
    apps = tortoise_config(platform.settings, platform.plugins)["apps"]
    assert apps["sample"]["models"] == ["tests.plugins.sample.models"]
    assert apps["sample"]["migrations"] == "tests.plugins.sample.migrations"
    assert "tests.plugins.sample.models" not in apps["forum"]["models"]


# Cron entry and job


async def test_cron_entry_queues_job_once_per_minute(
    db: None, platform: Platform, run_jobs: Callable[[], Awaitable[int]]
) -> None:
    queue = platform.jobs
    assert isinstance(queue, EmbeddedQueue)
    minute = datetime(2030, 1, 7, 12, 34, 5, tzinfo=UTC)

    assert await queue.run_cron(minute) >= 1
    jobs = await Job.filter(name="sample.tick")
    assert [job.kwargs for job in jobs] == [{"label": "every-minute"}]

    # Another process (or the next poll) in the same minute starts nothing again.
    assert await queue.run_cron(minute + timedelta(seconds=40)) == 0
    assert await Job.filter(name="sample.tick").count() == 1

    await run_jobs()
    records = await SampleRecord.filter(kind="cron").values_list("label", flat=True)
    assert records == ["every-minute"]
    assert (await Job.get(id=jobs[0].id)).state == JobState.DONE

    # The next minute it runs again.
    assert await queue.run_cron(minute + timedelta(minutes=1)) >= 1
    assert await Job.filter(name="sample.tick").count() == 2


# Event handler and per-project enabling


async def test_event_reaches_plugin_only_where_enabled(db: None, platform: Platform) -> None:
    owner = await make_user()
    enabled = await make_project("with-sample", owner=owner)
    absent = await make_project("no-row", owner=owner)
    switched_off = await make_project("switched-off", owner=owner)
    await ProjectPlugin.create(project=enabled, name="sample", enabled=True)
    await ProjectPlugin.create(project=switched_off, name="sample", enabled=False)

    for project in (enabled, absent, switched_off):
        await platform.emit(events.ProjectCreated(id=project.id, slug=project.slug,
                                                  owner_id=owner.id))

    labels = await SampleRecord.filter(kind="event").values_list("label", flat=True)
    assert labels == ["project:with-sample"]


async def test_unknown_plugin_row_enables_nothing(db: None, platform: Platform) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    await ProjectPlugin.create(project=project, name="not-installed", enabled=True)
    await platform.emit(events.ProjectCreated(id=project.id, slug=project.slug,
                                              owner_id=owner.id))
    assert await SampleRecord.filter(kind="event").count() == 0


async def test_switching_on_is_heard_switching_off_is_not(db: None, platform: Platform) -> None:
    """The real path: a new project starts with the plugin off; the owner switches it."""
    owner = await make_user()
    project = await make_project(owner=owner)
    await platform.emit(events.ProjectCreated(id=project.id, slug=project.slug,
                                              owner_id=owner.id))
    assert await do_toggle_plugin(platform, project, "sample", True)
    assert await do_toggle_plugin(platform, project, "sample", False)

    assert not await SampleRecord.filter(kind="event").exists()  # created while off
    labels = await SampleRecord.filter(kind="toggle").values_list("label", flat=True)
    assert labels == ["sample:on"]


# Settings schema


def test_settings_schema_is_collected_by_plugin(platform: Platform) -> None:
    schemas = platform.plugins.collect_by_plugin("forum_settings_schema")
    sample = schemas["sample"]
    assert isinstance(sample, PluginSettings)
    assert sample.title == "Sample"
    assert sample.schema is SampleSettings
    assert sample.schema.model_validate({}).model_dump() == {"greeting": "hi", "max_items": 3}
    # Core domains keep no per-project settings of their own yet; the sample plugin does.
    assert "sample" in platform.plugins.names()


# CLI command


def test_cli_command_is_added_to_a_group() -> None:
    group = click.Group("forum")
    PluginManager(extra=[sample_plugin], load_entry_points=False).pm.hook.forum_cli(cli=group)
    result = CliRunner().invoke(group, ["--help"])
    assert result.exit_code == 0
    assert "sample-hello" in result.output
    result = CliRunner().invoke(group, ["sample-hello"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello from the sample plugin\n"


@pytest.fixture
def fresh_forum_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> click.Group:
    """``forum.cli.cli`` as if just imported: plugin commands not yet loaded."""
    from forum.cli import cli

    monkeypatch.setattr(cli, "_loaded", False)
    monkeypatch.setattr(cli, "commands", dict(cli.commands))
    monkeypatch.chdir(tmp_path)  # no forum.toml from the working tree
    monkeypatch.delenv("FORUM_DISABLED_PLUGINS", raising=False)
    return cli


def test_cli_command_of_entry_point_plugin_in_forum_help(
    install_distribution: InstallDistribution, fresh_forum_cli: click.Group
) -> None:
    install_distribution("forum-sample", {"sample": "tests.plugins.sample_plugin"})
    result = CliRunner().invoke(fresh_forum_cli, ["--help"], prog_name="forum")
    assert result.exit_code == 0, result.output
    assert "sample-hello" in result.output
    assert "Say hello from the sample plugin." in result.output

    result = CliRunner().invoke(fresh_forum_cli, ["sample-hello"], prog_name="forum")
    assert result.exit_code == 0, result.output
    assert result.output == "hello from the sample plugin\n"


def test_cli_command_of_disabled_plugin_is_absent(
    install_distribution: InstallDistribution, fresh_forum_cli: click.Group,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install_distribution("forum-sample", {"sample": "tests.plugins.sample_plugin"})
    monkeypatch.setenv("FORUM_DISABLED_PLUGINS", "other,sample")
    result = CliRunner().invoke(fresh_forum_cli, ["--help"], prog_name="forum")
    assert result.exit_code == 0, result.output
    assert "sample-hello" not in result.output
    result = CliRunner().invoke(fresh_forum_cli, ["sample-hello"], prog_name="forum")
    assert result.exit_code == 2
    assert "No such command" in result.output


# Migration (keep last: it needs the migration files the lead generates at the end)


async def test_sample_migration_applies_on_fresh_sqlite(tmp_path: Path) -> None:
    """NEEDS tests/plugins/sample/migrations/0001_*.py: fails, never skips, when missing."""
    migrations = sorted(p.name for p in SAMPLE_MIGRATIONS.glob("0*.py"))
    assert migrations, (
        "tests/plugins/sample/migrations has no migration: generate it with "
        "forum.db.make_migrations(settings, tests.conftest.make_plugins())")

    plugins = make_plugins()
    settings = base_settings(tmp_path, f"sqlite://{tmp_path / 'fresh.sqlite3'}")
    pending = await make_migrations(settings, plugins, write=False)
    assert not [label for label in pending if label.startswith("sample.")], pending

    try:
        await migrate(settings, plugins, quiet=True)
    finally:
        await close_db()  # a failed migration leaves its connection open
    with sqlite3.connect(tmp_path / "fresh.sqlite3") as conn:
        tables = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "sample_records" in tables

    await init_db(settings, plugins)
    try:
        await SampleRecord.create(kind="migrated", label="ok")
        assert await SampleRecord.filter(kind="migrated").count() == 1
    finally:
        await close_db()


async def test_event_hooks_may_ask_for_the_platform(platform: Platform, db: None) -> None:
    """An implementation naming ``platform`` gets the running one and can queue work."""
    from forum import events
    from forum.hookspecs import hookimpl
    from forum.jobs.models import Job

    class Announcer:
        @hookimpl
        async def on_user_created(self, event: events.UserCreated,
                                  platform: Platform) -> None:
            await platform.enqueue("sample.tick", label=f"welcome:{event.username}")

    platform.plugins.pm.register(Announcer(), name="announcer")
    await platform.emit(events.UserCreated(user_id=1, username="ada"))
    job = await Job.get(name="sample.tick")
    assert job.kwargs == {"label": "welcome:ada"}
