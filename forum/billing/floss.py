"""Proof that a buyer works for another free/open-source project: GitHub says they are an
active member of the organisation, or a collaborator on the repository, they named.

A separate OAuth authorisation from "Sign in with GitHub" (forum/accounts/github.py): it
asks for the ``read:org`` scope, only when a buyer claims the FLOSS discount, and the token
is used once and not kept.
"""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from forum.web.errors import NotFound, UserError

if TYPE_CHECKING:
    from forum.settings import Settings

with warnings.catch_warnings():
    import authlib.deprecate

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.common.errors import AuthlibBaseError
    from authlib.integrations.starlette_client import OAuth

OAuthFailure = AuthlibBaseError
PROVIDER = "github_floss"
SCOPE = "read:org"
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def parse_target(text: str) -> str:
    """``"org"`` or ``"owner/repo"`` (a github.com address is accepted too)."""
    target = text.strip().removesuffix("/").removesuffix(".git")
    for prefix in ("https://github.com/", "http://github.com/", "github.com/"):
        target = target.removeprefix(prefix)
    owner, slash, repo = target.partition("/")
    if not _OWNER.match(owner) or (slash and not _REPO.match(repo)) or repo.count("/"):
        raise ValueError("name a GitHub organisation (“octo-org”) or a repository "
                         "(“octo-org/octo-repo”)")
    return f"{owner}/{repo}" if slash else owner


def floss_client(request: Request) -> Any:
    """The authlib client that asks GitHub for ``read:org``; 404 when GitHub is not
    configured on this site."""
    settings: Settings = request.app.state.platform.settings
    if not settings.github_client_id:
        raise NotFound("Verifying free/open-source projects through GitHub is not set up "
                       "on this site.")
    oauth: OAuth | None = getattr(request.app.state, "github_floss_oauth", None)
    if oauth is None:
        oauth = OAuth()
        base = settings.github_oauth_url.rstrip("/")
        oauth.register(
            name=PROVIDER, client_id=settings.github_client_id,
            client_secret=settings.github_client_secret.get_secret_value(),
            authorize_url=f"{base}/login/oauth/authorize",
            access_token_url=f"{base}/login/oauth/access_token",
            api_base_url=f"{settings.github_api_url.rstrip('/')}/",
            client_kwargs={"scope": SCOPE, "timeout": 15})
        request.app.state.github_floss_oauth = oauth
    return oauth.create_client(PROVIDER)


def callback_url(settings: Settings) -> str:
    return f"{settings.public_url}/billing/floss/callback"


def _unreadable() -> UserError:
    return UserError(502, "GitHub sent an answer we could not read. Please try again.",
                     code="github_unreadable")


async def verified_login(client: Any, token: dict[str, Any], target: str) -> str | None:
    """The GitHub login of the token's owner if they belong to ``target``, else None."""
    me = await client.get("user", token=token, headers=API_HEADERS)
    try:
        login = me.json().get("login") if me.status_code == 200 else None
    except ValueError:
        raise _unreadable() from None
    if not isinstance(login, str):
        raise _unreadable()
    owner, _, repo = target.partition("/")
    if repo:
        answer = await client.get(f"repos/{owner}/{repo}/collaborators/{login}", token=token,
                                  headers=API_HEADERS)
        return login if answer.status_code == 204 else None
    answer = await client.get(f"user/memberships/orgs/{owner}", token=token,
                              headers=API_HEADERS)
    if answer.status_code != 200:
        return None
    try:
        state = answer.json().get("state")
    except ValueError:
        raise _unreadable() from None
    return login if state == "active" else None
