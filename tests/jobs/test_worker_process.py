"""``forum worker`` as a real process: runs what the web side queued in Redis, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis.asyncio

from forum.jobs.redis import ArqQueue, queue_name_of
from forum.platform import build_platform
from forum.plugins import PluginManager
from forum.settings import Settings
from tests.jobs.conftest import redis_test_url
from tests.smtp import SMTPServer

pytestmark = pytest.mark.redis


def test_queue_name_comes_from_the_redis_url() -> None:
    assert queue_name_of("redis://127.0.0.1:6379/0") == "arq:queue"
    assert queue_name_of("redis://127.0.0.1:6379/3?queue=forum-a") == "forum-a"


def test_forum_worker_runs_queued_mail_and_stops_cleanly(
    tmp_path: Path, database_url: str, queue_name: str
) -> None:
    redis_url = f"{redis_test_url()}?queue={queue_name}"
    env = {name: value for name, value in os.environ.items() if not name.startswith("FORUM_")}
    env.update({
        "FORUM_REDIS_URL": redis_url,
        "FORUM_DATABASE_URL": database_url,
        "FORUM_DATA_DIR": str(tmp_path / "data"),
        "FORUM_CONFIG_FILE": str(tmp_path / "absent.toml"),
        "FORUM_SECRET_KEY": "test-secret-key-not-for-production",
    })
    with SMTPServer() as smtp:
        env.update({"FORUM_SMTP_HOST": smtp.host, "FORUM_SMTP_PORT": str(smtp.port)})
        settings = Settings(redis_url=redis_url, database_url=database_url,
                            data_dir=tmp_path / "data", secret_key=env["FORUM_SECRET_KEY"])
        platform = build_platform(settings, PluginManager())
        queue = platform.jobs
        assert isinstance(queue, ArqQueue) and queue.queue_name == queue_name

        async def enqueue() -> None:
            for n in range(3):
                await platform.send_mail(f"u{n}@example.org", "test_message",
                                         {"requested_at": "now"}, subject=f"worker {n}")
            await queue.stop()

        asyncio.run(enqueue())
        log_path = tmp_path / "worker.log"
        with log_path.open("wb") as log:
            worker = subprocess.Popen([sys.executable, "-m", "forum.cli", "worker"], env=env,
                                      cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
            try:
                received = smtp.wait_for(3, timeout=30)
            finally:
                worker.send_signal(signal.SIGTERM)
                status = worker.wait(timeout=15)
        output = log_path.read_text()
        assert status == 0, output
        assert sorted(str(m.message["Subject"]) for m in received) == [
            "worker 0", "worker 1", "worker 2"]
        assert "Traceback" not in output
        assert "mail.send(…)" in output  # arguments (one-time links, say) are not logged
        assert "requested_at" not in output

    async def left() -> int:
        client = redis.asyncio.Redis.from_url(redis_test_url())
        try:
            # Cron entries due as the worker stopped may wait in the queue (the bridges'
            # pollers run every few minutes); the mail jobs must all be done.
            count = sum(1 for job_id in await client.zrange(queue_name, 0, -1)
                        if not job_id.startswith(b"cron:"))
            await client.delete(queue_name, f"{queue_name}:health-check")
            return count
        finally:
            await client.aclose()

    assert asyncio.run(left()) == 0
