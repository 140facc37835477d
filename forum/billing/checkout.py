"""Paying a project: a ticket upgrade (Stripe Checkout in payment mode, or an upgrade
included in the customer's plan) and a plan (subscription mode).

Nothing here changes a ticket: its tier changes when the payment is confirmed (the
webhooks call ``settle_ticket_worth``), or at once for an included upgrade, through the
same ``settle_ticket_worth``. A Purchase's ``idempotency_key`` is built from our own ids,
so a second click reuses the open Checkout Session instead of opening another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from forum.billing import buyer as buyers
from forum.billing.gateway import gateway_for
from forum.billing.models import (
    BillingSettings,
    Plan,
    PlanKind,
    Purchase,
    PurchaseKind,
    PurchaseState,
    StripeCustomer,
    Subscription,
)
from forum.billing.plans import billing_settings, format_money
from forum.gates import Act, Attempt
from forum.projects.service import platform_fee_percent
from forum.web.errors import Conflict, Forbidden, Invalid, NotFound, UserError

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.hookspecs import TicketFacts
    from forum.platform import Platform
    from forum.projects.models import Project

LIVE_STATUSES = ("active", "trialing", "past_due")  # a subscription that still serves
CLOSED_TICKET_STATES = ("draft", "solved", "closed")
OPENING_GRACE = timedelta(seconds=60)  # a click while another is opening the session waits


@dataclass(frozen=True)
class UpgradeOption:
    """One way to upgrade a ticket, as the upgrade page offers it."""

    key: str  # "pay_as_you_go:<plan>", "included:<subscription>" or "extra:<subscription>"
    title: str
    buys: str  # what it buys, in words
    amount: int  # what the customer pays now (0: included in the plan)
    list_amount: int  # before the FLOSS discount
    currency: str
    tier: str
    priority: int | None
    plan: Plan
    subscription: Subscription | None = None
    owned: bool = False  # the ticket already has this tier and priority, or better

    @property
    def price(self) -> str:
        return "included in your plan" if self.amount == 0 else format_money(
            self.amount, self.currency)


def _buys(plan: Plan, tier: str) -> str:
    words = {"pay_as_you_go": "the pay-as-you-go tier", "subscription": "the subscribers' tier",
             "enterprise": "the enterprise tier with guaranteed response times"}[tier]
    if plan.upgrade_priority:
        return f"{words} at priority P{plan.upgrade_priority}"
    return words


TIER_RANK = {"free": 0, "pay_as_you_go": 1, "subscription": 2, "enterprise": 3}


def owned(facts: TicketFacts, tier: str, priority: int | None) -> bool:
    """Whether the ticket already has what an option buys (buying it again gains nothing)."""
    if TIER_RANK.get(facts.tier, 0) < TIER_RANK.get(tier, 0):
        return False
    return priority is None or facts.priority <= priority


async def live_subscriptions(user_id: int, project_id: int) -> list[Subscription]:
    return await Subscription.filter(user_id=user_id, project_id=project_id,
                                     status__in=list(LIVE_STATUSES)
                                     ).select_related("plan").order_by("id")


def _period_filter(subscription: Subscription) -> Q:
    from forum.billing.worth import ENTERPRISE_KEY_PREFIX

    # An enterprise plan's tickets are all covered (worth.include_enterprise_ticket):
    # they are not upgrades counted against the plan's included ones.
    query = (Q(subscription_id=subscription.id, kind=PurchaseKind.TICKET_UPGRADE,
               state=PurchaseState.INCLUDED)
             & ~Q(idempotency_key__startswith=ENTERPRISE_KEY_PREFIX))
    if subscription.current_period_start is not None:
        query &= Q(created_at__gte=subscription.current_period_start)
    if subscription.current_period_end is not None:
        query &= Q(created_at__lt=subscription.current_period_end)
    return query


async def included_left(subscription: Subscription, plan: Plan) -> int:
    """Upgrades still included in the subscription's current billing period."""
    used = await Purchase.filter(_period_filter(subscription)).count()
    return max(0, plan.included_upgrades - used)


async def upgrade_options(user_id: int, project_id: int, facts: TicketFacts,
                          discount: int) -> list[UpgradeOption]:
    """What the requester may buy for this ticket: each pay-as-you-go plan, and for each
    live subscription either an included upgrade or its price for a further one."""
    settings = await billing_settings(project_id)
    options: list[UpgradeOption] = []
    for plan in await Plan.filter(project_id=project_id, is_active=True,
                                  kind=PlanKind.PAY_AS_YOU_GO).order_by("price", "id"):
        if plan.currency != settings.currency:
            continue
        tier = PlanKind.PAY_AS_YOU_GO.tier
        options.append(UpgradeOption(
            f"pay_as_you_go:{plan.id}", plan.name, _buys(plan, tier),
            buyers.discounted(plan.price, discount), plan.price, plan.currency, tier,
            plan.upgrade_priority, plan, owned=owned(facts, tier, plan.upgrade_priority)))
    for sub in await live_subscriptions(user_id, project_id):
        plan = sub.plan
        tier = PlanKind(plan.kind).tier
        if await included_left(sub, plan) > 0:
            options.append(UpgradeOption(
                f"included:{sub.id}", f"{plan.name}: an included upgrade",
                _buys(plan, tier), 0, 0, plan.currency, tier, plan.upgrade_priority, plan,
                sub, owned=owned(facts, tier, plan.upgrade_priority)))
        elif plan.extra_upgrade_price > 0:
            options.append(UpgradeOption(
                f"extra:{sub.id}", f"{plan.name}: a further upgrade", _buys(plan, tier),
                buyers.discounted(plan.extra_upgrade_price, discount),
                plan.extra_upgrade_price, plan.currency, tier, plan.upgrade_priority, plan,
                sub, owned=owned(facts, tier, plan.upgrade_priority)))
    return options


async def pay_refusal(platform: Platform, user: User, project_id: int) -> str | None:
    """Why the user may not pay this project now: terms not accepted, or a ban."""
    return await platform.refusal(Attempt(Act.PAY, user.id, project_id))


def fee_of(amount: int, percent: Decimal) -> int:
    return int((Decimal(amount) * percent / 100).quantize(Decimal("1"),
                                                           rounding=ROUND_HALF_UP))


def connected_account(settings: BillingSettings) -> str | None:
    if settings.stripe_account_id and settings.account_charges_enabled:
        return settings.stripe_account_id
    return None


async def stripe_customer_id(platform: Platform, user: User) -> str:
    """The user's customer at Stripe, created once (the key makes a retry harmless)."""
    row = await StripeCustomer.get_or_none(user_id=user.id)
    if row is not None:
        return row.stripe_customer_id
    customer = await gateway_for(platform).create_customer(
        email=user.email, name=user.username, metadata={"user_id": str(user.id)},
        idempotency_key=f"customer-{user.id}")
    try:
        row = await StripeCustomer.create(user_id=user.id, stripe_customer_id=customer["id"])
    except IntegrityError:  # a concurrent request stored the same customer
        row = await StripeCustomer.get(user_id=user.id)
    return row.stripe_customer_id


async def _common_checks(platform: Platform, user: User, project_id: int,
                         plan: Plan) -> BillingSettings:
    reason = await pay_refusal(platform, user, project_id)
    if reason:
        raise UserError(403, reason, code="pay_refused")
    if await buyers.buyer_profile(user.id, project_id) is None:
        raise UserError(409, "Tell us who is buying first (professional, personal, or for a "
                        "free/open-source project).", code="buyer_profile_required")
    settings = await billing_settings(project_id)
    if plan.currency.upper() != settings.currency.upper():
        raise Invalid(f"This plan is priced in {plan.currency} but the project sells in "
                      f"{settings.currency}; ask the project to update the plan.",
                      fields={"currency": "does not match the project's"})
    return settings


@dataclass(frozen=True)
class CheckoutResult:
    purchase: Purchase
    url: str  # Stripe's checkout page, or the ticket for an included upgrade


async def _reuse(platform: Platform, key: str) -> CheckoutResult | None:
    """The open checkout already started under ``key``, if any. A checkout that expired
    or failed gives up its key, so a new one can start."""
    purchase = await Purchase.get_or_none(idempotency_key=key)
    if purchase is None:
        return None
    if purchase.state in (PurchaseState.PAID, PurchaseState.INCLUDED):
        raise Conflict("This is already paid for.")
    if purchase.state == PurchaseState.PENDING and purchase.checkout_session_id:
        session = await gateway_for(platform).retrieve_checkout_session(
            purchase.checkout_session_id)
        if session.get("status") == "open" and session.get("url"):
            return CheckoutResult(purchase, str(session["url"]))
        if session.get("status") == "complete":
            raise Conflict("This payment is complete; it shows once Stripe confirms it.")
        purchase.state = PurchaseState.EXPIRED
    elif purchase.state == PurchaseState.PENDING:
        if purchase.created_at > datetime.now(UTC) - OPENING_GRACE:
            raise Conflict("This checkout is being opened; try again in a moment.")
        purchase.state = PurchaseState.FAILED  # opening its session failed
    purchase.idempotency_key = f"{key}~{purchase.id}"[:120]
    await purchase.save(update_fields=["state", "idempotency_key"])
    return None


async def _start(platform: Platform, key: str, values: dict[str, Any]) -> Purchase | None:
    """A new pending purchase under ``key``; None when a concurrent click made it."""
    try:
        return await Purchase.create(idempotency_key=key, **values)
    except IntegrityError:
        return None


async def _open_session(platform: Platform, purchase: Purchase, params: dict[str, Any]
                        ) -> CheckoutResult:
    # Our key dedupes clicks; Stripe's is per purchase, since a purchase whose checkout
    # expired gives its key to the next one, with other parameters.
    session = await gateway_for(platform).create_checkout_session(
        params, idempotency_key=f"checkout-{purchase.id}")
    purchase.checkout_session_id = str(session["id"])
    await purchase.save(update_fields=["checkout_session_id"])
    if purchase.subscription_id is not None:  # type: ignore[attr-defined]
        await Subscription.filter(id=purchase.subscription_id  # type: ignore[attr-defined]
                                  ).update(checkout_session_id=purchase.checkout_session_id)
    return CheckoutResult(purchase, str(session["url"]))


def _option(options: list[UpgradeOption], key: str) -> UpgradeOption:
    for option in options:
        if option.key == key:
            return option
    raise Invalid("Choose one of the upgrades offered.", fields={"option": "not offered"})


async def check_upgrade(platform: Platform, user: User, project: Project, facts: TicketFacts,
                        option_key: str) -> CheckoutResult:
    """The requester buys an upgrade for their ticket: an included one is recorded now,
    a paid one opens (or reuses) a Checkout Session."""
    if facts.requester_id != user.id:
        raise Forbidden("Only the person who opened this ticket may upgrade it.")
    if facts.state in CLOSED_TICKET_STATES:
        raise Conflict("Only a ticket in the queue can be upgraded." if facts.state != "draft"
                       else "Submit the ticket first; then it can be upgraded.")
    settings = await billing_settings(project.id)
    discount = buyers.discount_percent(await buyers.buyer_profile(user.id, project.id),
                                       settings)
    options = await upgrade_options(user.id, project.id, facts, discount)
    option = _option(options, option_key)
    if option.owned:
        raise Conflict(f"{facts.reference} already has this support; nothing more to buy.")
    await _common_checks(platform, user, project.id, option.plan)
    if option.amount == 0 and option.subscription is not None:
        return await do_included_upgrade(platform, user, facts, option)
    return await do_paid_upgrade(platform, user, project, facts, option, settings)


async def do_included_upgrade(platform: Platform, user: User, facts: TicketFacts,
                              option: UpgradeOption) -> CheckoutResult:
    from forum.billing.worth import settle_ticket_worth

    sub = option.subscription
    assert sub is not None
    period = sub.current_period_start.isoformat() if sub.current_period_start else "start"
    key = f"included-{facts.ticket_id}-{user.id}-{sub.id}-{period}"[:120]
    purchase = await Purchase.get_or_none(idempotency_key=key)
    if purchase is None:
        purchase = await _start(platform, key, {
            "project_id": facts.project_id, "user_id": user.id,
            "kind": PurchaseKind.TICKET_UPGRADE, "state": PurchaseState.INCLUDED,
            "ticket_id": facts.ticket_id, "plan_id": option.plan.id,
            "subscription_id": sub.id, "tier": option.tier, "priority": option.priority,
            "amount": 0, "currency": option.currency})
        if purchase is None:
            purchase = await Purchase.get(idempotency_key=key)
    await settle_ticket_worth(platform, facts.project_id, facts.ticket_id)
    return CheckoutResult(purchase, facts.url)


async def do_paid_upgrade(platform: Platform, user: User, project: Project,
                          facts: TicketFacts, option: UpgradeOption,
                          settings: BillingSettings) -> CheckoutResult:
    plan = option.plan
    key = f"upgrade-{facts.ticket_id}-{user.id}-{plan.id}-{option.amount}"
    if option.subscription is not None:
        key += f"-sub{option.subscription.id}"
    reused = await _reuse(platform, key)
    if reused is not None:
        return reused
    purchase = await _start(platform, key, {
        "project_id": project.id, "user_id": user.id, "kind": PurchaseKind.TICKET_UPGRADE,
        "ticket_id": facts.ticket_id, "plan_id": plan.id,
        "subscription_id": option.subscription.id if option.subscription else None,
        "tier": option.tier, "priority": option.priority, "amount": option.amount,
        "currency": option.currency})
    if purchase is None:
        reused = await _reuse(platform, key)
        if reused is not None:
            return reused
        raise Conflict("This checkout is being opened; try again in a moment.")
    public = platform.settings.public_url
    metadata = {"purchase_id": str(purchase.id), "project_id": str(project.id),
                "ticket_id": str(facts.ticket_id), "kind": PurchaseKind.TICKET_UPGRADE.value}
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": option.currency.lower(), "unit_amount": option.amount,
            "product_data": {"name": f"Priority support for {facts.reference}"}}}],
        "customer": await stripe_customer_id(platform, user),
        "client_reference_id": str(purchase.id),
        "metadata": metadata,
        "invoice_creation": {"enabled": True},
        "tax_id_collection": {"enabled": True},
        "success_url": f"{public}{facts.url}?checkout=done",
        "cancel_url": f"{public}/p/{project.slug}/tickets/{facts.number}/upgrade"
                      "?checkout=cancelled",
        "payment_intent_data": {"metadata": metadata,
                                "description": f"Priority support for {facts.reference}"},
    }
    account = connected_account(settings)
    if account is not None:
        percent = await platform_fee_percent(platform)
        params["payment_intent_data"].update({
            "application_fee_amount": fee_of(option.amount, percent),
            "transfer_data": {"destination": account}})
    return await _open_session(platform, purchase, params)


# Plans


async def subscription_floor(user_id: int, plan: Plan) -> int:
    """The least a customer may pay per period for ``plan`` (after a FLOSS discount)."""
    settings = await billing_settings(plan.project_id)  # type: ignore[attr-defined]
    profile = await buyers.buyer_profile(user_id, plan.project_id)  # type: ignore[attr-defined]
    return buyers.discounted(plan.price, buyers.discount_percent(profile, settings))


def check_amount(amount: int, floor: int, currency: str) -> None:
    if amount < floor:
        raise Invalid(f"The price of this plan is at least {format_money(floor, currency)} "
                      "per billing period; you may pay more, not less.",
                      fields={"amount": f"at least {format_money(floor, currency)}"})


async def check_subscribe(platform: Platform, user: User, project: Project, plan: Plan,
                          amount: int) -> CheckoutResult:
    """Start a plan at ``amount`` per period (never below the floor)."""
    if not plan.is_active or plan.kind == PlanKind.PAY_AS_YOU_GO:
        raise NotFound("No such plan.")
    settings = await _common_checks(platform, user, project.id, plan)
    check_amount(amount, await subscription_floor(user.id, plan), plan.currency)
    if await Subscription.exists(user_id=user.id, plan_id=plan.id,
                                 status__in=list(LIVE_STATUSES)):
        raise Conflict("You already subscribe to this plan; change its amount on your "
                       "billing page.")
    return await do_subscribe(platform, user, project, plan, amount, settings)


async def do_subscribe(platform: Platform, user: User, project: Project, plan: Plan,
                       amount: int, settings: BillingSettings) -> CheckoutResult:
    key = f"subscribe-{user.id}-{plan.id}-{amount}"
    reused = await _reuse(platform, key)
    if reused is not None:
        return reused
    subscription = await Subscription.create(project_id=project.id, user_id=user.id,
                                             plan_id=plan.id, amount=amount,
                                             currency=plan.currency, status="incomplete")
    purchase = await _start(platform, key, {
        "project_id": project.id, "user_id": user.id, "kind": PurchaseKind.SUBSCRIPTION,
        "plan_id": plan.id, "subscription_id": subscription.id,
        "tier": PlanKind(plan.kind).tier, "priority": plan.upgrade_priority,
        "amount": amount, "currency": plan.currency})
    if purchase is None:
        await subscription.delete()
        reused = await _reuse(platform, key)
        if reused is not None:
            return reused
        raise Conflict("This checkout is being opened; try again in a moment.")
    months = PlanKind(plan.kind).interval_months or 1
    metadata = {"purchase_id": str(purchase.id), "project_id": str(project.id),
                "plan_id": str(plan.id), "subscription_id": str(subscription.id),
                "kind": PurchaseKind.SUBSCRIPTION.value}
    subscription_data: dict[str, Any] = {"metadata": metadata}
    account = connected_account(settings)
    if account is not None:
        subscription_data.update({
            "application_fee_percent": float(await platform_fee_percent(platform)),
            "transfer_data": {"destination": account}})
    public = platform.settings.public_url
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": plan.currency.lower(), "unit_amount": amount,
            "product_data": {"name": f"{plan.name}: support from {project.name}"},
            "recurring": {"interval": "month", "interval_count": months}}}],
        "customer": await stripe_customer_id(platform, user),
        "client_reference_id": str(purchase.id),
        "metadata": metadata,
        "subscription_data": subscription_data,
        "tax_id_collection": {"enabled": True},
        "success_url": f"{public}/billing?checkout=done",
        "cancel_url": f"{public}/p/{project.slug}/billing/subscribe/{plan.id}"
                      "?checkout=cancelled",
    }
    return await _open_session(platform, purchase, params)


# The page between our forms and Stripe's checkout


async def access_purchase(user: User, purchase_id: int) -> Purchase:
    purchase = await Purchase.get_or_none(id=purchase_id, user_id=user.id)
    if purchase is None:
        raise NotFound("No such purchase.")
    return purchase


async def purchase_done_url(platform: Platform, purchase: Purchase) -> str | None:
    """Where to go instead of paying: the ticket, or the billing page, once it is paid."""
    if purchase.state == PurchaseState.PENDING:
        return None
    if purchase.ticket_id is not None:
        facts = await platform.ticket_facts(purchase.project_id,  # type: ignore[attr-defined]
                                   ticket_id=purchase.ticket_id)
        if facts is not None:
            return facts.url
    return "/billing"


async def open_session_url(platform: Platform, purchase: Purchase) -> str:
    """The open Checkout Session's page at Stripe, or 409 when it is gone."""
    if purchase.checkout_session_id:
        session = await gateway_for(platform).retrieve_checkout_session(
            purchase.checkout_session_id)
        if session.get("status") == "open" and session.get("url"):
            return str(session["url"])
    raise Conflict("This checkout has expired; start again from the ticket or the plan.")


async def purchase_title(platform: Platform, purchase: Purchase) -> str:
    if purchase.kind == PurchaseKind.SUBSCRIPTION:
        plan = await Plan.get_or_none(id=purchase.plan_id)  # type: ignore[attr-defined]
        return f"The {plan.name} plan" if plan else "A support plan"
    facts = None
    if purchase.ticket_id is not None:
        facts = await platform.ticket_facts(purchase.project_id,  # type: ignore[attr-defined]
                                   ticket_id=purchase.ticket_id)
    return f"Priority support for {facts.reference}" if facts else "Priority support"
