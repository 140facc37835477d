"""Input and output of the queue's settings and of the team's view of the queue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from forum.queueing import QueueSettingsData


class QueueSettingsIn(BaseModel):
    """A project's queue settings (omitted fields take their defaults)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Order the queue by the policy (off: oldest "
                          "first, the team picks freely)")
    unpaid_share: Annotated[int, Field(ge=0, le=100, description=(
        "Unpaid share, in percent: every stretch of the order from its top holds at least "
        "this share of unpaid tickets while any wait"))] = 20
    window_days: Annotated[int, Field(ge=1, le=365, description=(
        "Days over which the share of first responses given to unpaid tickets is "
        "measured; below the share, the longest-waiting unpaid ticket goes first"))] = 30
    breach_lead_minutes: Annotated[int, Field(ge=0, le=10080, description=(
        "Minutes before a guaranteed (enterprise) response is due when the ticket jumps "
        "ahead"))] = 120
    minimum_response_minutes: Annotated[int, Field(ge=0, le=525600, description=(
        "Shortest expected response shown to requesters, in business minutes"))] = 0

    def data(self) -> QueueSettingsData:
        return QueueSettingsData(**self.model_dump())

    @classmethod
    def of(cls, data: QueueSettingsData) -> QueueSettingsIn:
        return cls(enabled=data.enabled, unpaid_share=data.unpaid_share,
                   window_days=data.window_days, breach_lead_minutes=data.breach_lead_minutes,
                   minimum_response_minutes=data.minimum_response_minutes)


class QueueSettingsOut(QueueSettingsIn):
    model_config = ConfigDict(extra="ignore")


class QueueEntryOut(BaseModel):
    position: int
    ticket_id: int
    reference: str
    topic_id: int
    title: str
    url: str
    state: str
    tier: str
    amount_paid: int
    currency: str
    priority: int
    requester: str
    assignee_id: int | None
    waiting_since: datetime | None
    submitted_at: datetime | None
    due_at: datetime | None


class QueuePageOut(BaseModel):
    policy: str
    total: int
    limit: int
    offset: int
    entries: list[QueueEntryOut]
