"""The arq runner: jobs go to Redis and ``forum worker`` processes run them.

For the scale-out tier: any number of ``forum serve`` processes enqueue, any number of
``forum worker`` processes (on any machine) run the jobs; the web processes run none.
The worker is built from the same ``JobRegistry`` as the embedded runner: each job gets a
``JobContext``, a failed try is retried with exponential backoff up to ``max_tries``,
and a job that fails its last try is written to the ``jobs`` table (state ``failed``,
with its traceback), where the admin page and ``forum jobs list --failed`` find it,
exactly as with the embedded runner. Cron entries become arq cron jobs (UTC, unique per
minute across workers).

Trade-off, accepted on purpose: ``enqueue`` pushes to Redis at once, not in the caller's
database transaction. A job enqueued inside a transaction that then rolls back still
runs, and a job may start before the caller's transaction commits, so jobs run through
arq must tolerate finding nothing (or not yet the row) they were queued for. The
embedded runner, whose jobs are rows, has neither problem.

Arguments are serialised as JSON (not arq's default pickle), so a job accepts the same
arguments on both runners. A job may run for ``FORUM_JOB_LEASE_SECONDS``; past that it is
cancelled and counts as a failed try.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import warnings
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from arq import cron
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import default_queue_name, in_progress_key_prefix
from arq.cron import CronJob
from arq.typing import WorkerCoroutine
from arq.worker import Function, Retry, Worker, func
from tortoise.context import get_current_context
from tortoise.transactions import in_transaction

from forum.hookspecs import CronDefinition, JobDefinition
from forum.jobs import JobContext, check_kwargs
from forum.jobs.embedded import backoff, error_text, utcnow
from forum.jobs.models import Job, JobState
from forum.jobs.registry import JobRegistry, cron_key

if TYPE_CHECKING:
    from forum.platform import Platform
    from forum.settings import Settings

log = logging.getLogger(__name__)

# A queued job's key lives this long in Redis; arq's default (one day) would silently drop
# jobs whose workers were all down for a long weekend.
EXPIRES_EXTRA_MS = 7 * 24 * 3600 * 1000


def dumps(value: Any) -> bytes:
    # Results of failed jobs hold exceptions; they are stored as their repr.
    return json.dumps(value, default=repr).encode()


def loads(raw: bytes) -> Any:
    return json.loads(raw)


def queue_name_of(redis_url: str) -> str:
    """The queue named by the URL's ``queue`` parameter (``redis://host/0?queue=forum-a``),
    so installations sharing one Redis keep apart; arq's default otherwise."""
    return parse_qs(urlsplit(redis_url).query).get("queue", [default_queue_name])[0]


class ArqQueue:
    def __init__(self, registry: JobRegistry, settings: Settings, *,
                 queue_name: str | None = None) -> None:
        self.registry = registry
        self.settings = settings
        self.redis_settings = RedisSettings.from_dsn(settings.redis_url)
        self.queue_name = queue_name or queue_name_of(settings.redis_url)
        self._pool: ArqRedis | None = None
        self._lock = asyncio.Lock()

    def max_tries(self, definition: JobDefinition) -> int:
        return definition.max_tries or self.settings.job_max_tries

    async def redis(self) -> ArqRedis:
        """The connection pool, opened on first use (CLI commands enqueue without start())."""
        async with self._lock:
            if self._pool is None:
                self._pool = await create_pool(
                    self.redis_settings, default_queue_name=self.queue_name,
                    job_serializer=dumps, job_deserializer=loads,
                    expires_extra_ms=EXPIRES_EXTRA_MS)
            return self._pool

    async def enqueue(self, name: str, *, _delay: timedelta | None = None, **kwargs: Any) -> None:
        self.registry.get(name)
        check_kwargs(name, kwargs)
        redis = await self.redis()
        await redis.enqueue_job(name, _queue_name=self.queue_name, _defer_by=_delay, **kwargs)

    async def backlog(self) -> int:
        """Jobs due now that no worker has picked up yet."""
        redis = await self.redis()
        due = await redis.zrangebyscore(self.queue_name, "-inf", int(time.time() * 1000))
        running = 0
        for start in range(0, len(due), 1000):
            keys = [in_progress_key_prefix + job_id.decode() for job_id in due[start:start + 1000]]
            running += await redis.exists(*keys)
        return len(due) - running

    async def start(self, platform: Platform) -> None:
        # The web process only connects; ``forum worker`` processes run the jobs.
        await self.redis()

    async def stop(self) -> None:
        async with self._lock:
            if self._pool is not None:
                await self._pool.aclose(close_connection_pool=True)
                self._pool = None

    async def retry(self, job: Job) -> bool:
        # The failure row goes once the job is back in Redis; a later failure writes a new one.
        async with in_transaction():
            deleted = await Job.filter(id=job.id, state=JobState.FAILED).delete()
            if not deleted:
                return False
            await self.enqueue(job.name, **job.kwargs)
        return True


async def record_failure(*, name: str, kwargs: dict[str, Any], attempts: int, max_tries: int,
                         error: str, external_id: str, enqueued_at: datetime | None) -> None:
    """Keep a job that failed for good where the admins look for failures."""
    now = utcnow()
    await Job.create(name=name, kwargs=kwargs, state=JobState.FAILED, run_at=enqueued_at or now,
                     attempts=attempts, max_tries=max_tries, last_error=error,
                     finished_at=now, external_id=external_id)


def job_function(platform: Platform, queue: ArqQueue, definition: JobDefinition,
                 bound: dict[str, Any] | None = None) -> WorkerCoroutine:
    """An arq coroutine running ``definition`` with a ``JobContext``, retries and failures.

    arq is told one try more than the job's ``max_tries``: that extra try only happens when
    a worker died (or was stopped) during the last real try, and records the failure
    instead of running the job again.
    """
    max_tries = queue.max_tries(definition)
    base = platform.settings.job_retry_base_seconds
    timeout = platform.settings.job_lease_seconds

    async def run(ctx: dict[Any, Any], *args: Any, **kwargs: Any) -> None:
        arguments = {**(bound or {}), **kwargs}
        attempt = int(ctx["job_try"])
        job_id = str(ctx["job_id"])
        enqueued_at = ctx.get("enqueue_time")
        if attempt > max_tries:
            await record_failure(
                name=definition.name, kwargs=arguments, attempts=max_tries,
                max_tries=max_tries, external_id=job_id, enqueued_at=enqueued_at,
                error=f"The worker stopped during try {max_tries} of {max_tries}.")
            return
        try:
            # Our own time limit, inside arq's, so a job that runs too long is retried and,
            # in the end, recorded like any other failure.
            async with asyncio.timeout(timeout):
                await definition.func(
                    JobContext(platform=platform, job_id=job_id, attempt=attempt), **arguments)
        except Exception as exc:
            error = error_text(exc)
            log.warning("job %s %s failed (try %s of %s): %s", definition.name, job_id, attempt,
                        max_tries, error.rstrip().rpartition("\n")[2])
            if attempt < max_tries:
                raise Retry(defer=backoff(attempt, base)) from exc
            await record_failure(name=definition.name, kwargs=arguments, attempts=attempt,
                                 max_tries=max_tries, error=error, external_id=job_id,
                                 enqueued_at=enqueued_at)
            raise

    run.__qualname__ = run.__name__ = definition.name
    return run


def worker_functions(platform: Platform, queue: ArqQueue) -> list[Function]:
    return [
        func(job_function(platform, queue, definition), name=definition.name,
             max_tries=queue.max_tries(definition) + 1)
        for definition in queue.registry.jobs.values()
    ]


def cron_job(platform: Platform, queue: ArqQueue, entry: CronDefinition) -> CronJob:
    """The arq form of a cron entry: the same minute/hour/weekday sets, in UTC."""
    definition = queue.registry.get(entry.job)
    return cron(job_function(platform, queue, definition, bound=dict(entry.kwargs)),
                name=f"cron:{cron_key(entry)}",
                minute=set(entry.minute) if entry.minute is not None else None,
                hour=set(entry.hour) if entry.hour is not None else None,
                weekday=set(entry.weekday) if entry.weekday is not None else None,
                second=0, unique=True, max_tries=queue.max_tries(definition) + 1)


SHUTDOWN_GRACE_SECONDS = 10


class HideJobArguments(logging.Filter):
    """arq logs each job's arguments when it starts; ours can hold one-time links (a password
    reset mail's context), which must not end up in logs. The job's id and name stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "→" in str(record.msg) and isinstance(record.args, tuple) and len(record.args) == 4:
            elapsed, ref, _arguments, extra = record.args
            record.args = (elapsed, ref, "…", extra)
        return True


HIDE_JOB_ARGUMENTS = HideJobArguments()


class ForumWorker(Worker):
    async def close(self) -> None:
        # A job cancelled by a signal ends as a cancelled task; arq gathers its tasks without
        # ``return_exceptions`` and so would re-raise that CancelledError out of ``run``.
        # A cancelled job is retried from Redis, so a shutdown that cancelled one is clean.
        if self.tasks:
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)
            self.tasks.clear()
        # arq closes its pool with redis-py's deprecated close(); the warning is arq's.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*aclose\(\)", category=DeprecationWarning)
            await super().close()


def build_worker(platform: Platform, *, burst: bool = False, poll_delay: float = 0.5,
                 handle_signals: bool = True, manage_db: bool = True) -> ForumWorker:
    """An arq worker for every registered job and cron entry of ``platform``.

    ``manage_db`` opens the database on start-up and closes it on shutdown (``forum
    worker``); tests that hold the database open themselves turn it off.
    """
    from forum.db import init_db

    queue = platform.jobs
    if not isinstance(queue, ArqQueue):
        raise ValueError("the arq worker needs FORUM_REDIS_URL to be set")
    logging.getLogger("arq.worker").addFilter(HIDE_JOB_ARGUMENTS)
    settings = platform.settings

    async def startup(ctx: dict[str, Any]) -> None:
        if manage_db:
            await init_db(settings, platform.plugins)
            await platform.search.setup()
            # Tortoise keeps its connections in a context variable of the worker's main
            # task (the jobs' tasks inherit it); shutdown runs elsewhere, so keep a handle.
            ctx["tortoise"] = get_current_context()
        await queue.start(platform)

    async def shutdown(ctx: dict[str, Any]) -> None:
        await queue.stop()
        database = ctx.pop("tortoise", None)
        if database is not None:
            await database.close_connections()

    return ForumWorker(
        worker_functions(platform, queue),
        cron_jobs=[cron_job(platform, queue, entry) for entry in queue.registry.cron],
        queue_name=queue.queue_name,
        redis_settings=queue.redis_settings,
        burst=burst,
        poll_delay=poll_delay,
        handle_signals=handle_signals,
        # On SIGTERM/SIGINT stop taking jobs and give running ones time to finish.
        job_completion_wait=SHUTDOWN_GRACE_SECONDS,
        on_startup=startup,
        on_shutdown=shutdown,
        job_timeout=settings.job_lease_seconds + 30,
        keep_result=0,
        max_tries=settings.job_max_tries + 1,
        job_serializer=dumps,
        job_deserializer=loads,
        expires_extra_ms=EXPIRES_EXTRA_MS,
        timezone=UTC,
    )


def run_worker(platform: Platform) -> None:
    """``forum worker``: run jobs from Redis until SIGINT or SIGTERM."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        build_worker(platform).run()
    finally:
        asyncio.set_event_loop(None)
        loop.close()
