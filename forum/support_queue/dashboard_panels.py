"""The support queue's dashboard charts and the hourly queue snapshot.

Lead board: first-response times by tier (median and 90th percentile per month), the SLA
breach rate, the unpaid share served against the queue's target, the queue's size and
the supporters who solved most tickets. Supporter board: tickets answered and solved,
first-response times on their tickets. Customer board: the viewer's own tickets by state
and the response times they got against the times promised.

Counts and sums are SQL aggregates grouped by UTC month; percentiles need the durations,
so only those columns are fetched, for the period's tickets: the seconds, computed in SQL,
and for the business-hours figures the two instants as epoch seconds, counted in Python on
the project's calendar with one ``calendar.BusinessClock`` per board.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import RawSQL
from tortoise.functions import Count, Max, Sum

from forum.charts import (
    Chart,
    Series,
    by_month,
    current_dialect,
    month_sql,
    percentile,
    period_labels,
    period_start,
    seconds_between_sql,
)
from forum.projects.models import Project
from forum.support_queue.calendar import BusinessClock, Calendar
from forum.support_queue.dashboard_models import QueueSnapshot
from forum.support_queue.estimate import project_calendar
from forum.support_queue.models import QUEUED_STATES, Ticket, TicketState, Tier
from forum.support_queue.queue_models import QueueSettings
from forum.topics.models import Post, TopicKind

TIER_NAMES = {Tier.FREE: "Free", Tier.PAY_AS_YOU_GO: "Pay as you go",
              Tier.SUBSCRIPTION: "Subscription", Tier.ENTERPRISE: "Enterprise"}
STATE_NAMES = {TicketState.DRAFT: "Draft", TicketState.QUEUED: "Queued",
               TicketState.ASSIGNED: "Assigned", TicketState.WAITING: "Waiting on you",
               TicketState.ON_HOLD: "On hold", TicketState.SOLVED: "Solved",
               TicketState.CLOSED: "Closed"}
TOP = 10
RECENT_TICKETS = 12
DEFAULT_UNPAID_SHARE = 20


def _t(column: str) -> str:
    return f'"tickets"."{column}"'


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def _month(column: str) -> RawSQL:
    return RawSQL(month_sql(_t(column), current_dialect()))


def _seconds(start: str, end: str) -> RawSQL:
    return RawSQL(seconds_between_sql(_t(start), _t(end), current_dialect()))


def _percentiles(rows: list[tuple[Any, ...]], labels: tuple[str, ...], percent: int
                 ) -> tuple[float | None, ...]:
    """``rows`` of (month, seconds): the percentile of each month, in hours."""
    by: dict[str, list[int]] = defaultdict(list)
    for month, seconds in rows:
        if seconds is not None:
            by[str(month)].append(max(0, int(seconds)))
    return tuple(_hours(percentile(sorted(by[label]), percent)) for label in labels)


def _epoch(column: str) -> RawSQL:
    """The column as seconds since 1970 UTC (a float): no timestamp parsing in Python."""
    if current_dialect() == "sqlite":
        return RawSQL(f"(julianday({_t(column)}) - 2440587.5) * 86400.0")
    return RawSQL(f"CAST(EXTRACT(EPOCH FROM {_t(column)}) AS DOUBLE PRECISION)")


def _clock(pairs: list[tuple[Any, Any]], cal: Calendar) -> BusinessClock:
    """One ``BusinessClock`` on ``cal`` spanning every (submitted, responded) pair of epoch
    seconds."""
    def instant(seconds: float) -> datetime:
        return datetime.fromtimestamp(float(seconds), UTC)

    if not pairs:
        now = datetime.now(UTC)
        return BusinessClock(cal, now, now)
    return BusinessClock(cal, instant(min(float(a) for a, _ in pairs)),
                         instant(max(float(b) for _, b in pairs)))


# Lead


async def lead_panels(project_id: int, months: int, now: datetime | None = None
                      ) -> list[Chart]:
    now = now or datetime.now(UTC)
    labels = period_labels(months, now)
    since = period_start(months, now)
    return [
        *(await first_response_charts(project_id, labels, since)),
        await breach_chart(project_id, labels, since, now),
        await unpaid_share_chart(project_id, labels, since),
        await queue_size_chart(project_id, labels, since),
        await top_supporters_chart(project_id, since),
    ]


async def first_response_charts(project_id: int, labels: tuple[str, ...], since: datetime
                                ) -> list[Chart]:
    """Wall-clock and business-hours percentiles of the first responses by tier; business
    time is counted on the project's calendar (loaded once) in Python, per ticket."""
    rows = await Ticket.filter(
        project_id=project_id, first_response_at__gte=since,
        submitted_at__not_isnull=True).annotate(
        month=_month("first_response_at"),
        seconds=_seconds("submitted_at", "first_response_at"),
        submitted=_epoch("submitted_at"), responded=_epoch("first_response_at")).values_list(
        "tier", "month", "seconds", "submitted", "responded")
    cal = await project_calendar(project_id)
    by_tier: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    business: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    clock = _clock([(a, b) for _, _, _, a, b in rows], cal)
    for tier, month, seconds, submitted, responded in rows:
        by_tier[str(tier)].append((month, seconds))
        business[str(tier)].append(
            (month, clock.seconds_between_epochs(float(submitted), float(responded))))
    tiers = [t for t in Tier if t.value in by_tier] or list(Tier)
    note = ("Wall-clock hours from submission to the team's first response, by the month "
            "of the response.")
    business_note = ("Business hours from submission to the team's first response, counted "
                     "on the project's business calendar (opening hours, holidays) in its "
                     f"time zone ({cal.tz.key}), by the month of the response.")
    wall = [Chart(f"first-response-{name}", f"First response time by tier ({title})", "line",
                  labels, tuple(Series(TIER_NAMES[t], _percentiles(by_tier[t.value], labels,
                                                                   percent))
                                for t in tiers),
                  unit="hours", note=note, order=order)
            for name, title, percent, order in (("median", "median", 50, 10),
                                                ("p90", "90th percentile", 90, 11))]
    in_business = [
        Chart(f"first-response-business-{name}",
              f"First response in business hours by tier ({title})", "line", labels,
              tuple(Series(TIER_NAMES[t], _percentiles(business.get(t.value, []),
                                                       labels, percent))
                    for t in tiers),
              unit="hours", note=business_note, order=order)
        for name, title, percent, order in (("median", "median", 50, 12),
                                            ("p90", "90th percentile", 90, 13))]
    return [*wall, *in_business]


async def breach_chart(project_id: int, labels: tuple[str, ...], since: datetime,
                       now: datetime) -> Chart:
    late = seconds_between_sql(_t("first_response_due_at"), _t("first_response_at"),
                               current_dialect())
    rows = await Ticket.filter(
        project_id=project_id, first_response_due_at__gte=since,
        first_response_due_at__lte=now).annotate(
        month=_month("first_response_due_at"), due=Count("id"),
        breached=RawSQL(f'SUM(CASE WHEN {_t("first_response_at")} IS NULL OR {late} > 0 '
                        "THEN 1 ELSE 0 END)")).group_by("month").values_list(
        "month", "due", "breached")
    rates = {str(m): round(100 * int(b or 0) / int(d), 1) for m, d, b in rows if d}
    counts = {str(m): int(b or 0) for m, _, b in rows}
    return Chart("sla-breaches", "First responses past their SLA due time", "line", labels,
                 (Series("Breach rate", tuple(rates.get(label) for label in labels)),),
                 unit="%", order=20,
                 extra={"breached": str(sum(counts.values()))},
                 note="Of the tickets whose first response was due that month (UTC), the "
                      "share answered late or not at all.")


async def unpaid_share_chart(project_id: int, labels: tuple[str, ...], since: datetime
                             ) -> Chart:
    settings = await QueueSettings.get_or_none(project_id=project_id)
    target = settings.unpaid_share if settings is not None else DEFAULT_UNPAID_SHARE
    rows = await Ticket.filter(project_id=project_id, first_response_at__gte=since).annotate(
        month=_month("first_response_at"), served=Count("id"),
        unpaid=RawSQL(f"SUM(CASE WHEN {_t('tier')} = 'free' THEN 1 ELSE 0 END)")).group_by(
        "month").values_list("month", "served", "unpaid")
    share = {str(m): round(100 * int(u or 0) / int(s), 1) for m, s, u in rows if s}
    return Chart("unpaid-share", "Unpaid share served against its target", "line", labels,
                 (Series("Unpaid share served", tuple(share.get(label) for label in labels)),
                  Series("Target", tuple(target for _ in labels))),
                 unit="%", order=30, extra={"target": f"{target}%"},
                 note="Of the tickets first answered each month, the share from the free "
                      "tier; the queue serves at least its target share unpaid.")


async def queue_size_chart(project_id: int, labels: tuple[str, ...], since: datetime
                           ) -> Chart:
    month = RawSQL(month_sql('"support_queue_snapshots"."taken_at"', current_dialect()))
    rows = await QueueSnapshot.filter(project_id=project_id, taken_at__gte=since).annotate(
        month=month, total=Sum("queued"), hours=Count("id"), most=Max("queued")).group_by(
        "month").values_list("month", "total", "hours", "most")
    mean = {str(m): round(int(t or 0) / int(n), 1) for m, t, n, _ in rows if n}
    most = {str(m): int(x) for m, _, _, x in rows if x is not None}
    return Chart("queue-size", "Queue size", "line", labels,
                 (Series("Average", tuple(mean.get(label) for label in labels)),
                  Series("Largest", tuple(most.get(label) for label in labels))),
                 unit="tickets", order=40,
                 note="Tickets queued or assigned, from hourly snapshots.")


async def top_supporters_chart(project_id: int, since: datetime) -> Chart:
    rows = await Ticket.filter(project_id=project_id, solved_at__gte=since,
                               assignee_id__not_isnull=True).annotate(
        n=Count("id")).group_by("assignee__username").order_by(
        "-n", "assignee__username").limit(TOP).values_list("assignee__username", "n")
    return Chart("top-supporters", "Supporters by tickets solved", "bar",
                 tuple(str(name) for name, _ in rows),
                 (Series("Tickets solved", tuple(int(n) for _, n in rows)),),
                 unit="tickets", order=41,
                 note=f"The {TOP} assignees of the most tickets solved over the period.")


# Supporter


async def supporter_panels(project_id: int, user_id: int, months: int,
                           now: datetime | None = None) -> list[Chart]:
    now = now or datetime.now(UTC)
    labels = period_labels(months, now)
    since = period_start(months, now)
    answered = dict(await Post.filter(
        author_id=user_id, number__gt=1, deleted_at=None, created_at__gte=since,
        topic__project_id=project_id, topic__kind=TopicKind.TICKET).annotate(
        month=RawSQL(month_sql('"posts"."created_at"', current_dialect())),
        n=Count("topic_id", distinct=True)).group_by("month").values_list("month", "n"))
    solved = dict(await Ticket.filter(project_id=project_id, assignee_id=user_id,
                                      solved_at__gte=since).annotate(
        month=_month("solved_at"), n=Count("id")).group_by("month").values_list("month", "n"))
    found = await Ticket.filter(project_id=project_id, first_responder_id=user_id,
                                first_response_at__gte=since,
                                submitted_at__not_isnull=True).annotate(
        month=_month("first_response_at"),
        seconds=_seconds("submitted_at", "first_response_at"),
        submitted=_epoch("submitted_at"), responded=_epoch("first_response_at")).values_list(
        "month", "seconds", "submitted", "responded")
    rows = [(month, seconds) for month, seconds, _, _ in found]
    cal = await project_calendar(project_id)
    clock = _clock([(a, b) for _, _, a, b in found], cal)
    business = [(month, clock.seconds_between_epochs(float(a), float(b)))
                for month, _, a, b in found]
    return [
        Chart("tickets", "Tickets answered and solved", "bar", labels,
              (Series("Answered", by_month(labels, answered)),
               Series("Solved", by_month(labels, solved))),
              unit="tickets", order=10,
              note="Answered: tickets you replied on that month. Solved: tickets assigned to "
                   "you solved that month."),
        Chart("my-first-response", "My first responses", "line", labels,
              (Series("Median", _percentiles(rows, labels, 50)),
               Series("90th percentile", _percentiles(rows, labels, 90)),
               Series("Median in business hours", _percentiles(business, labels, 50))),
              unit="hours", order=11,
              note="Wall-clock hours from submission to the first response, on tickets "
                   "where that first response was yours; the business-hours median counts "
                   "only the project's opening hours (its business calendar, holidays and "
                   f"time zone, {cal.tz.key})."),
    ]


# Customer


async def customer_panels(project_id: int, user_id: int, months: int,
                          now: datetime | None = None) -> list[Chart]:
    now = now or datetime.now(UTC)
    since = period_start(months, now)
    counts = dict(await Ticket.filter(project_id=project_id, requester_id=user_id).annotate(
        n=Count("id")).group_by("state").values_list("state", "n"))
    states = [s for s in TicketState if s.value in {str(k) for k in counts}]
    recent = await Ticket.filter(
        project_id=project_id, requester_id=user_id, submitted_at__gte=since,
        first_response_due_at__not_isnull=True).order_by("-submitted_at").limit(
        RECENT_TICKETS).annotate(
        achieved=_seconds("submitted_at", "first_response_at"),
        promised=_seconds("submitted_at", "first_response_due_at")).values_list(
        "number", "achieved", "promised")
    slug = "".join(str(s) for (s,) in await Project.filter(id=project_id).values_list("slug"))
    recent = recent[::-1]
    return [
        Chart("my-tickets", "My tickets by state", "bar",
              tuple(STATE_NAMES[s] for s in states),
              (Series("Tickets", tuple(int(counts[s.value]) for s in states)),),
              unit="tickets", order=10, note="Every ticket you opened in the project."),
        Chart("my-response-times", "Response times: achieved and promised", "bar",
              tuple(f"{str(slug).upper()}-{n}" for n, _, _ in recent),
              (Series("First response", tuple(_hours(a) for _, a, _ in recent)),
               Series("Promised", tuple(_hours(p) for _, _, p in recent))),
              unit="hours", order=11,
              note=f"Your last {RECENT_TICKETS} tickets with a promised response time in the "
                   "period: wall-clock hours from submission."),
    ]


# The hourly snapshot


async def snapshot_queues(now: datetime | None = None) -> int:
    """Record every project's queue size for this hour (again in the same hour: nothing).
    Projects that ever had a ticket get a row, zero when their queue is empty."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    projects = {int(p) for (p,) in await Ticket.all().distinct().values_list("project_id")}
    counts = {int(p): (int(n), int(paid or 0)) for p, n, paid in await Ticket.filter(
        state__in=[s.value for s in QUEUED_STATES]).annotate(
        n=Count("id"), paid=RawSQL(f"SUM(CASE WHEN {_t('tier')} <> 'free' THEN 1 ELSE 0 END)")
    ).group_by("project_id").values_list("project_id", "n", "paid")}
    taken = {int(p) for (p,) in await QueueSnapshot.filter(taken_at=hour).values_list(
        "project_id")}
    rows = [QueueSnapshot(project_id=p, taken_at=hour, queued=counts.get(p, (0, 0))[0],
                          paid=counts.get(p, (0, 0))[1])
            for p in sorted(projects - taken)]
    if rows:
        await QueueSnapshot.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
