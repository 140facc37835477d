"""The jobs domain's registrations: models, the admin pages, ``forum jobs`` and clean-up."""

from __future__ import annotations

from datetime import timedelta

import click
from starlette.routing import BaseRoute

from forum.hookspecs import CronDefinition, JobDefinition, hookimpl
from forum.jobs import JobContext
from forum.jobs.embedded import utcnow
from forum.jobs.models import Job, JobState


async def prune_finished(ctx: JobContext, *, days: int = 7) -> None:
    """Forget jobs that finished well; failed ones stay until an admin looks at them."""
    await Job.filter(state=JobState.DONE, finished_at__lt=utcnow() - timedelta(days=days)).delete()


@hookimpl
def forum_models() -> list[str]:
    return ["forum.jobs.models"]


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.jobs.routes import routes

    return routes()


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    return [JobDefinition("jobs.prune_finished", prune_finished)]


@hookimpl
def forum_cron() -> list[CronDefinition]:
    return [CronDefinition("jobs.prune_finished", minute={17}, hour={3})]


@hookimpl
def forum_cli(cli: click.Group) -> None:
    from forum.jobs.commands import jobs

    cli.add_command(jobs)
