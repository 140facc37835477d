"""``forum jobs list|retry|run`` on the database of the test."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tortoise import Tortoise

from forum.cli import cli
from forum.db import init_db
from forum.jobs.embedded import utcnow
from forum.jobs.models import Job, JobState
from forum.platform import Platform


@pytest.fixture
def forum(tmp_path: Path, database_url: str) -> Callable[..., Result]:
    """Run ``forum ARGS...`` the way a shell would, against the test's database."""
    env = {
        "FORUM_DATABASE_URL": database_url,
        "FORUM_DATA_DIR": str(tmp_path),
        "FORUM_SECRET_KEY": "test-secret-key-not-for-production",
        "FORUM_CONFIG_FILE": str(tmp_path / "absent.toml"),
        "FORUM_REDIS_URL": "",
    }

    def run(*args: str, **extra_env: str) -> Result:
        return CliRunner().invoke(cli, list(args), env={**env, **extra_env},
                                  catch_exceptions=False)

    return run


def with_db(platform: Platform, work: Callable[[], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        await init_db(platform.settings, platform.plugins)
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(main())


def make_jobs(platform: Platform) -> tuple[Job, Job]:
    async def work() -> tuple[Job, Job]:
        failed = await Job.create(name="mail.send", kwargs={}, state=JobState.FAILED,
                                  run_at=utcnow(), attempts=8, max_tries=8,
                                  last_error="Traceback ...\nOSError: no route to host",
                                  finished_at=utcnow())
        done = await Job.create(name="jobs.prune_finished", kwargs={}, state=JobState.DONE,
                                run_at=utcnow(), attempts=1, finished_at=utcnow())
        return failed, done

    result: tuple[Job, Job] = with_db(platform, work)
    return result


def test_list_shows_jobs_with_their_last_error(forum: Callable[..., Result],
                                               platform: Platform) -> None:
    failed, done = make_jobs(platform)
    result = forum("jobs", "list", "--failed")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"#{failed.id}  failed   mail.send  tries 8/8  run at ")
    assert lines[0].endswith("OSError: no route to host")
    assert f"#{done.id} " not in result.output
    assert lines[-1] == ("0 queued, 0 running, 1 done, 1 failed; 0 due and waiting "
                         "(EmbeddedQueue)")

    everything = forum("jobs", "list").output
    assert f"#{done.id}  done     jobs.prune_finished  tries 1/5" in everything
    assert f"#{failed.id}  failed" in everything


def test_retry_queues_a_failed_job_again(forum: Callable[..., Result],
                                         platform: Platform) -> None:
    failed, _ = make_jobs(platform)
    result = forum("jobs", "retry", str(failed.id))
    assert result.exit_code == 0, result.output
    assert result.output == f"job #{failed.id} (mail.send) is queued again\n"
    job = with_db(platform, lambda: Job.get(id=failed.id))
    assert (job.state, job.attempts) == (JobState.QUEUED, 0)

    again = forum("jobs", "retry", str(failed.id))
    assert again.exit_code == 1
    assert "only failed jobs can be retried" in again.stderr
    unknown = forum("jobs", "retry", "999999")
    assert unknown.exit_code == 1
    assert "There is no job #999999." in unknown.stderr


def test_run_drains_the_due_jobs_once(forum: Callable[..., Result],
                                      platform: Platform) -> None:
    async def work() -> None:
        await Job.create(name="jobs.prune_finished", kwargs={}, state=JobState.DONE,
                         run_at=utcnow(), finished_at=utcnow() - timedelta(days=30))
        await platform.enqueue("jobs.prune_finished", days=7)
        await platform.jobs.enqueue("jobs.prune_finished", _delay=timedelta(hours=1))

    with_db(platform, work)
    result = forum("jobs", "run")
    assert result.exit_code == 0, result.output
    assert result.output == "ran 1 job\n"

    async def states() -> list[tuple[str, str]]:
        return sorted((str(s), str(n)) for n, s in await Job.all().values_list("name", "state"))

    # The old finished job was pruned; the prune job is done; the delayed one still waits.
    assert with_db(platform, states) == [("done", "jobs.prune_finished"),
                                         ("queued", "jobs.prune_finished")]


def test_run_refuses_when_jobs_are_in_redis(forum: Callable[..., Result]) -> None:
    result = forum("jobs", "run", FORUM_REDIS_URL="redis://127.0.0.1:56379/13")
    assert result.exit_code == 2
    assert "`forum worker` runs them" in result.stderr
