"""The bridge's own tables (Tortoise app ``stackoverflow_bridge``).

Core rows are referred to by id. A question is imported once per project (unique
project and question id), whatever happens to the polls around it.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class MirroredQuestion(Model):
    """A Stack Overflow question mirrored as a topic of one project."""

    id = fields.IntField(primary_key=True)
    project_id = fields.IntField(db_index=True)
    question_id = fields.BigIntField()
    topic_id = fields.IntField(db_index=True)
    topic_slug = fields.CharField(max_length=80, default="")
    title = fields.CharField(max_length=300)
    link = fields.CharField(max_length=500)
    author_name = fields.CharField(max_length=120, default="")
    author_link = fields.CharField(max_length=500, default="")
    score = fields.IntField(default=0)
    answer_count = fields.IntField(default=0)
    is_answered = fields.BooleanField(default=False)
    accepted_answer_id = fields.BigIntField(null=True)
    licence = fields.CharField(max_length=20)
    created_at = fields.DatetimeField()  # the question's creation date on Stack Overflow
    imported_at = fields.DatetimeField(auto_now_add=True)
    refreshed_at = fields.DatetimeField(null=True)
    deleted = fields.BooleanField(default=False)

    class Meta:
        table = "stackoverflow_questions"
        unique_together = (("project_id", "question_id"),)


class PollCursor(Model):
    """Where a project's next poll starts: the creation date (epoch seconds) of the newest
    question seen, and the ids seen at that very second (the API's fromdate is inclusive)."""

    id = fields.IntField(primary_key=True)
    project_id = fields.IntField(unique=True)
    fromdate = fields.BigIntField(null=True)
    seen_ids = fields.JSONField[list[int]](default=list)
    last_poll_at = fields.DatetimeField(null=True)
    last_result = fields.CharField(max_length=300, default="")

    class Meta:
        table = "stackoverflow_cursors"


class ApiThrottle(Model):
    """What the API said about one key (an empty key_id: no key, counted per IP): the last
    quota figures, and per method the time before which it must not be asked again."""

    id = fields.IntField(primary_key=True)
    key_id = fields.CharField(max_length=20)
    method = fields.CharField(max_length=40)  # "questions", "questions/{ids}", or "" for the quota
    not_before = fields.DatetimeField(null=True)
    quota_remaining = fields.IntField(null=True)
    quota_max = fields.IntField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "stackoverflow_throttle"
        unique_together = (("key_id", "method"),)
