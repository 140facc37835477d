"""The audit log: entries written by ``record``."""

from __future__ import annotations

from forum.moderation.audit import AuditEntry, record
from tests.factories import make_project, make_user


async def test_record_writes_an_entry(db: None) -> None:
    actor = await make_user()
    project = await make_project()
    await record(project.id, actor.id, "penalty.silence", "user", 42, {"reason": "spam"})
    await record(None, None, "terms.published", "terms", None)
    entries = await AuditEntry.all().order_by("id")
    assert [(e.project_id, e.actor_id, e.action, e.target_type, e.target_id, e.detail)
            for e in entries] == [
        (project.id, actor.id, "penalty.silence", "user", 42, {"reason": "spam"}),
        (None, None, "terms.published", "terms", None, {}),
    ]
