"""Input and output of the support inbox's API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from forum.support_queue.models import TicketState, Tier


class InboxQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filter: Literal["all", "unassigned", "mine", "waiting", "on_hold", "breaching"] = "all"
    limit: int = Field(default=50, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class InboxTicket(BaseModel):
    id: int
    reference: str
    topic_id: int
    title: str
    url: str
    position: int | None  # in the whole queue; None for paused tickets
    state: TicketState
    priority: int
    tier: Tier
    amount_paid: int
    currency: str
    requester: str
    assignee: str | None
    waiting_since: datetime | None
    due_at: datetime | None
    breach: Literal["ok", "soon", "breached"]


class InboxOut(BaseModel):
    filter: str
    counts: dict[str, int]
    offset: int
    limit: int
    tickets: list[InboxTicket]


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_ids: list[int] = Field(min_length=1, max_length=100)
    action: Literal["assign", "priority", "state"]
    value: str = Field(default="", max_length=40)  # username (""=unassign), 1..5, or a state


class BulkOut(BaseModel):
    done: list[int]
    skipped: dict[int, str]
