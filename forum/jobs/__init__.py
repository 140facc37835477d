"""Background jobs: ``enqueue(name, **kwargs)`` and cron entries behind one interface.

Two runners implement ``JobQueue``: the embedded one (``forum.jobs.embedded``) keeps jobs
as rows in the database, written in the caller's transaction and run by a task inside
``forum serve``; the arq one (``forum.jobs.redis``) pushes them to Redis for
``forum worker`` processes. Job functions are registered through the ``forum_jobs``
hook and receive a ``JobContext`` first. Arguments are plain JSON values on both
runners, so a job behaves the same wherever it runs.

Jobs that fail after their last try are kept in the ``jobs`` table (state ``failed``,
with the error) by both runners; platform admins see them at ``/admin/jobs``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from forum.jobs.models import Job
    from forum.platform import Platform


@dataclass
class JobContext:
    platform: Platform
    job_id: str
    attempt: int


class JobQueue(Protocol):
    async def enqueue(self, name: str, *, _delay: timedelta | None = None, **kwargs: Any) -> None:
        """Queue job ``name``; unknown names raise ``KeyError`` at once."""

    async def backlog(self) -> int:
        """How many jobs are due and wait for a worker (for /healthz)."""

    async def start(self, platform: Platform) -> None:
        """Begin running jobs in this process (embedded) or connect (arq)."""

    async def stop(self) -> None:
        """Stop running jobs, letting the current one finish or be retried later."""

    async def retry(self, job: Job) -> bool:
        """Queue a failed job again from its first try; False if it was no longer failed."""


def check_kwargs(name: str, kwargs: dict[str, Any]) -> None:
    """Refuse arguments a runner could not store faithfully, at enqueue time.

    Names starting with ``_`` are reserved for the runners (arq uses ``_defer_by`` ...).
    """
    reserved = sorted(key for key in kwargs if key.startswith("_"))
    if reserved:
        raise ValueError(f"job {name!r}: argument names may not start with '_': {reserved}")
    try:
        json.dumps(kwargs, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"job {name!r}: arguments must be plain JSON values ({exc})") from None
