"""Tickets: a topic of kind "ticket" plus the record the support queue keeps about it.

The queue orders tickets in ``is_queued`` states by tier, payment and how long the
requester has waited since their last reaction (``last_requester_reaction_at``); the
indexes below serve that order without loading every ticket.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.projects.models import Project
    from forum.topics.models import Topic


class TicketState(StrEnum):
    DRAFT = "draft"  # imported, or terms not accepted yet: not queued, alerts nobody
    QUEUED = "queued"
    ASSIGNED = "assigned"
    WAITING = "waiting"  # on the requester
    ON_HOLD = "on_hold"  # on a third party
    SOLVED = "solved"
    CLOSED = "closed"


QUEUED_STATES = frozenset({TicketState.QUEUED, TicketState.ASSIGNED})
PAUSED_STATES = frozenset({TicketState.WAITING, TicketState.ON_HOLD})


def is_queued(state: TicketState | str) -> bool:
    """Whether a ticket in ``state`` takes a place in the queue."""
    return state in QUEUED_STATES


class Tier(StrEnum):
    FREE = "free"
    PAY_AS_YOU_GO = "pay_as_you_go"
    SUBSCRIPTION = "subscription"
    ENTERPRISE = "enterprise"

    @property
    def is_paid(self) -> bool:
        return self is not Tier.FREE


class TicketSource(StrEnum):
    WEB = "web"
    EMAIL = "email"
    GITHUB = "github"
    IMPORT = "import"


class Ticket(Model):
    id = fields.IntField(primary_key=True)
    topic: fields.OneToOneRelation[Topic] = fields.OneToOneField(
        "forum.Topic", related_name="ticket", on_delete=fields.CASCADE)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="tickets", on_delete=fields.CASCADE)
    number = fields.IntField()  # per project, from 1
    requester: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="tickets", on_delete=fields.RESTRICT)
    state = fields.CharEnumField(TicketState, default=TicketState.DRAFT)
    priority = fields.SmallIntField(default=3)  # 1 (everything is down) .. 5 (a request)
    tier = fields.CharEnumField(Tier, default=Tier.FREE)
    amount_paid = fields.IntField(default=0)  # minor units of ``currency``
    currency = fields.CharField(max_length=3, default="USD")
    assignee: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="assigned_tickets", null=True, on_delete=fields.SET_NULL)
    source = fields.CharEnumField(TicketSource, default=TicketSource.WEB)
    created_at = fields.DatetimeField(auto_now_add=True)
    submitted_at = fields.DatetimeField(null=True)
    # The last reaction by a non-team member (from submission on): "waited longest" key.
    last_requester_reaction_at = fields.DatetimeField(null=True)
    first_response_at = fields.DatetimeField(null=True)
    # The team member whose post was that first response (for "my response times").
    first_responder: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    last_team_response_at = fields.DatetimeField(null=True)
    first_response_due_at = fields.DatetimeField(null=True)
    next_response_due_at = fields.DatetimeField(null=True)
    paused_at = fields.DatetimeField(null=True)  # set while waiting or on hold
    paused_seconds = fields.IntField(default=0)
    solved_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "tickets"
        unique_together = (("project", "number"),)
        # The queue (forum/support_queue/queue.py) counts and reads its two streams from
        # the tier indexes alone (state last: checked inside the index), finds tickets
        # about to breach through the due-time ones and the served share through the last.
        indexes = (("project_id", "state", "first_response_due_at"),
                   ("project_id", "state", "next_response_due_at"),
                   ("project_id", "tier", "amount_paid", "last_requester_reaction_at", "state"),
                   ("project_id", "tier", "last_requester_reaction_at", "state"),
                   ("project_id", "first_response_at", "tier"))

    @property
    def reference(self) -> str:
        """"DEMO-42": the project's slug upper-cased and the ticket's number."""
        project: Project = self.project
        return f"{project.slug.upper()}-{self.number}"

    def reference_in(self, project_slug: str) -> str:
        """The reference when the project is not loaded with the ticket."""
        return f"{project_slug.upper()}-{self.number}"


class SupportSettings(Model):
    """A project's support defaults: whether new tickets are private, and the guidelines
    shown on the new-ticket form. No row: the defaults below."""

    id = fields.IntField(primary_key=True)
    project: fields.OneToOneRelation[Project] = fields.OneToOneField(
        "forum.Project", related_name="support_settings", on_delete=fields.CASCADE)
    private_by_default = fields.BooleanField(default=False)
    guidelines = fields.TextField(default="")  # markdown
    last_number = fields.IntField(default=0)  # the last ticket number handed out
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "support_settings"


class TicketNote(Model):
    """An internal note on a ticket: seen by the project team only, never indexed."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "forum.Ticket", related_name="notes", on_delete=fields.CASCADE)
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, on_delete=fields.RESTRICT)
    source = fields.TextField()
    cooked = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ticket_notes"
