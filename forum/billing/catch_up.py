"""Taking in the Stripe events the webhook missed (the site was down longer than Stripe
retries, or the endpoint was set up late): ``forum billing catch-up`` and a daily cron.

Stripe lists the account's events of the last 30 days. Each page is read newest first;
the events are then taken in oldest first by the webhook's own ``take_event``, so an event
seen before is a no-op and each handler acts on Stripe's current state, exactly as if the
event had been delivered. Events of connected accounts (``account.updated``) are not in
the platform's list; a project's account status is read again from its settings page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from forum.billing.gateway import PaymentGateway, gateway_for
from forum.billing.webhooks import HANDLERS, take_event
from forum.web.errors import UserError

if TYPE_CHECKING:
    from forum.platform import Platform

log = logging.getLogger(__name__)

MAX_DAYS = 30  # what Stripe keeps
CRON_DAYS = 3  # Stripe's own retries give up after three days
PAGE = 100


@dataclass
class CatchUp:
    listed: int = 0
    taken: int = 0  # new: acted on now
    seen: int = 0  # already taken in
    failed: list[str] = field(default_factory=list)  # "evt_...: why" (tried again next time)


async def catch_up(platform: Platform, days: int, *, gateway: PaymentGateway | None = None,
                   now: datetime | None = None) -> CatchUp:
    """Take in every event of the last ``days`` days that was not taken in yet."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    gateway = gateway or gateway_for(platform)
    since = int(((now or datetime.now(UTC)) - timedelta(days=days)).timestamp())
    events: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = await gateway.list_events(created_gte=since, types=sorted(HANDLERS),
                                         starting_after=after, limit=PAGE)
        data = [e for e in page.get("data") or [] if isinstance(e, dict) and e.get("id")]
        events += data
        if not page.get("has_more") or not data:
            break
        after = str(data[-1]["id"])
    report = CatchUp(listed=len(events))
    for event in sorted(events, key=lambda e: (int(e.get("created") or 0), str(e["id"]))):
        try:
            result = await take_event(platform, gateway, event)
        except UserError as exc:
            report.failed.append(f"{event['id']}: {exc.message}")
            log.warning("Stripe event %s (%s) not caught up: %s", event["id"],
                        event.get("type"), exc.message)
            continue
        if result.startswith("duplicate"):
            report.seen += 1
        else:
            report.taken += 1
    if report.taken:
        log.info("caught up %d Stripe events the webhook had missed", report.taken)
    return report
