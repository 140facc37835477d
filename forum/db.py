"""Tortoise configuration: one connection, the core app ``forum`` and one app per plugin.

The core's model modules and the plugins' apps both come from the ``forum_models`` hook.
Schema changes go through Tortoise's own migrations (``forum migrate``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tortoise import Tortoise

from forum.hookspecs import ModelApp
from forum.plugins import PluginManager
from forum.settings import Settings

CORE_APP = "forum"
CORE_MIGRATIONS = "forum.migrations"


def connection_config(settings: Settings) -> dict[str, Any]:
    url = settings.effective_database_url
    if settings.is_sqlite:
        path = url.removeprefix("sqlite://")
        if path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "engine": "tortoise.backends.sqlite",
            "credentials": {
                "file_path": path,
                "journal_mode": "WAL",
                "foreign_keys": "ON",
                "busy_timeout": settings.sqlite_busy_timeout_ms,
                "synchronous": "NORMAL",
            },
        }
    parts = urlsplit(url)
    return {
        "engine": "tortoise.backends.asyncpg",
        "credentials": {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 5432,
            "user": parts.username or "postgres",
            "password": parts.password or "",
            "database": parts.path.lstrip("/"),
            "minsize": 1,
            "maxsize": 10,
        },
    }


def model_apps(plugins: PluginManager) -> list[ModelApp]:
    core_modules: list[str] = []
    apps: list[ModelApp] = []
    for item in plugins.collect("forum_models"):
        if isinstance(item, ModelApp):
            apps.append(item)
        else:
            core_modules.append(item)
    return [ModelApp(CORE_APP, core_modules, CORE_MIGRATIONS), *apps]


def tortoise_config(settings: Settings, plugins: PluginManager) -> dict[str, Any]:
    return {
        "connections": {"default": connection_config(settings)},
        "apps": {
            app.label: {
                "models": app.modules,
                "default_connection": "default",
                "migrations": app.migrations,
            }
            for app in model_apps(plugins)
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def init_db(settings: Settings, plugins: PluginManager, *,
                  global_fallback: bool = False) -> None:
    """Open the database. ``global_fallback``: visible from every task, not only this one
    (uvicorn runs the lifespan and the requests in different tasks)."""
    await Tortoise.init(config=tortoise_config(settings, plugins),
                        _enable_global_fallback=global_fallback)


async def migrate(settings: Settings, plugins: PluginManager, *, quiet: bool = False) -> None:
    """Apply every pending migration of the core and of the plugins."""
    from tortoise.migrations.api import migrate as migrate_api

    def progress(event: str, app_label: str, name: str) -> None:
        if not quiet and event == "apply_done":
            print(f"  applied {app_label}.{name}")

    try:
        await migrate_api(config=tortoise_config(settings, plugins), progress=progress)
    finally:
        await Tortoise.close_connections()


async def close_db() -> None:
    await Tortoise.close_connections()


async def make_migrations(
    settings: Settings, plugins: PluginManager, *, write: bool = True, name: str | None = None
) -> list[str]:
    """Compare the models with the migrations; write new ones. Returns their labels.

    With ``write=False`` nothing is written: a non-empty result means a model changed
    without its migration (the test suite checks this).
    """
    from tortoise.context import TortoiseContext
    from tortoise.migrations.autodetector import MigrationAutodetector
    from tortoise.migrations.writer import format_migration_name

    config = tortoise_config(settings, plugins)
    # Detecting changes needs no real database; an in-memory one keeps it side-effect free.
    config["connections"]["default"] = "sqlite://:memory:"
    created: list[str] = []
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        assert ctx.apps is not None
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    for writer in writers:
        if name:
            writer.name = format_migration_name(int(writer.name.split("_", 1)[0]), name)
        if write:
            writer.write()
        created.append(f"{writer.app_label}.{writer.name}")
    return created
