"""What a project promises about response times: its business calendar, SLA targets per
tier and priority, the names of its priorities, and what the SLA clock keeps per ticket
(pauses while waiting or on hold, warnings already sent).

No row means the defaults in ``forum/support_queue/sla.py``: the project's time zone,
Monday to Friday 09:00-17:00, the default targets and priority names, a 60-minute warning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from forum.support_queue.models import Tier

if TYPE_CHECKING:
    from forum.projects.models import Project
    from forum.support_queue.models import Ticket


class BusinessCalendar(Model):
    """``hours``: {"mon": ["09:00-17:00"], ...}, ``holidays``: [{"date": "2026-12-25",
    "yearly": true, "name": "Christmas"}]. Validated by ``calendar.build_calendar``."""

    id = fields.IntField(primary_key=True)
    project: fields.OneToOneRelation[Project] = fields.OneToOneField(
        "forum.Project", related_name="business_calendar", on_delete=fields.CASCADE)
    time_zone = fields.CharField(max_length=64)
    hours: fields.JSONField[dict[str, list[str]]] = fields.JSONField(default=dict)
    holidays: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(default=list)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "support_business_calendars"


class SlaSettings(Model):
    """A project's priority names (P1 first) and how long before a due time the team is
    warned (wall-clock minutes)."""

    id = fields.IntField(primary_key=True)
    project: fields.OneToOneRelation[Project] = fields.OneToOneField(
        "forum.Project", related_name="sla_settings", on_delete=fields.CASCADE)
    priority_names: fields.JSONField[list[str]] = fields.JSONField(default=list)
    warning_lead_minutes = fields.IntField(default=60)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "support_sla_settings"


class SlaPolicy(Model):
    """Response targets in business minutes for one tier and priority (null: no target)."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="sla_policies", on_delete=fields.CASCADE)
    tier = fields.CharEnumField(Tier, max_length=20)
    priority = fields.SmallIntField()  # 1..5
    first_response_minutes = fields.IntField(null=True)
    next_response_minutes = fields.IntField(null=True)

    class Meta:
        table = "support_sla_policies"
        unique_together = (("project", "tier", "priority"),)


class TicketTargets(Model):
    """Response targets promised to this ticket's customer (an enterprise plan, set by
    billing through ``TicketWorthChanged``): they replace the project's for this ticket."""

    id = fields.IntField(primary_key=True)
    ticket: fields.OneToOneRelation[Ticket] = fields.OneToOneField(
        "forum.Ticket", related_name="targets", on_delete=fields.CASCADE)
    first_response_minutes = fields.IntField(null=True)
    next_response_minutes = fields.IntField(null=True)

    class Meta:
        table = "support_ticket_targets"


class SlaPause(Model):
    """A time the ticket's clock stood still (waiting on the requester, or on hold).
    ``paused_seconds_before``: the ticket's ``paused_seconds`` when it began, so its end is
    known to the second from what the state change added."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "forum.Ticket", related_name="sla_pauses", on_delete=fields.CASCADE)
    started_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)
    paused_seconds_before = fields.IntField(default=0)

    class Meta:
        table = "support_sla_pauses"
        unique_together = (("ticket", "started_at"),)


class SlaWarning(Model):
    """A breach warning sent for one due time of one ticket: the unique row is claimed
    before the mail is queued, so several workers never warn twice."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "forum.Ticket", related_name="sla_warnings", on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=16)  # "first_response" | "next_response"
    due_at = fields.DatetimeField()
    recipients = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "support_sla_warnings"
        unique_together = (("ticket", "kind", "due_at"),)
