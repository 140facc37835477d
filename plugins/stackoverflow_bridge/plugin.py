"""Stack Overflow bridge: the hooks. A project lead switches it on, names 1 to 5 tags on
the project's settings page, and questions with those tags on Stack Overflow appear in
the forum as topics "on Stack Overflow" (an excerpt, the author, the link, the licence),
polled every 10 minutes or at once with "Poll now". Nothing is posted to Stack Overflow.
"""

from __future__ import annotations

from pathlib import Path

import click
from starlette.routing import BaseRoute

from forum.hookspecs import CronDefinition, JobDefinition, ModelApp, PluginSettings, hookimpl
from forum.jobs import JobContext
from forum.projects.plugin_settings import projects_with_plugin
from forum.projects.service import project_by_slug
from plugins.stackoverflow_bridge import routes
from plugins.stackoverflow_bridge.poll import NAME, BridgeSettings, PollReport, poll_project

PLUGIN_NAME = NAME
POLL_MINUTES = set(range(0, 60, 10))


async def poll_all(ctx: JobContext) -> None:
    """Queue one poll per project that switched the bridge on (one slow or failing
    project never holds up the others)."""
    for project_id in await projects_with_plugin(NAME):
        await ctx.platform.enqueue("stackoverflow_bridge.poll", project_id=project_id)


async def poll(ctx: JobContext, *, project_id: int) -> None:
    await poll_project(ctx.platform, project_id)


@hookimpl
def forum_models() -> ModelApp:
    return ModelApp("stackoverflow_bridge", ["plugins.stackoverflow_bridge.models"],
                    "plugins.stackoverflow_bridge.migrations")


@hookimpl
def forum_routes() -> list[BaseRoute]:
    return routes.routes()


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    return [JobDefinition("stackoverflow_bridge.poll_all", poll_all, max_tries=1),
            JobDefinition("stackoverflow_bridge.poll", poll, max_tries=3)]


@hookimpl
def forum_cron() -> list[CronDefinition]:
    return [CronDefinition("stackoverflow_bridge.poll_all", minute=POLL_MINUTES)]


@hookimpl
def forum_settings_schema() -> PluginSettings:
    return PluginSettings("Stack Overflow bridge", BridgeSettings)


@hookimpl
def forum_template_dirs() -> list[str]:
    return [str(Path(__file__).parent / "templates")]


@hookimpl
def forum_template_outlets() -> dict[str, str]:
    return {"project": "stackoverflow_bridge/_project_links.html"}


@hookimpl
def forum_cli(cli: click.Group) -> None:
    from forum.cli import fail, pass_platform, run_with_db
    from forum.platform import Platform

    @cli.command("stackoverflow-poll")
    @click.argument("project")
    @pass_platform
    def stackoverflow_poll(platform: Platform, project: str) -> None:
        """Poll Stack Overflow for one project (its slug) now and print the outcome."""

        async def run() -> PollReport | None:
            found = await project_by_slug(project)
            return None if found is None else await poll_project(platform, found.id)

        report = run_with_db(platform, run)
        if report is None or report.status == "disabled":
            fail(f"no project {project!r} with the Stack Overflow bridge switched on")
            return
        if report.status == "error":
            fail(report.summary())
        click.echo(report.summary())
