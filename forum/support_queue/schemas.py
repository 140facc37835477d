"""What the support queue's API and forms take and give (the same models validate input
and document the API)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from forum.support_queue.models import TicketState, Tier
from forum.topics.schemas import clean_body, clean_title

Title = Annotated[str, AfterValidator(clean_title)]
Body = Annotated[str, AfterValidator(clean_body)]
NOTE_MAX = 16_000
MAX_ID = 2**31 - 1


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    source: Body
    # None: the project's default visibility.
    is_private: bool | None = None
    # False: keep it as a draft to edit and submit later.
    submit: bool = True


class TicketStateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # "reopen" puts a solved or closed ticket back in the queue.
    state: Literal["queued", "waiting", "on_hold", "solved", "closed", "reopen"]


class TicketAssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A username on the project's team; None unassigns.
    assignee: str | None = Field(default=None, max_length=40)


class TicketPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: int | None = Field(default=None, ge=1, le=5)
    tier: Tier | None = None
    amount_paid: int | None = Field(default=None, ge=0, le=10**12)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    assignee: str | None = Field(default=None, max_length=40)
    is_private: bool | None = None


class VisibilityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_private: bool


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Annotated[str, AfterValidator(clean_body), Field(max_length=NOTE_MAX)]


class ConvertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Literal["ticket", "question"]


class UserRef(BaseModel):
    id: int
    username: str


class TicketOut(BaseModel):
    id: int
    reference: str
    number: int
    topic_id: int
    url: str
    project: str
    title: str
    state: TicketState
    is_private: bool
    priority: int
    tier: Tier
    amount_paid: int
    currency: str
    source: str
    requester: UserRef
    assignee: UserRef | None
    created_at: datetime
    submitted_at: datetime | None
    first_response_at: datetime | None
    last_team_response_at: datetime | None
    # Due times are the team's; None for others.
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None
    queue_position: int | None
    expected_response: str | None
    # Why a draft cannot be submitted yet (terms to accept), or None.
    draft_reason: str | None = None


class NoteOut(BaseModel):
    id: int
    author: UserRef
    cooked: str
    created_at: datetime


class NoteList(BaseModel):
    notes: list[NoteOut]


class ConvertOut(BaseModel):
    topic_id: int
    kind: str
    ticket_id: int | None
