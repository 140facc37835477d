"""Benchmark of the dashboards: the lead board of a project with a big ledger.

A project on SQLite in a temporary folder with 100,000 ledger payments (and one revenue
attribution each), 1,000,000 reputation ledger rows with their monthly totals, 10,000
tickets and two years of hourly queue snapshots (users, topics and tickets through the
ORM, the rest bulk-inserted with executemany), then p50 and p99 of the lead dashboard
page, its JSON twin and one CSV, in-process through httpx's ASGI transport, beside the
trivial route /healthz measured the same way in the same run, with their ratios.

One JSON line per figure.

    .venv/bin/python bench/dashboard.py [--requests 20] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from base64 import b64encode
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import page_latency

PAYMENTS = 100_000
REPUTATION_ROWS = 1_000_000
TICKETS = 10_000
USERS = 2_000
DAYS = 730  # the data spans two years
TIERS = ("free", "free", "free", "pay_as_you_go", "subscription", "enterprise")
REASONS = [("up", "upvoted", 10), ("down", "downvoted", -2), ("accept", "accepted", 15),
           ("accepter", "accepted_other", 2)]


def emit(**figures: Any) -> None:
    print(json.dumps(figures), flush=True)


def stamp(moment: datetime) -> str:
    return moment.isoformat(sep=" ")


async def seed(settings: Any, plugins: Any, path: Path) -> dict[str, Any]:
    from tortoise import Tortoise

    from forum.accounts.models import User
    from forum.db import init_db
    from forum.projects.models import Membership, Project, Role
    from forum.support_queue.models import Ticket, TicketState
    from forum.topics.categories import ensure_default_categories
    from forum.topics.models import Topic, TopicKind

    started = time.monotonic()
    await init_db(settings, plugins)
    await Tortoise.generate_schemas()
    project = await Project.create(slug="bench", name="Bench")
    category = (await ensure_default_categories(project))[0]
    await User.bulk_create([User(username=f"u{i}", username_lower=f"u{i}",
                                 email=f"u{i}@example.org", password_hash="x")
                            for i in range(USERS)], batch_size=1000)
    user_ids = [u for (u,) in await User.all().order_by("id").values_list("id")]
    lead = await User.get(id=user_ids[0])
    await Membership.create(project=project, user=lead, role=Role.OWNER)
    supporters = user_ids[1:11]
    for uid in supporters:
        await Membership.create(project_id=project.id, user_id=uid, role=Role.SUPPORTER)
    now = datetime.now(UTC)
    rng = random.Random(6)

    def moment() -> datetime:
        return now - timedelta(seconds=rng.randrange(DAYS * 86400))

    await Topic.bulk_create([Topic(project_id=project.id, category_id=category.id,
                                   author_id=rng.choice(user_ids), kind=TopicKind.TICKET,
                                   title=f"Ticket {i}", slug=f"ticket-{i}", last_posted_at=now)
                             for i in range(TICKETS)], batch_size=2000)
    topic_ids = [t for (t,) in await Topic.filter(project_id=project.id,
                                                  kind=TopicKind.TICKET).values_list("id")]
    tickets = []
    states = [TicketState.SOLVED] * 6 + [TicketState.QUEUED, TicketState.ASSIGNED,
                                         TicketState.WAITING, TicketState.CLOSED]
    for number, topic_id in enumerate(topic_ids, 1):
        submitted = moment()
        answered = rng.random() < 0.9
        response = submitted + timedelta(minutes=rng.randrange(5, 3000))
        tickets.append(Ticket(
            topic_id=topic_id, project_id=project.id, number=number,
            requester_id=rng.choice(user_ids), state=rng.choice(states),
            tier=rng.choice(TIERS), submitted_at=submitted,
            first_response_at=response if answered else None,
            first_response_due_at=submitted + timedelta(minutes=rng.choice((240, 480, 1440))),
            assignee_id=rng.choice(supporters),
            solved_at=response + timedelta(hours=rng.randrange(1, 48)) if answered else None))
    await Ticket.bulk_create(tickets, batch_size=2000)
    ticket_ids = [t for (t,) in await Ticket.all().values_list("id")]
    await Tortoise.close_connections()

    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")  # a throwaway file: no need to wait for the disk

    def ledger() -> Any:
        for i in range(PAYMENTS):
            gross = rng.choice((2500, 5000, 9900, 25000, 120000))
            fee, platform = gross * 29 // 1000 + 30, gross * 5 // 100
            yield (project.id, rng.choice(user_ids), "payment",
                   rng.choice(("ticket_upgrade", "plan_invoice")), rng.choice(ticket_ids),
                   gross, fee, 1, platform, gross - fee - platform, "USD", f"ch_{i}", 0,
                   stamp(moment()), stamp(now))

    db.executemany(
        "INSERT INTO billing_ledger (project_id, user_id, kind, purpose, ticket_id, gross, "
        "stripe_fee, stripe_fee_known, platform_fee, project_net, currency, stripe_object_id, "
        "owed_to_project, occurred_at, created_at) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ledger())
    entries = db.execute("SELECT id, ticket_id, project_net, occurred_at FROM billing_ledger"
                         ).fetchall()
    db.executemany(
        "INSERT INTO billing_attributions (project_id, entry_id, user_id, ticket_id, topic_id, "
        "post_id, amount, currency, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(project.id, entry_id, rng.choice(user_ids[:300]), ticket_id, 1, entry_id,
          net // 2, "USD", occurred) for entry_id, ticket_id, net, occurred in entries])

    months: dict[tuple[str, int], list[int]] = {}

    def reputation() -> Any:
        for _ in range(REPUTATION_ROWS):
            when = moment()
            kind, reason, points = rng.choice(REASONS)
            user_id = rng.choice(user_ids)
            month = months.setdefault((when.date().replace(day=1).isoformat(), user_id), [0, 0])
            month[0] += points
            month[1] += kind == "accept"
            yield (project.id, user_id, points, points, kind, reason, 1, 1,
                   when.date().isoformat(), stamp(when))

    db.executemany(
        "INSERT INTO reputation_entries (project_id, user_id, delta, points, kind, reason, "
        "post_id, voter_id, day, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        reputation())
    db.executemany("INSERT INTO reputation_months (project_id, month, user_id, gained, "
                   "accepted) VALUES (?, ?, ?, ?, ?)",
                   [(project.id, m, u, g, a) for (m, u), (g, a) in months.items()])
    hour = now.replace(minute=0, second=0, microsecond=0)
    db.executemany("INSERT INTO support_queue_snapshots (project_id, taken_at, queued, paid) "
                   "VALUES (?, ?, ?, ?)",
                   [(project.id, stamp(hour - timedelta(hours=h)), q, q // 3)
                    for h in range(DAYS * 24) for q in (rng.randrange(0, 60),)])
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return {"lead_id": lead.id, "seconds": round(time.monotonic() - started, 1)}


def session_cookie(settings: Any, user_id: int, version: int) -> str:
    """A signed session cookie for the user, as Starlette's SessionMiddleware writes it."""
    import itsdangerous

    data = b64encode(json.dumps({"uid": user_id, "ver": version}).encode())
    return itsdangerous.TimestampSigner(settings.secret()).sign(data).decode()


async def measure(settings: Any, plugins: Any, lead_id: int, requests: int) -> None:
    import httpx

    from forum.accounts.models import User
    from forum.app import SESSION_COOKIE, create_app
    from forum.platform import build_platform

    app = create_app(settings, platform=build_platform(settings, plugins))
    async with app.router.lifespan_context(app):
        lead = await User.get(id=lead_id)
        cookie = session_cookie(settings, lead.id, lead.session_version)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                     cookies={SESSION_COOKIE: cookie}) as client:
            pages = ["/healthz", "/p/bench/dashboard/lead", "/p/bench/dashboard/lead?months=24",
                     "/api/v1/projects/bench/dashboard/lead",
                     "/p/bench/dashboard/lead/revenue.csv"]
            trivial: dict[str, float] = {}
            for page in pages:
                figures = await page_latency(client, page, requests, warm_up=3)
                if page == "/healthz":
                    trivial = figures
                emit(bench="dashboard_page", page=page, requests=requests, **figures,
                     trivial=trivial,
                     ratio_p50=round(figures["p50_ms"] / trivial["p50_ms"], 1),
                     ratio_p99=round(figures["p99_ms"] / trivial["p99_ms"], 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--requests", type=int, default=20, help="per page")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the data (1: 100,000 payments, 1,000,000 "
                             "reputation rows)")
    args, _ = parser.parse_known_args()
    global PAYMENTS, REPUTATION_ROWS, TICKETS, USERS
    PAYMENTS, REPUTATION_ROWS = int(PAYMENTS * args.scale), int(REPUTATION_ROWS * args.scale)
    TICKETS, USERS = max(100, int(TICKETS * args.scale)), max(50, int(USERS * args.scale))

    from forum.plugins import PluginManager
    from forum.settings import Settings

    data_dir = Path(tempfile.mkdtemp(prefix="forum-bench-dashboard-"))
    path = data_dir / "forum.sqlite3"
    settings = Settings(data_dir=data_dir, database_url=f"sqlite://{path}",
                        secret_key="bench-secret-key-not-for-production",
                        run_embedded_worker=False, base_url="http://bench")
    plugins = PluginManager()
    started = time.monotonic()
    try:
        seeded = asyncio.run(seed(settings, plugins, path))
        emit(bench="dashboard_seed", payments=PAYMENTS, reputation_rows=REPUTATION_ROWS,
             tickets=TICKETS, users=USERS, seconds=seeded["seconds"])
        asyncio.run(measure(settings, plugins, seeded["lead_id"], args.requests))
        emit(bench="dashboard_total", seconds=round(time.monotonic() - started, 1))
    finally:
        if args.keep:
            print(json.dumps({"data_dir": str(data_dir)}), file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
