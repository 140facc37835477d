"""Billing's JSON shapes: plans, the project's billing settings, buyer profiles, checkout
and subscriptions. The same models validate the forms and the API and describe the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from forum.billing.models import BuyerPurpose, PlanKind

PRIORITIES = ("1", "2", "3", "4", "5")
Money = Annotated[int, Field(gt=0, le=100_000_000, description="minor units (cents)")]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$", description="ISO 4217 code")]


def check_targets(targets: dict[str, list[int]]) -> dict[str, list[int]]:
    """Business minutes [first, next] for each priority 1..5, first at most next."""
    if set(targets) != set(PRIORITIES):
        raise ValueError("give response times for each priority 1 to 5")
    for priority, pair in targets.items():
        if len(pair) != 2 or any(not isinstance(m, int) or m <= 0 for m in pair):
            raise ValueError(f"priority {priority}: two positive numbers of business minutes")
        if pair[0] > pair[1]:
            raise ValueError(f"priority {priority}: the first response cannot be due after "
                             "the next")
    return {p: list(targets[p]) for p in PRIORITIES}


class PlanFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    description: str = Field("", max_length=4000)
    price: Money
    upgrade_priority: int | None = Field(None, ge=1, le=5)
    included_upgrades: int = Field(0, ge=0, le=1000)
    extra_upgrade_price: int = Field(0, ge=0, le=100_000_000)
    consulting_hours: int = Field(0, ge=0, le=1000)
    response_targets: dict[str, list[int]] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("give the plan a name")
        return value


class PlanIn(PlanFields):
    """A new plan. ``currency`` defaults to the project's and must equal it."""

    kind: PlanKind
    currency: Currency | None = None

    @model_validator(mode="after")
    def _by_kind(self) -> PlanIn:
        check_plan_shape(self.kind, self.response_targets, self.included_upgrades,
                         self.consulting_hours)
        if self.kind == PlanKind.ENTERPRISE:
            self.response_targets = check_targets(self.response_targets)
        return self


def check_plan_shape(kind: PlanKind, targets: dict[str, list[int]], included: int,
                     hours: int) -> None:
    if kind == PlanKind.ENTERPRISE and not targets:
        raise ValueError("an enterprise plan guarantees response times: give them")
    if kind != PlanKind.ENTERPRISE and targets:
        raise ValueError("only enterprise plans guarantee response times")
    if kind == PlanKind.PAY_AS_YOU_GO and (included or hours):
        raise ValueError("pay as you go includes no upgrades or consulting hours")


class PlanPatch(BaseModel):
    """Change a plan; the kind and currency stay."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=80)
    description: str | None = Field(None, max_length=4000)
    price: Money | None = None
    upgrade_priority: int | None = Field(None, ge=1, le=5)
    included_upgrades: int | None = Field(None, ge=0, le=1000)
    extra_upgrade_price: int | None = Field(None, ge=0, le=100_000_000)
    consulting_hours: int | None = Field(None, ge=0, le=1000)
    response_targets: dict[str, list[int]] | None = None
    is_active: bool | None = None


class PlanOut(BaseModel):
    id: int
    kind: PlanKind
    name: str
    description: str
    currency: str
    price: int
    interval_months: int | None
    upgrade_priority: int | None
    included_upgrades: int
    extra_upgrade_price: int
    consulting_hours: int
    response_targets: dict[str, list[int]]
    is_active: bool


class PlanList(BaseModel):
    seller: str
    currency: str
    plans: list[PlanOut]


class BillingSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: Currency | None = None
    seller_name: str | None = Field(None, max_length=200)
    seller_details: str | None = Field(None, max_length=2000)
    floss_discount_percent: int | None = Field(None, ge=0, le=100)
    credit_team: bool | None = None
    split_helped: bool | None = None


class BillingSettingsOut(BaseModel):
    currency: str
    seller_name: str
    seller_details: str
    floss_discount_percent: int
    credit_team: bool
    split_helped: bool


class BuyerIn(BaseModel):
    """Who is buying: the first purchase from a project asks it."""

    model_config = ConfigDict(extra="forbid")

    purpose: BuyerPurpose
    floss_target: str = Field("", max_length=200)
    floss_website: str = Field("", max_length=500)

    @model_validator(mode="after")
    def _floss(self) -> BuyerIn:
        if self.purpose == BuyerPurpose.FLOSS:
            from forum.billing.floss import parse_target

            self.floss_target = parse_target(self.floss_target)
            website = self.floss_website.strip()
            if not website.startswith(("https://", "http://")):
                raise ValueError("the project's website: an http(s) address")
            self.floss_website = website
        else:
            self.floss_target = ""
            self.floss_website = ""
        return self


class BuyerOut(BaseModel):
    purpose: BuyerPurpose
    floss_target: str
    floss_website: str
    github_login: str
    verified_at: datetime | None
    verification_expires_at: datetime | None
    discount_percent: int


class CheckoutOut(BaseModel):
    """Where the customer goes next: Stripe's checkout page, or back to the ticket when
    the upgrade was included in their plan."""

    purchase_id: int
    state: str
    url: str


class UpgradeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    option: str = Field(description="'pay_as_you_go:<plan id>', 'included:<subscription id>'"
                        " or 'extra:<subscription id>'", max_length=40)


class SubscribeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int = Field(gt=0, le=100_000_000, description="per billing period, minor units")


class SubscriptionOut(BaseModel):
    id: int
    project: str
    plan: PlanOut
    amount: int
    currency: str
    status: str
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    included_upgrades_left: int


class SubscriptionList(BaseModel):
    subscriptions: list[SubscriptionOut]


class InvoiceOut(BaseModel):
    id: str
    number: str | None
    status: str | None
    amount_due: int
    amount_paid: int
    currency: str
    created: datetime | None
    hosted_invoice_url: str | None
    invoice_pdf: str | None


class InvoiceList(BaseModel):
    invoices: list[InvoiceOut]


class AmountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int = Field(gt=0, le=100_000_000)


def plan_out(plan: Any) -> PlanOut:
    return PlanOut(id=plan.id, kind=plan.kind, name=plan.name, description=plan.description,
                   currency=plan.currency, price=plan.price,
                   interval_months=PlanKind(plan.kind).interval_months,
                   upgrade_priority=plan.upgrade_priority,
                   included_upgrades=plan.included_upgrades,
                   extra_upgrade_price=plan.extra_upgrade_price,
                   consulting_hours=plan.consulting_hours,
                   response_targets=plan.response_targets or {}, is_active=plan.is_active)


class UpgradeOptionOut(BaseModel):
    key: str
    title: str
    buys: str
    amount: int
    list_amount: int
    currency: str
    tier: str
    priority: int | None
    owned: bool = Field(description="the ticket already has this tier and priority")


class UpgradeOfferOut(BaseModel):
    """A ticket's upgrade page: where it stands and what the requester may buy."""

    reference: str
    state: str
    tier: str
    priority: int
    queue_position: int | None
    seller: str
    can_buy: bool
    refusal: str | None
    buyer_profile_needed: bool
    discount_percent: int
    options: list[UpgradeOptionOut]


# Consulting hours


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consultant: str = Field(min_length=1, max_length=30, description="A team member's username")
    starts_at: AwareDatetime
    hours: int = Field(ge=1, le=40)
    note: str = Field(default="", max_length=2000)


class BookingOut(BaseModel):
    id: int
    customer: str
    consultant: str
    starts_at: datetime
    hours: int
    note: str
    state: str


class ConsultingOut(BaseModel):
    hours_included: int = Field(description="Per billing period; 0 without such a plan")
    hours_left: int
    team: list[str]
    bookings: list[BookingOut]


class RefundIn(BaseModel):
    """A refund of a payment: ``amount`` in the payment currency's minor units (all that
    is left when omitted)."""

    amount: int | None = None
    reason: str = "requested_by_customer"
    note: str = ""


class RefundOut(BaseModel):
    id: int
    payment_id: int
    amount: int
    currency: str
    reason: str
    stripe_refund_id: str
    platform_gives_back: int
    project_gives_back: int
    left_to_refund: int
    message: str
