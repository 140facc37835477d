"""Background jobs: ``enqueue(name, **kwargs)`` and cron entries behind one interface.

Two runners implement ``JobQueue``: the embedded one (``forum.jobs.embedded``) keeps jobs
as rows in the database, written in the caller's transaction and run by a task inside
``forum serve``; the arq one (``forum.jobs.redis``) pushes them to Redis for
``forum worker`` processes. Job functions are registered through the ``forum_jobs``
hook and receive a ``JobContext`` first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
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
        """How many jobs wait to run (for /healthz)."""

    async def start(self, platform: Platform) -> None:
        """Begin running jobs in this process (embedded) or connect (arq)."""

    async def stop(self) -> None:
        """Stop running jobs, letting the current one finish or be retried later."""
