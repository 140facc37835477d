"""Flags, the review queue and its decisions, watched words, spam-defence traces and each
project's moderation settings.

"One open flag per flagger per target" and "one pending review item per target" are
unique keys that are set while the row is open and cleared (NULL) when it is resolved, so
the database refuses a second one even under a race.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.projects.models import Project
    from forum.topics.models import Post


class FlagReason(StrEnum):
    SPAM = "spam"
    OFF_TOPIC = "off_topic"
    INAPPROPRIATE = "inappropriate"
    CODE_OF_CONDUCT = "code_of_conduct"
    NEEDS_MODERATOR = "needs_moderator"  # a note is required


# Flags with these reasons count towards hiding a post at once.
HIDING_REASONS = frozenset({FlagReason.SPAM, FlagReason.INAPPROPRIATE})


class FlagStatus(StrEnum):
    OPEN = "open"
    AGREED = "agreed"  # a moderator acted on it (the post was rejected or deleted)
    DISAGREED = "disagreed"  # a moderator found nothing wrong
    IGNORED = "ignored"  # resolved without judging the flag


class TargetType(StrEnum):
    POST = "post"
    USER = "user"


class Flag(Model):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="flags", on_delete=fields.CASCADE)
    flagger: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="flags_raised", on_delete=fields.CASCADE)
    target_type = fields.CharEnumField(TargetType)
    post: fields.ForeignKeyNullableRelation[Post] = fields.ForeignKeyField(
        "forum.Post", related_name="flags", null=True, on_delete=fields.CASCADE)
    # The flagged user, or the flagged post's author.
    target_user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="flags_received", on_delete=fields.CASCADE)
    reason = fields.CharEnumField(FlagReason)
    note = fields.TextField(default="")
    weight = fields.IntField(default=1)
    status = fields.CharEnumField(FlagStatus, default=FlagStatus.OPEN)
    # "<flagger>:post:<id>" or "<flagger>:user:<project>:<id>" while open, NULL afterwards.
    open_key = fields.CharField(max_length=80, null=True, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    resolved_at = fields.DatetimeField(null=True)
    resolved_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, null=True, on_delete=fields.SET_NULL)

    class Meta:
        table = "moderation_flags"
        indexes = (("project_id", "status"), ("flagger_id", "status"))


class ItemKind(StrEnum):
    FLAGGED_POST = "flagged_post"
    FLAGGED_USER = "flagged_user"
    HELD_POST = "held_post"  # held when written (new user, watched word)


class ItemStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    DELETED = "deleted"


class ReviewItem(Model):
    """Something a moderator should look at: a flagged or held post, or a flagged user."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="review_items", on_delete=fields.CASCADE)
    kind = fields.CharEnumField(ItemKind)
    post: fields.ForeignKeyNullableRelation[Post] = fields.ForeignKeyField(
        "forum.Post", related_name="review_items", null=True, on_delete=fields.CASCADE)
    target_user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="review_items", on_delete=fields.CASCADE)
    reason = fields.CharField(max_length=200, default="")  # why it is in the queue
    status = fields.CharEnumField(ItemStatus, default=ItemStatus.PENDING)
    # "post:<id>" or "user:<project>:<id>" while pending, NULL once decided.
    pending_key = fields.CharField(max_length=60, null=True, unique=True)
    claimed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    claimed_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    resolved_at = fields.DatetimeField(null=True)
    resolved_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, null=True, on_delete=fields.SET_NULL)

    class Meta:
        table = "moderation_review_items"
        indexes = (("project_id", "status", "created_at"),)


class ReviewDecision(Model):
    """The history of the queue: every claim, release and decision, with who and when."""

    id = fields.IntField(primary_key=True)
    item: fields.ForeignKeyRelation[ReviewItem] = fields.ForeignKeyField(
        "forum.ReviewItem", related_name="decisions", on_delete=fields.CASCADE)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="review_decisions", on_delete=fields.CASCADE)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    action = fields.CharField(max_length=20)  # claim, release, approve, reject, delete
    note = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "moderation_review_decisions"
        indexes = (("project_id", "created_at"),)


class WordAction(StrEnum):
    BLOCK = "block"
    HOLD = "hold"
    REPLACE = "replace"


class WatchedWord(Model):
    """A word or phrase screened in a project's new posts (a star matches any letters)."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="watched_words", on_delete=fields.CASCADE)
    word = fields.CharField(max_length=100)  # lower-cased
    action = fields.CharEnumField(WordAction)
    replacement = fields.CharField(max_length=100, default="")
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "moderation_watched_words"
        unique_together = (("project", "word"),)


class PostingTrace(Model):
    """One accepted new post from an address, for the per-address posting limit. Rows
    older than a day are removed by the ``moderation.prune_traces`` job."""

    id = fields.IntField(primary_key=True)
    project_id = fields.IntField()
    user_id = fields.IntField()
    ip = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "moderation_posting_traces"
        indexes = (("ip", "created_at"),)


class ModerationConfig(Model):
    """A project's moderation settings (``schemas.ModerationSettings``), defaults in code."""

    id = fields.IntField(primary_key=True)
    project: fields.OneToOneRelation[Project] = fields.OneToOneField(
        "forum.Project", related_name="moderation_config", on_delete=fields.CASCADE)
    values: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "moderation_configs"
