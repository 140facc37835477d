"""Account pages: sign-up, email verification, log-in/out, password reset, the account
page with its API keys, and the GitHub sign-in round trip. The JSON API is in ``api.py``.
"""

from __future__ import annotations

from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.accounts import github
from forum.accounts.models import OAuthIdentity, User
from forum.accounts.permissions import current_user
from forum.accounts.service import (
    access_api_key,
    api_keys_of,
    check_login,
    check_may_log_in,
    check_reset_token,
    do_create_api_key,
    do_request_password_reset,
    do_resend_verification,
    do_reset_password,
    do_revoke_api_key,
    do_sign_up,
    do_verify_email,
    login_user,
    logout_user,
)
from forum.accounts.tokens import VERIFY_EMAIL, BadLink
from forum.platform import Platform
from forum.web.errors import NotFound, UserError
from forum.web.ratelimit import client_ip, limiter_for
from forum.web.templating import flash, render


def platform_of(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(value: str | None) -> str:
    """A same-site path to go back to after logging in; anything else means "/"."""
    if (value and value.startswith("/") and not value.startswith("//") and "\\" not in value
            and value.isprintable()):
        return value
    return "/"


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


def login_redirect(request: Request) -> RedirectResponse:
    back = request.url.path if request.method == "GET" else "/account"
    return redirect(f"/login?next={back}")


async def link_problem(request: Request, exc: BadLink) -> Response:
    """The page for an expired, reused or broken emailed link."""
    return await render(request, "accounts/link_invalid.html",
                        {"message": exc.message, "reason": exc.reason,
                         "is_verification": exc.purpose == VERIFY_EMAIL},
                        status_code=400)


# Sign-up and verification


async def signup(request: Request) -> Response:
    if current_user(request) is not None:
        return redirect("/")
    if request.method == "GET":
        return await render(request, "accounts/signup.html", {"values": {}, "errors": {}})
    data = await form_data(request)
    values = {"username": data.get("username", ""), "email": data.get("email", "")}
    await limiter_for(request).hit("signup", client_ip(request))
    platform = platform_of(request)
    try:
        user = await do_sign_up(platform, password=data.get("password", ""), **values)
    except UserError as exc:
        return await render(request, "accounts/signup.html",
                            {"values": values, "errors": exc.fields, "message": exc.message},
                            status_code=exc.status)
    if user.is_verified:
        await login_user(request, user)
        flash(request, f"Welcome, {user.username}!", "success")
        return redirect("/")
    flash(request, f"We sent a link to {user.email}. Open it to confirm your address.",
          "success")
    return redirect("/verify-email/sent")


async def verification_sent(request: Request) -> Response:
    return await render(request, "accounts/verify_sent.html", {})


async def verify_email(request: Request) -> Response:
    try:
        await do_verify_email(platform_of(request), request.query_params.get("token", ""))
    except BadLink as exc:
        return await link_problem(request, exc)
    if current_user(request) is not None:
        flash(request, "Your email address is confirmed.", "success")
        return redirect("/")
    flash(request, "Your email address is confirmed. You can log in now.", "success")
    return redirect("/login")


async def resend_verification(request: Request) -> Response:
    if request.method == "GET":
        return await render(request, "accounts/verify_resend.html", {"values": {}})
    data = await form_data(request)
    await limiter_for(request).hit("reset", client_ip(request))
    await do_resend_verification(platform_of(request), data.get("email", ""))
    flash(request, "If an unconfirmed account uses that address, we sent it a new link.",
          "success")
    return redirect("/verify-email/sent")


# Logging in and out


async def login(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    if current_user(request) is not None:
        return redirect(next_url)
    context: dict[str, Any] = {"values": {"login": ""}, "next": next_url, "message": "",
                               "code": ""}
    if request.method == "GET":
        return await render(request, "accounts/login.html", context)
    data = await form_data(request)
    name = data.get("login", "")
    context["values"] = {"login": name}
    context["next"] = next_url = safe_next(data.get("next") or next_url)
    await limiter_for(request).hit("login", client_ip(request), name.strip())
    try:
        user = await check_login(platform_of(request), name, data.get("password", ""))
    except UserError as exc:
        context.update(message=exc.message, code=exc.code)
        return await render(request, "accounts/login.html", context, status_code=exc.status)
    await login_user(request, user)
    return redirect(next_url)


async def logout(request: Request) -> Response:
    await logout_user(request)
    flash(request, "You are logged out.", "success")
    return redirect("/")


# Password reset


async def forgot_password(request: Request) -> Response:
    if request.method == "GET":
        return await render(request, "accounts/forgot.html", {"values": {}})
    data = await form_data(request)
    await limiter_for(request).hit("reset", client_ip(request))
    await do_request_password_reset(platform_of(request), data.get("email", ""))
    flash(request, "If an account uses that address, we sent it a link to choose a new "
          "password. The link works once.", "success")
    return redirect("/login")


async def reset_password(request: Request) -> Response:
    platform = platform_of(request)
    if request.method == "GET":
        token = request.query_params.get("token", "")
        try:
            await check_reset_token(platform, token)
        except BadLink as exc:
            return await link_problem(request, exc)
        return await render(request, "accounts/reset.html", {"token": token, "errors": {}})
    data = await form_data(request)
    token = data.get("token", "")
    await limiter_for(request).hit("reset", client_ip(request))
    try:
        await do_reset_password(platform, token, data.get("password", ""))
    except BadLink as exc:
        return await link_problem(request, exc)
    except UserError as exc:
        return await render(request, "accounts/reset.html",
                            {"token": token, "errors": exc.fields, "message": exc.message},
                            status_code=exc.status)
    await logout_user(request)
    flash(request, "Your password is changed and every other session is logged out. "
          "Log in with the new password.", "success")
    return redirect("/login")


# The account page and API keys


async def account_context(user: User) -> dict[str, Any]:
    return {
        "keys": await api_keys_of(user),
        "github_identity": await OAuthIdentity.get_or_none(user_id=user.id,
                                                           provider=github.PROVIDER),
        "errors": {},
        "values": {},
    }


async def account(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    return await render(request, "accounts/account.html", await account_context(user))


async def create_api_key(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    data = await form_data(request)
    try:
        api_key, secret = await do_create_api_key(platform_of(request), user,
                                                  data.get("name", ""))
    except UserError as exc:
        context = await account_context(user)
        context.update(errors=exc.fields, values={"name": data.get("name", "")})
        return await render(request, "accounts/account.html", context,
                            status_code=exc.status)
    # Shown on this response only: never stored, never put in a cookie or a redirect.
    return await render(request, "accounts/api_key_created.html",
                        {"api_key": api_key, "secret": secret},
                        headers={"Cache-Control": "no-store"})


async def revoke_api_key(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    try:
        key_id = int(request.path_params["key_id"])
    except ValueError:
        raise NotFound("No such API key.") from None
    api_key = await access_api_key(user, key_id)
    await do_revoke_api_key(platform_of(request), api_key)
    flash(request, f"The key “{api_key.name}” is revoked.", "success")
    return redirect("/account")


async def unlink_github(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    await github.do_unlink_github(platform_of(request), user)
    flash(request, "Your GitHub account is unlinked.", "success")
    return redirect("/account")


# Sign in with GitHub


async def github_login(request: Request) -> Response:
    client = github.github_client(request)
    response: Response = await client.authorize_redirect(
        request, github.callback_url(platform_of(request).settings))
    return response


async def github_callback(request: Request) -> Response:
    client = github.github_client(request)
    platform = platform_of(request)
    try:
        token = await client.authorize_access_token(request)
        profile = await github.fetch_profile(client, token)
    except github.OAuthFailure as exc:
        reason = getattr(exc, "description", None) or getattr(exc, "error", None) or "refused"
        raise UserError(400, f"Signing in with GitHub did not complete ({reason}). "
                        "Please try again.", code="oauth_failed") from None
    except (httpx.HTTPError, ValueError):
        raise UserError(502, "We could not reach GitHub. Please try again in a moment.",
                        code="github_unreachable") from None
    result = await github.do_github_sign_in(platform, profile, current_user(request))
    if result.outcome == "linked":
        flash(request, f"Your GitHub account {profile.login} is linked.", "success")
        return redirect("/account")
    try:
        await check_may_log_in(platform, result.user)
    except UserError as exc:
        if result.outcome == "created" and exc.code == "email_unverified":
            flash(request, f"We sent a link to {result.user.email}. Open it to confirm "
                  "your address, then sign in with GitHub again.", "success")
            return redirect("/verify-email/sent")
        raise
    await login_user(request, result.user)
    if result.outcome == "created":
        flash(request, f"Welcome, {result.user.username}! Your account was created with "
              "GitHub.", "success")
    return redirect("/")


ROUTES: list[BaseRoute] = [
    Route("/signup", signup, methods=["GET", "POST"], name="signup"),
    Route("/verify-email", verify_email, name="verify_email"),
    Route("/verify-email/sent", verification_sent, name="verification_sent"),
    Route("/verify-email/resend", resend_verification, methods=["GET", "POST"],
          name="resend_verification"),
    Route("/login", login, methods=["GET", "POST"], name="login"),
    Route("/logout", logout, methods=["POST"], name="logout"),
    Route("/password/forgot", forgot_password, methods=["GET", "POST"], name="forgot_password"),
    Route("/password/reset", reset_password, methods=["GET", "POST"], name="reset_password"),
    Route("/account", account, name="account"),
    Route("/account/api-keys", create_api_key, methods=["POST"], name="create_api_key"),
    Route("/account/api-keys/{key_id}/revoke", revoke_api_key, methods=["POST"],
          name="revoke_api_key"),
    Route("/account/github/unlink", unlink_github, methods=["POST"], name="unlink_github"),
    Route("/auth/github/login", github_login, name="github_login"),
    Route("/auth/github/callback", github_callback, name="github_callback"),
]
