"""The project's own Stripe account (Connect), for its leads: status, connect, onboarding
return and refresh, and the status as JSON."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.accounts.permissions import current_user, require_user
from forum.billing.connect import account_status, billing_settings, do_connect, do_refresh_account
from forum.projects.permissions import Action, access_project
from forum.projects.routes import login_redirect, platform_of, see_other
from forum.web.api import api_route
from forum.web.errors import UserError
from forum.web.templating import flash, render

TAG = "billing"


class AccountOut(BaseModel):
    connected: bool
    account_id: str | None
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    checked_at: datetime | None


def account_page_url(slug: str) -> str:
    return f"/p/{slug}/billing/account"


async def account_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await access_project(user, request.path_params["slug"], Action.MANAGE_SETTINGS)
    message = ""
    try:
        row = await do_refresh_account(platform_of(request), access.project)
    except UserError as exc:
        row = await billing_settings(access.project)
        message = f"Could not read the account's status from Stripe: {exc.message}"
    return await render(request, "billing/connect_account.html", {
        "current_project": access.project, "project": access.project,
        "status": account_status(row), "message": message,
        "fee": await _fee(request)})


async def _fee(request: Request) -> str:
    from forum.projects.service import platform_fee_percent

    return f"{await platform_fee_percent(platform_of(request)):f}".rstrip("0").rstrip(".")


async def connect(request: Request) -> Response:
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"], Action.MANAGE_SETTINGS)
    try:
        url = await do_connect(platform_of(request), access.project, user)
    except UserError as exc:
        flash(request, exc.message, "error")
        return see_other(account_page_url(access.project.slug))
    return RedirectResponse(url, status_code=303)


async def onboarding_return(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await access_project(user, request.path_params["slug"], Action.MANAGE_SETTINGS)
    try:
        row = await do_refresh_account(platform_of(request), access.project)
    except UserError as exc:
        flash(request, exc.message, "error")
    else:
        if row.account_charges_enabled:
            flash(request, "Your Stripe account is connected: payments now go to it.",
                  "success")
        else:
            flash(request, "Stripe still needs some details before the account can take "
                  "payments.", "info")
    return see_other(account_page_url(access.project.slug))


async def onboarding_refresh(request: Request) -> Response:
    """Stripe sends the lead here when an onboarding link expired: make a fresh one."""
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await access_project(user, request.path_params["slug"], Action.MANAGE_SETTINGS)
    row = await billing_settings(access.project)
    if row.stripe_account_id is None:
        return see_other(account_page_url(access.project.slug))
    try:
        url = await do_connect(platform_of(request), access.project, user)
    except UserError as exc:
        flash(request, exc.message, "error")
        return see_other(account_page_url(access.project.slug))
    return RedirectResponse(url, status_code=303)


@api_route("GET", "/api/v1/projects/{slug}/billing/account", response=AccountOut,
           errors=(403, 404), tag=TAG)
async def account_api(request: Request) -> AccountOut:
    """The project's connected Stripe account (owner or lead)."""
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"], Action.MANAGE_SETTINGS)
    row = await billing_settings(access.project)
    return AccountOut(**account_status(row))


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/billing/account", account_page, name="billing_account"),
        Route("/p/{slug}/billing/account/connect", connect, methods=["POST"],
              name="billing_account_connect"),
        Route("/p/{slug}/billing/account/return", onboarding_return,
              name="billing_account_return"),
        Route("/p/{slug}/billing/account/refresh", onboarding_refresh,
              name="billing_account_refresh"),
        account_api,
    ]
