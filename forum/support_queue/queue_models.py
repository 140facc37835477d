"""A project's queue settings: one row per project, the defaults when there is none."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from forum.projects.models import Project


class QueueSettings(Model):
    """How the project's queue orders tickets (see ``forum/support_queue/policy.py``) and
    the floor of the expected response time shown to requesters."""

    id = fields.IntField(primary_key=True)
    project: fields.OneToOneRelation[Project] = fields.OneToOneField(
        "forum.Project", related_name="queue_settings", on_delete=fields.CASCADE)
    enabled = fields.BooleanField(default=True)  # off: oldest first, the team picks
    unpaid_share = fields.SmallIntField(default=20)  # percent of every prefix of the order
    window_days = fields.SmallIntField(default=30)  # the served share is measured over it
    breach_lead_minutes = fields.IntField(default=120)  # enterprise tickets jump this early
    minimum_response_minutes = fields.IntField(default=0)  # business minutes
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "support_queue_settings"
