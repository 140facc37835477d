"""Jobs used only by the job runner tests, registered as a plugin like any other.

Each job leaves a ``SampleRecord`` row (the sample plugin's model) so a test can see that
it ran, with which arguments and on which try.
"""

from __future__ import annotations

import asyncio

from forum.hookspecs import CronDefinition, JobDefinition, hookimpl
from forum.jobs import JobContext

PLUGIN_NAME = "testjobs"
BROKEN_MAX_TRIES = 3


async def record(ctx: JobContext, *, label: str) -> None:
    from tests.plugins.sample.models import SampleRecord

    await SampleRecord.create(kind="job", label=f"{label}@{ctx.attempt}")


async def flaky(ctx: JobContext, *, label: str, fail_times: int) -> None:
    """Fails its first ``fail_times`` tries, then records ``label@try``."""
    if ctx.attempt <= fail_times:
        raise RuntimeError(f"flaky failure on try {ctx.attempt}")
    await record(ctx, label=label)


async def broken(ctx: JobContext, *, reason: str = "always broken") -> None:
    raise ValueError(reason)


async def slow(ctx: JobContext, *, label: str, seconds: float) -> None:
    await asyncio.sleep(seconds)
    await record(ctx, label=label)


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    return [
        JobDefinition("testjobs.record", record),
        JobDefinition("testjobs.flaky", flaky),
        JobDefinition("testjobs.broken", broken, max_tries=BROKEN_MAX_TRIES),
        JobDefinition("testjobs.slow", slow, max_tries=1),
    ]


@hookimpl
def forum_cron() -> list[CronDefinition]:
    # Mondays at 09:30 UTC: checks the minute/hour/weekday mapping of both runners.
    return [CronDefinition("testjobs.record", minute={30}, hour={9}, weekday={0},
                           kwargs={"label": "weekly"})]
