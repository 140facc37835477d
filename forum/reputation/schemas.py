"""Reputation's pydantic models: the per-project rules (validated the same way from the
settings form and the API) and the JSON the pages' API twins return."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from forum.reputation.models import Reason


class Privilege(StrEnum):
    """What reputation unlocks in a project. Staff (the project team, platform admins) hold
    every privilege whatever their reputation."""

    REPLY = "reply"  # reply to (answer) other people's topics
    VOTE_UP = "vote_up"
    FLAG = "flag"
    VOTE_DOWN = "vote_down"
    CREATE_TAG = "create_tag"
    REVIEW = "review"  # the review queue
    CLOSE_REOPEN = "close_reopen"
    EDIT_OTHERS_POST = "edit_others_post"
    MODERATE = "moderate"  # moderator tools


PRIVILEGE_LABELS: dict[Privilege, str] = {
    Privilege.REPLY: "Reply to other people's topics",
    Privilege.VOTE_UP: "Vote up",
    Privilege.FLAG: "Flag posts and users",
    Privilege.VOTE_DOWN: "Vote down",
    Privilege.CREATE_TAG: "Create new tags",
    Privilege.REVIEW: "Access the review queue",
    Privilege.CLOSE_REOPEN: "Close and reopen topics",
    Privilege.EDIT_OTHERS_POST: "Edit other people's posts",
    Privilege.MODERATE: "Moderator tools",
}

# Stack Exchange's beta-site thresholds, where a beta has them (vote up 15, flag 15, vote
# down 125, review 350, close and reopen 500, edit 1000, moderator tools 2000); creating
# tags keeps the graduated sites' 150, as betas leave it to moderators.
DEFAULT_THRESHOLDS: dict[Privilege, int] = {
    Privilege.REPLY: 1,
    Privilege.VOTE_UP: 15,
    Privilege.FLAG: 15,
    Privilege.VOTE_DOWN: 125,
    Privilege.CREATE_TAG: 150,
    Privilege.REVIEW: 350,
    Privilege.CLOSE_REOPEN: 500,
    Privilege.EDIT_OTHERS_POST: 1000,
    Privilege.MODERATE: 2000,
}

MAX_POINTS = 1000
MAX_THRESHOLD = 1_000_000


def _thresholds() -> dict[Privilege, int]:
    return dict(DEFAULT_THRESHOLDS)


class ReputationSettings(BaseModel):
    """A project's reputation rules. Point values are Stack Overflow's; a change applies to
    what happens next (``forum reputation rebuild`` recounts the past with it)."""

    model_config = ConfigDict(extra="forbid")

    question_upvote: int = Field(default=10, ge=0, le=MAX_POINTS)
    answer_upvote: int = Field(default=10, ge=0, le=MAX_POINTS)
    downvoted: int = Field(default=2, ge=0, le=MAX_POINTS, description="lost by a post's author")
    downvote_cost: int = Field(default=1, ge=0, le=MAX_POINTS,
                               description="lost by whoever down-votes an answer")
    accepted: int = Field(default=15, ge=0, le=MAX_POINTS)
    accepter: int = Field(default=2, ge=0, le=MAX_POINTS)
    daily_cap: int = Field(default=200, ge=0, le=100_000, description="from up-votes, per UTC day")
    floor: int = Field(default=1, ge=1, le=MAX_THRESHOLD)
    thresholds: dict[Privilege, int] = Field(default_factory=_thresholds)
    new_user_hours: int = Field(default=24, ge=0, le=24 * 365)
    new_user_max_topics: int = Field(default=3, ge=0, le=1000, description="on their first day")
    new_user_max_replies: int = Field(default=10, ge=0, le=1000, description="on their first day")
    new_user_max_links: int = Field(default=2, ge=0, le=1000, description="per post")
    new_user_max_mentions: int = Field(default=2, ge=0, le=1000, description="per post")
    votes_per_day: int = Field(default=40, ge=1, le=100_000,
                               description="new votes a user may cast per UTC day")
    vote_lock_minutes: int = Field(default=5, ge=0, le=60 * 24 * 365)
    serial_vote_count: int = Field(default=10, ge=2, le=10_000)
    serial_vote_window_hours: int = Field(default=24, ge=1, le=24 * 30)
    downvote_ratio_min_votes: int = Field(default=50, ge=1, le=1_000_000)
    downvote_ratio_max: float = Field(default=0.75, ge=0, le=1)

    @model_validator(mode="after")
    def _complete_thresholds(self) -> ReputationSettings:
        for privilege, value in self.thresholds.items():
            if not 1 <= value <= MAX_THRESHOLD:
                raise ValueError(f"the threshold of {privilege.value} must be between 1 and "
                                 f"{MAX_THRESHOLD}")
        self.thresholds = {**DEFAULT_THRESHOLDS, **self.thresholds}
        return self

    @property
    def new_user_reputation(self) -> int:
        """Below this a recent account is new: the lowest threshold above 1."""
        above = [t for t in self.thresholds.values() if t > 1]
        return min(above) if above else 1


class PrivilegeOut(BaseModel):
    name: Privilege
    label: str
    threshold: int
    held: bool


class PrivilegesOut(BaseModel):
    project: str
    reputation: int | None  # None for anonymous visitors
    is_staff: bool
    privileges: list[PrivilegeOut]


class LeaderboardRow(BaseModel):
    rank: int
    username: str
    value: int  # reputation gained, or accepted answers


class LeaderboardOut(BaseModel):
    project: str
    period: str
    by: str
    rows: list[LeaderboardRow]


class EntryOut(BaseModel):
    id: int
    delta: int
    reason: Reason
    post_id: int | None
    post_url: str | None  # None when the viewer may not read the post
    voter: str | None  # shown to moderators only (votes are otherwise anonymous)
    created_at: datetime


class HistoryOut(BaseModel):
    project: str
    username: str
    reputation: int
    entries: list[EntryOut]
    next_cursor: str | None
