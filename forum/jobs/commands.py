"""``forum jobs``: look at the jobs table, retry a failed job, run due jobs once."""

from __future__ import annotations

import click

from forum.cli import fail, pass_platform, run_with_db
from forum.jobs import service
from forum.jobs.embedded import EmbeddedQueue
from forum.jobs.models import Job
from forum.platform import Platform
from forum.web.errors import UserError


def describe(job: Job) -> str:
    error = (job.last_error.strip().splitlines() or [""])[-1]
    line = (f"#{job.id}  {job.state:<7}  {job.name}  tries {job.attempts}/{job.max_tries}  "
            f"run at {job.run_at:%Y-%m-%d %H:%M:%S}")
    return f"{line}  {error}" if error else line


@click.group("jobs")
def jobs() -> None:
    """Background jobs: list them, retry failed ones, run due ones now."""


@jobs.command("list")
@click.option("--failed", is_flag=True, help="Only jobs that failed their last try.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@pass_platform
def list_jobs(platform: Platform, failed: bool, limit: int) -> None:
    """The newest jobs, newest first, with the last error of each."""

    async def work() -> None:
        counts = await service.counts_by_state()
        backlog = await platform.jobs.backlog()
        for job in await service.recent_jobs(failed_only=failed, limit=limit):
            click.echo(describe(job))
        summary = ", ".join(f"{count} {state}" for state, count in counts.items())
        click.echo(f"{summary}; {backlog} due and waiting ({type(platform.jobs).__name__})")

    run_with_db(platform, work)


@jobs.command("retry")
@click.argument("job_id", type=int)
@pass_platform
def retry_job(platform: Platform, job_id: int) -> None:
    """Queue failed job JOB_ID again from its first try."""

    async def work() -> str | None:
        try:
            job = await service.check_retry_job(platform, job_id)
        except UserError as exc:
            return exc.message
        click.echo(f"job #{job.id} ({job.name}) is queued again")
        return None

    error = run_with_db(platform, work)
    if error:
        fail(error)


@jobs.command("run")
@pass_platform
def run_jobs(platform: Platform) -> None:
    """Run every due job once, in this process (embedded runner), then exit."""
    queue = platform.jobs
    if not isinstance(queue, EmbeddedQueue):
        fail("jobs are in Redis (FORUM_REDIS_URL is set); `forum worker` runs them", 2)
        return

    async def work() -> int:
        return await queue.drain(platform=platform)

    ran = run_with_db(platform, work)
    click.echo(f"ran {ran} job{'' if ran == 1 else 's'}")

