"""``forum reputation rebuild``: recount every total from the votes and acceptances.

The votes are read in pages of ``PAGE`` rows (keyset on the vote id) and folded into
per-user sums as they come, the ledger is summed by the database, so memory grows with
the number of users and vote-days, not with the number of votes or ledger rows. The same
``rules.post_claims`` as the listeners says what each vote and acceptance is worth; votes
corrected as serial voting count nothing, as in the ledger.

The report compares, per user, the materialised total, the total of the ledger's sum and
the recount; unless ``check`` is set the materialised totals become the recount. The
monthly figures the leaderboards read are checked against the ledger (one grouped query
each) and derived again for the users whose figures differ.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from forum.reputation.config import load_rules
from forum.reputation.models import (
    CorrectedVote,
    Kind,
    ReputationEntry,
    ReputationMonth,
    ReputationTotal,
)
from forum.reputation.rules import PostFacts, VoteFacts, capped, post_claims, total_of, utc_day
from forum.topics.models import Post, Topic, TopicKind, Vote

PAGE = 20_000


@dataclass(frozen=True)
class Difference:
    user_id: int
    materialised: int
    ledger: int
    recount: int


@dataclass
class RebuildReport:
    project_id: int
    users: int = 0
    votes: int = 0
    acceptances: int = 0
    differences: list[Difference] = field(default_factory=list)
    seconds: float = 0.0
    totals: dict[int, int] = field(default_factory=dict)  # the recount, per user
    # Users whose monthly leaderboard figures did not add up to their ledger (re-derived).
    months_repaired: list[int] = field(default_factory=list)


async def recount(project_id: int) -> tuple[dict[int, int], int, int]:
    """(points per user from the votes and acceptances, votes read, acceptances read)."""
    rules = await load_rules(project_id)
    corrected = set(await CorrectedVote.filter(project_id=project_id).values_list(
        "vote_id", flat=True))
    points: dict[int, int] = defaultdict(int)
    up_by_day: dict[tuple[int, date], int] = defaultdict(int)

    def fold(claims: dict[tuple[int, Kind, int | None, date | None], int]) -> None:
        for (user_id, kind, _, day), value in claims.items():
            if kind == Kind.UP and day is not None:
                up_by_day[(user_id, day)] += value
            else:
                points[user_id] += value

    votes = 0
    last = 0
    while True:
        rows = await Vote.filter(post__topic__project_id=project_id, id__gt=last).order_by(
            "id").limit(PAGE).values_list(
            "id", "user_id", "value", "updated_at", "post_id", "post__author_id",
            "post__number", "post__deleted_at", "post__topic__kind",
            "post__topic__deleted_at", "post__topic__author_id")
        if not rows:
            break
        for (vote_id, voter_id, value, at, post_id, author_id, number, deleted, kind,
             topic_deleted, asker_id) in rows:
            post = PostFacts(int(post_id), int(author_id),
                             number == 1 and kind == TopicKind.QUESTION,
                             deleted is None and topic_deleted is None, int(asker_id), False)
            fold(post_claims(post, [VoteFacts(int(vote_id), int(voter_id), int(value),
                                              utc_day(at), vote_id in corrected)], rules))
        votes += len(rows)
        last = int(rows[-1][0])
    acceptances = 0
    accepted = await Topic.filter(project_id=project_id, accepted_post_id__isnull=False,
                                  deleted_at__isnull=True).values_list(
        "accepted_post_id", "author_id")
    for start in range(0, len(accepted), 1000):
        chunk = dict(accepted[start:start + 1000])
        for post_id, author_id, number, deleted in await Post.filter(
                id__in=list(chunk)).values_list("id", "author_id", "number", "deleted_at"):
            post = PostFacts(int(post_id), int(author_id), False,
                             deleted is None and number > 1, int(chunk[post_id]), True)
            fold(post_claims(post, [], rules))
            acceptances += 1
    for (user_id, _), raw in up_by_day.items():
        points[user_id] += capped(raw, rules.daily_cap)
    return dict(points), votes, acceptances


async def rebuild(project_id: int, *, check: bool = False) -> RebuildReport:
    started = time.monotonic()
    rules = await load_rules(project_id)
    report = RebuildReport(project_id)
    points, report.votes, report.acceptances = await recount(project_id)
    ledger = {int(u): int(s or 0) for u, s in await ReputationEntry.filter(
        project_id=project_id).annotate(s=Sum("delta")).group_by("user_id").values_list(
        "user_id", "s")}
    stored = {int(u): (int(t), int(p)) for u, t, p in await ReputationTotal.filter(
        project_id=project_id).values_list("user_id", "total", "points")}
    users = sorted(points.keys() | ledger.keys() | stored.keys())
    report.users = len(users)
    changed: list[tuple[int, int, int]] = []
    for user_id in users:
        recounted = total_of(points.get(user_id, 0), rules)
        report.totals[user_id] = recounted
        materialised = stored.get(user_id, (1, 0))[0]
        from_ledger = total_of(ledger.get(user_id, 0), rules)
        if materialised != recounted or from_ledger != recounted:
            report.differences.append(
                Difference(user_id, materialised, from_ledger, recounted))
        if stored.get(user_id) != (recounted, points.get(user_id, 0)):
            changed.append((user_id, recounted, points.get(user_id, 0)))
    if changed and not check:
        async with in_transaction():
            await ReputationTotal.bulk_create(
                [ReputationTotal(project_id=project_id, user_id=u) for u, _, _ in changed
                 if u not in stored], ignore_conflicts=True)
            for user_id, total, user_points in changed:
                await ReputationTotal.filter(project_id=project_id, user_id=user_id).update(
                    total=total, points=user_points)
    report.months_repaired = await repair_months(project_id, ledger, check=check)
    report.seconds = round(time.monotonic() - started, 3)
    return report


async def repair_months(project_id: int, ledger: dict[int, int], *, check: bool) -> list[int]:
    """Users whose ``ReputationMonth`` rows do not sum to their ledger; unless ``check``,
    their rows are derived again from their ledger entries."""
    months = {int(u): int(g or 0) for u, g in await ReputationMonth.filter(
        project_id=project_id).annotate(g=Sum("gained")).group_by("user_id").values_list(
        "user_id", "g")}
    wrong = sorted(u for u in ledger.keys() | months.keys()
                   if ledger.get(u, 0) != months.get(u, 0))
    if check:
        return wrong
    for user_id in wrong:
        figures: dict[date, list[int]] = defaultdict(lambda: [0, 0])
        for at, delta, kind, points in await ReputationEntry.filter(
                project_id=project_id, user_id=user_id).values_list(
                "created_at", "delta", "kind", "points"):
            month = figures[utc_day(at).replace(day=1)]
            month[0] += int(delta)
            if kind == Kind.ACCEPT:
                month[1] += 1 if points > 0 else -1
        async with in_transaction():
            await ReputationMonth.filter(project_id=project_id, user_id=user_id).delete()
            await ReputationMonth.bulk_create([
                ReputationMonth(project_id=project_id, user_id=user_id, month=m, gained=g,
                                accepted=a) for m, (g, a) in sorted(figures.items())])
    return wrong
