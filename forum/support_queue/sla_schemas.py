"""Input and output of the business calendar and SLA settings (API and forms alike)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, field_validator

from forum.support_queue.models import Tier

MAX_MINUTES = 100_000  # some 200 workdays of 8 hours: longer is no promise


class HolidayIO(BaseModel):
    date: date
    yearly: bool = Field(False, description="every year on this month and day")
    name: str = Field("", max_length=80)


class CalendarIn(BaseModel):
    time_zone: str = Field(max_length=64, description="IANA time zone, e.g. Europe/Berlin")
    hours: dict[str, list[str]] = Field(
        description='business hours per weekday ("mon".."sun"), e.g. {"mon": ["09:00-17:00"]}'
                    "; intervals may not cross midnight or overlap")
    holidays: list[HolidayIO] = Field(default_factory=list, max_length=366)

    @field_validator("hours")
    @classmethod
    def _bounded(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if len(value) > 7 or any(len(v) > 12 for v in value.values()):
            raise ValueError("at most 12 intervals on each of the 7 weekdays")
        if any(len(text) > 20 for v in value.values() for text in v):
            raise ValueError("an interval looks like 09:00-17:00")
        return value


class CalendarOut(BaseModel):
    time_zone: str
    hours: dict[str, list[str]]
    holidays: list[HolidayIO]
    is_default: bool = Field(description="no calendar saved: the project's time zone, "
                                         "Monday to Friday 09:00-17:00")


class TargetIO(BaseModel):
    tier: Tier
    priority: int = Field(ge=1, le=5)
    first_response_minutes: int | None = Field(
        None, ge=1, le=MAX_MINUTES, description="business minutes; null: no target")
    next_response_minutes: int | None = Field(
        None, ge=1, le=MAX_MINUTES, description="business minutes; null: no target")


class TargetOut(TargetIO):
    is_default: bool


class SlaIn(BaseModel):
    priority_names: list[str] | None = Field(
        None, min_length=5, max_length=5, description="P1 first; null: the defaults")
    warning_lead_minutes: int = Field(60, ge=0, le=7 * 24 * 60,
                                      description="warn this many minutes before a due time")
    policies: list[TargetIO] = Field(
        default_factory=list, max_length=20,
        description="targets per tier and priority; pairs left out take the defaults")

    @field_validator("priority_names")
    @classmethod
    def _names(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        cleaned = [name.strip() for name in value]
        if any(not name or len(name) > 60 for name in cleaned):
            raise ValueError("each priority needs a name of at most 60 characters")
        return cleaned


class SlaOut(BaseModel):
    priority_names: list[str]
    warning_lead_minutes: int
    policies: list[TargetOut]
