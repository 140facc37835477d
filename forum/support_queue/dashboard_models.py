"""Hourly snapshots of each project's queue, for the lead dashboard's queue size chart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from forum.projects.models import Project


class QueueSnapshot(Model):
    """How many tickets were queued (queued or assigned) in a project at the start of an
    hour (UTC), and how many of them were paid."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name=False, on_delete=fields.CASCADE)
    taken_at = fields.DatetimeField()  # the hour, minutes and seconds zero
    queued = fields.IntField(default=0)
    paid = fields.IntField(default=0)

    class Meta:
        table = "support_queue_snapshots"
        unique_together = (("project", "taken_at"),)
