"""Money: plans, purchases, subscriptions, Stripe's events and the ledger.

Every amount is an integer in the minor units of its ``currency`` (cents), never a float.
Ticket ids are plain integers: tickets belong to the support queue, a peer domain that
billing talks to through events (``TicketWorthChanged``) and ``forum_ticket_facts``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.projects.models import Project
    from forum.topics.models import Post


class PlanKind(StrEnum):
    PAY_AS_YOU_GO = "pay_as_you_go"  # a price per ticket upgrade, no subscription
    MONTHLY = "monthly"  # a floor per month, upgrades and consulting hours included
    ENTERPRISE = "enterprise"  # billed every 6 months, guaranteed response times

    @property
    def tier(self) -> str:
        """The support queue tier a ticket paid for under this plan gets."""
        return {"pay_as_you_go": "pay_as_you_go", "monthly": "subscription",
                "enterprise": "enterprise"}[self.value]

    @property
    def interval_months(self) -> int | None:
        return {"pay_as_you_go": None, "monthly": 1, "enterprise": 6}[self.value]


class BillingSettings(Model):
    """A project's billing: its currency, who sells (its legal entity), discounts, how
    revenue is credited, and its own Stripe account (Connect) if it connected one."""

    id = fields.IntField(primary_key=True)
    project: fields.OneToOneRelation[Project] = fields.OneToOneField(
        "forum.Project", related_name="billing_settings", on_delete=fields.CASCADE)
    currency = fields.CharField(max_length=3, default="USD")
    seller_name = fields.CharField(max_length=200, default="")  # the legal entity
    seller_details = fields.TextField(default="")  # address, tax number
    floss_discount_percent = fields.SmallIntField(default=50)
    credit_team = fields.BooleanField(default=False)  # may team members be credited
    split_helped = fields.BooleanField(default=False)  # split among posts marked "helped"
    stripe_account_id = fields.CharField(max_length=64, null=True, unique=True)
    account_charges_enabled = fields.BooleanField(default=False)
    account_payouts_enabled = fields.BooleanField(default=False)
    account_details_submitted = fields.BooleanField(default=False)
    account_checked_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "billing_settings"


class Plan(Model):
    """A way to pay a project for support, set up by its leads. ``price`` is the price of
    one upgrade (pay as you go) or the floor per billing period (monthly, enterprise)."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="plans", on_delete=fields.CASCADE)
    kind = fields.CharEnumField(PlanKind, max_length=20)
    name = fields.CharField(max_length=80)
    description = fields.TextField(default="")
    currency = fields.CharField(max_length=3)
    price = fields.IntField()
    upgrade_priority = fields.SmallIntField(null=True)  # priority an upgrade buys, or keep
    included_upgrades = fields.IntField(default=0)  # per billing period
    extra_upgrade_price = fields.IntField(default=0)  # each upgrade past the included ones
    consulting_hours = fields.IntField(default=0)  # per billing period
    # Enterprise: {"1": [first, next], ...} business minutes per priority.
    response_targets: fields.JSONField[dict[str, list[int]]] = fields.JSONField(default=dict)
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "billing_plans"


class BuyerPurpose(StrEnum):
    PROFESSIONAL = "professional"
    PERSONAL = "personal"
    FLOSS = "floss"  # for another free/open-source project: the FLOSS discount applies


class BuyerProfile(Model):
    """Who is buying from a project, asked on the first upgrade. The FLOSS purpose is
    verified through GitHub (membership of the organisation or collaborator on the
    repository named) and expires."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="buyer_profiles", on_delete=fields.CASCADE)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="buyer_profiles", on_delete=fields.CASCADE)
    purpose = fields.CharEnumField(BuyerPurpose, max_length=16)
    floss_target = fields.CharField(max_length=200, default="")  # "org" or "owner/repo"
    floss_website = fields.CharField(max_length=500, default="")
    github_login = fields.CharField(max_length=100, default="")
    verified_at = fields.DatetimeField(null=True)
    verification_expires_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "billing_buyer_profiles"
        unique_together = (("user", "project"),)


class StripeCustomer(Model):
    """A user's customer object at Stripe (on the platform's account)."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "forum.User", related_name="stripe_customer", on_delete=fields.CASCADE)
    stripe_customer_id = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "billing_customers"


class Subscription(Model):
    """A customer's plan with a project. ``amount`` per billing period, never below the
    plan's floor. ``status`` is Stripe's word for it, re-read on every webhook."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="subscriptions", on_delete=fields.CASCADE)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="subscriptions", on_delete=fields.CASCADE)
    plan: fields.ForeignKeyRelation[Plan] = fields.ForeignKeyField(
        "forum.Plan", related_name="subscriptions", on_delete=fields.RESTRICT)
    amount = fields.IntField()
    currency = fields.CharField(max_length=3)
    status = fields.CharField(max_length=24, default="incomplete")
    stripe_subscription_id = fields.CharField(max_length=64, null=True, unique=True)
    checkout_session_id = fields.CharField(max_length=100, null=True, unique=True)
    current_period_start = fields.DatetimeField(null=True)
    current_period_end = fields.DatetimeField(null=True)
    cancel_at_period_end = fields.BooleanField(default=False)
    canceled_at = fields.DatetimeField(null=True)
    cancel_reason = fields.CharField(max_length=40, default="")  # "customer", "banned" ...
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "billing_subscriptions"
        indexes = (("project_id", "user_id", "status"),)


class PurchaseKind(StrEnum):
    TICKET_UPGRADE = "ticket_upgrade"
    SUBSCRIPTION = "subscription"


class PurchaseState(StrEnum):
    PENDING = "pending"  # a checkout is open
    PAID = "paid"
    INCLUDED = "included"  # an upgrade included in the customer's plan: nothing to pay
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"


class Purchase(Model):
    """One thing bought: a ticket upgrade or the start of a subscription. Its
    ``idempotency_key`` is built from our own ids, so paying twice for the same upgrade
    reuses the same Checkout Session."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="purchases", on_delete=fields.CASCADE)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="purchases", on_delete=fields.CASCADE)
    kind = fields.CharEnumField(PurchaseKind, max_length=20)
    state = fields.CharEnumField(PurchaseState, max_length=12, default=PurchaseState.PENDING)
    ticket_id = fields.IntField(null=True, db_index=True)  # a support queue ticket
    plan: fields.ForeignKeyNullableRelation[Plan] = fields.ForeignKeyField(
        "forum.Plan", related_name="purchases", null=True, on_delete=fields.SET_NULL)
    subscription: fields.ForeignKeyNullableRelation[Subscription] = fields.ForeignKeyField(
        "forum.Subscription", related_name="purchases", null=True, on_delete=fields.SET_NULL)
    tier = fields.CharField(max_length=20)
    priority = fields.SmallIntField(null=True)
    amount = fields.IntField()
    currency = fields.CharField(max_length=3)
    idempotency_key = fields.CharField(max_length=120, unique=True)
    checkout_session_id = fields.CharField(max_length=100, null=True, unique=True)
    payment_intent_id = fields.CharField(max_length=100, null=True, db_index=True)
    invoice_id = fields.CharField(max_length=100, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    paid_at = fields.DatetimeField(null=True)

    class Meta:
        table = "billing_purchases"


class StripeEvent(Model):
    """A webhook event taken in: processed once, by its id."""

    id = fields.IntField(primary_key=True)
    event_id = fields.CharField(max_length=100, unique=True)
    type = fields.CharField(max_length=80)
    account = fields.CharField(max_length=64, null=True)  # a connected account's events
    stripe_created = fields.DatetimeField()
    received_at = fields.DatetimeField(auto_now_add=True)
    processed_at = fields.DatetimeField(null=True)
    result = fields.CharField(max_length=200, default="")

    class Meta:
        table = "billing_stripe_events"


class LedgerKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"  # negative amounts
    DISPUTE = "dispute"  # negative amounts
    DISPUTE_REVERSAL = "dispute_reversal"  # a dispute won: positive again


class LedgerEntry(Model):
    """One money movement. For every row gross = stripe_fee + platform_fee + project_net
    (refunds and disputes negative). ``stripe_object_id`` (the charge, invoice, refund or
    dispute) makes recording a movement twice impossible. ``owed_to_project``: the platform
    collected it (no connected account) and owes the project its net."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="ledger_entries", on_delete=fields.RESTRICT)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="ledger_entries", null=True, on_delete=fields.SET_NULL)
    kind = fields.CharEnumField(LedgerKind, max_length=20)
    purpose = fields.CharField(max_length=20)  # "ticket_upgrade" or "plan_invoice"
    purchase: fields.ForeignKeyNullableRelation[Purchase] = fields.ForeignKeyField(
        "forum.Purchase", related_name="ledger_entries", null=True,
        on_delete=fields.SET_NULL)
    subscription: fields.ForeignKeyNullableRelation[Subscription] = fields.ForeignKeyField(
        "forum.Subscription", related_name="ledger_entries", null=True,
        on_delete=fields.SET_NULL)
    ticket_id = fields.IntField(null=True, db_index=True)
    gross = fields.IntField()
    stripe_fee = fields.IntField(default=0)
    stripe_fee_known = fields.BooleanField(default=False)
    platform_fee = fields.IntField(default=0)
    project_net = fields.IntField()
    currency = fields.CharField(max_length=3)
    stripe_object_id = fields.CharField(max_length=100, unique=True)
    reverses: fields.ForeignKeyNullableRelation[LedgerEntry] = fields.ForeignKeyField(
        "forum.LedgerEntry", related_name="reversals", null=True, on_delete=fields.RESTRICT)
    owed_to_project = fields.BooleanField(default=False)
    occurred_at = fields.DatetimeField()  # when it happened at Stripe
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "billing_ledger"
        # The dashboards sum a period's movements from the index alone (covering).
        indexes = (("project_id", "occurred_at", "currency", "gross", "stripe_fee",
                    "platform_fee", "project_net"),)


class Attribution(Model):
    """Revenue credited to a helper: part of a payment's project net, for the post that
    solved a paid ticket. A refund adds a negative row against the refund's entry."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="attributions", on_delete=fields.RESTRICT)
    entry: fields.ForeignKeyRelation[LedgerEntry] = fields.ForeignKeyField(
        "forum.LedgerEntry", related_name="attributions", on_delete=fields.RESTRICT)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="attributions", on_delete=fields.RESTRICT)
    ticket_id = fields.IntField(db_index=True)
    topic_id = fields.IntField()
    post_id = fields.IntField(null=True)
    amount = fields.IntField()
    currency = fields.CharField(max_length=3)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "billing_attributions"
        unique_together = (("entry", "user", "post_id"),)
        indexes = (("project_id", "user_id", "created_at"),
                   ("project_id", "created_at", "currency", "user_id", "amount"))


class HelpedMark(Model):
    """A post the team marked as having helped solve a paid ticket (a project that splits
    revenue shares it among these posts)."""

    id = fields.IntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "forum.Post", related_name="helped_marks", on_delete=fields.CASCADE)
    ticket_id = fields.IntField(db_index=True)
    marked_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "billing_helped_marks"
        unique_together = (("post", "ticket_id"),)


class BookingState(StrEnum):
    REQUESTED = "requested"  # the customer asked, the team member has not answered
    CONFIRMED = "confirmed"
    DECLINED = "declined"  # by the team member: the hours are given back
    CANCELLED = "cancelled"  # by either side before it starts: the hours are given back


class ConsultingBooking(Model):
    """Consulting hours a plan includes, booked by its customer with a team member. The
    hours count against the billing period in which they were booked."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="consulting_bookings", on_delete=fields.CASCADE)
    subscription: fields.ForeignKeyRelation[Subscription] = fields.ForeignKeyField(
        "forum.Subscription", related_name="consulting_bookings", on_delete=fields.CASCADE)
    customer: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="consulting_booked", on_delete=fields.CASCADE)
    consultant: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="consulting_given", on_delete=fields.CASCADE)
    starts_at = fields.DatetimeField()
    hours = fields.SmallIntField()
    note = fields.TextField(default="")
    state = fields.CharEnumField(BookingState, max_length=12, default=BookingState.REQUESTED)
    reminded_at = fields.DatetimeField(null=True)  # the day-before reminder went out
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "billing_consulting_bookings"
        indexes = (("subscription_id", "created_at"), ("project_id", "starts_at"))


def as_dict(model: Model, *names: str) -> dict[str, Any]:
    """Selected fields of a row, for logs and JSON."""
    return {name: getattr(model, name) for name in names}


class RefundRequest(Model):
    """A refund a project's lead asked Stripe for from the revenue page (the audit trail).
    The ledger row comes from Stripe's ``charge.refunded`` webhook. Until then the amount
    counts as pending, so it cannot be asked for twice."""

    id = fields.IntField(primary_key=True)
    ledger_entry: fields.ForeignKeyRelation[LedgerEntry] = fields.ForeignKeyField(
        "forum.LedgerEntry", related_name="refund_requests", on_delete=fields.RESTRICT)
    amount = fields.IntField()  # minor units of the payment's currency
    reason = fields.CharField(max_length=30)
    note = fields.TextField(default="")
    requested_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="refund_requests", null=True, on_delete=fields.SET_NULL)
    stripe_refund_id = fields.CharField(max_length=100, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "billing_refund_requests"
