"""Killing ``forum serve`` with SIGKILL while jobs are queued loses none of them.

The proof runs real processes end to end:

1. ``mail.send`` jobs are queued in the database before the server starts, and more while
   it runs;
2. a real ``forum serve`` delivers them to a real SMTP server, which keeps the third
   message unanswered, so that job is mid-delivery (state ``running``) while the later
   ones still wait (``queued``);
3. the server gets SIGKILL: none of its shutdown code runs;
4. a new ``forum serve`` on the same database runs the queued jobs and, once its lease has
   run out, the job that was killed mid-delivery;
5. every one of the N messages arrives. The interrupted one arrives twice (at least once
   is the promise), both times with the same Message-ID, so mail clients show it once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from tortoise import Tortoise

from forum.db import init_db
from forum.jobs.models import Job, JobState
from forum.platform import Platform, build_platform
from forum.plugins import PluginManager
from forum.settings import Settings
from tests.smtp import SMTPServer, free_port

QUEUED_BEFORE_START = 8
QUEUED_WHILE_SERVING = 4
TOTAL = QUEUED_BEFORE_START + QUEUED_WHILE_SERVING
HELD = 3  # the SMTP server keeps the 3rd message unanswered: that job is mid-run at the kill
LEASE_SECONDS = 2
WAIT_SECONDS = 60


class ServeProcess:
    """One ``forum serve`` subprocess on a free port, its output in a log file."""

    def __init__(self, env: dict[str, str], cwd: Path, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "forum.cli", "serve", "--port", str(self.port)],
            env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"forum serve exited:\n{self.output()}"
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code \
                        == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"forum serve did not answer /healthz:\n{self.output()}")

    def sigkill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=10) == -signal.SIGKILL

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer(delay=0.05, hold=HELD) as server:
        yield server


@pytest.fixture
def serve_env(tmp_path: Path, database_url: str, smtp: SMTPServer) -> dict[str, str]:
    # The database is the test template's clone (tests/conftest.py); that its schema is the
    # one `forum migrate` builds is checked by tests/test_migrations.py.
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("FORUM_")}
    env.update({
        "FORUM_DATABASE_URL": database_url,
        "FORUM_DATA_DIR": str(tmp_path / "data"),
        "FORUM_CONFIG_FILE": str(tmp_path / "absent.toml"),
        "FORUM_SECRET_KEY": "test-secret-key-not-for-production",
        "FORUM_SMTP_HOST": smtp.host,
        "FORUM_SMTP_PORT": str(smtp.port),
        "FORUM_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "FORUM_JOB_POLL_SECONDS": "0.1",
        "FORUM_JOB_RETRY_BASE_SECONDS": "0.2",
        "FORUM_LOG_LEVEL": "WARNING",
    })
    return env


@pytest.fixture
def server_platform(serve_env: dict[str, str]) -> Platform:
    """What the server builds from the same environment: same database, same jobs."""
    settings = Settings(
        database_url=serve_env["FORUM_DATABASE_URL"], data_dir=serve_env["FORUM_DATA_DIR"],
        secret_key=serve_env["FORUM_SECRET_KEY"])
    return build_platform(settings, PluginManager())


def with_db(platform: Platform, work: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``work`` in this test process against the server's database."""
    async def main() -> Any:
        await init_db(platform.settings, platform.plugins)
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(main())


def queue_mail(platform: Platform, numbers: range) -> None:
    async def work() -> None:
        for n in numbers:
            await platform.send_mail(f"user{n}@example.org", "test_message",
                                     {"requested_at": f"crash test {n}"},
                                     subject=f"crash test {n}")

    with_db(platform, work)


def jobs_by_state(platform: Platform) -> dict[str, list[Job]]:
    async def work() -> list[Job]:
        return await Job.filter(name="mail.send").order_by("id")

    found: dict[str, list[Job]] = {state.value: [] for state in JobState}
    for job in with_db(platform, work):
        found[job.state.value].append(job)
    return found


def test_sigkill_while_jobs_are_queued_loses_none(
    tmp_path: Path, serve_env: dict[str, str], server_platform: Platform, smtp: SMTPServer
) -> None:
    queue_mail(server_platform, range(QUEUED_BEFORE_START))
    servers: list[ServeProcess] = []
    try:
        first = ServeProcess(serve_env, tmp_path, tmp_path / "serve-1.log")
        servers.append(first)
        first.wait_until_ready()
        queue_mail(server_platform, range(QUEUED_BEFORE_START, TOTAL))

        assert smtp.holding.wait(WAIT_SECONDS), f"no delivery got stuck:\n{first.output()}"
        first.sigkill()
        smtp.release()  # the held delivery ends now; its sender is already gone

        at_kill = jobs_by_state(server_platform)
        [interrupted] = at_kill["running"]  # killed mid-delivery, its lease still on
        assert len(at_kill["done"]) == HELD - 1
        assert len(at_kill["queued"]) == TOTAL - HELD  # never started
        assert at_kill["failed"] == []
        assert len(smtp.received) == HELD

        second = ServeProcess(serve_env, tmp_path, tmp_path / "serve-2.log")
        servers.append(second)
        second.wait_until_ready()
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            states = jobs_by_state(server_platform)
            if len(states["done"]) == TOTAL:
                break
            assert states["failed"] == [], states["failed"][0].last_error
            assert time.monotonic() < deadline, (
                f"jobs left: {[(j.id, j.state) for s in states.values() for j in s]}\n"
                f"{second.output()}")
            time.sleep(0.2)
    finally:
        for server in servers:
            server.close()

    subjects = Counter(str(mail.message["Subject"]) for mail in smtp.received)
    held_subject = str(smtp.received[HELD - 1].message["Subject"])
    assert set(subjects) == {f"crash test {n}" for n in range(TOTAL)}  # none lost
    assert subjects[held_subject] == 2  # at least once: the interrupted one, again
    assert sum(subjects.values()) == TOTAL + 1
    copies = [m.message for m in smtp.received if m.message["Subject"] == held_subject]
    assert copies[0]["Message-ID"] == copies[1]["Message-ID"]

    done = {job.id: job for job in jobs_by_state(server_platform)["done"]}
    assert done[interrupted.id].attempts == 2  # re-run after its lease ran out
    assert all(job.attempts == 1 for job in done.values() if job.id != interrupted.id)
    assert "Serving on" in (tmp_path / "serve-1.log").read_text()
