"""Reputation: a ledger of every change, the materialised totals, per-project rules and
the votes reversed as serial voting.

A row of the ledger belongs to one *claim*: what one user holds because of one post (an
up-vote received from a voter, the cost of down-voting, an accepted answer). Writing only
the difference between what a post's claims should be and what the ledger holds for them
keeps the ledger right however often a post is recounted (see ``forum.reputation.ledger``).
Post, vote and voter ids are plain columns: the ledger outlives what it records.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.projects.models import Project


class Kind(StrEnum):
    """What a claim is for. Only UP counts towards the daily cap."""

    UP = "up"  # the post's author, for an up-vote
    DOWN = "down"  # the post's author, for a down-vote
    DOWN_COST = "down_cost"  # the voter, for down-voting an answer
    ACCEPT = "accept"  # the answer's author, for the accepted answer
    ACCEPTER = "accepter"  # the asker, for accepting someone else's answer


class Reason(StrEnum):
    UPVOTED = "upvoted"
    DOWNVOTED = "downvoted"
    DOWNVOTED_OTHER = "downvoted_other"  # you down-voted an answer
    ACCEPTED = "accepted"
    ACCEPTED_OTHER = "accepted_other"  # you accepted someone's answer
    UNVOTED = "unvoted"  # a vote was withdrawn or changed
    UNACCEPTED = "unaccepted"  # an acceptance was withdrawn or moved
    POST_DELETED = "post_deleted"
    POST_RESTORED = "post_restored"
    VOTING_CORRECTED = "voting_corrected"  # serial voting reversed
    RECALCULATED = "recalculated"  # the post was recounted (moved, kind or rules changed)


class ReputationEntry(Model):
    id = fields.BigIntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name=False, on_delete=fields.CASCADE)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    delta = fields.IntField()  # what the total moved by (after the daily cap)
    points = fields.IntField()  # what the rule gives, before the cap
    kind = fields.CharEnumField(Kind, max_length=16)
    reason = fields.CharEnumField(Reason, max_length=24)
    post_id = fields.IntField(null=True)
    vote_id = fields.IntField(null=True)
    # The other person: the voter for vote claims, the answer's author for ACCEPTER.
    voter_id = fields.IntField(null=True)
    day = fields.DateField()  # the UTC day an up-vote counts in, for the daily cap
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "reputation_entries"
        # Leaderboards read (project, created_at range) with the index alone (covering).
        indexes = (("project_id", "user_id", "id"),
                   ("project_id", "created_at", "user_id", "delta", "kind", "points"),
                   ("project_id", "user_id", "kind", "day"), ("post_id",))


class ReputationTotal(Model):
    """A user's reputation in a project: ``total`` = max(floor, 1 + ``points``), where
    ``points`` is the sum of their ledger's deltas."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name=False, on_delete=fields.CASCADE)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    total = fields.IntField(default=1)
    points = fields.IntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "reputation_totals"
        unique_together = (("project", "user"),)
        indexes = (("project_id", "total"),)


class ReputationConfig(Model):
    """A project's own point values, thresholds and limits (``ReputationSettings``):
    missing keys take the defaults in code."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name=False, on_delete=fields.CASCADE, unique=True)
    values: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "reputation_configs"


class CorrectedVote(Model):
    """A vote found to be serial voting: it stays, but earns and costs nothing."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name=False, on_delete=fields.CASCADE)
    vote_id = fields.IntField(unique=True)
    post_id = fields.IntField(db_index=True)
    voter_id = fields.IntField()
    target_user_id = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "reputation_corrected_votes"


class ReputationMonth(Model):
    """What each user gained in a calendar month (UTC) of a project, by when the ledger
    entries were written: leaderboards of a year read twelve of these per user instead of
    a year of ledger rows."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name=False, on_delete=fields.CASCADE)
    month = fields.DateField()  # its first day
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    gained = fields.IntField(default=0)  # the sum of the month's deltas
    accepted = fields.IntField(default=0)  # answers accepted, less acceptances withdrawn

    class Meta:
        table = "reputation_months"
        unique_together = (("project", "month", "user"),)
