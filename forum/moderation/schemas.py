"""Input and output of the moderation API and forms: flags, the review queue, watched
words and a project's moderation settings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from forum.moderation.models import FlagReason, WordAction


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModerationSettings(_In):
    """A project's moderation settings; every value has a default."""

    hide_threshold: int = Field(
        default=3, ge=0, le=100,
        description="Weight of open spam/inappropriate flags that hides a post at once "
                    "(0: never hide automatically).")
    trusted_flagger_agreed: int = Field(
        default=5, ge=1, le=1000,
        description="Agreed flags after which a flagger's flags weigh 2 instead of 1.")
    staff_flag_weight: int = Field(default=3, ge=1, le=100,
                                   description="Weight of a flag raised by the team.")
    claim_minutes: int = Field(default=30, ge=1, le=24 * 60,
                               description="How long a claim on a review item lasts.")
    duplicate_window_minutes: int = Field(
        default=10, ge=0, le=7 * 24 * 60,
        description="The same text from the same user within this window is refused.")
    rate_window_minutes: int = Field(default=5, ge=1, le=24 * 60,
                                     description="The window of the posting limits.")
    posts_per_user: int = Field(default=10, ge=0, le=10_000,
                                description="New posts per user per window (0: no limit).")
    posts_per_ip: int = Field(default=30, ge=0, le=100_000,
                              description="New posts per address per window (0: no limit).")


def _clean_note(value: str) -> str:
    return value.strip()


Note = Annotated[str, Field(max_length=1000), AfterValidator(_clean_note)]


class FlagIn(_In):
    """``note`` is required with ``needs_moderator`` (checked by the verb)."""

    reason: FlagReason
    note: Note = ""


class FlagOut(BaseModel):
    id: int
    target_type: str
    post_id: int | None
    target_user: str
    reason: FlagReason
    note: str
    status: str
    weight: int
    created_at: datetime
    post_hidden: bool = Field(False, description="This flag hid the post.")


class FlagSummary(BaseModel):
    flagger: str
    reason: FlagReason
    note: str
    weight: int
    created_at: datetime


class ReviewItemOut(BaseModel):
    id: int
    kind: str
    status: str
    reason: str
    post_id: int | None
    post_url: str | None
    post_excerpt: str
    post_hidden: bool
    target_user: str
    claimed_by: str | None
    claimed_until: datetime | None
    created_at: datetime
    flags: list[FlagSummary]


class ReviewList(BaseModel):
    items: list[ReviewItemOut]


class DecisionIn(_In):
    action: Literal["approve", "reject", "delete"]
    note: Annotated[str, Field(max_length=500)] = ""


class DecisionOut(BaseModel):
    id: int
    item_id: int
    actor: str | None
    action: str
    note: str
    created_at: datetime


class DecisionList(BaseModel):
    decisions: list[DecisionOut]


def _clean_word(value: str) -> str:
    word = " ".join(value.lower().split())
    if not word.strip("*"):
        raise ValueError("A watched word needs letters or digits.")
    return word


class WatchedWordIn(_In):
    word: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_clean_word)]
    action: WordAction
    replacement: Annotated[str, Field(max_length=100)] = ""


class WatchedWordOut(BaseModel):
    id: int
    word: str
    action: WordAction
    replacement: str


class WatchedWordList(BaseModel):
    words: list[WatchedWordOut]


async def load_settings(project_id: int) -> ModerationSettings:
    """The project's moderation settings: its stored values over the defaults."""
    from forum.moderation.models import ModerationConfig

    config = await ModerationConfig.get_or_none(project_id=project_id)
    stored = config.values if config is not None else {}
    known = {k: v for k, v in stored.items() if k in ModerationSettings.model_fields}
    try:
        return ModerationSettings.model_validate(known)
    except ValueError:
        return ModerationSettings()


async def save_settings(project_id: int, values: ModerationSettings) -> None:
    from forum.moderation.models import ModerationConfig

    await ModerationConfig.update_or_create(
        defaults={"values": values.model_dump()}, project_id=project_id)


class ModerationSettingsOut(ModerationSettings):
    model_config = ConfigDict(extra="ignore")
