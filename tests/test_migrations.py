"""The committed migrations match the models and build a working database on both backends."""

from __future__ import annotations

import uuid
from pathlib import Path

from tortoise import Tortoise, connections

from forum.db import init_db, make_migrations, migrate
from tests import support
from tests.conftest import BACKEND, POSTGRES_URL, base_settings, make_plugins


async def test_every_model_change_has_its_migration(tmp_path: Path) -> None:
    settings = base_settings(tmp_path, f"sqlite://{tmp_path / 'x.sqlite3'}")
    pending = await make_migrations(settings, make_plugins(), write=False)
    assert pending == [], f"run `forum makemigrations`: {pending}"


def test_no_model_docstring_holds_a_semicolon() -> None:
    """Tortoise turns model docstrings into SQL comments, and its SQLite migrations split
    statements at ";": a semicolon there breaks `forum migrate` on SQLite."""
    import importlib
    import inspect

    from tortoise.models import Model

    from forum.db import model_apps

    offenders = []
    for app in model_apps(make_plugins()):
        for module_name in app.modules:
            module = importlib.import_module(module_name)
            for name, obj in vars(module).items():
                if (inspect.isclass(obj) and issubclass(obj, Model)
                        and obj.__module__ == module_name and ";" in (obj.__doc__ or "")):
                    offenders.append(f"{module_name}.{name}")
    assert offenders == []


async def _tables(settings_url: str, tmp_path: Path) -> set[str]:
    settings = base_settings(tmp_path, settings_url)
    await init_db(settings, make_plugins())
    try:
        if BACKEND == "postgres":
            _, rows = await connections.get("default").execute_query(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            return {row["tablename"] for row in rows}
        _, rows = await connections.get("default").execute_query(
            "SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row["name"] for row in rows}
    finally:
        await Tortoise.close_connections()


async def test_migrate_builds_every_table_on_an_empty_database(tmp_path: Path) -> None:
    if BACKEND == "postgres":
        name = f"forum_mig_{uuid.uuid4().hex[:8]}"
        support.pg_execute(POSTGRES_URL, f"CREATE DATABASE {name}")
        url = support.pg_url_for(POSTGRES_URL, name)
    else:
        url = f"sqlite://{tmp_path / 'migrated.sqlite3'}"
    try:
        plugins = make_plugins()
        settings = base_settings(tmp_path, url)
        await migrate(settings, plugins, quiet=True)
        await migrate(settings, plugins, quiet=True)  # a second run applies nothing, fails nothing
        tables = await _tables(url, tmp_path)
        expected = {model._meta.db_table for app in Tortoise.apps.values()
                    for model in app.values()} if Tortoise.apps else set()
        for table in ("users", "projects", "memberships", "jobs", "sample_records"):
            assert table in tables
        assert expected <= tables
    finally:
        if BACKEND == "postgres":
            support.pg_execute(POSTGRES_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
