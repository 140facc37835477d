"""Refunding a payment from the revenue page (form, confirmation, request) and the API.

The pages never write the ledger: Stripe's ``charge.refunded`` webhook does."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.accounts.permissions import current_user, require_user
from forum.billing import refunds
from forum.billing.permissions import access_billing_lead
from forum.billing.plans import parse_money
from forum.billing.schemas import RefundIn, RefundOut
from forum.charts import format_money, money_amount
from forum.projects.permissions import ProjectAccess
from forum.projects.routes import login_redirect, platform_of, see_other
from forum.web.api import api_route
from forum.web.errors import Invalid, UserError
from forum.web.templating import flash, render

TAG = "billing"
REQUESTED = "Refund requested; the ledger shows it when Stripe confirms."


def revenue_url(slug: str) -> str:
    return f"/p/{slug}/billing/revenue"


async def _state(request: Request, access: ProjectAccess) -> refunds.Refundable:
    payment = await refunds.access_payment(access.project,
                                           int(request.path_params["entry_id"]))
    return await refunds.refundable(payment)


async def _form_values(request: Request, state: refunds.Refundable
                       ) -> tuple[int | None, str, str, dict[str, str]]:
    form = await request.form()
    text = str(form.get("amount") or "").strip()
    errors: dict[str, str] = {}
    amount: int | None = None
    if text:
        amount = parse_money(text, state.payment.currency)
        if amount is None:
            errors["amount"] = "Give an amount such as 12.50."
    return amount, str(form.get("reason") or ""), str(form.get("note") or "").strip(), errors


def _context(access: ProjectAccess, state: refunds.Refundable, **extra: object
             ) -> dict[str, object]:
    return {"current_project": access.project, "project": access.project,
            "payment": state.payment, "state": state, "money": format_money,
            "reasons": [r.value for r in refunds.RefundReason],
            "left_text": money_amount(state.left, state.payment.currency), **extra}


async def refund_form(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await access_billing_lead(user, request.path_params["slug"])
    state = await _state(request, access)
    if request.method == "GET":
        return await render(request, "billing/refund_form.html", _context(
            access, state, values={"amount": "", "reason": "requested_by_customer",
                                   "note": ""}, errors={}))
    amount, reason, note, errors = await _form_values(request, state)
    values = {"amount": money_amount(amount, state.payment.currency) if amount else "",
              "reason": reason, "note": note}
    try:
        if errors:
            raise Invalid("The refund cannot be made.", fields=errors)
        amount = refunds.check_refund(state, amount, reason, note)
    except Invalid as exc:
        return await render(request, "billing/refund_form.html", _context(
            access, state, values=values, errors=exc.fields), status_code=422)
    return await render(request, "billing/refund_confirm.html", _context(
        access, state, split=refunds.split(state, amount), reason=reason, note=note,
        amount_text=money_amount(amount, state.payment.currency)))


async def refund_confirm(request: Request) -> Response:
    user = require_user(request)
    access = await access_billing_lead(user, request.path_params["slug"])
    state = await _state(request, access)
    amount, reason, note, errors = await _form_values(request, state)
    try:
        if errors or amount is None:
            raise Invalid("The refund cannot be made.", fields=errors or {
                "amount": "Give an amount."})
        amount = refunds.check_refund(state, amount, reason, note)
        await refunds.do_refund(platform_of(request), user, state, amount, reason, note)
    except UserError as exc:
        detail = "; ".join(exc.fields.values()) if exc.fields else exc.message
        flash(request, f"No refund was made: {detail}", "error")
        return see_other(revenue_url(access.project.slug))
    flash(request, REQUESTED, "success")
    return see_other(revenue_url(access.project.slug))


@api_route("POST", "/api/v1/projects/{slug}/billing/payments/{entry_id:int}/refund",
           body=RefundIn, response=RefundOut, status=201, errors=(403, 404, 409, 422, 502),
           tag=TAG)
async def refund_api(request: Request, body: RefundIn) -> RefundOut:
    """Refund a payment (owner, lead): Stripe refunds it; the ledger follows its webhook."""
    user = require_user(request)
    access = await access_billing_lead(user, request.path_params["slug"])
    state = await _state(request, access)
    note = body.note.strip()
    amount = refunds.check_refund(state, body.amount, body.reason, note)
    shares = refunds.split(state, amount)
    row = await refunds.do_refund(platform_of(request), user, state, amount, body.reason,
                                  note)
    after = await refunds.refundable(state.payment)
    return RefundOut(id=row.id, payment_id=state.payment.id, amount=row.amount,
                     currency=state.payment.currency, reason=row.reason,
                     stripe_refund_id=row.stripe_refund_id,
                     platform_gives_back=shares.platform, project_gives_back=shares.project,
                     left_to_refund=after.left, message=REQUESTED)


def routes() -> list[BaseRoute]:
    return [Route("/p/{slug}/billing/payments/{entry_id:int}/refund", refund_form,
                  methods=["GET", "POST"], name="billing_refund"),
            Route("/p/{slug}/billing/payments/{entry_id:int}/refund/confirm", refund_confirm,
                  methods=["POST"], name="billing_refund_confirm"),
            refund_api]
