"""The support queue's dashboard registrations: the queue snapshot model, its hourly job and
cron entry, and the support queue's charts on the lead, supporter and customer boards."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forum.hookspecs import CronDefinition, JobDefinition, hookimpl

if TYPE_CHECKING:
    from forum.charts import Chart
    from forum.jobs import JobContext


@hookimpl
def forum_models() -> list[str]:
    return ["forum.support_queue.dashboard_models"]


async def snapshot_job(ctx: JobContext) -> int:
    """Snapshot every project's queue size for the dashboards."""
    from forum.support_queue.dashboard_panels import snapshot_queues

    return await snapshot_queues()


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    return [JobDefinition("support_queue.snapshot_queues", snapshot_job, max_tries=2)]


@hookimpl
def forum_cron() -> list[CronDefinition]:
    return [CronDefinition("support_queue.snapshot_queues", minute={0})]


@hookimpl
async def forum_dashboard_panels(board: str, project_id: int, subject_user_id: int | None,
                                 months: int) -> list[Chart]:
    from forum.support_queue import dashboard_panels as panels

    if board == "lead":
        return await panels.lead_panels(project_id, months)
    if board == "supporter" and subject_user_id is not None:
        return await panels.supporter_panels(project_id, subject_user_id, months)
    if board == "customer" and subject_user_id is not None:
        return await panels.customer_panels(project_id, subject_user_id, months)
    return []
