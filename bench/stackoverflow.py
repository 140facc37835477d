"""Benchmark of the Stack Overflow bridge's poll against the fake API of the tests (a real
HTTP server in a thread that gzips its answers, tests/plugins/stackoverflow_bridge/).

A project with the bridge on, ``--questions`` tagged questions on the fake, on SQLite in a
temporary folder, then:

- the baseline: the fake's own throughput for ``/questions/{id}`` through the bridge's
  client, requests per second;
- the first poll (every question new: a staged user per asker, a topic each), questions
  per second and the ratio to the baseline (100 questions share one request);
- a refresh poll (every question's score, answers and accepted answer read back, 100 ids a
  request), questions per second.

One JSON line per figure.

    .venv/bin/python bench/stackoverflow.py [--questions 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def emit(**figures: Any) -> None:
    print(json.dumps(figures), flush=True)


async def run(settings: Any, questions: int) -> None:
    from tortoise import Tortoise

    from forum.db import init_db
    from forum.platform import build_platform
    from forum.plugins import PluginManager
    from forum.projects.models import Project
    from forum.projects.plugin_settings import do_save_plugin_settings, do_toggle_plugin
    from plugins.stackoverflow_bridge import poll as poll_module
    from plugins.stackoverflow_bridge.client import StackExchangeClient
    from plugins.stackoverflow_bridge.poll import NAME, BridgeSettings, poll_project
    from tests.plugins.stackoverflow_bridge.fake_stackexchange import (
        FakeStackExchange,
        ServedFake,
        so_question,
    )

    fake = FakeStackExchange()
    with ServedFake(fake):
        settings.stackexchange_api_url = fake.api_url
        platform = build_platform(settings, PluginManager())
        await init_db(settings, platform.plugins)
        await Tortoise.generate_schemas()
        try:
            project = await Project.create(slug="bench", name="Bench")
            await do_toggle_plugin(platform, project, NAME, True)
            await do_save_plugin_settings(platform, project, NAME,
                                          BridgeSettings(tags="python", backfill_days=7))
            now = datetime.now(UTC)
            step = timedelta(days=6) / questions
            for n in range(questions):
                fake.add(so_question(10_000 + n, f"Benchmark question number {n}",
                                     now - timedelta(days=6) + n * step,
                                     user_id=500 + n % 60, display_name=f"Asker {n % 60}",
                                     body="<p>Why does <code>x</code> &amp; y fail?</p>" * 8))

            async with StackExchangeClient(fake.api_url) as api:
                for n in range(20):  # warm up
                    await api.questions_by_id([10_000 + n], site="stackoverflow")
                started = time.perf_counter()
                for n in range(questions):
                    await api.questions_by_id([10_000 + n], site="stackoverflow")
                baseline = questions / (time.perf_counter() - started)
            emit(bench="stackexchange_fake_get", requests=questions,
                 per_second=round(baseline, 1))

            poll_module.MAX_PAGES = questions // 100 + 1
            fake.requests.clear()
            started = time.perf_counter()
            report = await poll_project(platform, project.id, now=now)
            seconds = time.perf_counter() - started
            assert report.imported == questions, report
            rate = questions / seconds
            emit(bench="stackoverflow_first_poll", questions=questions,
                 seconds=round(seconds, 2), per_second=round(rate, 1),
                 api_requests=len(fake.requests), ratio_to_fake_get=round(rate / baseline, 3))

            poll_module.REFRESH_BATCHES = questions // 100 + 1
            fake.requests.clear()
            started = time.perf_counter()
            report = await poll_project(platform, project.id, now=now + timedelta(minutes=10))
            seconds = time.perf_counter() - started
            assert report.refreshed == questions, report
            emit(bench="stackoverflow_refresh_poll", questions=questions,
                 seconds=round(seconds, 2), per_second=round(questions / seconds, 1),
                 api_requests=len(fake.requests))
        finally:
            await Tortoise.close_connections()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args, _ = parser.parse_known_args()

    from forum.settings import Settings

    data_dir = Path(tempfile.mkdtemp(prefix="forum-bench-stackoverflow-"))
    settings = Settings(data_dir=data_dir, database_url=f"sqlite://{data_dir / 'forum.sqlite3'}",
                        secret_key="bench-secret-key-not-for-production",
                        run_embedded_worker=False, base_url="http://bench")
    try:
        asyncio.run(run(settings, args.questions))
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
