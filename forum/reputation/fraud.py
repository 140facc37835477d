"""Vote fraud: votes lock after a few minutes, serial voting is reversed, and heavy
down-voters are stopped.

- A vote older than ``vote_lock_minutes`` cannot be changed or withdrawn unless the post
  was edited after it (Stack Overflow's rule).
- ``correct_serial_votes`` (the cron job ``reputation.serial_votes``) finds a voter who
  voted ``serial_vote_count`` times or more on one person's posts within
  ``serial_vote_window_hours`` and reverses those votes' reputation: the votes stay, the
  ledger gets "voting_corrected" entries that moderators see on the history page.
- A voter who cast ``downvote_ratio_min_votes`` votes or more in the project may not vote
  down while more than ``downvote_ratio_max`` of their votes are down-votes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from tortoise.functions import Count

from forum.gates import Act, Attempt
from forum.reputation.config import load_rules
from forum.reputation.ledger import Cause, reconcile_post
from forum.reputation.models import CorrectedVote
from forum.reputation.schemas import ReputationSettings
from forum.topics.models import Post, Vote


async def vote_lock_refusal(attempt: Attempt, rules: ReputationSettings,
                            now: datetime | None = None) -> str | None:
    if attempt.act not in (Act.VOTE_UP, Act.VOTE_DOWN) or attempt.post_id is None:
        return None
    vote = await Vote.get_or_none(post_id=attempt.post_id, user_id=attempt.user_id)
    if vote is None:
        return None
    now = now or datetime.now(UTC)
    if now - vote.updated_at < timedelta(minutes=rules.vote_lock_minutes):
        return None
    post = await Post.filter(id=attempt.post_id).only("id", "edited_at").first()
    if post is not None and post.edited_at is not None and post.edited_at > vote.updated_at:
        return None
    return (f"Your vote was locked {rules.vote_lock_minutes} minutes after you cast it; "
            "it can change only if the post is edited.")


async def downvote_ratio_refusal(attempt: Attempt, rules: ReputationSettings) -> str | None:
    if attempt.act != Act.VOTE_DOWN or attempt.is_staff or attempt.project_id is None:
        return None
    rows = await Vote.filter(user_id=attempt.user_id, post__topic__project_id=attempt.project_id
                             ).annotate(n=Count("id")).group_by("value").values_list("value", "n")
    counts = {int(v): int(n) for v, n in rows}
    total = sum(counts.values())
    if total < rules.downvote_ratio_min_votes:
        return None
    if counts.get(-1, 0) / total <= rules.downvote_ratio_max:
        return None
    return (f"More than {round(rules.downvote_ratio_max * 100)}% of your votes here are "
            "down-votes; vote up good posts before voting down again.")


async def fraud_refusal(attempt: Attempt, rules: ReputationSettings) -> str | None:
    return (await vote_lock_refusal(attempt, rules)
            or await daily_vote_refusal(attempt, rules)
            or await downvote_ratio_refusal(attempt, rules))


async def daily_vote_refusal(attempt: Attempt, rules: ReputationSettings,
                             now: datetime | None = None) -> str | None:
    """Stack Overflow's daily vote limit: ``votes_per_day`` new votes per UTC day in a
    project. Changing or withdrawing a vote already cast is not a new vote; staff are
    exempt."""
    if (attempt.act not in (Act.VOTE_UP, Act.VOTE_DOWN) or attempt.post_id is None
            or attempt.project_id is None or attempt.is_staff):
        return None
    if await Vote.exists(post_id=attempt.post_id, user_id=attempt.user_id):
        return None
    now = now or datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    cast = await Vote.filter(user_id=attempt.user_id, created_at__gte=midnight,
                             post__topic__project_id=attempt.project_id).count()
    if cast < rules.votes_per_day:
        return None
    return (f"You have cast your {rules.votes_per_day} votes for today in this project; "
            "more at 00:00 UTC.")


def serial_runs(times: list[tuple[datetime, int]], count: int, window: timedelta) -> set[int]:
    """Vote ids in any stretch of ``window`` holding ``count`` votes or more (times sorted)."""
    found: set[int] = set()
    start = 0
    for end in range(len(times)):
        while times[end][0] - times[start][0] > window:
            start += 1
        if end - start + 1 >= count:
            found.update(vote_id for _, vote_id in times[start:end + 1])
    return found


async def find_serial_votes(project_id: int, rules: ReputationSettings,
                            now: datetime | None = None) -> dict[int, tuple[int, int, int]]:
    """Serial votes not yet corrected: vote id -> (post id, voter id, target user id)."""
    now = now or datetime.now(UTC)
    window = timedelta(hours=rules.serial_vote_window_hours)
    rows = await Vote.filter(post__topic__project_id=project_id, created_at__gte=now - 2 * window
                             ).values_list("id", "post_id", "user_id", "post__author_id",
                                           "created_at")
    done = set(await CorrectedVote.filter(project_id=project_id,
                                          created_at__gte=now - 4 * window
                                          ).values_list("vote_id", flat=True))
    pairs: dict[tuple[int, int], list[tuple[datetime, int]]] = defaultdict(list)
    where: dict[int, tuple[int, int, int]] = {}
    for vote_id, post_id, voter_id, author_id, created in rows:
        if vote_id in done or voter_id == author_id:
            continue
        pairs[(int(voter_id), int(author_id))].append((created, int(vote_id)))
        where[int(vote_id)] = (int(post_id), int(voter_id), int(author_id))
    serial: dict[int, tuple[int, int, int]] = {}
    for times in pairs.values():
        if len(times) < rules.serial_vote_count:
            continue
        for vote_id in serial_runs(sorted(times), rules.serial_vote_count, window):
            serial[vote_id] = where[vote_id]
    return serial


async def correct_serial_votes(project_id: int, now: datetime | None = None) -> int:
    """Reverse the reputation of serial votes in the project; the number of votes."""
    rules = await load_rules(project_id)
    serial = await find_serial_votes(project_id, rules, now)
    if not serial:
        return 0
    await CorrectedVote.bulk_create([
        CorrectedVote(project_id=project_id, vote_id=vote_id, post_id=post_id,
                      voter_id=voter_id, target_user_id=target)
        for vote_id, (post_id, voter_id, target) in serial.items()], ignore_conflicts=True)
    for post_id in sorted({post_id for post_id, _, _ in serial.values()}):
        await reconcile_post(post_id, Cause.CORRECTION)
    return len(serial)
