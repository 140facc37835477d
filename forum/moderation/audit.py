"""The audit log: one row per moderator action, read by project leads and platform admins.

Other domains write through ``record``; penalties, review decisions and the topics
domain's moderator events (heard in ``penalties_plugin``) all end up here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.projects.models import Project


class AuditEntry(Model):
    """One moderator action. ``project`` None: a platform-wide action. ``actor`` None: the
    system acted (a job, automatic hiding by flags)."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="audit_entries", null=True, on_delete=fields.CASCADE)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="audit_entries", null=True, on_delete=fields.SET_NULL)
    action = fields.CharField(max_length=64, db_index=True)  # e.g. "penalty.silence"
    target_type = fields.CharField(max_length=32)  # "user", "post", "topic", "terms", ...
    target_id = fields.IntField(null=True)
    detail: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    if TYPE_CHECKING:
        project_id: int | None
        actor_id: int | None

    class Meta:
        table = "audit_entries"
        indexes = (("project_id", "created_at"), ("target_type", "target_id"))


async def record(project_id: int | None, actor_id: int | None, action: str,
                 target_type: str, target_id: int | None,
                 detail: dict[str, Any] | None = None) -> None:
    """Write one audit entry (joins the caller's transaction when there is one)."""
    await AuditEntry.create(project_id=project_id, actor_id=actor_id, action=action[:64],
                            target_type=target_type[:32], target_id=target_id,
                            detail=detail or {})


PAGE_SIZE = 50


async def search(*, project_id: int | None, platform_only: bool = False,
                 actor_id: int | None = None, action: str | None = None,
                 target_type: str | None = None, target_id: int | None = None,
                 since: datetime | None = None, until: datetime | None = None,
                 before: int | None = None, limit: int = PAGE_SIZE,
                 ) -> tuple[list[AuditEntry], int | None]:
    """Entries newest first, filtered; ``project_id`` None reads the whole platform's log
    (``platform_only``: only the entries that belong to no project). Returns the page and
    the ``before`` value of the next page (None: this is the last)."""
    query = AuditEntry.all()
    if project_id is not None:
        query = query.filter(project_id=project_id)
    elif platform_only:
        query = query.filter(project_id=None)
    if actor_id is not None:
        query = query.filter(actor_id=actor_id)
    if action:
        query = query.filter(action__startswith=action)
    if target_type:
        query = query.filter(target_type=target_type)
    if target_id is not None:
        query = query.filter(target_id=target_id)
    if since is not None:
        query = query.filter(created_at__gte=since)
    if until is not None:
        query = query.filter(created_at__lt=until)
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(limit + 1).prefetch_related("actor", "project")
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)
