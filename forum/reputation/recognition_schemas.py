"""Recognition in and out: the JSON API's models, also used to validate the HTML forms."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from forum.reputation.recognition_models import ThankYouKind


class Money(BaseModel):
    currency: str
    amount: int = Field(description="Minor units (cents).")
    display: str = Field(description="As people read it: $50.00.")


class TicketEarningOut(BaseModel):
    reference: str
    ticket_url: str | None = Field(description="The ticket's page, when the caller may read it.")
    amount: Money
    last_credited_at: datetime


class ThankYouOut(BaseModel):
    id: int
    helper: str
    lead: str | None
    kind: ThankYouKind
    amount: Money | None
    note: str
    shown: bool = Field(description="The helper agreed to show it on their profile.")
    created_at: datetime


class PledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    hours_per_week: int = Field(ge=0, le=40, description="0 withdraws the pledge.")
    note: str = Field(default="", max_length=500)


class PledgeOut(BaseModel):
    username: str
    hours_per_week: int
    note: str
    updated_at: datetime


class RecognitionOut(BaseModel):
    """A helper's recognition in a project. ``tickets`` and ``pledge`` are given to the
    helper and the project's team only; ``thank_yous`` holds those the helper agreed to
    show (all of them for the helper)."""

    project: str
    username: str
    earned: list[Money]
    tickets: list[TicketEarningOut] | None
    thank_yous: list[ThankYouOut]
    pledge: PledgeOut | None


class ThankYouIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    helper: str = Field(min_length=1, max_length=150, description="The helper's username.")
    kind: ThankYouKind
    amount: int | None = Field(default=None, ge=1, le=100_000_000,
                               description="Minor units; with ``currency``.")
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    note: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _money_and_note(self) -> Self:
        if (self.amount is None) != (self.currency is None):
            raise ValueError("Give both an amount and its currency, or neither.")
        if self.kind == ThankYouKind.NOTE and not self.note:
            raise ValueError("A note needs its text.")
        if self.currency is not None:
            self.currency = self.currency.upper()
        return self


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shown: bool


class Activity(BaseModel):
    posts: int
    answers: int
    accepted_answers: int
    ticket_responses: int


class PledgeActivityOut(BaseModel):
    """A pledge against what its helper did in the last four weeks (counts, not hours)."""

    username: str
    hours_per_week: int
    note: str
    weeks: int
    activity: Activity


class EarnerOut(BaseModel):
    username: str
    earned: list[Money]
    tickets: int


class LeadRecognitionOut(BaseModel):
    project: str
    earners: list[EarnerOut]
    thank_yous: list[ThankYouOut]
    pledges: list[PledgeActivityOut]
