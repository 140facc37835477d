"""The embedded runner: jobs as rows, same-transaction enqueue, retries, leases, cron."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from forum.jobs.embedded import EmbeddedQueue, backoff, utcnow
from forum.jobs.models import Job, JobState
from forum.platform import Platform
from tests.jobs.jobs_plugin import BROKEN_MAX_TRIES
from tests.plugins.sample.models import SampleRecord

RunJobs = Callable[[], Awaitable[int]]


def embedded(platform: Platform, *, retry_base_seconds: float = 0.01,
             lease_seconds: float = 300) -> EmbeddedQueue:
    """Another queue on the same database: what a second ``forum serve`` process runs."""
    assert isinstance(platform.jobs, EmbeddedQueue)
    queue = EmbeddedQueue(platform.jobs.registry, poll_seconds=0.05,
                          retry_base_seconds=retry_base_seconds, lease_seconds=lease_seconds)
    queue._platform = platform
    return queue


async def labels() -> list[str]:
    return sorted(str(label) for label in
                  await SampleRecord.filter(kind="job").values_list("label", flat=True))


async def wait_until(predicate: Callable[[], Awaitable[bool]], within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


# Enqueueing


async def test_enqueue_joins_the_callers_transaction(db: None, platform: Platform) -> None:
    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with in_transaction():
            await SampleRecord.create(kind="change", label="rolled back")
            await platform.enqueue("testjobs.record", label="rolled-back")
            assert await Job.all().count() == 1  # visible inside the transaction
            raise Abort
    assert await Job.all().count() == 0
    assert await SampleRecord.all().count() == 0

    async with in_transaction():
        await SampleRecord.create(kind="change", label="committed")
        await platform.enqueue("testjobs.record", label="committed")
    [job] = await Job.all()
    assert (job.name, job.kwargs, job.state) == ("testjobs.record", {"label": "committed"},
                                                 JobState.QUEUED)


async def test_unknown_job_name_is_refused_at_enqueue(db: None, platform: Platform) -> None:
    with pytest.raises(KeyError, match=r"no\.such\.job"):
        await platform.enqueue("no.such.job", x=1)
    assert await Job.all().count() == 0


async def test_arguments_must_be_plain_json(db: None, platform: Platform) -> None:
    with pytest.raises(ValueError, match="plain JSON"):
        await platform.enqueue("testjobs.record", label=datetime.now(UTC))
    with pytest.raises(ValueError, match="may not start with '_'"):
        await platform.enqueue("testjobs.record", label="x", _job_id="mine")
    assert await Job.all().count() == 0


async def test_backlog_counts_due_queued_jobs(db: None, platform: Platform) -> None:
    await platform.enqueue("testjobs.record", label="a")
    await platform.enqueue("testjobs.record", label="b")
    await platform.jobs.enqueue("testjobs.record", _delay=timedelta(hours=1), label="later")
    assert await platform.jobs.backlog() == 2


# Running, retrying, failing


async def test_job_runs_with_its_arguments(db: None, platform: Platform,
                                           run_jobs: RunJobs) -> None:
    await platform.enqueue("testjobs.record", label="hello")
    assert await run_jobs() == 1
    assert await labels() == ["hello@1"]
    [job] = await Job.all()
    assert job.state == JobState.DONE
    assert job.attempts == 1
    assert job.finished_at is not None and job.lease_until is None
    assert await run_jobs() == 0  # done jobs do not run again


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n, 10).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff(30, 10) == timedelta(hours=1)


async def test_failed_try_is_retried_later_with_backoff(db: None, platform: Platform) -> None:
    queue = embedded(platform, retry_base_seconds=60)
    await queue.enqueue("testjobs.flaky", label="flaky", fail_times=2)

    assert await queue.run_one()
    job = await Job.get()
    assert (job.state, job.attempts) == (JobState.QUEUED, 1)
    assert "RuntimeError: flaky failure on try 1" in job.last_error
    delay = (job.run_at - utcnow()).total_seconds()
    assert 55 < delay <= 60
    assert not await queue.run_one()  # not due yet

    await Job.filter(id=job.id).update(run_at=utcnow())  # a minute passes
    assert await queue.run_one()
    await job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.QUEUED, 2)
    assert 115 < (job.run_at - utcnow()).total_seconds() <= 120  # twice as long

    await Job.filter(id=job.id).update(run_at=utcnow())
    assert await queue.run_one()
    await job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.DONE, 3)
    assert await labels() == ["flaky@3"]


async def test_last_failure_keeps_the_traceback(db: None, platform: Platform,
                                                run_jobs: RunJobs) -> None:
    await platform.enqueue("testjobs.broken", reason="the disk is full")
    job = await Job.get()
    assert job.max_tries == BROKEN_MAX_TRIES
    deadline = time.monotonic() + 10
    while job.state != JobState.FAILED:
        assert time.monotonic() < deadline
        await run_jobs()
        await job.refresh_from_db()
        await asyncio.sleep(0.01)
    assert job.attempts == BROKEN_MAX_TRIES
    assert job.last_error.startswith("Traceback (most recent call last):")
    assert "in broken" in job.last_error
    assert job.last_error.rstrip().endswith("ValueError: the disk is full")
    assert job.finished_at is not None
    assert await run_jobs() == 0  # failed jobs stay failed


async def test_retry_queues_a_failed_job_from_its_first_try(db: None, platform: Platform,
                                                            run_jobs: RunJobs) -> None:
    job = await Job.create(name="testjobs.record", kwargs={"label": "again"},
                           state=JobState.FAILED, run_at=utcnow(), attempts=5,
                           last_error="boom", finished_at=utcnow())
    assert await platform.jobs.retry(job)
    assert not await platform.jobs.retry(job)  # a second click changes nothing
    await job.refresh_from_db()
    assert (job.state, job.attempts, job.finished_at) == (JobState.QUEUED, 0, None)
    await run_jobs()
    assert await labels() == ["again@1"]


# Workers that die


async def test_job_of_a_dead_worker_runs_again_after_its_lease(db: None, platform: Platform,
                                                               run_jobs: RunJobs) -> None:
    # A worker claimed these and died: one lease has run out, the other has not yet.
    dead = await Job.create(name="testjobs.record", kwargs={"label": "orphan"},
                            state=JobState.RUNNING, run_at=utcnow(), attempts=1,
                            lease_until=utcnow() - timedelta(seconds=1))
    alive = await Job.create(name="testjobs.record", kwargs={"label": "busy"},
                             state=JobState.RUNNING, run_at=utcnow(), attempts=1,
                             lease_until=utcnow() + timedelta(minutes=5))
    assert await run_jobs() == 1
    await dead.refresh_from_db()
    await alive.refresh_from_db()
    assert (dead.state, dead.attempts) == (JobState.DONE, 2)
    assert alive.state == JobState.RUNNING
    assert await labels() == ["orphan@2"]


async def test_worker_dying_on_the_last_try_fails_the_job(db: None, platform: Platform,
                                                          run_jobs: RunJobs) -> None:
    job = await Job.create(name="testjobs.record", kwargs={"label": "doomed"},
                           state=JobState.RUNNING, run_at=utcnow(), attempts=5, max_tries=5,
                           lease_until=utcnow() - timedelta(seconds=1))
    await run_jobs()
    await job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.FAILED, 5)
    assert "worker stopped during try 5 of 5" in job.last_error
    assert await labels() == []


async def test_lease_is_renewed_while_a_slow_job_runs(db: None, platform: Platform) -> None:
    first = embedded(platform, lease_seconds=0.3)
    second = embedded(platform, lease_seconds=0.3)
    await first.enqueue("testjobs.slow", label="slow", seconds=1.2)
    running = asyncio.create_task(first.run_one())
    await wait_until(lambda: Job.filter(state=JobState.RUNNING).exists())
    for _ in range(4):  # well past the 0.3 s lease, the job is still held
        await asyncio.sleep(0.25)
        assert not await second.run_one()
    assert await running
    job = await Job.get()
    assert (job.state, job.attempts) == (JobState.DONE, 1)
    assert await labels() == ["slow@1"]


async def test_stopping_hands_the_running_job_back(db: None, platform: Platform) -> None:
    queue = embedded(platform)
    await queue.start(platform)
    await queue.enqueue("testjobs.slow", label="interrupted", seconds=30)
    await wait_until(lambda: Job.filter(name="testjobs.slow", state=JobState.RUNNING).exists())
    await queue.stop()
    job = await Job.get(name="testjobs.slow")
    assert (job.state, job.attempts, job.lease_until) == (JobState.QUEUED, 0, None)
    assert await labels() == []


async def test_started_queue_runs_jobs_in_the_background(db: None, platform: Platform) -> None:
    queue = embedded(platform)
    await queue.start(platform)
    try:
        await queue.enqueue("testjobs.record", label="bg")
        await wait_until(lambda: Job.filter(name="testjobs.record", state=JobState.DONE).exists(),
                         within=5)
    finally:
        await queue.stop()
    assert await labels() == ["bg@1"]


# Cron


async def test_cron_starts_each_entry_once_per_minute_across_queues(
    db: None, platform: Platform
) -> None:
    monday = datetime(2030, 1, 7, 9, 30, 12, tzinfo=UTC)
    assert monday.weekday() == 0
    queues = [embedded(platform) for _ in range(2)]

    ours = ("sample.tick", "testjobs.record")  # the domains add entries of their own

    async def started_here() -> list[tuple[str, dict[str, str]]]:
        return sorted(await Job.filter(name__in=ours).values_list("name", "kwargs"))

    await asyncio.gather(*(q.run_cron(monday) for q in queues))
    # Due at Monday 09:30: the weekly entry and the sample plugin's every-minute one, once.
    assert await started_here() == [
        ("sample.tick", {"label": "every-minute"}),
        ("testjobs.record", {"label": "weekly"}),
    ]
    # Fresh processes later in the same minute start nothing.
    assert await embedded(platform).run_cron(monday + timedelta(seconds=40)) == 0

    # The next minute only the every-minute entry is due, again once.
    await asyncio.gather(*(q.run_cron(monday + timedelta(minutes=1)) for q in queues))
    assert await Job.filter(name="sample.tick").count() == 2
    assert await Job.filter(name="testjobs.record").count() == 1

    # Tuesday at 09:30 the weekly entry is not due.
    await embedded(platform).run_cron(monday + timedelta(days=1))
    assert await Job.filter(name="testjobs.record").count() == 1
