"""Input and output of the team-side API: response templates, notification levels, digest
preferences and satisfaction ratings."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from forum.support_queue.team_models import NotifyLevel, Rating


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemplateIn(_In):
    name: str = Field(min_length=1, max_length=80)
    body: str = Field(min_length=1, max_length=20_000)
    project_wide: bool = False  # owners and leads only


class TemplatePatch(_In):
    name: str | None = Field(default=None, min_length=1, max_length=80)
    body: str | None = Field(default=None, min_length=1, max_length=20_000)


class TemplateOut(BaseModel):
    id: int
    name: str
    body: str
    project_wide: bool
    owner: str | None  # username of a personal template's owner
    editable: bool
    updated_at: datetime


class TemplateList(BaseModel):
    templates: list[TemplateOut]
    variables: dict[str, str]


class RenderedTemplate(BaseModel):
    template_id: int
    ticket_id: int
    text: str


class NotifyLevelIn(_In):
    level: NotifyLevel


class NotifyLevelOut(BaseModel):
    ticket_id: int
    level: NotifyLevel
    explicit: bool  # False: the default


def _known_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError("unknown time zone (use an IANA name such as Europe/Berlin)")
    return value


_ZONES: frozenset[str] = frozenset()


def _zones() -> frozenset[str]:
    global _ZONES
    if not _ZONES:
        _ZONES = frozenset(available_timezones())
    return _ZONES


class DigestPreferenceIn(_In):
    enabled: bool = True
    hour: int = Field(ge=0, le=23)
    time_zone: str = Field(min_length=1, max_length=64)

    _zone = field_validator("time_zone")(_known_zone)


class DigestPreferenceOut(BaseModel):
    enabled: bool
    hour: int
    time_zone: str
    next_digest_at: datetime | None  # UTC


class RatingIn(_In):
    rating: Rating
    comment: str = Field(default="", max_length=2000)


class RatingOut(BaseModel):
    ticket_id: int
    rating: Rating
    comment: str
    supporter: str | None
    created_at: datetime
    updated_at: datetime
    changeable: bool


class SatisfactionSummary(BaseModel):
    good: int
    okay: int
    bad: int
    total: int
    score: float | None  # share of good ratings, 0..1; None without ratings


class SupporterSatisfaction(SatisfactionSummary):
    username: str


class SatisfactionOut(BaseModel):
    project: SatisfactionSummary
    supporters: list[SupporterSatisfaction]


class AutoCloseIn(_In):
    enabled: bool = True
    idle_days: int = Field(default=30, ge=2, le=365)
    warn_days: int = Field(default=3, ge=1, le=60)
    grace_days: int = Field(default=7, ge=0, le=90)

    @model_validator(mode="after")
    def _warn_before_close(self) -> AutoCloseIn:
        if self.warn_days >= self.idle_days:
            raise ValueError("warn_days must be less than idle_days")
        return self


class AutoCloseOut(BaseModel):
    enabled: bool
    idle_days: int
    warn_days: int
    grace_days: int


class FollowUpIn(_In):
    source: str = Field(min_length=1, max_length=60_000)


class FollowUpOut(BaseModel):
    ticket_id: int
    reopened: bool  # False: a new ticket was opened, linked to the closed one
    post_id: int
    url: str
