"""A customer's own billing: their subscriptions across projects (with the upgrades left
this period), changing what they pay (never below the floor), cancelling at the end of the
period, and their invoices from Stripe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from forum.billing import checkout
from forum.billing.gateway import PaymentsNotConfigured, gateway_for
from forum.billing.models import Plan, StripeCustomer, Subscription
from forum.billing.plans import format_money
from forum.web.errors import Conflict, NotFound

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.platform import Platform

HIDDEN_STATUSES = ("incomplete", "incomplete_expired")  # a checkout never finished


@dataclass(frozen=True)
class SubscriptionView:
    subscription: Subscription
    plan: Plan
    project_slug: str
    project_name: str
    included_left: int
    floor: int

    @property
    def is_live(self) -> bool:
        return self.subscription.status in checkout.LIVE_STATUSES


async def my_subscriptions(user: User) -> list[SubscriptionView]:
    rows = await Subscription.filter(user_id=user.id).exclude(
        status__in=list(HIDDEN_STATUSES)).select_related("plan", "project").order_by("-id")
    views = []
    for sub in rows:
        live = sub.status in checkout.LIVE_STATUSES
        views.append(SubscriptionView(
            sub, sub.plan, sub.project.slug, sub.project.name,
            await checkout.included_left(sub, sub.plan) if live else 0,
            await checkout.subscription_floor(user.id, sub.plan)))
    return views


async def access_subscription(user: User, subscription_id: int) -> Subscription:
    """One of the user's own subscriptions (anyone else's is not found)."""
    sub = await Subscription.get_or_none(id=subscription_id, user_id=user.id
                                         ).select_related("plan", "project")
    if sub is None or sub.status in HIDDEN_STATUSES:
        raise NotFound("No such subscription.")
    return sub


def _require_live(sub: Subscription) -> str:
    if sub.status not in checkout.LIVE_STATUSES or not sub.stripe_subscription_id:
        raise Conflict("This subscription has ended.")
    return sub.stripe_subscription_id


def _version(sub: Subscription) -> int:
    """Changes a subscription in this state: a double click repeats the same key, a later
    change (with a new ``updated_at``) gets a new one."""
    moment: datetime = sub.updated_at
    return int(moment.timestamp() * 1000)


async def check_change_amount(platform: Platform, user: User, sub: Subscription,
                              amount: int) -> Subscription:
    """Pay ``amount`` per period from the next one (no proration), never below the floor."""
    stripe_id = _require_live(sub)
    checkout.check_amount(amount, await checkout.subscription_floor(user.id, sub.plan),
                          sub.currency)
    if sub.cancel_at_period_end:
        raise Conflict("This subscription ends with its period; resubscribe instead.")
    return await do_change_amount(platform, sub, stripe_id, amount)


async def do_change_amount(platform: Platform, sub: Subscription, stripe_id: str,
                           amount: int) -> Subscription:
    gateway = gateway_for(platform)
    current = await gateway.retrieve_subscription(stripe_id)
    item = current["items"]["data"][0]
    price = item.get("price") or {}
    recurring = price.get("recurring") or {}
    await gateway.update_subscription(stripe_id, {
        "items": [{"id": item["id"], "price_data": {
            "currency": sub.currency.lower(), "unit_amount": amount,
            "product": price.get("product"),
            "recurring": {"interval": recurring.get("interval", "month"),
                          "interval_count": recurring.get("interval_count", 1)}}}],
        "proration_behavior": "none",
    }, idempotency_key=f"amount-{sub.id}-{_version(sub)}-{amount}")
    sub.amount = amount
    await sub.save(update_fields=["amount", "updated_at"])
    await tell_customer(platform, sub, "amount")
    return sub


async def check_cancel(platform: Platform, user: User, sub: Subscription) -> Subscription:
    """End the subscription when its current period ends (what is paid is served)."""
    stripe_id = _require_live(sub)
    if sub.cancel_at_period_end:
        return sub
    return await do_cancel(platform, sub, stripe_id)


async def do_cancel(platform: Platform, sub: Subscription, stripe_id: str) -> Subscription:
    await gateway_for(platform).update_subscription(
        stripe_id, {"cancel_at_period_end": True},
        idempotency_key=f"cancel-{sub.id}-{_version(sub)}")
    sub.cancel_at_period_end = True
    sub.cancel_reason = "customer"
    await sub.save(update_fields=["cancel_at_period_end", "cancel_reason", "updated_at"])
    await tell_customer(platform, sub, "cancel")
    return sub


async def tell_customer(platform: Platform, sub: Subscription, change: str) -> None:
    """Confirm a change the customer made, by email."""
    await sub.fetch_related("user", "plan", "project")
    end = sub.current_period_end
    await platform.send_mail(sub.user.email, "billing_subscription_changed", {
        "username": sub.user.username, "change": change, "plan_name": sub.plan.name,
        "project_name": sub.project.name, "amount": format_money(sub.amount, sub.currency),
        "period_end": end.strftime("%Y-%m-%d") if end else "",
        "billing_url": f"{platform.settings.public_url}/billing"},
        subject=(f"Your {sub.plan.name} plan ends with this period" if change == "cancel"
                 else f"Your {sub.plan.name} plan: new amount"))


async def my_invoices(platform: Platform, user: User) -> list[dict[str, Any]]:
    """The user's invoices at Stripe, newest first (none before their first purchase)."""
    customer = await StripeCustomer.get_or_none(user_id=user.id)
    if customer is None:
        return []
    try:
        gateway = gateway_for(platform)
    except PaymentsNotConfigured:
        return []
    return await gateway.list_invoices(customer=customer.stripe_customer_id, limit=24)
