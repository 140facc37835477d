"""The embedded runner: jobs are database rows, run by a task inside ``forum serve``.

``enqueue`` inserts through Tortoise, so inside ``in_transaction()`` the job commits or
rolls back with the change that caused it. A job is claimed with a conditional UPDATE (safe
with several processes on PostgreSQL) and holds a lease; if the process dies, the lease
runs out and another worker runs the job again. Failures retry with exponential backoff;
after the last try the job stays as ``failed`` with its error for the admins to see.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tortoise.expressions import F, Q

from forum.jobs import JobContext
from forum.jobs.models import CronRun, Job, JobState
from forum.jobs.registry import JobRegistry, cron_key

if TYPE_CHECKING:
    from forum.platform import Platform

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def backoff(attempt: int, base_seconds: float) -> timedelta:
    """Delay before try ``attempt + 1``: base, 2x, 4x ... capped at one hour."""
    return timedelta(seconds=min(base_seconds * (2 ** max(attempt - 1, 0)), 3600))


class EmbeddedQueue:
    def __init__(self, registry: JobRegistry, *, poll_seconds: float = 1.0,
                 max_tries: int = 5, retry_base_seconds: float = 10.0,
                 lease_seconds: float = 300.0) -> None:
        self.registry = registry
        self.poll_seconds = poll_seconds
        self.max_tries = max_tries
        self.retry_base_seconds = retry_base_seconds
        self.lease_seconds = lease_seconds
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._platform: Platform | None = None

    async def enqueue(self, name: str, *, _delay: timedelta | None = None, **kwargs: Any) -> None:
        definition = self.registry.get(name)
        await Job.create(
            name=name,
            kwargs=kwargs,
            run_at=utcnow() + (_delay or timedelta()),
            max_tries=definition.max_tries or self.max_tries,
        )
        self._wake.set()

    async def backlog(self) -> int:
        return await Job.filter(state=JobState.QUEUED, run_at__lte=utcnow()).count()

    async def start(self, platform: Platform) -> None:
        self._platform = platform
        self._stopping = False
        self._task = asyncio.create_task(self._run_forever(), name="forum-embedded-jobs")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run_forever(self) -> None:
        while not self._stopping:
            try:
                await self.run_cron(utcnow())
                while not self._stopping and await self.run_one():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # a broken database must not kill the loop
                log.exception("the job loop failed; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def run_cron(self, now: datetime) -> int:
        """Enqueue the cron entries due this minute, once across all processes."""
        minute = now.replace(second=0, microsecond=0)
        started = 0
        for entry in self.registry.due(minute):
            key = cron_key(entry)
            run, created = await CronRun.get_or_create(key=key, defaults={"last_minute": minute})
            if not created:
                claimed = await CronRun.filter(key=key, last_minute__lt=minute).update(
                    last_minute=minute)
                if not claimed:
                    continue
            await self.enqueue(entry.job, **entry.kwargs)
            started += 1
        return started

    async def run_one(self) -> bool:
        """Claim and run the next due job; False when none is due."""
        now = utcnow()
        candidate = await Job.filter(
            Q(state=JobState.QUEUED, run_at__lte=now)
            | Q(state=JobState.RUNNING, lease_until__lt=now)
        ).order_by("run_at", "id").first()
        if candidate is None:
            return False
        claimed = await Job.filter(
            Q(id=candidate.id)
            & (Q(state=JobState.QUEUED) | Q(state=JobState.RUNNING, lease_until__lt=now))
        ).update(state=JobState.RUNNING, attempts=F("attempts") + 1,
                 lease_until=now + timedelta(seconds=self.lease_seconds))
        if not claimed:
            return True  # another worker took it; look again
        job = await Job.get(id=candidate.id)
        await self._execute(job)
        return True

    async def _execute(self, job: Job) -> None:
        assert self._platform is not None, "start() the queue before running jobs"
        try:
            definition = self.registry.get(job.name)
            ctx = JobContext(platform=self._platform, job_id=str(job.id), attempt=job.attempts)
            await definition.func(ctx, **job.kwargs)
        except asyncio.CancelledError:
            # Shutting down mid-job: hand it back so it runs again after the restart.
            await Job.filter(id=job.id).update(state=JobState.QUEUED, lease_until=None,
                                               attempts=F("attempts") - 1)
            raise
        except Exception as exc:
            error = "".join(traceback.format_exception_only(exc)).strip()
            log.warning("job %s #%s failed (try %s of %s): %s", job.name, job.id,
                        job.attempts, job.max_tries, error)
            if job.attempts >= job.max_tries:
                await Job.filter(id=job.id).update(
                    state=JobState.FAILED, last_error=traceback.format_exc()[-4000:],
                    finished_at=utcnow(), lease_until=None)
            else:
                await Job.filter(id=job.id).update(
                    state=JobState.QUEUED, last_error=error[-4000:], lease_until=None,
                    run_at=utcnow() + backoff(job.attempts, self.retry_base_seconds))
            return
        await Job.filter(id=job.id).update(state=JobState.DONE, finished_at=utcnow(),
                                           lease_until=None)

    async def drain(self, *, limit: int = 1000) -> int:
        """Run every due job now (tests and ``forum jobs run``); returns how many ran."""
        ran = 0
        while ran < limit and await self.run_one():
            ran += 1
        return ran
