"""Billing fixtures: a fake Stripe served over HTTP for the whole session, reset per test,
and settings that point the app at it (a module overriding ``settings_overrides`` adds
``stripe_settings(fake_stripe)`` to its own)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from forum.billing.models import BillingSettings
from forum.platform import Platform
from forum.support_queue.models import Ticket
from tests.billing.fake_stripe import FakeStripe, ServedFake, stripe_settings
from tests.support_queue.conftest import World, make_world, open_ticket


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[FakeStripe]:
    fake = FakeStripe()
    with ServedFake(fake):
        yield fake


@pytest.fixture
def fake_stripe(stripe_server: FakeStripe) -> FakeStripe:
    """The fake Stripe, emptied for this test."""
    stripe_server.reset()
    return stripe_server


@pytest.fixture
def settings_overrides(fake_stripe: FakeStripe) -> dict[str, Any]:
    return stripe_settings(fake_stripe)


# Buying as the checkout does it (our Purchase, then a Checkout Session with our ids), so the
# ledger's tests do not depend on the checkout pages.


async def start_upgrade(platform: Any, project_id: int, user_id: int, ticket_id: int, *,
                        amount: int = 5000, currency: str = "USD", tier: str = "pay_as_you_go",
                        priority: int | None = 2, plan_id: int | None = None,
                        connected_account: str | None = None,
                        fee_percent: int = 5) -> tuple[Any, dict[str, Any]]:
    from forum.billing.gateway import gateway_for
    from forum.billing.models import Purchase, PurchaseKind

    purchase = await Purchase.create(
        project_id=project_id, user_id=user_id, kind=PurchaseKind.TICKET_UPGRADE,
        ticket_id=ticket_id, plan_id=plan_id, tier=tier, priority=priority, amount=amount,
        currency=currency, idempotency_key=f"upgrade-{ticket_id}-{user_id}-{plan_id}-{amount}")
    metadata = {"purchase_id": str(purchase.id), "project_id": str(project_id),
                "ticket_id": str(ticket_id), "kind": "ticket_upgrade"}
    intent: dict[str, Any] = {"metadata": metadata}
    if connected_account:
        intent.update({"application_fee_amount": (amount * fee_percent + 50) // 100,
                       "transfer_data": {"destination": connected_account}})
    session = await gateway_for(platform).create_checkout_session({
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": currency.lower(), "unit_amount": amount,
            "product_data": {"name": f"Priority support for ticket {ticket_id}"}}}],
        "client_reference_id": str(purchase.id), "metadata": metadata,
        "invoice_creation": {"enabled": True}, "payment_intent_data": intent,
        "success_url": "http://testserver/ok", "cancel_url": "http://testserver/back",
    }, idempotency_key=f"checkout-{purchase.id}")
    purchase.checkout_session_id = session["id"]
    await purchase.save(update_fields=["checkout_session_id"])
    return purchase, session


async def start_subscription(platform: Any, project_id: int, user_id: int, plan: Any, *,
                             amount: int | None = None) -> tuple[Any, Any, dict[str, Any]]:
    from forum.billing.gateway import gateway_for
    from forum.billing.models import PlanKind, Purchase, PurchaseKind, Subscription

    amount = plan.price if amount is None else amount
    subscription = await Subscription.create(project_id=project_id, user_id=user_id,
                                             plan_id=plan.id, amount=amount,
                                             currency=plan.currency, status="incomplete")
    purchase = await Purchase.create(
        project_id=project_id, user_id=user_id, kind=PurchaseKind.SUBSCRIPTION,
        plan_id=plan.id, subscription_id=subscription.id, tier=PlanKind(plan.kind).tier,
        priority=plan.upgrade_priority, amount=amount, currency=plan.currency,
        idempotency_key=f"subscribe-{user_id}-{plan.id}-{amount}")
    metadata = {"purchase_id": str(purchase.id), "project_id": str(project_id),
                "plan_id": str(plan.id), "subscription_id": str(subscription.id),
                "kind": "subscription"}
    session = await gateway_for(platform).create_checkout_session({
        "mode": "subscription",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": plan.currency.lower(), "unit_amount": amount,
            "product_data": {"name": plan.name},
            "recurring": {"interval": "month",
                          "interval_count": PlanKind(plan.kind).interval_months or 1}}}],
        "client_reference_id": str(purchase.id), "metadata": metadata,
        "subscription_data": {"metadata": metadata},
        "success_url": "http://testserver/ok", "cancel_url": "http://testserver/back",
    }, idempotency_key=f"checkout-{purchase.id}")
    purchase.checkout_session_id = session["id"]
    await purchase.save(update_fields=["checkout_session_id"])
    return purchase, subscription, session


def normalised_ledger(rows: list[Any]) -> list[tuple[Any, ...]]:
    """Ledger rows without database ids or insertion times, sorted: what replays compare."""
    return sorted((str(r.kind), r.purpose, r.ticket_id, r.gross, r.stripe_fee,
                   r.stripe_fee_known, r.platform_fee, r.project_net, r.currency,
                   r.stripe_object_id, r.owed_to_project, r.purchase_id, r.subscription_id,
                   r.occurred_at.isoformat()) for r in rows)


# The topics tests' world (a user in every role) with billing set up in dollars; a module
# that needs other billing settings defines its own ``world``.

@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    world = await make_world("demo")
    await BillingSettings.create(project_id=world.project.id, currency="USD")
    return world


@pytest.fixture
async def ticket(platform: Platform, world: World) -> Ticket:
    return await open_ticket(platform, world)
