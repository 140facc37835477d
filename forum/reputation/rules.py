"""The rules, as pure functions: what a post's votes and acceptance are worth to whom.

The listeners (``ledger.reconcile_post``) and the rebuild (``rebuild``) both derive claims
here, so the ledger and its recount cannot follow different rules.

A claim is keyed by (user, kind, other person, day): ``day`` only for up-votes, which count
towards the daily cap of the day they were cast; None for everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from forum.reputation.models import Kind
from forum.reputation.schemas import ReputationSettings

ClaimKey = tuple[int, Kind, int | None, date | None]


@dataclass(frozen=True)
class PostFacts:
    post_id: int
    author_id: int
    is_question: bool  # the opening post of a question: question values, no down-vote cost
    live: bool  # neither the post nor its topic is deleted
    asker_id: int  # the topic's author
    accepted: bool  # this post is the topic's accepted answer


@dataclass(frozen=True)
class VoteFacts:
    vote_id: int
    voter_id: int
    value: int
    day: date  # the UTC day it was cast or last changed
    corrected: bool  # reversed as serial voting


def utc_day(moment: datetime | str) -> date:
    """The UTC date of a timestamp from the ORM (aware datetime) or raw SQLite (ISO text)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def post_claims(post: PostFacts, votes: list[VoteFacts], rules: ReputationSettings
                ) -> dict[ClaimKey, int]:
    """Points each claim on this post should hold now (zero claims left out)."""
    claims: dict[ClaimKey, int] = {}
    if not post.live:
        return claims

    def add(key: ClaimKey, points: int) -> None:
        if points:
            claims[key] = claims.get(key, 0) + points

    upvote = rules.question_upvote if post.is_question else rules.answer_upvote
    for vote in votes:
        if vote.corrected or vote.voter_id == post.author_id:
            continue
        if vote.value > 0:
            add((post.author_id, Kind.UP, vote.voter_id, vote.day), upvote)
        elif vote.value < 0:
            add((post.author_id, Kind.DOWN, vote.voter_id, None), -rules.downvoted)
            if not post.is_question:
                add((vote.voter_id, Kind.DOWN_COST, post.author_id, None), -rules.downvote_cost)
    if post.accepted and post.asker_id != post.author_id:
        add((post.author_id, Kind.ACCEPT, post.asker_id, None), rules.accepted)
        add((post.asker_id, Kind.ACCEPTER, post.author_id, None), rules.accepter)
    return claims


def capped(raw: int, cap: int) -> int:
    """What a day's up-votes are worth under the daily cap."""
    return min(cap, max(0, raw))


def total_of(points: int, rules: ReputationSettings) -> int:
    """Everyone starts at 1; the total never goes below the floor."""
    return max(rules.floor, 1 + points)
