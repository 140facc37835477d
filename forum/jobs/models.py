"""Jobs stored as rows: the embedded runner's queue, and both runners' record of failures.

The embedded runner keeps every job here, so a job survives a crash or a restart. The arq
runner keeps its queue in Redis and writes a row only when a job fails for good, so the
admin page at ``/admin/jobs`` serves both.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # gave up after the last try; shown to platform admins


class Job(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, db_index=True)
    kwargs: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    state = fields.CharEnumField(JobState, default=JobState.QUEUED)
    run_at = fields.DatetimeField(db_index=True)
    attempts = fields.IntField(default=0)
    max_tries = fields.IntField(default=5)
    # A running job whose lease passed (its worker died) is picked up again.
    lease_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)
    # The arq job id of a failure recorded by ``forum worker``; empty for embedded jobs.
    external_id = fields.CharField(max_length=100, default="")

    class Meta:
        table = "jobs"
        indexes = (("state", "run_at"),)


class CronRun(Model):
    """The last minute each cron entry was started, so two processes never both start it."""

    key = fields.CharField(max_length=200, primary_key=True)
    last_minute = fields.DatetimeField()

    class Meta:
        table = "cron_runs"
