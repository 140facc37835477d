"""``/billing``: the signed-in customer's subscriptions, their amounts, cancelling, and
invoices; and the same as JSON under ``/api/v1/billing``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.accounts.permissions import current_user, require_user
from forum.billing import customer, plans
from forum.billing.checkout_routes import form_of, login_redirect, platform_of, see
from forum.billing.schemas import (
    AmountIn,
    InvoiceList,
    InvoiceOut,
    SubscriptionList,
    SubscriptionOut,
    plan_out,
)
from forum.web.api import api_route
from forum.web.errors import UserError
from forum.web.templating import flash, render

TAG = "billing"


def _when(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else None


def invoice_out(invoice: dict[str, Any]) -> InvoiceOut:
    return InvoiceOut(
        id=str(invoice.get("id")), number=invoice.get("number"), status=invoice.get("status"),
        amount_due=int(invoice.get("amount_due") or 0),
        amount_paid=int(invoice.get("amount_paid") or 0),
        currency=str(invoice.get("currency") or "").upper(),
        created=_when(invoice.get("created")),
        hosted_invoice_url=invoice.get("hosted_invoice_url"),
        invoice_pdf=invoice.get("invoice_pdf"))


def subscription_out(view: customer.SubscriptionView) -> SubscriptionOut:
    sub = view.subscription
    return SubscriptionOut(
        id=sub.id, project=view.project_slug, plan=plan_out(view.plan), amount=sub.amount,
        currency=sub.currency, status=sub.status,
        current_period_start=sub.current_period_start,
        current_period_end=sub.current_period_end,
        cancel_at_period_end=sub.cancel_at_period_end, included_upgrades_left=view.included_left)


async def billing_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    platform = platform_of(request)
    error = ""
    try:
        invoices = [invoice_out(i) for i in await customer.my_invoices(platform, user)]
    except UserError as exc:  # Stripe unreachable: the page still shows the rest
        invoices, error = [], exc.message
    return await render(request, "billing/customer.html", {
        "subscriptions": await customer.my_subscriptions(user), "invoices": invoices,
        "money": plans.format_money, "error": error,
        "decimal": lambda amount, currency: plans.format_money(amount, currency).rsplit(
            " ", 1)[0].replace(",", ""),
    })


async def change_amount(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    sub = await customer.access_subscription(user, request.path_params["id"])
    typed = (await form_of(request)).get("amount", "")
    amount = plans.parse_money(typed, sub.currency)
    try:
        if amount is None or amount <= 0:
            raise UserError(422, "Type the amount you want to pay, e.g. 250.00.")
        await customer.check_change_amount(platform_of(request), user, sub, amount)
    except UserError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"From the next period you pay {plans.format_money(amount, sub.currency)}"
              ".", "success")
    return see("/billing")


async def cancel(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    sub = await customer.access_subscription(user, request.path_params["id"])
    try:
        await customer.check_cancel(platform_of(request), user, sub)
    except UserError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, "Your subscription ends with the current period.", "success")
    return see("/billing")


@api_route("GET", "/api/v1/billing/subscriptions", response=SubscriptionList, tag=TAG)
async def api_subscriptions(request: Request) -> SubscriptionList:
    """Your subscriptions across projects, with the upgrades left this period."""
    user = require_user(request)
    return SubscriptionList(subscriptions=[
        subscription_out(v) for v in await customer.my_subscriptions(user)])


async def _view(user: Any, sub_id: int) -> SubscriptionOut:
    for view in await customer.my_subscriptions(user):
        if view.subscription.id == sub_id:
            return subscription_out(view)
    raise AssertionError("an accessible subscription is listed")


@api_route("PATCH", "/api/v1/billing/subscriptions/{id:int}", body=AmountIn,
           response=SubscriptionOut, errors=(404, 409), tag=TAG)
async def api_change_amount(request: Request, body: AmountIn) -> SubscriptionOut:
    """Change what you pay per period (not below the plan's floor), from the next one."""
    user = require_user(request)
    sub = await customer.access_subscription(user, request.path_params["id"])
    await customer.check_change_amount(platform_of(request), user, sub, body.amount)
    return await _view(user, sub.id)


@api_route("POST", "/api/v1/billing/subscriptions/{id:int}/cancel",
           response=SubscriptionOut, errors=(404, 409), tag=TAG)
async def api_cancel(request: Request) -> SubscriptionOut:
    """Cancel at the end of the current period."""
    user = require_user(request)
    sub = await customer.access_subscription(user, request.path_params["id"])
    await customer.check_cancel(platform_of(request), user, sub)
    return await _view(user, sub.id)


@api_route("GET", "/api/v1/billing/invoices", response=InvoiceList, tag=TAG)
async def api_invoices(request: Request) -> InvoiceList:
    """Your invoices, with links to view and download them."""
    user = require_user(request)
    return InvoiceList(invoices=[invoice_out(i) for i in await customer.my_invoices(
        platform_of(request), user)])


def routes() -> list[BaseRoute]:
    return [
        Route("/billing", billing_page, name="billing_customer"),
        Route("/billing/subscriptions/{id:int}/amount", change_amount, methods=["POST"]),
        Route("/billing/subscriptions/{id:int}/cancel", cancel, methods=["POST"]),
        api_subscriptions, api_change_amount, api_cancel, api_invoices,
    ]


