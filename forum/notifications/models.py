"""Notifications, who watches which topics and categories, and how each user wants mail."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.projects.models import Project
    from forum.topics.models import Category, Post, Topic


class NotificationKind(StrEnum):
    MENTIONED = "mentioned"
    REPLIED = "replied"
    QUOTED = "quoted"
    ANSWER_ACCEPTED = "answer_accepted"
    VOTED = "voted"
    WATCHING_ACTIVITY = "watching_activity"  # a new post in a watched topic
    NEW_TOPIC = "new_topic"  # a new topic in a watched category
    BADGE_AWARDED = "badge_awarded"  # no topic: data holds the badge
    # The requester's ticket entered the support queue (its acknowledgement email is
    # sent by the support queue itself, so this kind is never emailed from here).
    TICKET_SUBMITTED = "ticket_submitted"
    # Recognition (no topic: data holds the line to show and the page to link).
    HELP_EARNED = "help_earned"  # a helper's post earned the project money on a paid ticket
    THANKED = "thanked"  # a project lead recorded a thank-you
    TOPIC_EVENT = "topic_event"  # a line in a watched topic's timeline (data holds it)


# Kinds about one new post, strongest first: a user gets one of them per post.
POST_KINDS: tuple[NotificationKind, ...] = (
    NotificationKind.MENTIONED,
    NotificationKind.REPLIED,
    NotificationKind.QUOTED,
    NotificationKind.NEW_TOPIC,
    NotificationKind.WATCHING_ACTIVITY,
)


class WatchLevel(StrEnum):
    """Discourse's levels, from loudest to quietest."""

    WATCHING = "watching"  # notified of every new post (of every new topic, for a category)
    TRACKING = "tracking"  # unread counts; notified when mentioned, replied to or quoted
    NORMAL = "normal"  # notified when mentioned, replied to or quoted
    MUTED = "muted"  # never notified, not even of mentions


class EmailFrequency(StrEnum):
    IMMEDIATELY = "immediately"
    NEVER = "never"


class Notification(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="notifications", on_delete=fields.CASCADE)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name=False, on_delete=fields.CASCADE)
    kind = fields.CharEnumField(NotificationKind, max_length=20)
    topic: fields.ForeignKeyNullableRelation[Topic] = fields.ForeignKeyField(
        "forum.Topic", related_name=False, null=True, on_delete=fields.CASCADE)
    post: fields.ForeignKeyNullableRelation[Post] = fields.ForeignKeyField(
        "forum.Post", related_name=False, null=True, on_delete=fields.CASCADE)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    # What the list shows without joins: topic title, actor name, vote count ...
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)
    emailed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notifications"
        indexes = (("user_id", "read_at"),)


class TopicWatch(Model):
    """A user's level for one topic. ``explicit`` False when set by replying or creating."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    topic: fields.ForeignKeyRelation[Topic] = fields.ForeignKeyField(
        "forum.Topic", related_name=False, on_delete=fields.CASCADE)
    level = fields.CharEnumField(WatchLevel, max_length=10)
    explicit = fields.BooleanField(default=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "topic_watches"
        unique_together = (("user", "topic"),)


class CategoryWatch(Model):
    """A user's level for a category: its topics inherit it unless watched on their own."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    category: fields.ForeignKeyRelation[Category] = fields.ForeignKeyField(
        "forum.Category", related_name=False, on_delete=fields.CASCADE)
    level = fields.CharEnumField(WatchLevel, max_length=10)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "category_watches"
        unique_together = (("user", "category"),)


class NotificationPreference(Model):
    """Which notifications a user also receives by email. No row: the defaults below."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    email_mentions = fields.BooleanField(default=True)
    email_replies = fields.BooleanField(default=True)
    email_quotes = fields.BooleanField(default=True)
    email_accepted = fields.BooleanField(default=True)
    email_votes = fields.BooleanField(default=False)
    email_watching = fields.BooleanField(default=True)
    email_badges = fields.BooleanField(default=True)
    email_frequency = fields.CharEnumField(EmailFrequency, max_length=12,
                                           default=EmailFrequency.IMMEDIATELY)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "notification_preferences"

    def wants_email(self, kind: NotificationKind | str) -> bool:
        if self.email_frequency != EmailFrequency.IMMEDIATELY:
            return False
        return bool(getattr(self, EMAIL_FIELD[NotificationKind(kind)]))


# The preference field that decides whether a kind is emailed.
EMAIL_FIELD: dict[NotificationKind, str] = {
    NotificationKind.MENTIONED: "email_mentions",
    NotificationKind.REPLIED: "email_replies",
    NotificationKind.QUOTED: "email_quotes",
    NotificationKind.ANSWER_ACCEPTED: "email_accepted",
    NotificationKind.VOTED: "email_votes",
    NotificationKind.WATCHING_ACTIVITY: "email_watching",
    NotificationKind.NEW_TOPIC: "email_watching",
    NotificationKind.BADGE_AWARDED: "email_badges",
    NotificationKind.HELP_EARNED: "email_badges",
    NotificationKind.THANKED: "email_badges",
    NotificationKind.TOPIC_EVENT: "email_watching",
}
