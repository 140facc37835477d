"""The daily digest: one email per workday per supporter, at the hour they chose in their
own time zone.

A cron job runs every few minutes (``run_digests``). For each supporter (a member holding a
role that works the support queue, in any project) it works out their local date and hour;
on Monday to Friday, from their hour on, the digest of that local date is due. The run
claims ``(supporter, local date)`` by inserting a ``DigestRun`` row (unique) BEFORE building
or sending anything, so two workers, or two overlapping runs, never send the same digest
twice; a run that missed the hour (the process was down) catches up later the same local
day, never the next. Weekends (in the supporter's zone) are skipped.

The digest reports what was recorded for the supporter since their previous digest
(``SupportActivity``: messages and state changes on their tickets, new assignments,
mentions; muted tickets left out) and the current top of each of their projects' queues.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tortoise.exceptions import IntegrityError

from forum.accounts.models import User
from forum.projects.models import Membership, Project
from forum.projects.permissions import ALLOWED, Action
from forum.support_queue.levels import ids_of, muted_ticket_ids
from forum.support_queue.models import Ticket
from forum.support_queue.team_models import (
    ActivityKind,
    DigestPreference,
    DigestRun,
    SupportActivity,
)
from forum.topics.models import Topic

if TYPE_CHECKING:
    from forum.jobs import JobContext
    from forum.platform import Platform

log = logging.getLogger(__name__)

DIGEST_JOB = "support.digests"
DEFAULT_HOUR = 8
WORKDAYS = frozenset(range(5))  # Monday .. Friday
TOP_OF_QUEUE = 10
MAX_ITEMS = 200  # per digest; the rest is summarised as a count
LOOKBACK = timedelta(days=4)  # the first digest reports at most this far back
KEEP_ACTIVITY = timedelta(days=30)
SUPPORT_ROLES = [str(r) for r in ALLOWED[Action.WORK_SUPPORT_QUEUE]]


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class Schedule:
    """When one supporter's digests go out."""

    user_id: int
    hour: int
    zone: ZoneInfo
    enabled: bool = True

    def due_date(self, now: datetime) -> date | None:
        """The local date whose digest is due at ``now``, or None (a weekend, before the
        hour, or switched off). Comparing wall-clock hours makes a local hour that does
        not exist (the spring-forward gap) due from the first hour after it."""
        if not self.enabled:
            return None
        local = now.astimezone(self.zone)
        if local.weekday() not in WORKDAYS or local.hour < self.hour:
            return None
        return local.date()

    def next_at(self, now: datetime) -> datetime:
        """The next moment (UTC) a digest is due, for the preferences page."""
        local = now.astimezone(self.zone)
        day = local.date()
        for _ in range(8):
            slot = datetime(day.year, day.month, day.day, self.hour, tzinfo=self.zone)
            # Normalise a wall time in a DST gap to the real instant after it.
            slot = slot.astimezone(UTC).astimezone(self.zone)
            if day.weekday() in WORKDAYS and slot.astimezone(UTC) > now.astimezone(UTC):
                return slot.astimezone(UTC)
            day += timedelta(days=1)
        return now.astimezone(UTC)


async def supporter_ids() -> list[int]:
    """Users holding a support role in at least one project."""
    return sorted(set(await ids_of(Membership.filter(role__in=SUPPORT_ROLES), "user_id")))


async def supporter_ids_of(user_ids: list[int]) -> set[int]:
    """Those of ``user_ids`` who get digests (a support role somewhere)."""
    return set(await ids_of(Membership.filter(user_id__in=user_ids, role__in=SUPPORT_ROLES),
                            "user_id"))


async def schedules(user_ids: list[int]) -> list[Schedule]:
    prefs = {p.user_id: p for p in await DigestPreference.filter(  # type: ignore[attr-defined]
        user_id__in=user_ids)}
    zones = dict(await User.filter(id__in=user_ids, is_active=True).values_list(
        "id", "time_zone"))
    found: list[Schedule] = []
    for user_id in user_ids:
        if user_id not in zones:
            continue
        pref = prefs.get(user_id)
        if pref is None:
            found.append(Schedule(user_id, DEFAULT_HOUR, zone_of(zones[user_id] or "UTC")))
        else:
            found.append(Schedule(user_id, pref.hour, zone_of(pref.time_zone), pref.enabled))
    return found


async def schedule_of(user: User) -> Schedule:
    pref = await DigestPreference.get_or_none(user_id=user.id)
    if pref is None:
        return Schedule(user.id, DEFAULT_HOUR, zone_of(user.time_zone or "UTC"))
    return Schedule(user.id, pref.hour, zone_of(pref.time_zone), pref.enabled)


async def claim(user_id: int, local_date: date, now: datetime) -> DigestRun | None:
    """Take the digest of ``local_date`` for this run; None if another run has it."""
    try:
        return await DigestRun.create(user_id=user_id, local_date=local_date, claimed_at=now)
    except IntegrityError:
        return None


@dataclass
class ProjectSection:
    project: Project
    items: list[dict[str, Any]] = field(default_factory=list)
    top: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Digest:
    user: User
    local_date: date
    sections: list[ProjectSection]
    more: int = 0

    @property
    def item_count(self) -> int:
        return sum(len(s.items) for s in self.sections)

    @property
    def empty(self) -> bool:
        return not any(s.items or s.top for s in self.sections)


async def previous_claim(user_id: int, before: date) -> datetime | None:
    last = await DigestRun.filter(user_id=user_id, local_date__lt=before).order_by(
        "-local_date").first()
    return None if last is None else last.claimed_at


async def build_digest(platform: Platform, user: User, local_date: date, now: datetime,
                       since: datetime, tops: dict[int, list[dict[str, Any]]] | None = None
                       ) -> Digest:
    project_ids = await ids_of(Membership.filter(user_id=user.id, role__in=SUPPORT_ROLES),
                               "project_id")
    projects = {p.id: p for p in await Project.filter(id__in=list(project_ids))}
    activity = await (SupportActivity.filter(user_id=user.id, created_at__gt=since,
                                             created_at__lte=now,
                                             ticket__project_id__in=list(projects))
                      .order_by("created_at", "id").limit(MAX_ITEMS + 1))
    more = 0
    if len(activity) > MAX_ITEMS:
        more = await SupportActivity.filter(
            user_id=user.id, created_at__gt=since, created_at__lte=now).count() - MAX_ITEMS
        activity = activity[:MAX_ITEMS]
    ticket_ids = list({a.ticket_id for a in activity})  # type: ignore[attr-defined]
    muted = await muted_ticket_ids(user.id, ticket_ids)
    tickets = {t.id: t for t in await Ticket.filter(id__in=ticket_ids)}
    topics = {t.id: t for t in await Topic.filter(
        id__in=[t.topic_id for t in tickets.values()])}  # type: ignore[attr-defined]
    sections = {pid: ProjectSection(p) for pid, p in sorted(
        projects.items(), key=lambda item: item[1].name.lower())}
    base = platform.settings.public_url
    for item in activity:
        ticket = tickets.get(item.ticket_id)  # type: ignore[attr-defined]
        if ticket is None or ticket.id in muted:
            continue
        project = projects[ticket.project_id]  # type: ignore[attr-defined]
        topic = topics.get(ticket.topic_id)  # type: ignore[attr-defined]
        if topic is None or topic.deleted_at is not None:
            continue
        anchor = f"#post-{item.post_id}" if item.post_id else ""
        sections[project.id].items.append({
            "kind": str(item.kind), "summary": item.summary,
            "reference": ticket.reference_in(project.slug), "title": topic.title,
            "url": f"{base}/p/{project.slug}/t/{topic.id}-{topic.slug}{anchor}",
        })
    tops = {} if tops is None else tops
    for project_id, section in sections.items():
        if project_id not in tops:
            tops[project_id] = await top_of_queue(platform, section.project, now)
        section.top = tops[project_id]
    return Digest(user, local_date, list(sections.values()), more)


async def top_of_queue(platform: Platform, project: Project, now: datetime
                       ) -> list[dict[str, Any]]:
    """The first ``TOP_OF_QUEUE`` tickets of the project's queue, in queue order."""
    from forum.support_queue.queue import queue_page

    base = platform.settings.public_url
    rows = await queue_page(project.id, limit=TOP_OF_QUEUE, platform=platform, now=now)
    return [{
        "position": position, "reference": ticket.reference_in(project.slug),
        "title": ticket.topic.title, "tier": str(ticket.tier),
        "assigned": ticket.assignee_id is not None,  # type: ignore[attr-defined]
        "url": f"{base}/p/{project.slug}/t/{ticket.topic.id}-{ticket.topic.slug}",
    } for position, ticket in rows]


async def send_digest(platform: Platform, digest: Digest) -> None:
    settings = platform.settings
    count = digest.item_count + digest.more
    subject = (f"Your support digest for {digest.local_date:%A %d %B}: "
               f"{count} update{'' if count == 1 else 's'}")
    await platform.send_mail(digest.user.email, "support_digest", {
        "username": digest.user.username,
        "date": f"{digest.local_date:%A %d %B %Y}",
        "sections": [{"name": s.project.name, "slug": s.project.slug, "items": s.items,
                      "top": s.top,
                      "inbox_url": f"{settings.public_url}/p/{s.project.slug}/inbox"}
                     for s in digest.sections if s.items or s.top],
        "more": digest.more,
        "preferences_url": f"{settings.public_url}/support/digest",
    }, subject=subject)


async def run_digests(platform: Platform, now: datetime | None = None) -> int:
    """Send every digest due at ``now``; returns how many were sent by this run."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    sent = 0
    due = [(s, d) for s in await schedules(await supporter_ids())
           if (d := s.due_date(now)) is not None]
    taken: set[tuple[Any, ...]] = set()
    if due:
        taken = set(await DigestRun.filter(
            user_id__in=[s.user_id for s, _ in due], local_date__in=list({d for _, d in due})
        ).values_list("user_id", "local_date"))
    tops: dict[int, list[dict[str, Any]]] = {}  # one look at each queue per run
    for schedule, local_date in due:
        if (schedule.user_id, local_date) in taken:
            continue
        since = await previous_claim(schedule.user_id, local_date)
        run = await claim(schedule.user_id, local_date, now)
        if run is None:
            continue
        try:
            user = await User.get(id=schedule.user_id)
            digest = await build_digest(platform, user, local_date, now,
                                        since or now - LOOKBACK, tops)
            if digest.empty or not user.is_verified:
                continue
            await send_digest(platform, digest)
            await DigestRun.filter(id=run.id).update(sent_at=now,
                                                     item_count=digest.item_count)
            sent += 1
        except Exception:
            # The claim stays: a digest that failed half-way is not sent twice.
            log.exception("the digest of user %s for %s failed", schedule.user_id, local_date)
    await SupportActivity.filter(created_at__lt=now - KEEP_ACTIVITY).delete()
    return sent


async def digest_job(ctx: JobContext) -> None:
    """The cron entry: send the digests due now."""
    sent = await run_digests(ctx.platform)
    if sent:
        log.info("sent %s support digests", sent)


# Recording what the digest will report (called from the event hooks in team_plugin)


async def record(user_ids: list[int], ticket_id: int, kind: ActivityKind, summary: str, *,
                 actor_id: int | None = None, post_id: int | None = None,
                 now: datetime | None = None) -> None:
    when = now or datetime.now(UTC)
    rows = [SupportActivity(user_id=uid, ticket_id=ticket_id, kind=kind, actor_id=actor_id,
                            post_id=post_id, summary=summary[:200], created_at=when)
            for uid in dict.fromkeys(user_ids) if uid != actor_id]
    if rows:
        await SupportActivity.bulk_create(rows)
