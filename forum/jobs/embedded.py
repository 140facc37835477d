"""The embedded runner: jobs are database rows, run by a task inside ``forum serve``.

``enqueue`` inserts through Tortoise, so inside ``in_transaction()`` the job commits or
rolls back with the change that caused it. A job is claimed with a conditional UPDATE (safe
with several processes, on SQLite and PostgreSQL alike) and holds a lease that is renewed
while it runs; if the process dies, the lease runs out and a worker runs the job again,
so a killed ``forum serve`` loses no job (a job may run twice: jobs must be idempotent).
Failures retry with exponential backoff; after the last try the job stays as ``failed``
with its traceback for the admins to see. A job whose worker died during its last try is
marked failed rather than run forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from forum.jobs import JobContext, check_kwargs
from forum.jobs.models import CronRun, Job, JobState
from forum.jobs.registry import JobRegistry, cron_key

if TYPE_CHECKING:
    from forum.platform import Platform

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 8000
# CronRun rows start here, so the first claim of an entry is the same UPDATE as every other.
NEVER = datetime(2000, 1, 1, tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def backoff(attempt: int, base_seconds: float) -> timedelta:
    """Delay before try ``attempt + 1``: base, 2x, 4x ... capped at one hour."""
    return timedelta(seconds=min(base_seconds * (2 ** max(attempt - 1, 0)), 3600))


def error_text(exc: BaseException) -> str:
    """The traceback of ``exc``, its end kept when it is long (the end names the error)."""
    return "".join(traceback.format_exception(exc))[-MAX_ERROR_CHARS:]


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
        self._cron_minute: datetime | None = None

    async def enqueue(self, name: str, *, _delay: timedelta | None = None, **kwargs: Any) -> None:
        definition = self.registry.get(name)
        check_kwargs(name, kwargs)
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

    async def retry(self, job: Job) -> bool:
        claimed = await Job.filter(id=job.id, state=JobState.FAILED).update(
            state=JobState.QUEUED, attempts=0, run_at=utcnow(), finished_at=None,
            lease_until=None)
        if claimed:
            self._wake.set()
        return bool(claimed)

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
        minute = now.astimezone(UTC).replace(second=0, microsecond=0)
        if minute == self._cron_minute:
            return 0
        started = 0
        for entry in self.registry.due(minute):
            key = cron_key(entry)
            await CronRun.get_or_create(key=key, defaults={"last_minute": NEVER})
            # The claim and the job commit together: a crash in between loses neither.
            async with in_transaction():
                claimed = await CronRun.filter(key=key, last_minute__lt=minute).update(
                    last_minute=minute)
                if claimed:
                    await self.enqueue(entry.job, **entry.kwargs)
                    started += 1
        self._cron_minute = minute
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
            & (Q(state=JobState.QUEUED, run_at__lte=now)
               | Q(state=JobState.RUNNING, lease_until__lt=now))
        ).update(state=JobState.RUNNING, attempts=F("attempts") + 1,
                 lease_until=now + timedelta(seconds=self.lease_seconds))
        if not claimed:
            return True  # another worker took it; look again
        job = await Job.get(id=candidate.id)
        if job.attempts > job.max_tries:
            # Only a job whose worker died during its last try gets here.
            await Job.filter(id=job.id).update(
                state=JobState.FAILED, finished_at=utcnow(), lease_until=None,
                attempts=job.max_tries,
                last_error=(f"The worker stopped during try {job.max_tries} of "
                            f"{job.max_tries} (its lease ran out).\n{job.last_error}"
                            )[:MAX_ERROR_CHARS])
            return True
        await self._execute(job)
        return True

    async def _keep_lease(self, job_id: int) -> None:
        """Renew the lease of a running job so a slow job is not taken for a dead one."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            await Job.filter(id=job_id, state=JobState.RUNNING).update(
                lease_until=utcnow() + timedelta(seconds=self.lease_seconds))

    async def _execute(self, job: Job) -> None:
        assert self._platform is not None, "start() the queue before running jobs"
        keeper = asyncio.create_task(self._keep_lease(job.id), name=f"forum-job-lease-{job.id}")
        try:
            definition = self.registry.get(job.name)
            ctx = JobContext(platform=self._platform, job_id=str(job.id), attempt=job.attempts)
            await definition.func(ctx, **job.kwargs)
        except asyncio.CancelledError:
            # Shutting down mid-job: hand it back so it runs again after the restart.
            await Job.filter(id=job.id, state=JobState.RUNNING).update(
                state=JobState.QUEUED, lease_until=None, attempts=F("attempts") - 1)
            raise
        except Exception as exc:
            error = error_text(exc)
            log.warning("job %s #%s failed (try %s of %s): %s", job.name, job.id,
                        job.attempts, job.max_tries, error.rstrip().rpartition("\n")[2])
            if job.attempts >= job.max_tries:
                await Job.filter(id=job.id).update(
                    state=JobState.FAILED, last_error=error, finished_at=utcnow(),
                    lease_until=None)
            else:
                await Job.filter(id=job.id).update(
                    state=JobState.QUEUED, last_error=error, lease_until=None,
                    run_at=utcnow() + backoff(job.attempts, self.retry_base_seconds))
            return
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        await Job.filter(id=job.id).update(state=JobState.DONE, finished_at=utcnow(),
                                           lease_until=None)

    async def drain(self, *, limit: int = 1000, platform: Platform | None = None) -> int:
        """Run every due job now (tests and ``forum jobs run``); returns how many ran."""
        if platform is not None:
            self._platform = platform
        ran = 0
        while ran < limit and await self.run_one():
            ran += 1
        return ran
