"""The jobs domain's verbs: what the admin page and ``forum jobs`` show and do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise.functions import Count

from forum.jobs.models import Job, JobState
from forum.web.errors import Conflict, NotFound

if TYPE_CHECKING:
    from forum.platform import Platform


async def counts_by_state() -> dict[str, int]:
    """How many rows the jobs table holds in each state (every state, zeros included)."""
    rows = await Job.annotate(n=Count("id")).group_by("state").values("state", "n")
    counts = {state.value: 0 for state in JobState}
    for row in rows:
        counts[str(row["state"])] = int(row["n"])
    return counts


async def failed_jobs(limit: int = 100) -> list[Job]:
    return await Job.filter(state=JobState.FAILED).order_by("-finished_at", "-id").limit(limit)


async def recent_jobs(*, failed_only: bool = False, limit: int = 50) -> list[Job]:
    query = Job.filter(state=JobState.FAILED) if failed_only else Job.all()
    return await query.order_by("-id").limit(limit)


async def access_job(job_id: int) -> Job:
    job = await Job.get_or_none(id=job_id)
    if job is None:
        raise NotFound(f"There is no job #{job_id}.")
    return job


async def check_retry_job(platform: Platform, job_id: int) -> Job:
    """Queue a failed job again from its first try (the caller checked the permission)."""
    job = await access_job(job_id)
    if job.state != JobState.FAILED:
        raise Conflict(f"Job #{job_id} is {job.state}; only failed jobs can be retried.")
    await do_retry_job(platform, job)
    return job


async def do_retry_job(platform: Platform, job: Job) -> None:
    if not await platform.jobs.retry(job):
        raise Conflict(f"Job #{job.id} was retried already.")
