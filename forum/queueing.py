"""The support queue's policy contract: what a policy sees and what it answers.

The support queue orders a project's waiting tickets (states queued and assigned; drafts
never) with a ``QueuePolicy``. The default, ``FairPolicy`` in
``forum/support_queue/policy.py``, puts higher tiers and payments first, keeps a share of
the order for unpaid tickets and lets tickets about to breach a guaranteed response time
jump ahead. A plugin may install another policy for a project by answering the hook
``forum_queue_policy(project_id, platform)`` with an object that has ``order``; the first
answer that is not None wins. These types live in the core so a plugin implements the
protocol without importing ``forum.support_queue``.

A plugin's policy sees every queued ticket of the project as a ``QueuedTicket`` (plain
data, no ORM object) and returns them in order; the built-in policies also answer a
ticket's position and a page of the order with a few indexed queries instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

PAID_TIERS: tuple[str, ...] = ("enterprise", "subscription", "pay_as_you_go")  # highest first
UNPAID_TIER = "free"
GUARANTEED_TIER = "enterprise"  # tickets with a guaranteed response time


@dataclass(frozen=True)
class QueuedTicket:
    """One ticket waiting in the queue.

    ``waiting_since``: the requester's last reaction (None is taken as waiting longest);
    ``due_at``: the response due next (the first response's until the team answered, then
    the next one's), None without an SLA.
    """

    id: int
    tier: str
    amount_paid: int
    waiting_since: datetime | None
    submitted_at: datetime | None
    due_at: datetime | None = None
    assignee_id: int | None = None
    priority: int = 3

    @property
    def is_paid(self) -> bool:
        return self.tier != UNPAID_TIER


@dataclass(frozen=True)
class QueueSettingsData:
    """A project's queue settings (``unpaid_share`` in percent, 0..100)."""

    enabled: bool = True
    unpaid_share: int = 20
    window_days: int = 30
    breach_lead_minutes: int = 120
    minimum_response_minutes: int = 0


@dataclass(frozen=True)
class QueueContext:
    """What a policy may need besides the tickets: the project, the moment, its settings,
    and how many tickets got their first team response within the rolling window, paid and
    unpaid."""

    project_id: int
    now: datetime
    settings: QueueSettingsData
    served_paid: int = 0
    served_unpaid: int = 0

    @property
    def unpaid_deficit(self) -> bool:
        """The share of unpaid tickets served over the window is below the target."""
        served = self.served_paid + self.served_unpaid
        if served == 0 or self.settings.unpaid_share <= 0:
            return False
        return self.served_unpaid * 100 < self.settings.unpaid_share * served


@runtime_checkable
class QueuePolicy(Protocol):
    """Orders a project's queued tickets. ``name`` is shown on the queue settings page."""

    name: str

    def order(self, tickets: Sequence[QueuedTicket], context: QueueContext
              ) -> list[QueuedTicket]:
        """Every ticket of ``tickets`` exactly once, first to be served first."""
        ...
