"""The accounts JSON API: sign-up, log-in/out, the current user and their API keys."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute

from forum.accounts.permissions import require_user
from forum.accounts.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyList,
    ApiKeyOut,
    LoginIn,
    SignupIn,
    UserOut,
)
from forum.accounts.service import (
    access_api_key,
    api_keys_of,
    check_login,
    do_create_api_key,
    do_revoke_api_key,
    do_sign_up,
    login_user,
    logout_user,
)
from forum.platform import Platform
from forum.web.api import api_route
from forum.web.errors import NotFound
from forum.web.ratelimit import client_ip, limiter_for

TAG = "accounts"


def platform_of(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


@api_route("POST", "/api/v1/auth/signup", body=SignupIn, response=UserOut, status=201,
           auth=False, errors=(409, 429), tag=TAG)
async def api_signup(request: Request, body: SignupIn) -> UserOut:
    """Create an account (a verification link is mailed when verification is required)."""
    await limiter_for(request).hit("signup", client_ip(request))
    user = await do_sign_up(platform_of(request), username=body.username, email=body.email,
                            password=body.password)
    return UserOut.of(user)


@api_route("POST", "/api/v1/auth/login", body=LoginIn, response=UserOut, auth=False,
           errors=(401, 403, 429), tag=TAG)
async def api_login(request: Request, body: LoginIn) -> UserOut:
    """Log in; the response sets the session cookie."""
    await limiter_for(request).hit("login", client_ip(request), body.login.strip())
    user = await check_login(platform_of(request), body.login, body.password)
    await login_user(request, user)
    return UserOut.of(user)


@api_route("POST", "/api/v1/auth/logout", status=204, auth=False, tag=TAG)
async def api_logout(request: Request) -> None:
    """End the session."""
    await logout_user(request)


@api_route("GET", "/api/v1/users/me", response=UserOut, tag=TAG)
async def api_me(request: Request) -> UserOut:
    """The signed-in user."""
    return UserOut.of(require_user(request))


@api_route("POST", "/api/v1/users/me/api-keys", body=ApiKeyIn, response=ApiKeyCreated,
           status=201, tag=TAG)
async def api_create_key(request: Request, body: ApiKeyIn) -> ApiKeyCreated:
    """Create an API key; the key itself is in this response and never again."""
    user = require_user(request)
    api_key, secret = await do_create_api_key(platform_of(request), user, body.name)
    return ApiKeyCreated(**ApiKeyOut.of(api_key).model_dump(), key=secret)


@api_route("GET", "/api/v1/users/me/api-keys", response=ApiKeyList, tag=TAG)
async def api_list_keys(request: Request) -> ApiKeyList:
    """The caller's live API keys (names and prefixes, no secrets)."""
    user = require_user(request)
    return ApiKeyList(keys=[ApiKeyOut.of(k) for k in await api_keys_of(user)])


@api_route("DELETE", "/api/v1/users/me/api-keys/{key_id}", status=204, errors=(404,), tag=TAG)
async def api_revoke_key(request: Request) -> None:
    """Revoke one of the caller's API keys; it stops working at once."""
    user = require_user(request)
    try:
        key_id = int(request.path_params["key_id"])
    except ValueError:
        raise NotFound("No such API key.") from None
    await do_revoke_api_key(platform_of(request), await access_api_key(user, key_id))


ROUTES: list[BaseRoute] = [api_signup, api_login, api_logout, api_me, api_create_key,
                           api_list_keys, api_revoke_key]
