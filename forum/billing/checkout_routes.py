"""Buying: a ticket's upgrade page, who is buying (with the FLOSS verification through
GitHub), subscribing to a plan, and their JSON twins."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.accounts.models import User
from forum.accounts.permissions import current_user, require_user
from forum.billing import buyer as buyers
from forum.billing import checkout, floss, plans
from forum.billing.models import BuyerPurpose, PlanKind
from forum.billing.permissions import ticket_role
from forum.billing.schemas import (
    BuyerIn,
    BuyerOut,
    CheckoutOut,
    SubscribeIn,
    UpgradeIn,
    UpgradeOfferOut,
    UpgradeOptionOut,
)
from forum.hookspecs import TicketFacts
from forum.platform import Platform
from forum.projects.permissions import ProjectAccess, access_project
from forum.web.api import api_route
from forum.web.errors import NotFound, Unauthenticated, UserError, invalid_from_pydantic
from forum.web.templating import flash, render

TAG = "billing"
SESSION_KEY = "billing_floss"


def platform_of(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def login_redirect(request: Request) -> RedirectResponse:
    return see(f"/login?{urlencode({'next': request.url.path})}")


def local_path(value: str | None, default: str) -> str:
    """Only a path on this site (no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


async def form_of(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


# A ticket's upgrade


async def _ticket(request: Request, user: User | None
                  ) -> tuple[ProjectAccess, TicketFacts, str]:
    access = await access_project(user, request.path_params["slug"])
    facts = await platform_of(request).ticket_facts(access.project.id,
                                        number=request.path_params["number"])
    if facts is None:
        raise NotFound("No such ticket.")
    return access, facts, ticket_role(access, user, facts)


async def _offer(request: Request, user: User, access: ProjectAccess, facts: TicketFacts,
                 role: str) -> dict[str, Any]:
    project = access.project
    settings = await plans.billing_settings(project.id)
    profile = await buyers.buyer_profile(user.id, project.id)
    discount = buyers.discount_percent(profile, settings)
    is_requester = role == "requester"
    refusal = (await checkout.pay_refusal(platform_of(request), user, project.id)
               if is_requester else None)
    return {
        "current_project": project, "p": project, "facts": facts, "role": role,
        "options": await checkout.upgrade_options(facts.requester_id, project.id, facts,
                                                  discount if is_requester else 0),
        "seller": plans.seller_of(project, settings),
        "seller_details": settings.seller_details, "refusal": refusal,
        "profile": profile, "discount": discount,
        "open": facts.state not in checkout.CLOSED_TICKET_STATES,
        "buyer_url": f"/p/{project.slug}/billing/buyer?"
                     + urlencode({"next": request.url.path}),
    }


async def upgrade_page(request: Request) -> Response:
    user = current_user(request)
    try:
        access, facts, role = await _ticket(request, user)
    except Unauthenticated:
        return login_redirect(request)
    assert user is not None  # a visitor without an account was sent to log in
    context = await _offer(request, user, access, facts, role)
    status = 200
    if request.method == "POST":
        if role != "requester":
            raise UserError(403, "Only the person who opened this ticket may upgrade it.")
        option = (await form_of(request)).get("option", "")
        try:
            result = await checkout.check_upgrade(platform_of(request), user, access.project,
                                                  facts, option)
        except UserError as exc:
            if exc.code == "buyer_profile_required":
                return see(context["buyer_url"])
            context["error"] = exc.message
            status = exc.status
        else:
            if result.purchase.state == "included":
                flash(request, f"{facts.reference} is upgraded: included in your plan.",
                      "success")
                return see(result.url)
            return see(continue_url(result.purchase.id))
    if request.query_params.get("checkout") == "cancelled":
        context["notice"] = "The payment was cancelled; nothing was charged."
    return await render(request, "billing/upgrade.html", context, status_code=status)


@api_route("GET", "/api/v1/projects/{slug}/tickets/{number:int}/upgrade",
           response=UpgradeOfferOut, errors=(403, 404), tag=TAG)
async def api_upgrade_offer(request: Request) -> UpgradeOfferOut:
    """A ticket's place in the queue and the upgrades its requester may buy."""
    user = require_user(request)
    access, facts, role = await _ticket(request, user)
    ctx = await _offer(request, user, access, facts, role)
    return UpgradeOfferOut(
        reference=facts.reference, state=facts.state, tier=facts.tier,
        priority=facts.priority, queue_position=facts.queue_position, seller=ctx["seller"],
        can_buy=role == "requester" and ctx["open"] and not ctx["refusal"],
        refusal=ctx["refusal"], buyer_profile_needed=ctx["profile"] is None,
        discount_percent=ctx["discount"],
        options=[UpgradeOptionOut(key=o.key, title=o.title, buys=o.buys, amount=o.amount,
                                  list_amount=o.list_amount, currency=o.currency,
                                  tier=o.tier, priority=o.priority, owned=o.owned)
                 for o in ctx["options"]])


@api_route("POST", "/api/v1/projects/{slug}/tickets/{number:int}/upgrade", body=UpgradeIn,
           response=CheckoutOut, errors=(403, 404, 409), tag=TAG)
async def api_upgrade(request: Request, body: UpgradeIn) -> CheckoutOut:
    """Buy an upgrade for your ticket: the Checkout URL, or the ticket when included."""
    user = require_user(request)
    access, facts, _role = await _ticket(request, user)
    result = await checkout.check_upgrade(platform_of(request), user, access.project, facts,
                                          body.option)
    return CheckoutOut(purchase_id=result.purchase.id, state=result.purchase.state.value,
                       url=result.url)


# Who is buying


async def buyer_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await access_project(user, request.path_params["slug"])
    project = access.project
    settings = await plans.billing_settings(project.id)
    profile = await buyers.buyer_profile(user.id, project.id)
    back = local_path(request.query_params.get("next"), f"/p/{project.slug}/support/plans")
    errors: dict[str, str] = {}
    message = ""
    status = 200
    values: dict[str, str] = {
        "purpose": profile.purpose.value if profile else "",
        "floss_target": profile.floss_target if profile else "",
        "floss_website": profile.floss_website if profile else ""}
    if request.method == "POST":
        values = await form_of(request)
        back = local_path(values.get("next"), back)
        try:
            data = BuyerIn.model_validate({k: values.get(k, "") for k in (
                "purpose", "floss_target", "floss_website")})
        except ValidationError as exc:
            error = invalid_from_pydantic(exc)
            errors, message, status = dict(error.fields), error.message, 422
        else:
            profile = await buyers.do_save_buyer(user.id, project.id, data)
            if profile.purpose == BuyerPurpose.FLOSS and not buyers.floss_verified(profile):
                return see(f"/p/{project.slug}/billing/buyer/verify?"
                           + urlencode({"next": back}))
            flash(request, "Thank you; that is noted.", "success")
            return see(back)
    return await render(request, "billing/buyer.html", {
        "current_project": project, "values": values, "errors": errors,
        "message": message, "next": back, "profile": profile,
        "verified": buyers.floss_verified(profile),
        "discount": settings.floss_discount_percent,
        "github_ready": bool(platform_of(request).settings.github_client_id),
    }, status_code=status)


async def floss_verify(request: Request) -> Response:
    """Off to GitHub to prove the FLOSS claim (scope ``read:org``)."""
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await access_project(user, request.path_params["slug"])
    profile = await buyers.buyer_profile(user.id, access.project.id)
    if profile is None or profile.purpose != BuyerPurpose.FLOSS:
        return see(f"/p/{access.project.slug}/billing/buyer")
    client = floss.floss_client(request)
    request.session[SESSION_KEY] = {
        "project": access.project.slug,
        "next": local_path(request.query_params.get("next"),
                           f"/p/{access.project.slug}/support/plans")}
    response: Response = await client.authorize_redirect(
        request, floss.callback_url(platform_of(request).settings))
    return response


async def floss_callback(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    pending = request.session.pop(SESSION_KEY, None)
    if not isinstance(pending, dict) or not isinstance(pending.get("project"), str):
        raise UserError(400, "This verification was not started here; start it again from "
                        "the project's billing page.", code="oauth_failed")
    access = await access_project(user, pending["project"])
    back = local_path(pending.get("next"), f"/p/{access.project.slug}/support/plans")
    profile = await buyers.buyer_profile(user.id, access.project.id)
    if profile is None or profile.purpose != BuyerPurpose.FLOSS:
        return see(f"/p/{access.project.slug}/billing/buyer")
    client = floss.floss_client(request)
    try:
        token = await client.authorize_access_token(request)
        login = await floss.verified_login(client, token, profile.floss_target)
    except floss.OAuthFailure as exc:
        reason = getattr(exc, "description", None) or getattr(exc, "error", None) or "refused"
        flash(request, f"GitHub did not confirm it ({reason}). You can try again, or buy "
              "without the discount.", "error")
        return see(back)
    except (httpx.HTTPError, ValueError):
        raise UserError(502, "We could not reach GitHub. Please try again in a moment.",
                        code="github_unreachable") from None
    if login is None:
        what = ("a collaborator on " if "/" in profile.floss_target
                else "an active member of ") + profile.floss_target
        flash(request, f"GitHub does not show you as {what}, so the free/open-source "
              "discount does not apply.", "error")
        return see(back)
    await buyers.do_record_verification(profile, login)
    flash(request, f"Verified: {login} works on {profile.floss_target}. The free/open-source "
          "discount applies for a year.", "success")
    return see(back)


@api_route("GET", "/api/v1/projects/{slug}/billing/buyer", response=BuyerOut,
           errors=(404,), tag=TAG)
async def api_get_buyer(request: Request) -> BuyerOut:
    """Who you said is buying from this project, and your discount."""
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"])
    profile = await buyers.buyer_profile(user.id, access.project.id)
    if profile is None:
        raise NotFound("You have not bought from this project yet.")
    return buyers.buyer_out(profile, await plans.billing_settings(access.project.id))


@api_route("PUT", "/api/v1/projects/{slug}/billing/buyer", body=BuyerIn, response=BuyerOut,
           errors=(404,), tag=TAG)
async def api_put_buyer(request: Request, body: BuyerIn) -> BuyerOut:
    """Say who is buying (a FLOSS claim is verified on the web, through GitHub)."""
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"])
    profile = await buyers.do_save_buyer(user.id, access.project.id, body)
    return buyers.buyer_out(profile, await plans.billing_settings(access.project.id))


# Subscribing to a plan


async def subscribe_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await access_project(user, request.path_params["slug"])
    project = access.project
    plan = await plans.access_plan(project.id, request.path_params["plan_id"])
    if not plan.is_active or plan.kind == PlanKind.PAY_AS_YOU_GO:
        raise NotFound("No such plan.")
    platform = platform_of(request)
    settings = await plans.billing_settings(project.id)
    floor = await checkout.subscription_floor(user.id, plan)
    profile = await buyers.buyer_profile(user.id, project.id)
    context: dict[str, Any] = {
        "current_project": project, "plan": plan, "floor": floor,
        "money": plans.format_money, "label": plans.plan_label,
        "seller": plans.seller_of(project, settings),
        "seller_details": settings.seller_details, "profile": profile,
        "refusal": await checkout.pay_refusal(platform, user, project.id),
        "amount": plans.format_money(floor, plan.currency).rsplit(" ", 1)[0].replace(",", ""),
        "buyer_url": f"/p/{project.slug}/billing/buyer?" + urlencode({"next": request.url.path}),
        "error": "",
    }
    status = 200
    if request.method == "POST":
        typed = (await form_of(request)).get("amount", "")
        context["amount"] = typed
        amount = plans.parse_money(typed, plan.currency)
        try:
            if amount is None or amount <= 0:
                raise UserError(422, "Type the amount you want to pay, e.g. 250.00.")
            result = await checkout.check_subscribe(platform, user, project, plan, amount)
        except UserError as exc:
            if exc.code == "buyer_profile_required":
                return see(context["buyer_url"])
            context["error"], status = exc.message, exc.status
        else:
            return see(continue_url(result.purchase.id))
    if request.query_params.get("checkout") == "cancelled":
        context["error"] = "The payment was cancelled; nothing was charged."
    return await render(request, "billing/subscribe.html", context, status_code=status)


@api_route("POST", "/api/v1/projects/{slug}/plans/{plan_id:int}/subscribe", body=SubscribeIn,
           response=CheckoutOut, errors=(403, 404, 409), tag=TAG)
async def api_subscribe(request: Request, body: SubscribeIn) -> CheckoutOut:
    """Subscribe to a plan at an amount at or above its floor: the Checkout URL."""
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"])
    plan = await plans.access_plan(access.project.id, request.path_params["plan_id"])
    result = await checkout.check_subscribe(platform_of(request), user, access.project, plan,
                                            body.amount)
    return CheckoutOut(purchase_id=result.purchase.id, state=result.purchase.state.value,
                       url=result.url)


# On to Stripe. A form may not redirect off the site (the CSP's form-action 'self', which
# browsers apply to redirects too), so a form lands here and a link goes on to Stripe.


def continue_url(purchase_id: int) -> str:
    return f"/billing/checkout/{purchase_id}"


async def continue_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    platform = platform_of(request)
    purchase = await checkout.access_purchase(user, request.path_params["id"])
    done = await checkout.purchase_done_url(platform, purchase)
    if done is not None:
        return see(done)
    session_url = await checkout.open_session_url(platform, purchase)
    await purchase.fetch_related("project", "plan")
    settings = await plans.billing_settings(purchase.project.id)
    return await render(request, "billing/checkout.html", {
        "current_project": purchase.project, "purchase": purchase, "session_url": session_url,
        "what": await checkout.purchase_title(platform, purchase),
        "seller": plans.seller_of(purchase.project, settings),
        "price": plans.format_money(purchase.amount, purchase.currency)})


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/tickets/{number:int}/upgrade", upgrade_page, methods=["GET", "POST"],
              name="billing_upgrade"),
        Route("/p/{slug}/billing/buyer", buyer_page, methods=["GET", "POST"],
              name="billing_buyer"),
        Route("/p/{slug}/billing/buyer/verify", floss_verify, name="billing_floss_verify"),
        Route("/billing/floss/callback", floss_callback, name="billing_floss_callback"),
        Route("/p/{slug}/billing/subscribe/{plan_id:int}", subscribe_page,
              methods=["GET", "POST"], name="billing_subscribe"),
        Route("/billing/checkout/{id:int}", continue_page, name="billing_checkout"),
        api_upgrade_offer, api_upgrade, api_get_buyer, api_put_buyer, api_subscribe,
    ]
