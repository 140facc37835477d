"""Plans and prices: the leads' pages and API, the billing settings, and the public list
of a project's plans with its seller."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.accounts.permissions import current_user, require_user
from forum.billing import plans
from forum.billing.models import PlanKind
from forum.billing.permissions import access_billing_lead
from forum.billing.schemas import (
    PRIORITIES,
    BillingSettingsIn,
    BillingSettingsOut,
    PlanIn,
    PlanList,
    PlanOut,
    PlanPatch,
    plan_out,
)
from forum.projects.permissions import access_project
from forum.web.api import api_route
from forum.web.errors import UserError, invalid_from_pydantic
from forum.web.templating import flash, render

TAG = "billing"


async def form_of(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def plan_values(form: dict[str, str], currency: str) -> dict[str, Any]:
    """A plan form as the API's fields; amounts typed as "12.50" become minor units."""
    values: dict[str, Any] = {"name": form.get("name", ""),
                              "description": form.get("description", "").strip()}
    if "kind" in form:
        values["kind"] = form["kind"]
    for name in ("price", "extra_upgrade_price"):
        if name in form:
            amount = plans.parse_money(form[name], currency)
            values[name] = form[name] if amount is None and form[name].strip() else (
                amount if amount is not None else 0)
    for name in ("included_upgrades", "consulting_hours"):
        if name in form:
            values[name] = form[name].strip() or 0
    values["upgrade_priority"] = form.get("upgrade_priority") or None
    targets: dict[str, list[Any]] = {}
    for p in PRIORITIES:
        first, later = form.get(f"target_{p}_first", ""), form.get(f"target_{p}_next", "")
        if first.strip() or later.strip():
            targets[p] = [_int(first), _int(later)]
    values["response_targets"] = targets
    return values


def _int(text: str) -> Any:
    text = text.strip()
    return int(text) if text.isdigit() else -1


# Leads' pages


async def plans_page(request: Request) -> Response:
    access = await access_billing_lead(current_user(request), request.path_params["slug"])
    project = access.project
    settings = await plans.billing_settings(project.id)
    errors: dict[str, str] = {}
    message = ""
    values: dict[str, str] = {"kind": "pay_as_you_go"}
    status = 200
    if request.method == "POST":
        values = await form_of(request)
        try:
            data = PlanIn.model_validate(plan_values(values, settings.currency))
            plan = await plans.check_create_plan(access, data)
        except ValidationError as exc:
            error = invalid_from_pydantic(exc)
            errors, message, status = dict(error.fields), error.message, 422
        except UserError as exc:
            errors, message, status = dict(exc.fields), exc.message, exc.status
        else:
            flash(request, f"Plan “{plan.name}” added.", "success")
            return see(request.url.path)
    return await render(request, "billing/plans.html", {
        "current_project": project, "billing": settings,
        "seller": plans.seller_of(project, settings),
        "plans": await plans.all_plans(project.id), "values": values, "errors": errors,
        "message": message, "kinds": list(PlanKind), "priorities": PRIORITIES,
        "money": plans.format_money, "label": plans.plan_label,
    }, status_code=status)


async def plan_edit(request: Request) -> Response:
    access = await access_billing_lead(current_user(request), request.path_params["slug"])
    plan = await plans.access_plan(access.project.id, request.path_params["plan_id"])
    errors: dict[str, str] = {}
    message = ""
    status = 200
    if request.method == "POST":
        form = await form_of(request)
        try:
            values = plan_values(form, plan.currency)
            values.pop("kind", None)
            patch = PlanPatch.model_validate(values)
            await plans.check_update_plan(access, plan, patch)
        except ValidationError as exc:
            error = invalid_from_pydantic(exc)
            errors, message, status = dict(error.fields), error.message, 422
        except UserError as exc:
            errors, message, status = dict(exc.fields), exc.message, exc.status
        else:
            flash(request, f"Plan “{plan.name}” saved.", "success")
            return see(f"/p/{access.project.slug}/billing/plans")
    return await render(request, "billing/plan_edit.html", {
        "current_project": access.project, "plan": plan, "errors": errors,
        "message": message, "priorities": PRIORITIES,
        "decimal": _decimal(plan.currency),
    }, status_code=status)


def _decimal(currency: str) -> Any:
    def show(amount: int) -> str:
        if currency.upper() in plans.ZERO_DECIMAL:
            return str(amount)
        return f"{amount // 100}.{amount % 100:02d}"
    return show


async def plan_active(request: Request) -> Response:
    access = await access_billing_lead(current_user(request), request.path_params["slug"])
    plan = await plans.access_plan(access.project.id, request.path_params["plan_id"])
    active = (await form_of(request)).get("active") == "1"
    try:
        await plans.check_update_plan(access, plan,
                                       PlanPatch.model_validate({"is_active": active}))
    except UserError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"Plan “{plan.name}” is {'offered' if active else 'withdrawn'}.",
              "success")
    return see(f"/p/{access.project.slug}/billing/plans")


async def settings_page(request: Request) -> Response:
    access = await access_billing_lead(current_user(request), request.path_params["slug"])
    settings = await plans.billing_settings(access.project.id)
    errors: dict[str, str] = {}
    message = ""
    status = 200
    if request.method == "POST":
        form = await form_of(request)
        try:
            data = BillingSettingsIn.model_validate({
                "currency": form.get("currency", "").strip() or None,
                "seller_name": form.get("seller_name", ""),
                "seller_details": form.get("seller_details", ""),
                "floss_discount_percent": form.get("floss_discount_percent") or 0,
                "credit_team": form.get("credit_team") == "1",
                "split_helped": form.get("split_helped") == "1"})
            await plans.check_update_settings(access, data)
        except ValidationError as exc:
            error = invalid_from_pydantic(exc)
            errors, message, status = dict(error.fields), error.message, 422
        except UserError as exc:
            errors, message, status = dict(exc.fields), exc.message, exc.status
        else:
            flash(request, "Billing settings saved.", "success")
            return see(request.url.path)
    return await render(request, "billing/settings.html", {
        "current_project": access.project, "billing": settings, "errors": errors,
        "message": message}, status_code=status)


# The public page


async def public_plans(request: Request) -> Response:
    access = await access_project(current_user(request), request.path_params["slug"])
    project = access.project
    settings = await plans.billing_settings(project.id)
    return await render(request, "billing/public_plans.html", {
        "current_project": project, "seller": plans.seller_of(project, settings),
        "seller_details": settings.seller_details,
        "plans": await plans.active_plans(project.id), "money": plans.format_money,
        "label": plans.plan_label, "floss_discount": settings.floss_discount_percent})


# API


def settings_out(settings: Any) -> BillingSettingsOut:
    return BillingSettingsOut(
        currency=settings.currency, seller_name=settings.seller_name,
        seller_details=settings.seller_details,
        floss_discount_percent=settings.floss_discount_percent,
        credit_team=settings.credit_team, split_helped=settings.split_helped)


@api_route("GET", "/api/v1/projects/{slug}/plans", response=PlanList, auth=False,
           errors=(404,), tag=TAG)
async def api_list_plans(request: Request) -> PlanList:
    """The project's active plans, its currency and its seller."""
    access = await access_project(current_user(request), request.path_params["slug"])
    settings = await plans.billing_settings(access.project.id)
    return PlanList(seller=plans.seller_of(access.project, settings),
                    currency=settings.currency,
                    plans=[plan_out(p) for p in await plans.active_plans(access.project.id)])


@api_route("POST", "/api/v1/projects/{slug}/plans", body=PlanIn, response=PlanOut,
           status=201, errors=(403, 404), tag=TAG)
async def api_create_plan(request: Request, body: PlanIn) -> PlanOut:
    """Add a plan (owner or lead), priced in the project's currency."""
    access = await access_billing_lead(require_user(request), request.path_params["slug"])
    return plan_out(await plans.check_create_plan(access, body))


@api_route("PATCH", "/api/v1/projects/{slug}/plans/{plan_id:int}", body=PlanPatch,
           response=PlanOut, errors=(403, 404), tag=TAG)
async def api_update_plan(request: Request, body: PlanPatch) -> PlanOut:
    """Change or withdraw a plan (owner or lead)."""
    access = await access_billing_lead(require_user(request), request.path_params["slug"])
    plan = await plans.access_plan(access.project.id, request.path_params["plan_id"])
    return plan_out(await plans.check_update_plan(access, plan, body))


@api_route("GET", "/api/v1/projects/{slug}/billing/settings", response=BillingSettingsOut,
           errors=(403, 404), tag=TAG)
async def api_get_settings(request: Request) -> BillingSettingsOut:
    """The project's billing settings (owner or lead)."""
    access = await access_billing_lead(require_user(request), request.path_params["slug"])
    return settings_out(await plans.billing_settings(access.project.id))


@api_route("PATCH", "/api/v1/projects/{slug}/billing/settings", body=BillingSettingsIn,
           response=BillingSettingsOut, errors=(403, 404), tag=TAG)
async def api_update_settings(request: Request, body: BillingSettingsIn) -> BillingSettingsOut:
    """Change the currency, seller, FLOSS discount and crediting (owner or lead)."""
    access = await access_billing_lead(require_user(request), request.path_params["slug"])
    return settings_out(await plans.check_update_settings(access, body))


def routes() -> list[BaseRoute]:
    base = "/p/{slug}/billing"
    return [
        Route(f"{base}/plans", plans_page, methods=["GET", "POST"], name="billing_plans"),
        Route(base + "/plans/{plan_id:int}", plan_edit, methods=["GET", "POST"],
              name="billing_plan_edit"),
        Route(base + "/plans/{plan_id:int}/active", plan_active, methods=["POST"]),
        Route(f"{base}/settings", settings_page, methods=["GET", "POST"],
              name="billing_settings"),
        Route("/p/{slug}/support/plans", public_plans, name="billing_public_plans"),
        api_list_plans, api_create_plan, api_update_plan, api_get_settings,
        api_update_settings,
    ]
