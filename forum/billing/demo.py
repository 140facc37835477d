"""``forum demo``: the demo project sells support with one plan of each kind, in USD, as
"Demo Project Support"; seeded idempotently (an existing plan of the same name is kept),
with months of payments for the dashboards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from forum import events
from forum.accounts.models import User
from forum.billing.models import (
    Attribution,
    BillingSettings,
    LedgerEntry,
    LedgerKind,
    Plan,
    PlanKind,
)

if TYPE_CHECKING:
    from forum.platform import Platform

SELLER = "Demo Project Support"
DEMO_PLANS: tuple[dict[str, Any], ...] = (
    {"kind": PlanKind.PAY_AS_YOU_GO, "name": "Priority ticket", "price": 4900,
     "upgrade_priority": 2,
     "description": "One ticket moves ahead of the free queue at priority P2."},
    {"kind": PlanKind.MONTHLY, "name": "Monthly support", "price": 19900,
     "upgrade_priority": 2, "included_upgrades": 3, "extra_upgrade_price": 2900,
     "consulting_hours": 2,
     "description": "Three priority tickets a month, more at a lower price, and two hours "
                    "with the team."},
    {"kind": PlanKind.ENTERPRISE, "name": "Enterprise", "price": 600000,
     "upgrade_priority": 1, "included_upgrades": 30, "extra_upgrade_price": 1900,
     "consulting_hours": 24,
     "response_targets": {"1": [60, 120], "2": [120, 240], "3": [240, 480],
                          "4": [480, 960], "5": [960, 1920]},
     "description": "Guaranteed response times in business hours, billed every six months."},
)


async def seed_plans(project_id: int) -> list[str]:
    created: list[str] = []
    settings, made = await BillingSettings.get_or_create(
        project_id=project_id, defaults={"currency": "USD", "seller_name": SELLER})
    if made:
        created.append(f"billing settings (seller {SELLER})")
    for values in DEMO_PLANS:
        fields = {k: v for k, v in values.items() if k != "name"}
        _, made = await Plan.get_or_create(
            project_id=project_id, name=values["name"],
            defaults={**fields, "currency": settings.currency})
        if made:
            created.append(f"plan {values['name']}")
    return created


# Eight months of payments, so the demo's revenue and earnings charts have something to
# show. They are ledger rows like Stripe's would make (fee 2.9% + 30 cents, the platform's
# 5%), marked "demo_" where a real row names its Stripe object; no Stripe call is made.
DEMO_MONTHS = 8
DEMO_HELPERS = ("carol", "dmitri", "emeka")


def _months_back(now: datetime, months: int) -> datetime:
    year, month = now.year, now.month - months
    while month < 1:
        year, month = year - 1, month + 12
    return now.replace(year=year, month=month, day=min(now.day, 28))


def _fees(gross: int) -> tuple[int, int, int]:
    stripe_fee = gross * 29 // 1000 + 30
    platform_fee = gross * 5 // 100
    return stripe_fee, platform_fee, gross - stripe_fee - platform_fee


async def seed_history(platform: Platform, project_id: int, user_ids: dict[str, int]
                       ) -> list[str]:
    """Payments, one refund and helpers' credits over the last months (idempotent)."""
    if await LedgerEntry.exists(project_id=project_id, stripe_object_id__startswith="demo_"):
        return []
    customer = user_ids.get("bob")
    # The demo's community helpers (user_ids names only the demo logins).
    helpers = [int(user.id) for user in await User.filter(
        username__in=DEMO_HELPERS).order_by("username").only("id")]
    solved = await platform.ticket_facts(project_id, number=4)  # the demo's solved ticket
    if customer is None or not helpers or solved is None:
        return []
    now = datetime.now(UTC)
    credits: list[events.HelpCredited] = []
    payments = 0
    async with in_transaction():
        for back in range(DEMO_MONTHS - 1, -1, -1):
            month = _months_back(now, back)
            upgrades = 2 + (DEMO_MONTHS - back) // 2  # growing, as a project's support does
            rows = [("plan_invoice", 19900, None)] + [("ticket_upgrade", 4900, solved)
                                                      for _ in range(upgrades)]
            for n, (purpose, gross, facts) in enumerate(rows):
                stripe_fee, platform_fee, net = _fees(gross)
                entry = await LedgerEntry.create(
                    project_id=project_id, user_id=customer, kind=LedgerKind.PAYMENT,
                    purpose=purpose, ticket_id=facts.ticket_id if facts else None,
                    gross=gross, stripe_fee=stripe_fee, stripe_fee_known=True,
                    platform_fee=platform_fee, project_net=net, currency="USD",
                    stripe_object_id=f"demo_ch_{back}_{n}", owed_to_project=True,
                    occurred_at=month - timedelta(hours=n))
                payments += 1
                if facts is None:
                    continue
                helper = helpers[(back + n) % len(helpers)]
                attribution = await Attribution.create(
                    project_id=project_id, entry=entry, user_id=helper,
                    ticket_id=facts.ticket_id, topic_id=facts.topic_id, post_id=None,
                    amount=net, currency="USD")
                credits.append(events.HelpCredited(
                    project=project_id, attribution_id=attribution.id, user_id=helper,
                    ticket_id=facts.ticket_id, topic_id=facts.topic_id, post_id=None,
                    amount=net, currency="USD", reference=facts.reference))
    for credit in credits:
        await platform.emit(credit)
    return [f"{payments} demo payments over {DEMO_MONTHS} months, "
            f"{len(credits)} helpers' credits"]
