"""Benchmarks of the forum's read side: a topic page with 100 posts and the latest list.

``forum serve`` on SQLite (the demo project plus seeded topics) under wrk, reusing
bench/run.py's helpers. One JSON line per page (anonymous and signed in as alice): p50 and
p99 at concurrency 1, requests/s at 16, beside the trivial route (/healthz) of the same run,
and whether the issue's targets are met (topic page p50 <= 25 ms, p99 <= 60 ms, at c16 at
least 30% of the trivial route's requests/s).

    .venv/bin/python bench/topics.py --seconds 4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as base  # bench/run.py, beside this file

POSTS_IN_BIG_TOPIC = 100
SEED_TOPICS = 600
TARGETS = {"c1_p50_ms": 25.0, "c1_p99_ms": 60.0, "c16_rps_ratio": 0.30}

PARAGRAPH = ("You can set the option in the `[server]` table of the config file, then "
             "restart the service. See **the manual** for the full list of options, and "
             "[the changelog](https://example.org/changes) for what changed.\n\n"
             "```python\nclient = Client(timeout=30)\nclient.connect()\n```\n")


async def _seed_topics(env: dict[str, str]) -> dict[str, Any]:
    """A question with 100 posts (votes, an accepted answer) and many more topics."""
    from datetime import UTC, datetime, timedelta

    from forum.accounts.models import User
    from forum.db import close_db, init_db
    from forum.plugins import PluginManager
    from forum.projects.models import Project
    from forum.settings import load_settings
    from forum.text import CookContext, cook
    from forum.topics.categories import ensure_default_categories
    from forum.topics.models import Category, Post, Topic, TopicKind, TopicState, Vote
    from forum.topics.writing import slugify

    settings = load_settings(data_dir=env["FORUM_DATA_DIR"],
                             database_url=env["FORUM_DATABASE_URL"])
    await init_db(settings, PluginManager())
    try:
        project = await Project.get(slug="demo")
        await ensure_default_categories(project)
        category = await Category.get(project_id=project.id, slug="questions")
        users = await User.filter(username__startswith="bench").order_by("id").limit(60)
        alice = await User.get(username_lower="alice")
        cooked = cook(PARAGRAPH, CookContext(project.slug)).html
        start = datetime.now(UTC) - timedelta(days=30)
        topics = [Topic(project=project, category=category, author=users[n % len(users)],
                        kind=TopicKind.QUESTION, title=f"Seeded question number {n}",
                        slug=slugify(f"Seeded question number {n}"), reply_count=n % 4,
                        score=n % 7, last_posted_at=start + timedelta(minutes=n))
                  for n in range(SEED_TOPICS)]
        await Topic.bulk_create(topics)
        seeded = await Topic.filter(project_id=project.id,
                                    title__startswith="Seeded question").only("id")
        await Post.bulk_create([Post(topic_id=t.id, author=users[i % len(users)], number=1,
                                     source=PARAGRAPH, cooked=cooked)
                                for i, t in enumerate(seeded)])
        title = "How do I configure the server for a hundred answers?"
        big = await Topic.create(project=project, category=category, author=alice,
                                 kind=TopicKind.QUESTION, title=title, slug=slugify(title),
                                 reply_count=POSTS_IN_BIG_TOPIC - 1,
                                 last_posted_at=datetime.now(UTC))
        await Post.bulk_create([
            Post(topic_id=big.id, author=alice if n == 1 else users[n % len(users)],
                 number=n, source=PARAGRAPH, cooked=cooked, score=(n * 7) % 11 - 3)
            for n in range(1, POSTS_IN_BIG_TOPIC + 1)])
        posts = await Post.filter(topic_id=big.id).order_by("number")
        await Vote.bulk_create([Vote(post=p, user=alice, value=1) for p in posts[1:40]])
        await Topic.filter(id=big.id).update(accepted_post_id=posts[5].id,
                                             state=TopicState.SOLVED)
        return {"topic_path": f"/p/demo/t/{big.id}-{big.slug}",
                "topics": await Topic.filter(project_id=project.id).count(),
                "posts_in_topic": len(posts)}
    finally:
        await close_db()


def verdict(page: dict[str, Any], trivial: dict[str, Any]) -> dict[str, bool]:
    ratio = page["c16_rps"] / trivial["c16_rps"] if trivial["c16_rps"] else 0.0
    return {"c1_p50": page["c1_p50_ms"] <= TARGETS["c1_p50_ms"],
            "c1_p99": page["c1_p99_ms"] <= TARGETS["c1_p99_ms"],
            "c16_rps": ratio >= TARGETS["c16_rps_ratio"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--seconds", type=int, default=4, help="per measurement")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args, _ = parser.parse_known_args()  # run.py passes its own arguments along
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk is missing; run `bash scripts/services.sh bench-tools`")
    data_dir = Path(tempfile.mkdtemp(prefix="forum-bench-topics-"))
    port = base.free_port()
    env = base.server_env(data_dir, port)
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    base.prepare_database(env)
    subprocess.run([str(base.FORUM), "demo"], env=env, check=True, capture_output=True)
    seeded = {**asyncio.run(base._seed_more(env)), **asyncio.run(_seed_topics(env))}
    process = base.start_server(env, data_dir)
    try:
        print(json.dumps({"bench": "topics", "database": "sqlite", "seeded": seeded,
                          "seconds_per_measurement": args.seconds, "targets": TARGETS}),
              flush=True)
        trivial = base.measure(url, base.TRIVIAL, args.seconds)
        print(json.dumps({"page": base.TRIVIAL, "as": "anonymous", **trivial}), flush=True)
        cookie = base.session_cookie(url)
        for path in (seeded["topic_path"], "/p/demo/latest"):
            for who, session in (("anonymous", ""), (base.SIGNED_IN_AS[0], cookie)):
                figures = base.measure(url, path, args.seconds, session)
                print(json.dumps({
                    "page": path, "as": who, **figures,
                    "trivial": {"page": base.TRIVIAL, "c1_p50_ms": trivial["c1_p50_ms"],
                                "c1_p99_ms": trivial["c1_p99_ms"],
                                "c16_rps": trivial["c16_rps"]},
                    "ratio": {"c16_rps": base.ratio(figures["c16_rps"], trivial["c16_rps"])},
                    "meets_targets": verdict(figures, trivial),
                    **base.rss_kb(process.pid),
                }), flush=True)
        print(json.dumps({"total_seconds": round(time.monotonic() - started, 1)}), flush=True)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            print(json.dumps({"data_dir": str(data_dir)}), file=sys.stderr)


if __name__ == "__main__":
    main()
