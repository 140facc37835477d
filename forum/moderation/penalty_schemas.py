"""Input and output of penalties, the audit log and terms: the same models validate forms
and the JSON API and describe it in the OpenAPI document."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from forum.moderation.penalty_models import PenaltyKind, TermsKind


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


Optional = BeforeValidator(_blank_to_none)
Stripped = BeforeValidator(_strip)
Days = Annotated[Annotated[int, Field(ge=1, le=3650)] | None, Optional]
RowId = Annotated[Annotated[int, Field(ge=0, lt=2**31)] | None, Optional]
SomeDate = Annotated[date | None, Optional]

Name = Annotated[Annotated[str, Field(max_length=40)] | None, Optional]
Code = Annotated[Annotated[str, Field(max_length=64)] | None, Optional]


class PenaltyIn(BaseModel):
    """A new penalty. ``days`` empty or null: permanent."""

    model_config = ConfigDict(extra="forbid")

    kind: PenaltyKind
    reason: Annotated[str, Stripped, Field(min_length=1, max_length=1000)]
    days: Days = None


class PlatformPenaltyIn(PenaltyIn):
    """A new platform-wide penalty of ``username``."""

    username: Annotated[str, Stripped, Field(min_length=1, max_length=30)]


class LiftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, Stripped, Field(max_length=1000)] = ""


class PenaltyOut(BaseModel):
    id: int
    username: str
    project: str | None  # the project's slug; None: platform-wide
    kind: PenaltyKind
    reason: str
    created_at: datetime
    ends_at: datetime | None  # None: permanent
    active: bool
    lifted_at: datetime | None
    lift_reason: str
    message: str  # what the penalised user is told


class PenaltyList(BaseModel):
    penalties: list[PenaltyOut]


class AuditQuery(BaseModel):
    """Filters of the audit log (query parameters)."""

    model_config = ConfigDict(extra="ignore")

    actor: Name = None  # a username
    action: Code = None  # a prefix: "penalty" matches "penalty.silence"
    target_type: Code = None
    target_id: RowId = None
    since: SomeDate = None
    until: SomeDate = None  # inclusive
    project: Name = None  # the admin log only: a slug, or "platform"
    before: RowId = None  # the next page: entries with ids below this


class AuditEntryOut(BaseModel):
    id: int
    project: str | None
    actor: str | None
    action: str
    target_type: str
    target_id: int | None
    detail: dict[str, Any]
    created_at: datetime


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next_before: int | None  # pass as ``before`` for the next page


class TermsPublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: TermsKind
    source: Annotated[str, Field(min_length=1, max_length=100_000)]


class TermsDocumentOut(BaseModel):
    id: int
    project: str | None  # None: the platform's
    kind: TermsKind
    version: int
    source: str
    html: str
    published_at: datetime
    accepted: bool  # by the user asking (false when anonymous)


class TermsOut(BaseModel):
    documents: list[TermsDocumentOut]
    all_accepted: bool


class AcceptedOut(BaseModel):
    accepted: list[TermsDocumentOut]  # the documents accepted just now
