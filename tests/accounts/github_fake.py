"""A local fake of GitHub's OAuth web flow and the two REST endpoints sign-in reads.

It answers with the shapes GitHub documents: ``/login/oauth/authorize`` redirects back
with ``code`` and ``state``; ``/login/oauth/access_token`` returns
``{"access_token", "token_type", "scope"}`` (or, for a bad code, HTTP 200 with
``{"error": "bad_verification_code", ...}``, as GitHub does); ``GET /user`` returns the
authenticated user and ``GET /user/emails`` a list of ``{email, primary, verified,
visibility}``. The API lives under ``/api/v3`` as on GitHub Enterprise, so the OAuth and
API base URLs are exercised separately. Served by uvicorn on 127.0.0.1 in a thread, so
authlib's httpx client talks real HTTP to it.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fake_server import Served

CLIENT_ID = "Iv1.fakeclient0001"
CLIENT_SECRET = "fake-client-secret"
API_PREFIX = "/api/v3"


def github_user(id: int, login: str, *, name: str | None = None,
                email: str | None = None) -> dict[str, Any]:
    """``GET /user`` for an OAuth token with the ``user`` scope (private fields included)."""
    return {
        "login": login, "id": id, "node_id": base64.b64encode(f"04:User{id}".encode()).decode(),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{id}?v=4", "gravatar_id": "",
        "url": f"https://api.github.com/users/{login}", "html_url": f"https://github.com/{login}",
        "followers_url": f"https://api.github.com/users/{login}/followers",
        "repos_url": f"https://api.github.com/users/{login}/repos",
        "type": "User", "site_admin": False, "name": name, "company": None, "blog": "",
        "location": None, "email": email, "hireable": None, "bio": None,
        "twitter_username": None, "public_repos": 2, "public_gists": 1, "followers": 20,
        "following": 0, "created_at": "2008-01-14T04:33:35Z",
        "updated_at": "2008-01-14T04:33:35Z", "private_gists": 81, "total_private_repos": 100,
        "owned_private_repos": 100, "disk_usage": 10000, "collaborators": 8,
        "two_factor_authentication": True,
        "plan": {"name": "Medium", "space": 400, "private_repos": 20, "collaborators": 0},
    }


def github_email(email: str, *, primary: bool = True, verified: bool = True) -> dict[str, Any]:
    return {"email": email, "primary": primary, "verified": verified,
            "visibility": "public" if primary else None}


@dataclass
class Account:
    user: dict[str, Any]
    emails: list[dict[str, Any]]


@dataclass
class FakeGitHub:
    url: str = ""
    # Who "logs in" at the authorize page next.
    account: Account | None = None
    codes: dict[str, Account] = field(default_factory=dict)
    tokens: dict[str, Account] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def sign_in_as(self, user: dict[str, Any], emails: list[dict[str, Any]]) -> None:
        self.account = Account(user, emails)

    def reset(self) -> None:
        self.account = None
        self.codes.clear()
        self.tokens.clear()
        self.token_requests.clear()

    # Endpoints

    async def authorize(self, request: Request) -> Response:
        params = request.query_params
        if params.get("client_id") != CLIENT_ID or self.account is None:
            return PlainTextResponse("unknown application", status_code=404)
        code = secrets.token_hex(10)
        self.codes[code] = self.account
        back = {"code": code}
        if "state" in params:
            back["state"] = params["state"]
        return RedirectResponse(f"{params['redirect_uri']}?{urlencode(back)}", status_code=302)

    async def access_token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
        self.token_requests.append(form)
        if client_id != CLIENT_ID or client_secret != CLIENT_SECRET:
            return self._token_answer(request, {
                "error": "incorrect_client_credentials",
                "error_description": "The client_id and/or client_secret passed are incorrect.",
                "error_uri": "https://docs.github.com/apps/managing-oauth-apps/"
                             "troubleshooting-oauth-app-access-token-request-errors/"
                             "#incorrect-client-credentials"})
        account = self.codes.pop(form.get("code", ""), None)
        if account is None:
            return self._token_answer(request, {
                "error": "bad_verification_code",
                "error_description": "The code passed is incorrect or expired.",
                "error_uri": "https://docs.github.com/apps/managing-oauth-apps/"
                             "troubleshooting-oauth-app-access-token-request-errors/"
                             "#bad-verification-code"})
        token = "gho_" + secrets.token_hex(18)
        self.tokens[token] = account
        return self._token_answer(request, {"access_token": token,
                                            "scope": "read:user,user:email",
                                            "token_type": "bearer"})

    @staticmethod
    def _token_answer(request: Request, data: dict[str, str]) -> Response:
        # GitHub answers form-encoded unless asked for JSON.
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse(data)
        return PlainTextResponse(urlencode(data),
                                 media_type="application/x-www-form-urlencoded")

    def _account_for(self, request: Request) -> Account | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() not in {"bearer", "token"}:
            return None
        return self.tokens.get(token)

    async def user(self, request: Request) -> Response:
        account = self._account_for(request)
        if account is None:
            return JSONResponse({"message": "Requires authentication",
                                 "documentation_url": "https://docs.github.com/rest"},
                                status_code=401)
        return JSONResponse(account.user)

    async def emails(self, request: Request) -> Response:
        account = self._account_for(request)
        if account is None:
            return JSONResponse({"message": "Requires authentication",
                                 "documentation_url": "https://docs.github.com/rest"},
                                status_code=401)
        return JSONResponse(account.emails)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/login/oauth/authorize", self.authorize),
            Route("/login/oauth/access_token", self.access_token, methods=["POST"]),
            Route(f"{API_PREFIX}/user", self.user),
            Route(f"{API_PREFIX}/user/emails", self.emails),
        ])


ServedFake = Served  # kept for the tests that name it
