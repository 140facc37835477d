"""Benchmark of the GitHub bridge's bulk import (``forum github import``) against the fake
GitHub of the tests (a real HTTP server in a thread, tests/plugins/github_import/).

A project with the plugin on and a linked repository holding ``--issues`` open issues
labelled "question" (two comments each), on SQLite in a temporary folder, then:

- the baseline: the fake's own throughput for single-issue GETs through the bridge's
  client (``GET /repos/{o}/{r}/issues/{n}``), requests per second;
- the bulk import as draft tickets, then (another repository) as questions: issues per
  second, and each one's ratio to the baseline (an import costs one GET of its comments
  and its share of the listing, plus the forum's own writes).

One JSON line per figure.

    .venv/bin/python bench/github_import.py [--issues 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOKEN = "bench-token"


def emit(**figures: Any) -> None:
    print(json.dumps(figures), flush=True)


async def run(settings: Any, issues: int) -> None:
    from tortoise import Tortoise

    from forum.accounts.models import User
    from forum.db import init_db
    from forum.platform import build_platform
    from forum.plugins import PluginManager
    from forum.projects.models import Project
    from forum.projects.plugin_settings import do_toggle_plugin
    from plugins.github_import.bulk import bulk_import
    from plugins.github_import.client import GitHubClient
    from plugins.github_import.connection import NAME, seal
    from plugins.github_import.models import Connection
    from tests.plugins.github_import.fake_github import FakeServer

    platform = build_platform(settings, PluginManager())
    await init_db(settings, platform.plugins)
    await Tortoise.generate_schemas()
    server = FakeServer()
    fake = server.start()
    try:
        fake.add_token(TOKEN)
        owner = await User.create(username="owner", username_lower="owner",
                                  email="owner@example.org", password_hash="x")
        project = await Project.create(slug="bench", name="Bench")
        await do_toggle_plugin(platform, project, NAME, True)
        connections = []
        for repo in ("bench/tickets", "bench/questions"):
            fake.add_repo(repo)
            for n in range(1, issues + 1):
                fake.add_issue(repo, n, title=f"Question number {n}", body=f"Body {n}",
                               labels=["question"], author=f"asker{n % 50}",
                               author_id=1000 + n % 50)
                fake.add_comment(repo, n, "Have you tried the flag?", author="helper",
                                 author_id=7)
                fake.add_comment(repo, n, "Yes, thanks", author=f"asker{n % 50}",
                                 author_id=1000 + n % 50)
            connections.append(await Connection.create(
                project_id=project.id, repo=repo, api_url=fake.url,
                token_sealed=seal(platform, TOKEN)))
        del owner

        async with GitHubClient(fake.url, token=TOKEN) as gh:
            for n in range(1, 21):  # warm up
                await gh.get_issue("bench/tickets", n)
            started = time.perf_counter()
            for n in range(1, issues + 1):
                await gh.get_issue("bench/tickets", n)
            baseline = issues / (time.perf_counter() - started)
        emit(bench="github_fake_get", requests=issues, per_second=round(baseline, 1))

        for connection, kind in zip(connections, ("ticket", "question"), strict=True):
            fake.calls.clear()
            started = time.perf_counter()
            outcome = await bulk_import(platform, connection, project, label="question",
                                        kind=kind)
            seconds = time.perf_counter() - started
            assert len(outcome.imported) == issues, outcome
            rate = issues / seconds
            emit(bench=f"github_bulk_import_{kind}", issues=issues, seconds=round(seconds, 2),
                 per_second=round(rate, 1), github_calls=len(fake.calls),
                 ratio_to_fake_get=round(rate / baseline, 3))
    finally:
        server.stop()
        await Tortoise.close_connections()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--issues", type=int, default=300, help="issues per repository")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args, _ = parser.parse_known_args()

    from forum.settings import Settings

    data_dir = Path(tempfile.mkdtemp(prefix="forum-bench-github-"))
    settings = Settings(data_dir=data_dir, database_url=f"sqlite://{data_dir / 'forum.sqlite3'}",
                        secret_key="bench-secret-key-not-for-production",
                        allow_private_outbound=True,  # the fake GitHub is on 127.0.0.1
                        run_embedded_worker=False, base_url="http://bench")
    try:
        asyncio.run(run(settings, args.issues))
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
