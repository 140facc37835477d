"""Plans and prices: what a project's leads offer and in which currency, and who sells.

A plan's ``price`` is the price of one upgrade (pay as you go) or the floor per billing
period (monthly, enterprise). Every plan is in the project's currency.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from tortoise.transactions import in_transaction

from forum.billing.models import BillingSettings, Plan, PlanKind
from forum.billing.schemas import BillingSettingsIn, PlanIn, PlanPatch
from forum.projects.models import Project
from forum.projects.permissions import ProjectAccess
from forum.web.errors import Invalid, NotFound, invalid_from_pydantic

# Currencies whose minor unit is the unit itself (Stripe's list of zero-decimal currencies).
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG",
                          "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"})


def format_money(amount: int, currency: str) -> str:
    """``1250, "usd"`` -> ``"12.50 USD"``."""
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return f"{amount:,} {code}"
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{sign}{whole:,}.{cents:02d} {code}"


def parse_money(text: str, currency: str) -> int | None:
    """``"12.50"`` -> 1250 minor units; None when it is not an amount."""
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        if currency.upper() in ZERO_DECIMAL:
            return int(text)
        whole, _, frac = text.partition(".")
        if len(frac) > 2 or (whole and not whole.isdigit()) or (frac and not frac.isdigit()):
            return None
        return int(whole or "0") * 100 + int(frac.ljust(2, "0") or "0")
    except ValueError:
        return None


async def billing_settings(project_id: int) -> BillingSettings:
    settings, _ = await BillingSettings.get_or_create(project_id=project_id)
    return settings


def seller_of(project: Project, settings: BillingSettings) -> str:
    """The legal entity named as the seller on checkout pages and plans."""
    return settings.seller_name or project.legal_entity or project.name


async def active_plans(project_id: int) -> list[Plan]:
    return await Plan.filter(project_id=project_id, is_active=True).order_by("kind", "price",
                                                                            "id")


async def all_plans(project_id: int) -> list[Plan]:
    return await Plan.filter(project_id=project_id).order_by("-is_active", "kind", "price",
                                                            "id")


async def access_plan(project_id: int, plan_id: int) -> Plan:
    plan = await Plan.get_or_none(id=plan_id, project_id=project_id)
    if plan is None:
        raise NotFound("No such plan.")
    return plan


def _currency_matches(plan_currency: str, settings: BillingSettings) -> None:
    if plan_currency.upper() != settings.currency.upper():
        raise Invalid(f"This project sells in {settings.currency.upper()}; price the plan "
                      f"in {settings.currency.upper()}.",
                      fields={"currency": f"must be {settings.currency.upper()}"})


async def check_create_plan(access: ProjectAccess, data: PlanIn) -> Plan:
    """A lead adds a plan in the project's currency (the caller checked the lead)."""
    settings = await billing_settings(access.project.id)
    currency = (data.currency or settings.currency).upper()
    _currency_matches(currency, settings)
    return await do_create_plan(access.project, data, currency)


async def do_create_plan(project: Project, data: PlanIn, currency: str) -> Plan:
    values = data.model_dump(exclude={"currency"})
    return await Plan.create(project_id=project.id, currency=currency, **values)


async def check_update_plan(access: ProjectAccess, plan: Plan, patch: PlanPatch) -> Plan:
    """Change a plan; the whole plan is validated again as it will be."""
    changes = patch.model_dump(exclude_unset=True)
    is_active = changes.pop("is_active", None)
    merged: dict[str, Any] = {
        "kind": plan.kind, "currency": plan.currency, "name": plan.name,
        "description": plan.description, "price": plan.price,
        "upgrade_priority": plan.upgrade_priority,
        "included_upgrades": plan.included_upgrades,
        "extra_upgrade_price": plan.extra_upgrade_price,
        "consulting_hours": plan.consulting_hours,
        "response_targets": plan.response_targets or {}, **changes}
    try:
        checked = PlanIn.model_validate(merged)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from None
    if is_active:  # a plan in an old currency cannot come back
        _currency_matches(plan.currency, await billing_settings(access.project.id))
    return await do_update_plan(plan, checked, is_active)


async def do_update_plan(plan: Plan, data: PlanIn, is_active: bool | None) -> Plan:
    values = data.model_dump(exclude={"kind", "currency"})
    if is_active is not None:
        values["is_active"] = is_active
    plan.update_from_dict(values)
    await plan.save()
    return plan


async def check_update_settings(access: ProjectAccess, data: BillingSettingsIn
                                ) -> BillingSettings:
    settings = await billing_settings(access.project.id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "currency" in changes:
        changes["currency"] = changes["currency"].upper()
        if changes["currency"] != settings.currency and await Plan.exists(
                project_id=access.project.id, is_active=True):
            raise Invalid("Deactivate the project's plans before changing its currency: "
                          "their prices are in " + settings.currency + ".",
                          fields={"currency": "active plans use another currency"})
    for text in ("seller_name", "seller_details"):
        if text in changes:
            changes[text] = changes[text].strip()
    return await do_update_settings(settings, changes)


async def do_update_settings(settings: BillingSettings, changes: dict[str, Any]
                             ) -> BillingSettings:
    async with in_transaction():
        settings.update_from_dict(changes)
        await settings.save()
    return settings


def plan_label(plan: Plan) -> str:
    kind = PlanKind(plan.kind)
    per = {PlanKind.PAY_AS_YOU_GO: "per upgrade", PlanKind.MONTHLY: "per month, at least",
           PlanKind.ENTERPRISE: "per 6 months, at least"}[kind]
    return f"{format_money(plan.price, plan.currency)} {per}"
