"""The reputation domain's dashboard charts: a helper's answers, accepted answers and
reputation over time; the project's top contributors and accepted answers per month.

Each chart is one or two aggregate queries over UTC months (``ReputationMonth`` keeps a
row per user and month, so a year of a helper's reputation is at most 24 rows).
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.expressions import RawSQL
from tortoise.functions import Count, Sum

from forum.charts import (
    Chart,
    Series,
    by_month,
    current_dialect,
    month_label,
    month_sql,
    month_starts,
    period_labels,
    period_start,
)
from forum.reputation.models import ReputationMonth
from forum.topics.models import Post

TOP = 10


async def helper_panels(project_id: int, user_id: int, months: int,
                        now: datetime | None = None) -> list[Chart]:
    now = now or datetime.now(UTC)
    labels = period_labels(months, now)
    since = period_start(months, now)
    first = month_starts(months, now)[0]
    month = month_sql('"posts"."created_at"', current_dialect())
    answers = dict(await Post.filter(
        topic__project_id=project_id, topic__deleted_at=None, author_id=user_id,
        number__gt=1, deleted_at=None, created_at__gte=since).annotate(
        month=RawSQL(month)).annotate(n=Count("id")).group_by("month").values_list(
        "month", "n"))
    rows = await ReputationMonth.filter(project_id=project_id, user_id=user_id,
                                        month__gte=first).values_list(
        "month", "gained", "accepted")
    gained = {month_label(m): int(g) for m, g, _ in rows}
    accepted = {month_label(m): int(a) for m, _, a in rows}
    before = await ReputationMonth.filter(project_id=project_id, user_id=user_id,
                                          month__lt=first).annotate(
        total=Sum("gained")).values_list("total")
    running = 1 + int((before[0][0] if before else 0) or 0)  # a reputation starts at 1
    reputation: list[int] = []
    for label in labels:
        running += gained.get(label, 0)
        reputation.append(running)
    return [
        Chart("answers", "Answers and accepted answers", "bar", labels,
              (Series("Answers", by_month(labels, answers)),
               Series("Accepted answers", by_month(labels, accepted))),
              unit="answers", order=10,
              note="Replies written in the project each month (UTC), and answers accepted "
                   "that month less acceptances withdrawn."),
        Chart("reputation", "Reputation over time", "line", labels,
              (Series("Reputation", tuple(reputation)),),
              unit="points", order=20,
              note="Reputation at the end of each month, before the lowest-reputation floor."),
    ]


async def lead_panels(project_id: int, months: int, now: datetime | None = None
                      ) -> list[Chart]:
    now = now or datetime.now(UTC)
    labels = period_labels(months, now)
    first = month_starts(months, now)[0]
    top = await ReputationMonth.filter(project_id=project_id, month__gte=first).annotate(
        a=Sum("accepted"), g=Sum("gained")).group_by("user_id", "user__username").order_by(
        "-a", "-g", "user__username").limit(TOP).values_list("user__username", "a", "g")
    per_month = await ReputationMonth.filter(project_id=project_id, month__gte=first).annotate(
        a=Sum("accepted"), people=Count("user_id")).group_by("month").values_list(
        "month", "a", "people")
    accepted = {month_label(m): int(a or 0) for m, a, _ in per_month}
    people = {month_label(m): int(n or 0) for m, _, n in per_month}
    return [
        Chart("top-contributors", "Top contributors by accepted answers", "bar",
              tuple(str(name) for name, _, _ in top),
              (Series("Accepted answers", tuple(int(a or 0) for _, a, _ in top)),
               Series("Reputation gained", tuple(int(g or 0) for _, _, g in top))),
              order=40, note=f"The {TOP} helpers with the most accepted answers over the "
                             f"period, and the reputation they gained."),
        Chart("accepted-answers", "Accepted answers and active helpers", "line", labels,
              (Series("Accepted answers", by_month(labels, accepted)),
               Series("People who gained reputation", by_month(labels, people))),
              order=45, note="Across the whole project, per UTC month."),
    ]
