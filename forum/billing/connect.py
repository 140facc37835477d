"""Stripe Connect: a project's own Stripe account, onboarded through Account Links.

With a connected account whose charges are enabled, checkout sends the money there and the
platform keeps its fee as an application fee; without one the platform collects and the
ledger shows what it owes the project. The account's status is copied from Stripe on
``account.updated`` and whenever a lead opens the account page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from forum.billing.gateway import gateway_for
from forum.billing.models import BillingSettings

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.platform import Platform
    from forum.projects.models import Project

ACCOUNT_TYPE = "express"


def account_changes(account: dict[str, Any]) -> dict[str, Any]:
    """Our copy of a connected account's status."""
    return {"account_charges_enabled": bool(account.get("charges_enabled")),
            "account_payouts_enabled": bool(account.get("payouts_enabled")),
            "account_details_submitted": bool(account.get("details_submitted")),
            "account_checked_at": datetime.now(UTC)}


async def billing_settings(project: Project) -> BillingSettings:
    row, _ = await BillingSettings.get_or_create(project_id=project.id)
    return row


def account_urls(platform: Platform, project: Project) -> dict[str, str]:
    page = f"{platform.settings.public_url}/p/{project.slug}/billing/account"
    return {"return_url": f"{page}/return", "refresh_url": f"{page}/refresh"}


async def do_connect(platform: Platform, project: Project, actor: User) -> str:
    """Create the project's account once (idempotent by project), then a fresh onboarding
    link; returns the link's URL (single use, expires in minutes)."""
    gateway = gateway_for(platform)
    row = await billing_settings(project)
    if row.stripe_account_id is None:
        account = await gateway.create_account(
            {"type": ACCOUNT_TYPE, "email": project.contact_email or actor.email,
             "business_profile": {"name": project.legal_entity or project.name},
             "metadata": {"project_id": str(project.id), "project_slug": project.slug}},
            idempotency_key=f"account-project-{project.id}")
        await BillingSettings.filter(id=row.id, stripe_account_id__isnull=True).update(
            stripe_account_id=account["id"], **account_changes(account))
        await row.refresh_from_db()
    link = await gateway.create_account_link(
        {"account": row.stripe_account_id, "type": "account_onboarding",
         **account_urls(platform, project)})
    return str(link["url"])


async def do_refresh_account(platform: Platform, project: Project) -> BillingSettings:
    """Read the connected account's status from Stripe now (no account: as it is)."""
    row = await billing_settings(project)
    if row.stripe_account_id is None:
        return row
    account = await gateway_for(platform).retrieve_account(row.stripe_account_id)
    await BillingSettings.filter(id=row.id).update(**account_changes(account))
    await row.refresh_from_db()
    return row


def account_status(row: BillingSettings) -> dict[str, Any]:
    return {"connected": row.stripe_account_id is not None,
            "account_id": row.stripe_account_id,
            "charges_enabled": row.account_charges_enabled,
            "payouts_enabled": row.account_payouts_enabled,
            "details_submitted": row.account_details_submitted,
            "checked_at": row.account_checked_at}
