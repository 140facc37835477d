"""Keeping the ledger right: recount one post's claims and write the difference.

Every event that changes what a post earns (a vote, an acceptance, a deletion, a restore,
serial voting found) calls ``reconcile_post``: in one transaction it derives what each claim
on the post should hold (``rules.post_claims``), compares it with what the ledger holds,
and writes one entry per claim that differs. Recounting twice writes nothing the second
time, so a repeated or reordered event cannot earn twice.

Up-votes count towards a daily cap per UTC day: an entry's ``delta`` is how much the day's
capped sum moved, its ``points`` what the rule gave. The post row and the users' totals are
locked (PostgreSQL) so concurrent recounts of one post or one user queue up.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from enum import StrEnum

from tortoise.expressions import F
from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from forum.reputation.config import load_rules
from forum.reputation.models import (
    CorrectedVote,
    Kind,
    Reason,
    ReputationEntry,
    ReputationMonth,
    ReputationTotal,
)
from forum.reputation.rules import (
    ClaimKey,
    PostFacts,
    VoteFacts,
    capped,
    post_claims,
    total_of,
    utc_day,
)
from forum.topics.models import Post, Topic, TopicKind, Vote


class Cause(StrEnum):
    VOTE = "vote"
    ACCEPT = "accept"
    DELETE = "delete"
    RESTORE = "restore"
    CORRECTION = "correction"
    RECOUNT = "recount"


GRANTED = {Kind.UP: Reason.UPVOTED, Kind.DOWN: Reason.DOWNVOTED,
           Kind.DOWN_COST: Reason.DOWNVOTED_OTHER, Kind.ACCEPT: Reason.ACCEPTED,
           Kind.ACCEPTER: Reason.ACCEPTED_OTHER}
REVERSED = {Cause.VOTE: Reason.UNVOTED, Cause.ACCEPT: Reason.UNACCEPTED,
            Cause.DELETE: Reason.POST_DELETED, Cause.RESTORE: Reason.RECALCULATED,
            Cause.CORRECTION: Reason.VOTING_CORRECTED, Cause.RECOUNT: Reason.RECALCULATED}


def reason_for(kind: Kind, expected: int, current: int, cause: Cause) -> Reason:
    if cause == Cause.CORRECTION:
        return Reason.VOTING_CORRECTED
    if abs(expected) > abs(current):
        return Reason.POST_RESTORED if cause == Cause.RESTORE else GRANTED[kind]
    return REVERSED[cause]


def claim_key(user_id: int, kind: str, other: int | None, day: date | None) -> ClaimKey:
    k = Kind(kind)
    return (user_id, k, other, day if k == Kind.UP else None)


async def post_facts(post: Post, topic: Topic) -> tuple[PostFacts, list[VoteFacts]]:
    rows = await Vote.filter(post_id=post.id).values_list("id", "user_id", "value", "updated_at")
    corrected = set(await CorrectedVote.filter(post_id=post.id).values_list("vote_id", flat=True))
    votes = [VoteFacts(int(vid), int(uid), int(value), utc_day(at), vid in corrected)
             for vid, uid, value, at in rows]
    facts = PostFacts(
        post_id=post.id, author_id=post.author_id,  # type: ignore[attr-defined]
        is_question=post.number == 1 and topic.kind == TopicKind.QUESTION,
        live=post.deleted_at is None and topic.deleted_at is None,
        asker_id=topic.author_id,  # type: ignore[attr-defined]
        accepted=post.number > 1 and topic.accepted_post_id == post.id)
    return facts, votes


async def ledger_claims(post_id: int) -> dict[ClaimKey, int]:
    held: dict[ClaimKey, int] = defaultdict(int)
    rows = await ReputationEntry.filter(post_id=post_id).values_list(
        "user_id", "kind", "voter_id", "day", "points")
    for user_id, kind, other, day, points in rows:
        held[claim_key(int(user_id), kind, other, day)] += int(points)
    return {k: v for k, v in held.items() if v}


async def ensure_totals(project_id: int, user_ids: list[int]) -> None:
    await ReputationTotal.bulk_create(
        [ReputationTotal(project_id=project_id, user_id=u) for u in user_ids],
        ignore_conflicts=True)


async def _day_sum(project_id: int, user_id: int, day: date) -> int:
    rows = await ReputationEntry.filter(
        project_id=project_id, user_id=user_id, kind=Kind.UP, day=day,
    ).annotate(s=Sum("points")).values_list("s")
    return int(rows[0][0] or 0) if rows else 0


def _order(item: tuple[ClaimKey, int]) -> tuple[int, str, int, date]:
    (user_id, kind, other, day), _ = item
    return (user_id, kind.value, other or 0, day or date.min)


async def reconcile_post(post_id: int, cause: Cause) -> list[ReputationEntry]:
    """Bring the ledger's claims on ``post_id`` to what the rules give now; the entries
    written (none when it was already right)."""
    async with in_transaction():
        post = await Post.filter(id=post_id).select_for_update().first()
        if post is None:
            return []
        topic = await Topic.get(id=post.topic_id)  # type: ignore[attr-defined]
        project_id: int = topic.project_id  # type: ignore[attr-defined]
        rules = await load_rules(project_id)
        facts, votes = await post_facts(post, topic)
        expected = post_claims(facts, votes, rules)
        held = await ledger_claims(post_id)
        diffs = {k: expected.get(k, 0) - held.get(k, 0) for k in expected.keys() | held.keys()}
        diffs = {k: d for k, d in diffs.items() if d}
        if not diffs:
            return []
        users = sorted({k[0] for k in diffs})
        await ensure_totals(project_id, users)
        totals = {t.user_id: t for t in await ReputationTotal.filter(  # type: ignore[attr-defined]
            project_id=project_id, user_id__in=users).order_by("user_id").select_for_update()}
        day_raw: dict[tuple[int, date], int] = {}
        vote_of_voter = {v.voter_id: v.vote_id for v in votes}
        today = datetime.now(UTC).date()
        moved: dict[int, int] = defaultdict(int)
        entries: list[ReputationEntry] = []
        for key, diff in sorted(diffs.items(), key=_order):
            user_id, kind, other, day = key
            delta = diff
            if kind == Kind.UP and day is not None:
                if (user_id, day) not in day_raw:
                    day_raw[(user_id, day)] = await _day_sum(project_id, user_id, day)
                before = day_raw[(user_id, day)]
                day_raw[(user_id, day)] = before + diff
                delta = capped(before + diff, rules.daily_cap) - capped(before, rules.daily_cap)
            voter = user_id if kind == Kind.DOWN_COST else other
            entries.append(ReputationEntry(
                project_id=project_id, user_id=user_id, delta=delta, points=diff, kind=kind,
                reason=reason_for(kind, expected.get(key, 0), held.get(key, 0), cause),
                post_id=post_id, vote_id=vote_of_voter.get(voter) if kind != Kind.ACCEPT
                and kind != Kind.ACCEPTER and voter is not None else None,
                voter_id=other, day=day or today))
            moved[user_id] += delta
        await ReputationEntry.bulk_create(entries)
        await add_to_months(project_id, today.replace(day=1), entries)
        for user_id, delta in moved.items():
            total = totals[user_id]
            if delta:
                total.points += delta
                total.total = total_of(total.points, rules)
                await total.save(update_fields=["points", "total", "updated_at"])
    return entries


async def add_to_months(project_id: int, month: date, entries: list[ReputationEntry]) -> None:
    """Count new entries in their month's leaderboard figures (same transaction)."""
    moved: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for entry in entries:
        moved[entry.user_id][0] += entry.delta  # type: ignore[attr-defined]
        if entry.kind == Kind.ACCEPT:
            moved[entry.user_id][1] += 1 if entry.points > 0 else -1  # type: ignore[attr-defined]
    changed = {u: m for u, m in moved.items() if m != [0, 0]}
    if not changed:
        return
    await ReputationMonth.bulk_create(
        [ReputationMonth(project_id=project_id, month=month, user_id=u) for u in sorted(changed)],
        ignore_conflicts=True)
    for user_id, (gained, accepted) in sorted(changed.items()):
        await ReputationMonth.filter(project_id=project_id, month=month, user_id=user_id).update(
            gained=F("gained") + gained, accepted=F("accepted") + accepted)


async def reconcile_topic(topic_id: int, cause: Cause) -> int:
    """Recount every post of a topic (deleted, restored, moved); entries written."""
    written = 0
    for (post_id,) in await Post.filter(topic_id=topic_id).order_by("id").values_list("id"):
        written += len(await reconcile_post(int(post_id), cause))
    return written
