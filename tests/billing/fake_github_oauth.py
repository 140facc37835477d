"""A fake GitHub for the FLOSS verification: the OAuth web flow of tests/accounts'
fake, plus the two REST endpoints that prove a buyer works on a free/open-source project,
answered in GitHub's documented shapes:

- ``GET /user/memberships/orgs/{org}``: 200 with ``{"state": "active"|"pending", "role",
  "organization", "user", ...}`` for a member, 404 otherwise;
- ``GET /repos/{owner}/{repo}/collaborators/{username}``: 204 for a collaborator, 404
  otherwise.

It records the scope each authorisation asked for and every API path called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.accounts.github_fake import (
    API_PREFIX,
    CLIENT_ID,
    CLIENT_SECRET,
    FakeGitHub,
    ServedFake,
    github_email,
    github_user,
)

__all__ = ["FakeFlossGitHub", "ServedFake", "github_email", "github_settings", "github_user"]

NOT_FOUND = {"message": "Not Found",
             "documentation_url": "https://docs.github.com/rest"}


def membership(org: str, login: str, state: str) -> dict[str, Any]:
    return {
        "url": f"https://api.github.com/orgs/{org}/memberships/{login}",
        "state": state, "role": "member",
        "organization_url": f"https://api.github.com/orgs/{org}",
        "organization": {"login": org, "id": 1, "url": f"https://api.github.com/orgs/{org}",
                         "description": "A great organization"},
        "user": {"login": login, "id": 1, "type": "User", "site_admin": False},
    }


@dataclass
class FakeFlossGitHub(FakeGitHub):
    # org -> {login: "active" | "pending"}
    orgs: dict[str, dict[str, str]] = field(default_factory=dict)
    # "owner/repo" -> logins
    collaborators: dict[str, set[str]] = field(default_factory=dict)
    scopes: list[str] = field(default_factory=list)
    api_calls: list[str] = field(default_factory=list)

    def reset(self) -> None:
        super().reset()
        self.orgs.clear()
        self.collaborators.clear()
        self.scopes.clear()
        self.api_calls.clear()

    async def authorize(self, request: Request) -> Response:
        self.scopes.append(request.query_params.get("scope", ""))
        return await super().authorize(request)

    def _login_of(self, request: Request) -> str | None:
        account = self._account_for(request)
        return None if account is None else str(account.user["login"])

    async def org_membership(self, request: Request) -> Response:
        self.api_calls.append(request.url.path.removeprefix(API_PREFIX))
        login = self._login_of(request)
        if login is None:
            return JSONResponse({"message": "Requires authentication"}, status_code=401)
        org = request.path_params["org"]
        state = self.orgs.get(org, {}).get(login)
        if state is None:
            return JSONResponse(NOT_FOUND, status_code=404)
        return JSONResponse(membership(org, login, state))

    async def collaborator(self, request: Request) -> Response:
        self.api_calls.append(request.url.path.removeprefix(API_PREFIX))
        if self._login_of(request) is None:
            return JSONResponse({"message": "Requires authentication"}, status_code=401)
        repo = f"{request.path_params['owner']}/{request.path_params['repo']}"
        if request.path_params["login"] in self.collaborators.get(repo, set()):
            return Response(status_code=204)
        return JSONResponse(NOT_FOUND, status_code=404)

    async def user(self, request: Request) -> Response:
        self.api_calls.append("/user")
        return await super().user(request)

    def app(self) -> Starlette:
        app = super().app()
        app.router.routes.extend([
            Route(f"{API_PREFIX}/user/memberships/orgs/{{org}}", self.org_membership),
            Route(f"{API_PREFIX}/repos/{{owner}}/{{repo}}/collaborators/{{login}}",
                  self.collaborator),
        ])
        return app


def github_settings(fake: FakeGitHub) -> dict[str, Any]:
    return {"github_client_id": CLIENT_ID, "github_client_secret": CLIENT_SECRET,
            "github_oauth_url": fake.url, "github_api_url": f"{fake.url}{API_PREFIX}"}
