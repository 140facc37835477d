"""Recognition: reputation's copy of the money a helper's posts earned their project (from
``HelpCredited``: reputation may not import billing), the thank-yous leads record, the hours
helpers pledge, and which monthly recaps went out."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.projects.models import Project


class HelpCredit(Model):
    """One attribution as billing announced it. ``attribution_id`` is billing's row and is
    unique, so a replayed event changes nothing. ``amount`` < 0: a refund reversed a credit."""

    id = fields.IntField(primary_key=True)
    attribution_id = fields.IntField(unique=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name=False, on_delete=fields.CASCADE)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    ticket_id = fields.IntField()
    topic_id = fields.IntField()
    post_id = fields.IntField(null=True)
    amount = fields.IntField()  # minor units of ``currency``
    currency = fields.CharField(max_length=3)
    reference = fields.CharField(max_length=40)  # "DEMO-42"
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "recognition_help_credits"
        indexes = (("project_id", "user_id"), ("created_at",))


class ThankYouKind(StrEnum):
    MONEY_SENT = "money_sent"
    SWAG = "swag"
    NOTE = "note"


class ThankYou(Model):
    """A lead's thank-you to a helper. Shown on the helper's profile only once the helper
    agreed (``shown``, off by default)."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name=False, on_delete=fields.CASCADE)
    helper: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    lead: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    kind = fields.CharEnumField(ThankYouKind, max_length=12)
    amount = fields.IntField(null=True)  # minor units, for money sent
    currency = fields.CharField(max_length=3, default="")
    note = fields.TextField(default="")
    shown = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "recognition_thank_yous"
        indexes = (("project_id", "helper_id"),)


class VolunteerPledge(Model):
    """Hours per week a helper offers a project's support (0 withdraws the offer)."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name=False, on_delete=fields.CASCADE)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    hours_per_week = fields.SmallIntField()
    note = fields.CharField(max_length=500, default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "recognition_pledges"
        unique_together = (("project", "user"),)


class RecapSent(Model):
    """The monthly recap a helper received for ``month`` ("2026-10"), so it goes out once."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    month = fields.CharField(max_length=7)
    sent_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "recognition_recaps_sent"
        unique_together = (("user", "month"),)
