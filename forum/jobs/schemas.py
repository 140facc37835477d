"""What the jobs admin API returns. A job's arguments are never shown: they can hold
one-time links (a password reset mail's context, for instance)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class JobOut(BaseModel):
    id: int
    name: str
    state: str
    attempts: int
    max_tries: int
    last_error: str = Field(description="the traceback of the last failed try")
    run_at: datetime
    created_at: datetime
    finished_at: datetime | None


class JobsOverview(BaseModel):
    runner: str = Field(description="EmbeddedQueue (database) or ArqQueue (Redis)")
    backlog: int = Field(description="jobs due now that no worker has started")
    counts: dict[str, int] = Field(description="jobs in the jobs table, by state")
    failed: list[JobOut] = Field(description="jobs that failed their last try, newest first")


class RetriedOut(BaseModel):
    id: int
    name: str
    queued: bool
