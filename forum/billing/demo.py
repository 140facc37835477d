"""``forum demo``: the demo project sells support with one plan of each kind, in USD, as
"Demo Project Support"; seeded idempotently (an existing plan of the same name is kept)."""

from __future__ import annotations

from typing import Any

from forum.billing.models import BillingSettings, Plan, PlanKind

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
