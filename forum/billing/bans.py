"""Bans end subscriptions: a requester banned from a project (or from the whole platform)
for breaking the code of conduct loses their subscription to it (to every project) at once,
without refund, as the terms say. Runs as a job after the ban (``billing.cancel_banned``)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from forum.billing.gateway import GatewayError, PaymentsNotConfigured, gateway_for
from forum.billing.models import Subscription

if TYPE_CHECKING:
    from forum.platform import Platform

log = logging.getLogger(__name__)

ENDED = ("canceled", "incomplete_expired")
BANNED = "banned"


async def do_cancel_banned(platform: Platform, user_id: int,
                           project_id: int | None) -> list[int]:
    """Cancel the user's live subscriptions to ``project_id`` (None: every project) at
    Stripe, immediately and without proration or refund; returns our subscription ids."""
    query = Subscription.filter(user_id=user_id).exclude(status__in=ENDED)
    if project_id is not None:
        query = query.filter(project_id=project_id)
    ended: list[int] = []
    for subscription in await query.order_by("id"):
        if subscription.stripe_subscription_id:
            try:
                await gateway_for(platform).cancel_subscription(
                    subscription.stripe_subscription_id)
            except PaymentsNotConfigured:
                log.warning("cannot cancel subscription %s of banned user %s: payments off",
                            subscription.id, user_id)
            except GatewayError as exc:
                if "No such subscription" not in exc.message:
                    raise  # the job retries
        await Subscription.filter(id=subscription.id).update(
            status="canceled", cancel_reason=BANNED, cancel_at_period_end=False,
            canceled_at=datetime.now(UTC))
        ended.append(subscription.id)
    return ended
