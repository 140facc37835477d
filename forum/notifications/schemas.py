"""JSON shapes of the notifications API (validation and the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from forum.notifications.models import EmailFrequency, NotificationKind, WatchLevel


class NotificationOut(BaseModel):
    id: int
    kind: NotificationKind
    project: str
    topic_id: int | None
    post_id: int | None
    post_number: int | None
    actor: str | None
    summary: str
    url: str
    data: dict[str, object]
    created_at: datetime
    read_at: datetime | None


class NotificationList(BaseModel):
    notifications: list[NotificationOut]
    unread_count: int
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next (older) page; null on the last page.")


class MarkReadIn(BaseModel):
    """Either ``ids`` (all must be yours) or ``all: true``."""

    model_config = ConfigDict(extra="forbid")
    ids: list[int] = Field(default_factory=list, max_length=500)
    all: bool = False

    @model_validator(mode="after")
    def one_of(self) -> MarkReadIn:
        if not self.ids and not self.all:
            raise ValueError('Give "ids" or "all": true.')
        if self.ids and self.all:
            raise ValueError('Give either "ids" or "all", not both.')
        return self


class MarkReadOut(BaseModel):
    marked: int
    unread_count: int


class PreferencesIn(BaseModel):
    """Which notifications also come by email. Omitted fields keep their value."""

    model_config = ConfigDict(extra="forbid")
    email_mentions: bool | None = None
    email_replies: bool | None = None
    email_quotes: bool | None = None
    email_accepted: bool | None = None
    email_votes: bool | None = None
    email_watching: bool | None = None
    email_badges: bool | None = None
    email_frequency: EmailFrequency | None = None


class PreferencesOut(BaseModel):
    email_mentions: bool
    email_replies: bool
    email_quotes: bool
    email_accepted: bool
    email_votes: bool
    email_watching: bool
    email_badges: bool
    email_frequency: EmailFrequency


class WatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: WatchLevel


class WatchOut(BaseModel):
    level: WatchLevel


class UnreadTopicOut(BaseModel):
    id: int
    title: str
    url: str = Field(description="The topic's page.")
    category: str = Field(description="The category's slug.")
    unread: int = Field(description="Posts you have not read yet (your own excluded).")
    first_unread_number: int
    first_unread_url: str = Field(description="The topic's page at its first unread post.")
    last_posted_at: datetime


class UnreadTopicList(BaseModel):
    topics: list[UnreadTopicOut]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last page.")
