"""The projects domain's registrations: models, pages, the JSON API and ``forum demo``."""

from __future__ import annotations

import click
from starlette.routing import BaseRoute

from forum.hookspecs import hookimpl


@hookimpl
def forum_models() -> list[str]:
    return ["forum.projects.models"]


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.projects import admin_routes, api_routes, routes, settings_routes

    return [*routes.routes(), *settings_routes.routes(), *admin_routes.routes(),
            *api_routes.routes()]


@hookimpl
def forum_cli(cli: click.Group) -> None:
    from forum.cli import pass_platform, run_with_db
    from forum.platform import Platform

    @cli.command("demo")
    @pass_platform
    def demo(platform: Platform) -> None:
        """Seed a demo project and three accounts (idempotent); print how to log in."""
        from forum.projects.demo import describe, seed_demo

        result = run_with_db(platform, lambda: seed_demo(platform))
        for line in describe(result):
            click.echo(line)
