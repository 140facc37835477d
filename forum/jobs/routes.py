"""The platform admin's view of the jobs: failures with their errors, counts, retry."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.jobs import service
from forum.jobs.models import Job
from forum.jobs.permissions import access_jobs_admin
from forum.jobs.schemas import JobOut, JobsOverview, RetriedOut
from forum.platform import Platform
from forum.web.api import api_route
from forum.web.errors import Conflict, NotFound
from forum.web.templating import flash, render

TAG = "admin"


def platform_of(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def job_out(job: Job) -> JobOut:
    return JobOut(id=job.id, name=job.name, state=job.state, attempts=job.attempts,
                  max_tries=job.max_tries, last_error=job.last_error, run_at=job.run_at,
                  created_at=job.created_at, finished_at=job.finished_at)


async def overview(platform: Platform) -> JobsOverview:
    return JobsOverview(runner=type(platform.jobs).__name__,
                        backlog=await platform.jobs.backlog(),
                        counts=await service.counts_by_state(),
                        failed=[job_out(job) for job in await service.failed_jobs()])


async def jobs_page(request: Request) -> Response:
    if getattr(request.state, "user", None) is None:
        target = urlencode({"next": request.url.path})
        return RedirectResponse(f"/login?{target}", status_code=303)
    access_jobs_admin(request)
    return await render(request, "jobs/admin.html",
                        {"overview": await overview(platform_of(request))})


async def retry_job(request: Request) -> Response:
    access_jobs_admin(request)
    job_id: int = request.path_params["job_id"]
    try:
        job = await service.check_retry_job(platform_of(request), job_id)
    except Conflict as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"Job #{job.id} ({job.name}) is queued again.", "success")
    return RedirectResponse("/admin/jobs", status_code=303)


@api_route("GET", "/api/v1/admin/jobs", response=JobsOverview, errors=(403,), tag=TAG)
async def api_jobs(request: Request) -> JobsOverview:
    """Job counts, the backlog and the failed jobs with their errors (platform admins)."""
    access_jobs_admin(request)
    return await overview(platform_of(request))


# No ``:int`` converter here: the OpenAPI document shows the path as written.
@api_route("POST", "/api/v1/admin/jobs/{job_id}/retry", response=RetriedOut,
           errors=(403, 404, 409), tag=TAG)
async def api_retry_job(request: Request) -> RetriedOut:
    """Queue a failed job again from its first try (platform admins)."""
    access_jobs_admin(request)
    raw_id = str(request.path_params["job_id"])
    if not raw_id.isdigit():
        raise NotFound(f"There is no job {raw_id!r}.")
    job = await service.check_retry_job(platform_of(request), int(raw_id))
    return RetriedOut(id=job.id, name=job.name, queued=True)


def routes() -> list[BaseRoute]:
    return [
        Route("/admin/jobs", jobs_page, methods=["GET"], name="admin_jobs"),
        Route("/admin/jobs/{job_id:int}/retry", retry_job, methods=["POST"],
              name="admin_job_retry"),
        api_jobs,
        api_retry_job,
    ]
