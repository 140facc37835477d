"""Benchmark: the support queue's order at 10,000 and 100,000 queued tickets on SQLite.

Builds a temporary SQLite database with the current models (generate_schemas), bulk-inserts
the tickets of two projects, then prints one JSON line per size: the full order (its ticket
ids, ``QueueReader.order_ids``), the top 50 (``queue_page``, tickets loaded as the inbox
shows them), one ticket's position (p50 and max over random tickets), a page in the middle
of the queue and a filtered page (one supporter's tickets), in ms, with peak Python memory
(tracemalloc), beside baselines measured in the same run (``SELECT 1`` and a ``COUNT(*)``
of the project's queued tickets). Timings give p50, min and max: on a busy machine the
min is the closest to the work itself. Figures only, no pass/fail.

    .venv/bin/python bench/support_queue.py [--sizes 10000 100000] [--samples 25]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path and this file would stand in for the
# standard library's ``queue`` (asyncio imports it): put the repository there instead.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

TIERS = [("free", 70), ("pay_as_you_go", 15), ("subscription", 10), ("enterprise", 5)]
AMOUNTS = [0, 500, 1000, 2500, 5000, 10000]
BATCH = 5000


async def timed(func: Callable[[], Awaitable[Any]]) -> tuple[float, int]:
    """Milliseconds and peak traced memory (KiB) of one call."""
    tracemalloc.start()
    started = time.perf_counter()
    await func()
    elapsed = (time.perf_counter() - started) * 1000
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return round(elapsed, 3), peak // 1024


async def p50(func: Callable[[], Awaitable[Any]], samples: int) -> dict[str, float]:
    runs = []
    for _ in range(samples):
        started = time.perf_counter()
        await func()
        runs.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(runs), 3), "min_ms": round(min(runs), 3),
            "max_ms": round(max(runs), 3)}


async def seed(size: int, rng: random.Random, now: datetime) -> int:
    """A project with ``size`` queued tickets (and a few thousand answered ones)."""
    from forum.accounts.models import User
    from forum.projects.models import Project
    from forum.support_queue.models import Ticket
    from forum.topics.models import Category, Topic, TopicKind

    project = await Project.create(slug=f"q{size}", name=f"Queue {size}")
    user = await User.create(username=f"req{size}", username_lower=f"req{size}",
                             email=f"req{size}@example.org", password_hash="x")
    supporters = [await User.create(username=f"sup{size}-{n}", username_lower=f"sup{size}-{n}",
                                    email=f"sup{size}-{n}@example.org", password_hash="x")
                  for n in range(5)]
    category = await Category.create(project=project, name="Support", slug="support")
    answered = max(200, size // 20)
    total = size + answered
    for start in range(0, total, BATCH):
        count = min(BATCH, total - start)
        await Topic.bulk_create([
            Topic(project=project, category=category, author=user, kind=TopicKind.TICKET,
                  title=f"Ticket {start + n}", slug="ticket", last_posted_at=now)
            for n in range(count)])
    topic_ids = await Topic.filter(project_id=project.id).order_by("id").values_list(
        "id", flat=True)
    tier_names = [t for t, _ in TIERS]
    weights = [w for _, w in TIERS]
    tickets: list[Ticket] = []
    for number, topic_id in enumerate(topic_ids, start=1):
        tier = rng.choices(tier_names, weights)[0]
        waited = timedelta(minutes=rng.randint(0, 60 * 24 * 30))
        queued = number <= size
        due = None
        if tier == "enterprise" and rng.random() < 0.02:
            due = now + timedelta(minutes=rng.randint(-120, 600))
        assignee = rng.choice(supporters) if queued and rng.random() < 0.2 else None
        first_response = None if queued else now - timedelta(days=rng.randint(0, 40))
        tickets.append(Ticket(
            topic_id=topic_id, project=project, number=number, requester=user,
            state=("assigned" if assignee else "queued") if queued else "solved",
            tier=tier, amount_paid=0 if tier == "free" else rng.choice(AMOUNTS[1:]),
            submitted_at=now - waited, last_requester_reaction_at=now - waited,
            first_response_due_at=due, first_response_at=first_response,
            assignee=assignee))
        if len(tickets) == BATCH:
            await Ticket.bulk_create(tickets)
            tickets = []
    if tickets:
        await Ticket.bulk_create(tickets)
    return int(project.id)


async def measure(project_id: int, size: int, samples: int, rng: random.Random,
                  now: datetime) -> dict[str, Any]:
    from tortoise import Tortoise

    from forum.support_queue.models import Ticket
    from forum.support_queue.queue import (
        QueueFilter,
        QueueReader,
        load_queue_settings,
        queue_page,
        queue_position,
    )

    connection = Tortoise.get_connection("default")
    queued = Ticket.filter(project_id=project_id, state__in=["queued", "assigned"])
    baseline_select = await p50(lambda: connection.execute_query("SELECT 1"), samples)
    baseline_count = await p50(lambda: queued.count(), samples)
    settings = await load_queue_settings(project_id)

    async def full_order() -> None:
        order = await QueueReader(project_id, settings, now).order_ids()
        assert len(order) == size

    full_ms, full_kib = await timed(full_order)
    top = await p50(lambda: queue_page(project_id, limit=50, now=now), samples)
    _, top_kib = await timed(lambda: queue_page(project_id, limit=50, now=now))
    deep = await p50(lambda: queue_page(project_id, limit=50, offset=size // 2, now=now),
                     samples)
    mine_ids = await queued.filter(assignee_id__isnull=False).limit(1).values_list(
        "assignee_id", flat=True)
    mine = QueueFilter(assignee_id=mine_ids[0]) if mine_ids else QueueFilter(unassigned=True)
    filtered = await p50(lambda: queue_page(project_id, limit=50, filters=mine, now=now), 3)
    ids = await queued.values_list("id", flat=True)
    picks = [await Ticket.get(id=i) for i in rng.sample(list(ids), samples)]
    position_runs = []
    for ticket in picks:
        started = time.perf_counter()
        position = await queue_position(ticket, now=now)
        position_runs.append((time.perf_counter() - started) * 1000)
        assert position is not None and 1 <= position <= size
    _, position_kib = await timed(lambda: queue_position(picks[0], now=now))
    reader = QueueReader(project_id, settings, now)
    await reader.load()
    return {
        "queued_tickets": size,
        "jump_set": len(reader.jump), "unpaid_deficit": bool(reader.deficit),
        "full_order_ms": full_ms, "full_order_peak_kib": full_kib,
        "top50_ms": top, "top50_peak_kib": top_kib,
        "position_ms": {"p50_ms": round(statistics.median(position_runs), 3),
                        "min_ms": round(min(position_runs), 3),
                        "max_ms": round(max(position_runs), 3), "samples": samples},
        "position_peak_kib": position_kib,
        "page_at_middle_ms": deep,
        "filtered_page_mine_ms": filtered,
        "baseline_select_1_ms": baseline_select,
        "baseline_count_queued_ms": baseline_count,
    }


async def run(sizes: list[int], samples: int) -> None:
    from tortoise import Tortoise

    from forum.db import close_db, init_db
    from forum.plugins import PluginManager
    from forum.settings import Settings

    rng = random.Random(5)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="forum-bench-queue-") as folder:
        path = Path(folder) / "queue.sqlite3"
        settings = Settings(data_dir=Path(folder), database_url=f"sqlite://{path}",
                            secret_key="bench-secret-key-not-for-production")
        await init_db(settings, PluginManager(load_entry_points=False))
        try:
            await Tortoise.generate_schemas()
            for size in sizes:
                started = time.perf_counter()
                project_id = await seed(size, rng, now)
                seeded = round(time.perf_counter() - started, 1)
                figures = await measure(project_id, size, samples, rng, now)
                print(json.dumps({"bench": "support queue", "database": "sqlite",
                                  "seed_seconds": seeded, **figures}), flush=True)
        finally:
            await close_db()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--sizes", nargs="*", type=int, default=[10_000, 100_000])
    parser.add_argument("--samples", type=int, default=25)
    args = parser.parse_args()
    started = time.perf_counter()
    asyncio.run(run(args.sizes, args.samples))
    print(json.dumps({"bench": "support queue",
                      "total_seconds": round(time.perf_counter() - started, 1)}), flush=True)


if __name__ == "__main__":
    main()
