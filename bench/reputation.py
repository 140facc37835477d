"""Benchmarks of reputation: the recount of a big project, and the leaderboard and
history pages over its ledger.

A project with 1,000,000 ledger rows and 100,000 votes on SQLite in a temporary folder
(users, topics and posts through the ORM, votes and ledger rows bulk-inserted), then:

- ``forum reputation rebuild`` for that project: seconds, and peak Python memory of a
  second run under tracemalloc (plus the process's peak RSS);
- p50 and p99 of the leaderboard (week, year, all, accepted) and a user's history page
  and API, in-process through httpx's ASGI transport, beside the trivial route /healthz
  measured the same way in the same run.

One JSON line per figure.

    .venv/bin/python bench/reputation.py [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import page_latency

LEDGER_ROWS = 1_000_000
VOTES = 100_000
USERS = 2_000
QUESTIONS = 10_000
ANSWERS_PER_QUESTION = 2
REASONS = [("up", "upvoted", 10), ("down", "downvoted", -2), ("down_cost", "downvoted_other", -1),
           ("accept", "accepted", 15), ("accepter", "accepted_other", 2),
           ("up", "unvoted", -10)]


def emit(**figures: Any) -> None:
    print(json.dumps(figures), flush=True)


async def seed(settings: Any, plugins: Any, path: Path) -> dict[str, Any]:
    from tortoise import Tortoise

    from forum.accounts.models import User
    from forum.db import init_db
    from forum.projects.models import Project
    from forum.topics.categories import ensure_default_categories
    from forum.topics.models import Post, Topic, TopicKind

    started = time.monotonic()
    await init_db(settings, plugins)
    await Tortoise.generate_schemas()
    project = await Project.create(slug="bench", name="Bench")
    category = next(c for c in await ensure_default_categories(project) if c.slug == "questions")
    await User.bulk_create([User(username=f"u{i}", username_lower=f"u{i}",
                                 email=f"u{i}@example.org", password_hash="x")
                            for i in range(USERS)], batch_size=1000)
    user_ids = [u for (u,) in await User.all().order_by("id").values_list("id")]
    now = datetime.now(UTC)
    rng = random.Random(4)
    await Topic.bulk_create([Topic(project_id=project.id, category_id=category.id,
                                   author_id=rng.choice(user_ids), kind=TopicKind.QUESTION,
                                   title=f"Question {i}", slug=f"question-{i}",
                                   last_posted_at=now) for i in range(QUESTIONS)],
                            batch_size=2000)
    topics = [(t, a) for t, a in await Topic.all().order_by("id").values_list("id", "author_id")]
    posts: list[Post] = []
    for topic_id, author_id in topics:
        posts.append(Post(topic_id=topic_id, author_id=author_id, number=1, source="q",
                          cooked="<p>q</p>"))
        posts.extend(Post(topic_id=topic_id, author_id=rng.choice(user_ids), number=n,
                          source="a", cooked="<p>a</p>")
                     for n in range(2, ANSWERS_PER_QUESTION + 2))
    await Post.bulk_create(posts, batch_size=5000)
    post_rows = await Post.all().values_list("id", "author_id", "topic_id", "number")
    accepted = [(pid, tid) for pid, _, tid, n in post_rows if n == 2][: QUESTIONS // 2]
    for start in range(0, len(accepted), 500):
        for pid, tid in accepted[start:start + 500]:
            await Topic.filter(id=tid).update(accepted_post_id=pid)
    await Tortoise.close_connections()

    db = sqlite3.connect(path)
    seen: set[tuple[int, int]] = set()
    votes = []
    while len(votes) < VOTES:
        post_id, author_id, _, _ = rng.choice(post_rows)
        voter = rng.choice(user_ids)
        if voter == author_id or (post_id, voter) in seen:
            continue
        seen.add((post_id, voter))
        at = (now - timedelta(seconds=rng.randrange(365 * 86400))).isoformat(sep=" ")
        votes.append((post_id, voter, 1 if rng.random() < 0.85 else -1, at, at))
    db.executemany("INSERT INTO votes (post_id, user_id, value, created_at, updated_at) "
                   "VALUES (?, ?, ?, ?, ?)", votes)

    months: dict[tuple[str, int], list[int]] = {}

    def ledger_rows() -> Any:
        # Written in time order, as the listeners append them.
        moments = sorted(now - timedelta(seconds=rng.randrange(365 * 86400))
                         for _ in range(LEDGER_ROWS))
        for moment in moments:
            kind, reason, points = rng.choice(REASONS)
            user_id = rng.choice(user_ids)
            month = months.setdefault((moment.date().replace(day=1).isoformat(), user_id),
                                      [0, 0])
            month[0] += points
            if kind == "accept":
                month[1] += 1
            yield (project.id, user_id, points, points, kind, reason,
                   rng.choice(post_rows)[0], rng.choice(user_ids), moment.date().isoformat(),
                   moment.isoformat(sep=" "))

    db.executemany("INSERT INTO reputation_entries (project_id, user_id, delta, points, kind, "
                   "reason, post_id, voter_id, day, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                   "?, ?)", ledger_rows())
    db.executemany("INSERT INTO reputation_months (project_id, month, user_id, gained, "
                   "accepted) VALUES (?, ?, ?, ?, ?)",
                   [(project.id, m, u, g, a) for (m, u), (g, a) in months.items()])
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return {"project_id": project.id, "seconds": round(time.monotonic() - started, 1)}


async def measure_rebuild(settings: Any, plugins: Any, project_id: int) -> None:
    from forum.db import close_db, init_db
    from forum.reputation.rebuild import rebuild

    await init_db(settings, plugins)
    try:
        report = await rebuild(project_id)  # writes the totals, as the command does
        emit(bench="reputation_rebuild", ledger_rows=LEDGER_ROWS, votes=report.votes,
             acceptances=report.acceptances, users=report.users, seconds=report.seconds,
             differences=len(report.differences), months_repaired=len(report.months_repaired))
        tracemalloc.start()
        again = await rebuild(project_id, check=True)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        emit(bench="reputation_rebuild_memory", python_peak_mb=round(peak / 2**20, 1),
             seconds_under_tracemalloc=again.seconds,
             process_peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                       / 1024, 1))
    finally:
        await close_db()


async def measure_pages(settings: Any, plugins: Any, requests: int) -> None:
    import httpx

    from forum.app import create_app
    from forum.platform import build_platform
    from forum.reputation.models import ReputationTotal

    app = create_app(settings, platform=build_platform(settings, plugins))
    async with app.router.lifespan_context(app):
        top = await ReputationTotal.all().order_by("-total").first()
        assert top is not None
        from forum.accounts.models import User

        person = await User.get(id=top.user_id)  # type: ignore[attr-defined]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            pages = ["/healthz", "/p/bench/leaderboard?period=week",
                     "/p/bench/leaderboard?period=month", "/p/bench/leaderboard?period=year",
                     "/p/bench/leaderboard?period=all",
                     "/p/bench/leaderboard?period=week&by=accepted",
                     "/p/bench/leaderboard?period=all&by=accepted",
                     "/api/v1/projects/bench/leaderboard?period=week",
                     f"/p/bench/u/{person.username}/reputation",
                     f"/api/v1/projects/bench/users/{person.username}/reputation",
                     f"/p/bench/u/{person.username}",  # the profile page
                     f"/api/v1/projects/bench/users/{person.username}",  # the profile API
                     "/p/bench/privileges"]
            trivial: dict[str, float] = {}
            for page in pages:
                figures = await page_latency(client, page, requests, warm_up=5)
                if page == "/healthz":
                    trivial = figures
                emit(bench="reputation_page", page=page, requests=requests, **figures,
                     trivial=trivial,
                     ratio_p50=round(figures["p50_ms"] / trivial["p50_ms"], 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--requests", type=int, default=200, help="per page")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the data (1: 1,000,000 ledger rows)")
    args, _ = parser.parse_known_args()
    global LEDGER_ROWS, VOTES, USERS, QUESTIONS
    LEDGER_ROWS, VOTES = int(LEDGER_ROWS * args.scale), int(VOTES * args.scale)
    USERS, QUESTIONS = max(50, int(USERS * args.scale)), max(100, int(QUESTIONS * args.scale))

    from forum.platform import build_platform  # noqa: F401  (imports the app's modules)
    from forum.plugins import PluginManager
    from forum.settings import Settings

    data_dir = Path(tempfile.mkdtemp(prefix="forum-bench-reputation-"))
    path = data_dir / "forum.sqlite3"
    settings = Settings(data_dir=data_dir, database_url=f"sqlite://{path}",
                        secret_key="bench-secret-key-not-for-production",
                        run_embedded_worker=False, base_url="http://bench",
                        rate_limit_login="100000/minute")
    plugins = PluginManager()
    started = time.monotonic()
    try:
        seeded = asyncio.run(seed(settings, plugins, path))
        emit(bench="reputation_seed", ledger_rows=LEDGER_ROWS, votes=VOTES, users=USERS,
             posts=QUESTIONS * (1 + ANSWERS_PER_QUESTION), seconds=seeded["seconds"])
        asyncio.run(measure_rebuild(settings, plugins, seeded["project_id"]))
        asyncio.run(measure_pages(settings, plugins, args.requests))
        emit(bench="reputation_total", seconds=round(time.monotonic() - started, 1))
    finally:
        if args.keep:
            print(json.dumps({"data_dir": str(data_dir)}), file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
