"""The team side of the support queue: response templates, each supporter's notification
level per ticket, daily digests (preferences, claims, the activity they report),
satisfaction ratings and auto-close bookkeeping."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.projects.models import Project
    from forum.support_queue.models import Ticket


class ResponseTemplate(Model):
    """A canned reply: project-wide (``owner`` None, edited by leads) or one supporter's own.
    ``body`` is markdown with ``{variables}`` (see ``forum.support_queue.templates_service``).
    """

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name=False, on_delete=fields.CASCADE)
    owner: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, null=True, on_delete=fields.CASCADE)
    name = fields.CharField(max_length=80)
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "support_response_templates"
        indexes = (("project_id", "owner_id"),)


class NotifyLevel(StrEnum):
    """How a supporter hears about one ticket."""

    EVERY = "every"  # every message by email
    DIGEST = "digest"  # only in the daily digest (the default)
    MUTE = "mute"  # no email at all, not even for mentions, and left out of the digest


DEFAULT_LEVEL = NotifyLevel.DIGEST


class TicketNotifyLevel(Model):
    """A supporter's level for one ticket. No row: ``DEFAULT_LEVEL``."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "forum.Ticket", related_name=False, on_delete=fields.CASCADE)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    level = fields.CharEnumField(NotifyLevel, max_length=8)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "support_notify_levels"
        unique_together = (("ticket", "user"),)


class DigestPreference(Model):
    """When a supporter gets the daily digest: ``hour`` o'clock in ``time_zone``, Monday to
    Friday there. No row: 8 o'clock in the user's own time zone."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    enabled = fields.BooleanField(default=True)
    hour = fields.SmallIntField(default=8)  # 0..23, local
    time_zone = fields.CharField(max_length=64, default="UTC")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "support_digest_preferences"


class DigestRun(Model):
    """One digest per supporter and local date, claimed (inserted) before it is sent, so two
    workers never both send it. ``sent_at`` stays None if sending failed after the claim."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    local_date = fields.DateField()
    claimed_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    item_count = fields.IntField(default=0)

    class Meta:
        table = "support_digest_runs"
        unique_together = (("user", "local_date"),)


class ActivityKind(StrEnum):
    UPDATE = "update"  # a message or state change on a ticket assigned to the supporter
    ASSIGNED = "assigned"  # the ticket was assigned to the supporter by someone else
    MENTION = "mention"  # the supporter was @mentioned in a ticket


class SupportActivity(Model):
    """Something a supporter's next digest reports, recorded from events as it happens."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "forum.Ticket", related_name=False, on_delete=fields.CASCADE)
    kind = fields.CharEnumField(ActivityKind, max_length=10)
    actor_id = fields.IntField(null=True)
    post_id = fields.IntField(null=True)
    summary = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "support_activity"
        indexes = (("user_id", "created_at"),)


class Rating(StrEnum):
    GOOD = "good"
    OKAY = "okay"
    BAD = "bad"


class SatisfactionRating(Model):
    """The requester's rating of a solved ticket, changeable until the ticket closes.
    ``supporter`` is who handled it (the assignee when rated), for per-supporter figures."""

    id = fields.IntField(primary_key=True)
    ticket: fields.OneToOneRelation[Ticket] = fields.OneToOneField(
        "forum.Ticket", related_name=False, on_delete=fields.CASCADE)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name=False, on_delete=fields.CASCADE)
    requester: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    supporter: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    rating = fields.CharEnumField(Rating, max_length=5)
    comment = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "support_satisfaction"
        indexes = (("project_id", "supporter_id"),)


class AutoCloseSettings(Model):
    """A project's auto-close rule. No row: on, with the defaults below."""

    id = fields.IntField(primary_key=True)
    project: fields.OneToOneRelation[Project] = fields.OneToOneField(
        "forum.Project", related_name=False, on_delete=fields.CASCADE)
    enabled = fields.BooleanField(default=True)
    idle_days = fields.SmallIntField(default=30)  # close after this long without interaction
    warn_days = fields.SmallIntField(default=3)  # warn the requester this long before
    grace_days = fields.SmallIntField(default=7)  # a reply this soon after closing reopens
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "support_autoclose_settings"


class AutoCloseWarning(Model):
    """When the requester was last warned that the ticket will close (a warning counts only
    if no interaction came after it)."""

    id = fields.IntField(primary_key=True)
    ticket: fields.OneToOneRelation[Ticket] = fields.OneToOneField(
        "forum.Ticket", related_name=False, on_delete=fields.CASCADE)
    warned_at = fields.DatetimeField()
    closes_at = fields.DatetimeField()

    class Meta:
        table = "support_autoclose_warnings"


class TicketFollowUp(Model):
    """A ticket opened by a reply to a ticket closed longer than the grace period."""

    id = fields.IntField(primary_key=True)
    ticket: fields.OneToOneRelation[Ticket] = fields.OneToOneField(
        "forum.Ticket", related_name=False, on_delete=fields.CASCADE)
    previous: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "forum.Ticket", related_name=False, on_delete=fields.CASCADE)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "support_ticket_follow_ups"
