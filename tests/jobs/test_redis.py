"""The arq runner against a real Redis: enqueue, an in-process worker, retries, cron.

Each test has its own queue name in a Redis database of its own (see conftest.py); the
worker runs in burst mode (it stops when the queue is empty).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis.asyncio
from arq.constants import in_progress_key_prefix
from tortoise import Tortoise

from forum.app import create_app
from forum.db import init_db
from forum.jobs.models import Job, JobState
from forum.jobs.redis import ArqQueue, ForumWorker, build_worker
from forum.platform import Platform
from tests.jobs.jobs_plugin import BROKEN_MAX_TRIES
from tests.plugins.sample.models import SampleRecord

pytestmark = pytest.mark.redis


def queue_of(platform: Platform) -> ArqQueue:
    assert isinstance(platform.jobs, ArqQueue)
    return platform.jobs


async def run_burst(platform: Platform, *, manage_db: bool = False) -> ForumWorker:
    """Run a worker until the queue is empty, then shut it down as ``forum worker`` does.

    Its cron entries are dropped: the sample plugin's every-minute tick would otherwise run
    whenever a test crosses a minute and count as one more completed job. The cron tests
    build their own worker.
    """
    worker = build_worker(platform, burst=True, poll_delay=0.01, handle_signals=False,
                          manage_db=manage_db)
    worker.cron_jobs = []
    try:
        await asyncio.wait_for(worker.async_run(), timeout=30)
    finally:
        await worker.close()
    return worker


async def labels() -> list[str]:
    return sorted(str(label) for label in
                  await SampleRecord.filter(kind="job").values_list("label", flat=True))


async def test_worker_runs_an_enqueued_job_with_its_own_database(
    arq_platform: Platform, redis_db: redis.asyncio.Redis
) -> None:
    queue = queue_of(arq_platform)
    await arq_platform.enqueue("testjobs.record", label="from-redis")
    assert await redis_db.zcard(queue.queue_name) == 1
    assert await queue.backlog() == 1

    # The worker opens the database itself on start-up and closes it on shutdown.
    worker = await run_burst(arq_platform, manage_db=True)
    assert (worker.jobs_complete, worker.jobs_failed) == (1, 0)
    assert await redis_db.zcard(queue.queue_name) == 0
    assert await queue.backlog() == 0

    await init_db(arq_platform.settings, arq_platform.plugins)
    try:
        assert await labels() == ["from-redis@1"]
        assert await Job.all().count() == 0  # nothing is written for jobs that succeed
    finally:
        await Tortoise.close_connections()


async def test_unknown_job_and_bad_arguments_are_refused(
    arq_platform: Platform, redis_db: redis.asyncio.Redis
) -> None:
    queue = queue_of(arq_platform)
    with pytest.raises(KeyError, match=r"no\.such\.job"):
        await arq_platform.enqueue("no.such.job")
    with pytest.raises(ValueError, match="plain JSON"):
        await arq_platform.enqueue("testjobs.record", label={1, 2})
    assert await redis_db.zcard(queue.queue_name) == 0


async def test_delay_defers_the_job(arq_platform: Platform,
                                    redis_db: redis.asyncio.Redis) -> None:
    queue = queue_of(arq_platform)
    before = time.time()
    await queue.enqueue("testjobs.record", _delay=timedelta(minutes=5), label="later")
    [(_, score)] = await redis_db.zrange(queue.queue_name, 0, -1, withscores=True)
    assert before + 299 < score / 1000 < time.time() + 301
    assert await queue.backlog() == 0  # not due yet


async def test_failed_tries_are_retried_until_success(
    db: None, arq_platform: Platform
) -> None:
    await arq_platform.enqueue("testjobs.flaky", label="flaky", fail_times=2)
    worker = await run_burst(arq_platform)
    assert (worker.jobs_retried, worker.jobs_complete, worker.jobs_failed) == (2, 1, 0)
    assert await labels() == ["flaky@3"]
    assert await Job.all().count() == 0


async def test_last_failure_lands_in_the_jobs_table(db: None, arq_platform: Platform) -> None:
    await arq_platform.enqueue("testjobs.broken", reason="upstream said no")
    worker = await run_burst(arq_platform)
    assert (worker.jobs_retried, worker.jobs_failed) == (BROKEN_MAX_TRIES - 1, 1)
    [job] = await Job.all()
    assert job.name == "testjobs.broken"
    assert job.kwargs == {"reason": "upstream said no"}
    assert job.state == JobState.FAILED
    assert (job.attempts, job.max_tries) == (BROKEN_MAX_TRIES, BROKEN_MAX_TRIES)
    assert job.last_error.startswith("Traceback (most recent call last):")
    assert job.last_error.rstrip().endswith("ValueError: upstream said no")
    assert len(job.external_id) == 32  # arq's job id
    assert job.finished_at is not None


async def test_worker_dying_on_the_last_try_is_recorded(
    db: None, arq_platform: Platform
) -> None:
    queue = queue_of(arq_platform)
    pool = await queue.redis()
    max_tries = arq_platform.settings.job_max_tries
    # What arq sees after a worker died during the last try: the next try is one more.
    await pool.enqueue_job("testjobs.record", _queue_name=queue.queue_name,
                           _job_try=max_tries + 1, label="orphan")
    await run_burst(arq_platform)
    assert await labels() == []
    [job] = await Job.all()
    assert job.state == JobState.FAILED
    assert f"worker stopped during try {max_tries} of {max_tries}" in job.last_error


async def test_too_slow_job_counts_as_a_failed_try(db: None, arq_platform: Platform) -> None:
    arq_platform.settings.job_lease_seconds = 0.2
    await arq_platform.enqueue("testjobs.slow", label="slow", seconds=5)
    started = time.monotonic()
    await run_burst(arq_platform)
    assert time.monotonic() - started < 4
    [job] = await Job.all()
    assert job.state == JobState.FAILED
    assert "TimeoutError" in job.last_error
    assert await labels() == []


async def test_retry_puts_a_failed_job_back_in_redis(
    db: None, arq_platform: Platform, redis_db: redis.asyncio.Redis
) -> None:
    queue = queue_of(arq_platform)
    job = await Job.create(name="testjobs.record", kwargs={"label": "again"},
                           state=JobState.FAILED, run_at=datetime.now(UTC), attempts=5,
                           last_error="boom", finished_at=datetime.now(UTC))
    assert await queue.retry(job)
    assert not await queue.retry(job)
    assert await Job.all().count() == 0
    assert await redis_db.zcard(queue.queue_name) == 1
    await run_burst(arq_platform)
    assert await labels() == ["again@1"]


def test_cron_entries_map_to_arq_cron_in_utc(arq_platform: Platform) -> None:
    worker = build_worker(arq_platform, handle_signals=False)
    crons = {c.name: c for c in worker.cron_jobs}
    # Domains add their own entries (badges, reputation, moderation): these at least.
    assert set(crons) >= {
        "cron:jobs.prune_finished:[]",
        "cron:sample.tick:[('label', 'every-minute')]",
        "cron:testjobs.record:[('label', 'weekly')]",
    }
    assert worker.timezone == UTC
    weekly = crons["cron:testjobs.record:[('label', 'weekly')]"]
    assert (weekly.minute, weekly.hour, weekly.weekday, weekly.second) == ({30}, {9}, {0}, 0)
    assert weekly.unique
    prune = crons["cron:jobs.prune_finished:[]"]
    assert (prune.minute, prune.hour, prune.weekday) == ({17}, {3}, None)

    sunday_evening = datetime(2030, 1, 6, 22, 0, tzinfo=UTC)
    weekly.calculate_next(sunday_evening)
    assert weekly.next_run is not None
    assert weekly.next_run.replace(microsecond=0) == datetime(2030, 1, 7, 9, 30, tzinfo=UTC)
    every_minute = crons["cron:sample.tick:[('label', 'every-minute')]"]
    every_minute.calculate_next(sunday_evening)
    assert every_minute.next_run is not None
    assert every_minute.next_run.replace(microsecond=0) == datetime(2030, 1, 6, 22, 1,
                                                                    tzinfo=UTC)
    # Every registered job is a worker function too, with one extra arq try (see redis.py).
    assert worker.functions["testjobs.broken"].max_tries == BROKEN_MAX_TRIES + 1


async def test_cron_job_runs_the_entry_with_its_arguments(
    db: None, arq_platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    import forum.jobs.redis

    original = forum.jobs.redis.build_worker

    def only_weekly_now(platform: Platform, **options: Any) -> ForumWorker:
        worker = original(platform, **options)
        worker.cron_jobs = [c for c in worker.cron_jobs if "weekly" in c.name]
        worker.cron_jobs[0].run_at_startup = True  # due now instead of next Monday
        return worker

    monkeypatch.setattr(forum.jobs.redis, "build_worker", only_weekly_now)
    worker = forum.jobs.redis.build_worker(arq_platform, burst=True, poll_delay=0.01,
                                           handle_signals=False, manage_db=False)
    try:
        await asyncio.wait_for(worker.async_run(), timeout=30)
    finally:
        await worker.close()
    assert await labels() == ["weekly@1"]


async def test_backlog_leaves_out_jobs_a_worker_is_running(
    db: None, arq_platform: Platform, redis_db: redis.asyncio.Redis
) -> None:
    queue = queue_of(arq_platform)
    await queue.enqueue("testjobs.slow", label="slow", seconds=2.0)
    await queue.enqueue("testjobs.record", _delay=timedelta(hours=1), label="later")
    assert await queue.backlog() == 1
    [slow_id] = await redis_db.zrangebyscore(queue.queue_name, "-inf", time.time() * 1000)
    running = asyncio.create_task(run_burst_until_empty_except_delayed(arq_platform))
    deadline = time.monotonic() + 10
    while not await redis_db.exists(in_progress_key_prefix + slow_id.decode()):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    assert await redis_db.zcard(queue.queue_name) == 2  # arq keeps running jobs queued
    assert await queue.backlog() == 0
    await running
    assert await labels() == ["slow@1"]


async def run_burst_until_empty_except_delayed(platform: Platform) -> None:
    worker = build_worker(platform, poll_delay=0.01, handle_signals=False, manage_db=False)
    worker.cron_jobs = []  # as in run_burst
    task = asyncio.create_task(worker.async_run())
    try:
        deadline = time.monotonic() + 10
        while worker.jobs_complete + worker.jobs_failed < 1:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await worker.close()


async def test_web_process_only_enqueues_and_healthz_reads_redis(
    arq_platform: Platform, redis_db: redis.asyncio.Redis
) -> None:
    queue = queue_of(arq_platform)
    app = create_app(arq_platform.settings, platform=arq_platform)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            await arq_platform.enqueue("testjobs.record", label="web")
            await arq_platform.enqueue("testjobs.record", label="web2")
            await asyncio.sleep(0.3)
            assert await redis_db.zcard(queue.queue_name) == 2  # nobody ran them
            body = (await c.get("/healthz")).json()
            assert (body["jobs_runner"], body["jobs_backlog"]) == ("ArqQueue", 2)

            await run_burst(arq_platform)
            body = (await c.get("/healthz")).json()
            assert body["jobs_backlog"] == 0
            assert await labels() == ["web2@1", "web@1"]


async def test_admin_sees_and_retries_arq_failures_like_embedded_ones(
    arq_platform: Platform, redis_db: redis.asyncio.Redis
) -> None:
    from forum.accounts.middleware import hash_api_key
    from forum.accounts.models import ApiKey
    from tests.factories import make_user

    queue = queue_of(arq_platform)
    app = create_app(arq_platform.settings, platform=arq_platform)
    async with app.router.lifespan_context(app):
        admin = await make_user("arqadmin", admin=True)
        key = "fk_arqadmin-key-0123456789"
        await ApiKey.create(user=admin, name="t", prefix=key[:8], key_hash=hash_api_key(key))
        headers = {"authorization": f"Bearer {key}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                     headers=headers) as c:
            await arq_platform.enqueue("testjobs.broken", reason="still broken")
            await run_burst(arq_platform)

            body = (await c.get("/api/v1/admin/jobs")).json()
            assert body["runner"] == "ArqQueue"
            assert body["counts"]["failed"] == 1
            [failed] = body["failed"]
            assert failed["name"] == "testjobs.broken"
            assert failed["last_error"].rstrip().endswith("ValueError: still broken")

            response = await c.post(f"/api/v1/admin/jobs/{failed['id']}/retry")
            assert response.status_code == 200
            assert await redis_db.zcard(queue.queue_name) == 1
            assert (await c.get("/api/v1/admin/jobs")).json()["failed"] == []
