"""Benchmark: one run of the daily support digests for 1,000 supporters on SQLite.

Builds a temporary SQLite database with the current models, seeds 20 projects of 50
supporters each (time zones from UTC-5 to UTC+9, all due at the measured moment), a few
hundred queued tickets per project and 10 recorded activities per supporter, then prints
one JSON line: the total time and the process's peak memory (and its growth) of the run that claims,
builds and queues every digest, how many were queued, and the time of the next run (every
digest of the day already claimed: the cost of the cron job the rest of the day). Figures
only, no pass/fail.

    .venv/bin/python bench/digest.py [--supporters 1000] [--tickets 300]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/queue.py would stand in
# for the standard library's ``queue`` (aiosqlite imports it): put the repository there.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

ZONES = ["America/New_York", "Europe/London", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo",
         "UTC"]
PROJECTS = 20


async def seed(supporters: int, tickets_per_project: int, now: datetime) -> None:
    from forum.accounts.models import User
    from forum.projects.models import Membership, Project, Role
    from forum.support_queue.models import Ticket
    from forum.support_queue.team_models import ActivityKind, DigestPreference, SupportActivity
    from forum.topics.models import Category, Topic, TopicKind

    requester = await User.create(username="requester", username_lower="requester",
                                  email="requester@example.org", password_hash="x")
    await User.bulk_create([
        User(username=f"s{n}", username_lower=f"s{n}", email=f"s{n}@example.org",
             password_hash="x", email_verified_at=now, time_zone=ZONES[n % len(ZONES)])
        for n in range(supporters)])
    users = await User.filter(username_lower__startswith="s").order_by("id")
    # Hour 0 in every zone: on a Wednesday at noon UTC each one is due.
    await DigestPreference.bulk_create([
        DigestPreference(user_id=u.id, hour=0, time_zone=u.time_zone) for u in users])
    per_project = max(1, supporters // PROJECTS)
    for p in range(PROJECTS):
        project = await Project.create(slug=f"d{p}", name=f"Digest {p}")
        category = await Category.create(project=project, name="Support", slug="support")
        team = users[p * per_project:(p + 1) * per_project]
        await Membership.bulk_create([Membership(project=project, user_id=u.id,
                                                 role=Role.SUPPORTER) for u in team])
        await Topic.bulk_create([
            Topic(project=project, category=category, author=requester, kind=TopicKind.TICKET,
                  title=f"Ticket {n}", slug="ticket", last_posted_at=now)
            for n in range(tickets_per_project)])
        topic_ids = await Topic.filter(project_id=project.id).order_by("id").values_list(
            "id", flat=True)
        await Ticket.bulk_create([
            Ticket(topic_id=topic_id, project=project, number=n + 1, requester=requester,
                   state="queued", submitted_at=now - timedelta(hours=n),
                   last_requester_reaction_at=now - timedelta(hours=n))
            for n, topic_id in enumerate(topic_ids)])
        ticket_ids = await Ticket.filter(project_id=project.id).order_by("id").values_list(
            "id", flat=True)
        await SupportActivity.bulk_create([
            SupportActivity(user_id=u.id, ticket_id=ticket_ids[(i * 7 + k) % len(ticket_ids)],
                            kind=ActivityKind.UPDATE, summary="new message from requester",
                            created_at=now - timedelta(hours=k + 1))
            for i, u in enumerate(team) for k in range(10)])


async def run(supporters: int, tickets: int) -> dict[str, Any]:
    from tortoise import Tortoise

    from forum.db import close_db, init_db
    from forum.jobs.models import Job
    from forum.platform import build_platform
    from forum.plugins import PluginManager
    from forum.settings import Settings
    from forum.support_queue.digest import run_digests

    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
    with tempfile.TemporaryDirectory(prefix="forum-bench-digest-") as folder:
        path = Path(folder) / "digest.sqlite3"
        settings = Settings(data_dir=Path(folder), database_url=f"sqlite://{path}",
                            secret_key="bench-secret-key-not-for-production",
                            run_embedded_worker=False)
        plugins = PluginManager(load_entry_points=False)
        platform = build_platform(settings, plugins)
        await init_db(settings, plugins)
        try:
            await Tortoise.generate_schemas()
            started = time.perf_counter()
            await seed(supporters, tickets, now)
            seeded = round(time.perf_counter() - started, 1)
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            started = time.perf_counter()
            sent = await run_digests(platform, now)
            total_ms = (time.perf_counter() - started) * 1000
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            started = time.perf_counter()
            again = await run_digests(platform, now + timedelta(minutes=5))
            idle_ms = (time.perf_counter() - started) * 1000
            queued = await Job.filter(name="mail.send").count()
        finally:
            await close_db()
    return {"bench": "support digest", "database": "sqlite", "supporters": supporters,
            "projects": PROJECTS, "queued_tickets_per_project": tickets,
            "seed_seconds": seeded, "digests_sent": sent, "mails_queued": queued,
            "run_total_ms": round(total_ms, 1),
            "run_per_supporter_ms": round(total_ms / max(sent, 1), 3),
            "peak_rss_kib": rss_after, "peak_rss_growth_kib": rss_after - rss_before,
            "next_run_sent": again,
            "next_run_ms": round(idle_ms, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--supporters", type=int, default=1000)
    parser.add_argument("--tickets", type=int, default=300)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.supporters, args.tickets))), flush=True)


if __name__ == "__main__":
    main()
