"""What a ticket is worth, settled from scratch after every change to its money.

``settle_ticket_worth`` recomputes, in absolute terms, the tier, amount paid, priority and
promised response times of a ticket from its purchases and the ledger, and tells the support
queue (``TicketWorthChanged``). Being absolute, it can run any number of times in any order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from forum import events
from forum.billing.models import (
    BillingSettings,
    LedgerEntry,
    Plan,
    PlanKind,
    Purchase,
    PurchaseKind,
    PurchaseState,
    Subscription,
)

if TYPE_CHECKING:
    from forum.platform import Platform

TIER_RANK = {"free": 0, "pay_as_you_go": 1, "subscription": 2, "enterprise": 3}
ACTIVE_SUBSCRIPTION = ("active", "trialing", "past_due")


async def project_currency(project_id: int) -> str:
    settings = await BillingSettings.get_or_none(project_id=project_id)
    return settings.currency.upper() if settings is not None else "USD"


async def settle_ticket_worth(platform: Platform, project_id: int,
                              ticket_id: int) -> events.TicketWorthChanged:
    """Recompute the ticket's worth, mark purchases refunded (or paid again after a dispute
    won) by their ledger balance, and emit ``TicketWorthChanged``."""
    purchases = await Purchase.filter(
        project_id=project_id, ticket_id=ticket_id,
        state__in=[PurchaseState.PAID, PurchaseState.INCLUDED, PurchaseState.REFUNDED],
    ).prefetch_related("plan")
    entries = await LedgerEntry.filter(project_id=project_id, ticket_id=ticket_id).values(
        "purchase_id", "gross", "currency")
    currency = purchases[0].currency.upper() if purchases else await project_currency(
        project_id)
    by_purchase: dict[int, int] = {}
    for row in entries:
        if row["purchase_id"] is not None:
            by_purchase[row["purchase_id"]] = by_purchase.get(row["purchase_id"], 0) + row[
                "gross"]
    counted: list[Purchase] = []
    async with in_transaction():
        for purchase in purchases:
            if purchase.state == PurchaseState.INCLUDED:
                counted.append(purchase)
                continue
            paid = by_purchase.get(purchase.id, 0)
            state = PurchaseState.PAID if paid > 0 else PurchaseState.REFUNDED
            if purchase.id not in by_purchase:
                state = purchase.state  # paid but not in the ledger yet: keep as is
            if state != purchase.state:
                purchase.state = state
                await Purchase.filter(id=purchase.id).update(state=state)
            if state == PurchaseState.PAID:
                counted.append(purchase)
    tier = "free"
    for purchase in counted:
        if TIER_RANK.get(purchase.tier, 0) > TIER_RANK[tier]:
            tier = purchase.tier
    amount = sum(r["gross"] for r in entries if str(r["currency"]).upper() == currency)
    priorities = [p.priority for p in counted if p.priority is not None]
    priority = min(priorities) if priorities else None
    first: int | None = None
    following: int | None = None
    enterprise = [p.plan for p in counted
                  if p.plan is not None and p.plan.kind == PlanKind.ENTERPRISE]
    if enterprise:
        wanted = priority
        if wanted is None:
            facts = await platform.ticket_facts(project_id, ticket_id=ticket_id)
            wanted = facts.priority if facts is not None else None
        for plan in enterprise:
            targets = (plan.response_targets or {}).get(str(wanted))
            if targets and len(targets) >= 2:
                first, following = int(targets[0]), int(targets[1])
                break
    event = events.TicketWorthChanged(
        project=project_id, ticket_id=ticket_id, tier=tier, amount_paid=max(amount, 0),
        currency=currency, priority=priority, first_response_minutes=first,
        next_response_minutes=following)
    await platform.emit(event)
    return event


# Tickets an enterprise plan covers as a whole: not one of the plan's counted upgrades.
ENTERPRISE_KEY_PREFIX = "enterprise-ticket-"


async def active_enterprise_subscription(project_id: int,
                                         user_id: int) -> Subscription | None:
    return await Subscription.filter(
        project_id=project_id, user_id=user_id, status__in=ACTIVE_SUBSCRIPTION,
        plan__kind=PlanKind.ENTERPRISE).order_by("-id").prefetch_related("plan").first()


async def include_enterprise_ticket(platform: Platform, project_id: int, ticket_id: int,
                                    requester_id: int) -> Purchase | None:
    """A requester with an active enterprise subscription gets the enterprise tier and
    promised response times on every ticket: an INCLUDED purchase (once per ticket)."""
    subscription = await active_enterprise_subscription(project_id, requester_id)
    if subscription is None:
        return None
    plan: Plan = subscription.plan
    purchase, _ = await Purchase.get_or_create(
        idempotency_key=f"{ENTERPRISE_KEY_PREFIX}{ticket_id}-{subscription.id}",
        defaults={"project_id": project_id, "user_id": requester_id,
                  "kind": PurchaseKind.TICKET_UPGRADE, "state": PurchaseState.INCLUDED,
                  "ticket_id": ticket_id, "plan_id": plan.id,
                  "subscription_id": subscription.id, "tier": PlanKind.ENTERPRISE.tier,
                  "priority": plan.upgrade_priority, "amount": 0,
                  "currency": subscription.currency})
    await settle_ticket_worth(platform, project_id, ticket_id)
    return purchase
