"""The ``forum`` command: serve, worker, migrate, config, and what domains and plugins add.

Settings are read when a command runs, never at import; an invalid one ends the command
with one line naming it and exit status 2. Domains and plugins add commands through the
``forum_cli`` hook and reach the running platform with ``pass_platform``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from forum.platform import Platform, build_platform
from forum.plugins import PluginManager
from forum.settings import Settings, SettingsError, load_settings

T = TypeVar("T")


class CliState:
    """Lazily built settings and platform, shared by the commands of one invocation."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._platform: Platform | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings()
            except SettingsError as exc:
                click.echo(f"forum: {exc}", err=True)
                sys.exit(2)
        return self._settings

    @property
    def platform(self) -> Platform:
        if self._platform is None:
            self._platform = build_platform(self.settings)
        return self._platform


def fail(message: str, status: int = 1) -> None:
    """End the command with one line on stderr."""
    click.echo(f"forum: {message}", err=True)
    sys.exit(status)


def run_with_db(platform: Platform, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` with the database open, closing it (and the job queue's connections,
    e.g. arq's Redis pool opened by an enqueue) afterwards."""
    from forum.db import close_db, init_db

    async def main() -> T:
        await init_db(platform.settings, platform.plugins)
        try:
            return await work()
        finally:
            await platform.jobs.stop()
            await close_db()

    return asyncio.run(main())


def pass_platform(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the ``Platform`` as its first argument."""

    @click.pass_obj
    @functools.wraps(func)
    def wrapper(state: CliState, *args: Any, **kwargs: Any) -> Any:
        return func(state.platform, *args, **kwargs)

    return wrapper


class ForumGroup(click.Group):
    """Adds the commands registered by domains and plugins before resolving one."""

    _loaded = False

    def _load_plugin_commands(self) -> None:
        if not self._loaded:
            self._loaded = True
            try:
                disabled = load_settings().disabled_plugins.split(",")
            except SettingsError:
                disabled = []
            PluginManager(disabled=disabled).pm.hook.forum_cli(cli=self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load_plugin_commands()
        return super().get_command(ctx, cmd_name)


@click.group(cls=ForumGroup)
@click.version_option(package_name="forum")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Community Q&A forum and support queue."""
    ctx.obj = CliState()


@cli.command()
@click.pass_obj
def config(state: CliState) -> None:
    """Print the effective settings, secrets masked."""
    for name, value in state.settings.masked().items():
        shown = value if isinstance(value, str) else json.dumps(value)
        click.echo(f"FORUM_{name.upper()}={shown}")


@cli.command()
@click.option("--quiet", is_flag=True, help="Print nothing when all is applied.")
@click.pass_obj
def migrate(state: CliState, quiet: bool) -> None:
    """Apply pending database migrations (core and plugins)."""
    from forum.db import migrate as run_migrations

    try:
        asyncio.run(run_migrations(state.settings, state.platform.plugins, quiet=quiet))
    except OSError as exc:
        fail(f"cannot reach the database: {exc}")
    if not quiet:
        click.echo("database is up to date")


@cli.command()
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if models changed.")
@click.option("--name", default=None, help="A name for the new migration.")
@click.pass_obj
def makemigrations(state: CliState, check: bool, name: str | None) -> None:
    """Write migrations for model changes (developers)."""
    from forum.db import make_migrations

    created = asyncio.run(make_migrations(state.settings, state.platform.plugins,
                                          write=not check, name=name))
    for label in created:
        click.echo(f"{'pending' if check else 'created'} {label}")
    if not created:
        click.echo("no changes")
    elif check:
        sys.exit(1)


@cli.command()
@click.option("--host", default=None, help="Overrides FORUM_HOST.")
@click.option("--port", type=int, default=None, help="Overrides FORUM_PORT.")
@click.pass_obj
def serve(state: CliState, host: str | None, port: int | None) -> None:
    """Serve the forum (and, on the embedded tier, run jobs in the same process)."""
    import uvicorn

    from forum.app import create_app
    from forum.logs import configure_logging

    settings = state.settings
    if host or port:
        settings = settings.model_copy(update={k: v for k, v in
                                               {"host": host, "port": port}.items() if v})
    configure_logging(settings.log_level)
    app = create_app(settings)
    click.echo(f"Serving on {settings.public_url}")
    if not settings.smtp_host:
        click.echo(f"Mail is written to {settings.mail_dir}/ (no FORUM_SMTP_HOST set)")
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None,
                access_log=False, proxy_headers=True, server_header=False)


@cli.command()
@click.pass_obj
def worker(state: CliState) -> None:
    """Run jobs from Redis (arq); needs FORUM_REDIS_URL."""
    from forum.logs import configure_logging

    if not state.settings.redis_url:
        fail("`forum worker` needs FORUM_REDIS_URL; on the embedded tier "
             "`forum serve` runs the jobs itself", 2)
    configure_logging(state.settings.log_level)
    from forum.jobs.redis import run_worker

    run_worker(state.platform)


def main() -> None:
    cli(prog_name="forum")


if __name__ == "__main__":
    main()
