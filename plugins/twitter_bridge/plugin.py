"""The social mentions bridge (entry point ``twitter_bridge``): mentions of a project on
X, Mastodon and Bluesky become threads on the forum, optionally answered with the link.

Jobs: ``twitter_bridge.poll_all`` (cron, every five minutes) queues
``twitter_bridge.poll`` per project and configured network; ``twitter_bridge.reply``
answers one mention. Pages: ``/p/{slug}/mentions`` and ``/p/{slug}/mentions/settings``.
Command: ``forum mentions-poll PROJECT [--source x|mastodon|bluesky]`` (the project's slug).
"""

from __future__ import annotations

from pathlib import Path

import click
from starlette.routing import BaseRoute

from forum.hookspecs import (
    CronDefinition,
    JobDefinition,
    ModelApp,
    PluginSettings,
    hookimpl,
)
from forum.projects.service import project_by_slug
from plugins.twitter_bridge import poll, replies, routes
from plugins.twitter_bridge.sources import SOURCES, BridgeSettings

PLUGIN_NAME = poll.NAME


@hookimpl
def forum_models() -> ModelApp:
    return ModelApp("twitter_bridge", ["plugins.twitter_bridge.models"],
                    "plugins.twitter_bridge.migrations")


@hookimpl
def forum_routes() -> list[BaseRoute]:
    return routes.routes()


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    return [JobDefinition("twitter_bridge.poll_all", poll.poll_all, max_tries=1),
            JobDefinition("twitter_bridge.poll", poll.poll, max_tries=4),
            JobDefinition("twitter_bridge.reply", replies.send_reply, max_tries=4)]


@hookimpl
def forum_cron() -> list[CronDefinition]:
    return [CronDefinition("twitter_bridge.poll_all", minute=set(range(0, 60, 5)))]


@hookimpl
def forum_settings_schema() -> PluginSettings:
    return PluginSettings("Social mentions (X, Mastodon, Bluesky)", BridgeSettings)


@hookimpl
def forum_template_dirs() -> list[str]:
    return [str(Path(__file__).parent / "templates")]


@hookimpl
def forum_template_outlets() -> dict[str, str]:
    return {"project": "twitter_bridge/project_link.html"}


@hookimpl
def forum_cli(cli: click.Group) -> None:
    from forum.cli import fail, pass_platform, run_with_db
    from forum.platform import Platform

    @cli.command("mentions-poll")
    @click.argument("project")
    @click.option("--source", "sources", type=click.Choice(SOURCES), multiple=True,
                  help="Only these networks (default: every configured one).")
    @pass_platform
    def mentions_poll(platform: Platform, project: str, sources: tuple[str, ...]) -> None:
        """Poll X, Mastodon and Bluesky for one project's (its slug) mentions now."""

        async def run() -> list[str] | None:
            found = await project_by_slug(project)
            return None if found is None else await poll.poll_now(platform, found.id,
                                                                  list(sources))

        lines = run_with_db(platform, run)
        if lines is None:
            fail(f"no project {project!r} with the social mentions bridge switched on")
            return
        click.echo("\n".join(lines) if lines else "no network is configured")
