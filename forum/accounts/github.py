"""Sign in with GitHub: authlib's Starlette OAuth client and the account-linking verb.

The OAuth client is built per app on first use from ``settings.github_*``; with no client
id the feature is off (the button is hidden and the routes answer 404). After GitHub
sends the browser back, ``do_github_sign_in`` decides whose account this is:

1. a GitHub account already linked logs its user in (a staged user, met on a GitHub issue
   before, takes GitHub's verified address and is verified on this first sign-in);
2. a user who is logged in links this GitHub account to theirs;
3. a verified local account with GitHub's primary, verified address is linked and logged in;
4. otherwise a new account is created (username from the GitHub login, made unique;
   verified when GitHub says the address is; no password).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from forum import events
from forum.accounts.models import OAuthIdentity, User
from forum.accounts.service import (
    create_user_row,
    email_problem,
    is_staged_email,
    normalize_email,
    username_problem,
)
from forum.web.errors import Conflict, NotFound, UserError

if TYPE_CHECKING:
    from forum.platform import Platform
    from forum.settings import Settings

with warnings.catch_warnings():
    # authlib 1.9 warns that it would rather use the "httpx2" fork; httpx is what we ship.
    # Its warning module installs an "always" filter on import, so silence after that.
    import authlib.deprecate

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.common.errors import AuthlibBaseError
    from authlib.integrations.starlette_client import OAuth

# Raised by authlib when the OAuth round trip fails (state mismatch, refused code, ...).
OAuthFailure = AuthlibBaseError

PROVIDER = "github"
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


@dataclass(frozen=True)
class GitHubProfile:
    id: str
    login: str
    name: str
    email: str | None
    email_verified: bool
    raw: dict[str, Any]


@dataclass(frozen=True)
class SignInResult:
    user: User
    # "logged_in" (known identity), "linked" (to the logged-in user), "matched" (linked by a
    # verified address and logged in), "created" (new account)
    outcome: str


def github_configured(settings: Settings) -> bool:
    return bool(settings.github_client_id)


def github_client(request: Request) -> Any:
    """The app's authlib client for GitHub; 404 when GitHub login is not configured."""
    settings: Settings = request.app.state.platform.settings
    if not github_configured(settings):
        raise NotFound("GitHub login is not configured on this site.")
    oauth: OAuth | None = getattr(request.app.state, "github_oauth", None)
    if oauth is None:
        oauth = OAuth()
        oauth.register(
            name=PROVIDER,
            client_id=settings.github_client_id,
            client_secret=settings.github_client_secret.get_secret_value(),
            authorize_url=f"{settings.github_oauth_url.rstrip('/')}/login/oauth/authorize",
            access_token_url=f"{settings.github_oauth_url.rstrip('/')}/login/oauth/access_token",
            api_base_url=f"{settings.github_api_url.rstrip('/')}/",
            client_kwargs={"scope": "read:user user:email", "timeout": 15},
        )
        request.app.state.github_oauth = oauth
    return oauth.create_client(PROVIDER)


def callback_url(settings: Settings) -> str:
    return f"{settings.public_url}/auth/github/callback"


def profile_from(user: object, emails: object) -> GitHubProfile:
    """Read GitHub's ``/user`` and ``/user/emails`` answers (the documented shapes)."""
    if not isinstance(user, dict) or not isinstance(user.get("id"), int) or not isinstance(
        user.get("login"), str
    ):
        raise UserError(502, "GitHub sent an answer we could not read. Please try again.",
                        code="github_unreadable")
    email: str | None = None
    verified = False
    listed = [e for e in emails if isinstance(e, dict)] if isinstance(emails, list) else []
    primary = next((e for e in listed if e.get("primary") and isinstance(e.get("email"), str)),
                   None)
    if primary is not None:
        email, verified = primary["email"], primary.get("verified") is True
    elif isinstance(user.get("email"), str) and user["email"]:
        email = user["email"]  # the public address; GitHub does not say it is verified
    return GitHubProfile(id=str(user["id"]), login=user["login"], name=str(user.get("name") or ""),
                         email=normalize_email(email) if email else None,
                         email_verified=verified, raw=user)


async def fetch_profile(client: Any, token: dict[str, Any]) -> GitHubProfile:
    response = await client.get("user", token=token, headers=API_HEADERS)
    if response.status_code != 200:
        raise UserError(502, "GitHub did not tell us who you are. Please try again.",
                        code="github_unreadable")
    emails = await client.get("user/emails", token=token, headers=API_HEADERS)
    try:
        user_data = response.json()
        email_data = emails.json() if emails.status_code == 200 else []
    except ValueError:
        raise UserError(502, "GitHub sent an answer we could not read. Please try again.",
                        code="github_unreadable") from None
    return profile_from(user_data, email_data)


async def unique_username(login: str) -> str:
    """A free username close to the GitHub login (``octocat``, ``octocat-2``, ...)."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", login).strip("-_.")[:30]
    if len(base) < 3:
        base = f"{base}-gh" if base else "github-user"
    candidate, n = base, 1
    while await User.exists(username_lower=candidate.lower()):
        n += 1
        suffix = f"-{n}"
        candidate = base[:30 - len(suffix)].rstrip("-_.") + suffix
    if username_problem(candidate):
        candidate = f"github-{login.lower()[:8]}-{n}"
    return candidate


def _identity_fields(profile: GitHubProfile) -> dict[str, Any]:
    return {"login": profile.login[:100], "email": profile.email, "profile": profile.raw}


async def _link(user: User, profile: GitHubProfile) -> None:
    try:
        async with in_transaction():
            await OAuthIdentity.create(user=user, provider=PROVIDER,
                                       provider_user_id=profile.id, **_identity_fields(profile))
    except IntegrityError:
        raise Conflict("This GitHub account was just linked to another account.") from None


async def _claim_staged(platform: Platform, user: User, profile: GitHubProfile) -> None:
    """A staged user (forum/accounts/staged.py) signing in for the first time: GitHub's
    primary, verified address replaces the @staged.invalid one when no one else has it,
    and the account is verified; what was staged for them (draft tickets) is theirs."""
    if profile.email is None or not profile.email_verified or email_problem(profile.email):
        return
    if await User.exists(email=profile.email):
        return
    try:
        async with in_transaction():
            await User.filter(id=user.id).update(email=profile.email,
                                                 email_verified_at=datetime.now(UTC))
    except IntegrityError:  # taken a moment ago
        return
    await user.refresh_from_db()
    await platform.emit(events.UserVerified(user_id=user.id))


async def do_github_sign_in(platform: Platform, profile: GitHubProfile,
                            current: User | None) -> SignInResult:
    identity = await OAuthIdentity.get_or_none(provider=PROVIDER, provider_user_id=profile.id)
    if identity is not None:
        if current is not None and identity.user_id != current.id:  # type: ignore[attr-defined]
            raise Conflict("This GitHub account is already linked to another account here.")
        await OAuthIdentity.filter(id=identity.id).update(**_identity_fields(profile))
        user = await User.get(id=identity.user_id)  # type: ignore[attr-defined]
        if is_staged_email(user.email):
            await _claim_staged(platform, user, profile)
        return SignInResult(user, "linked" if current is not None else "logged_in")

    if current is not None:
        if await OAuthIdentity.exists(user_id=current.id, provider=PROVIDER):
            raise Conflict("Your account is already linked to another GitHub account. "
                           "Unlink it on your account page first.")
        await _link(current, profile)
        return SignInResult(current, "linked")

    if profile.email is None or email_problem(profile.email):
        raise UserError(400, "GitHub did not share a usable email address with us. Add one "
                        "to your GitHub account, or sign up with a password.",
                        code="github_no_email")
    existing = await User.get_or_none(email=profile.email)
    if existing is not None:
        if profile.email_verified and existing.is_verified:
            await _link(existing, profile)
            return SignInResult(existing, "matched")
        # Linking on an unproven address would hand the account to whoever typed it first.
        raise Conflict("An account with your GitHub email address already exists. Log in "
                       "with your password, then link GitHub from your account page.",
                       fields={"email": "already registered"})

    username = await unique_username(profile.login)
    must_verify = platform.settings.require_email_verification and not profile.email_verified
    async with in_transaction():
        user = await create_user_row(platform, username=username, email=profile.email,
                                  password_hash=None, verified=profile.email_verified,
                                  is_platform_admin=False, send_verification=must_verify)
        await _link(user, profile)
    await platform.emit(events.UserCreated(user_id=user.id, username=user.username))
    if profile.email_verified:
        await platform.emit(events.UserVerified(user_id=user.id))
    return SignInResult(user, "created")


async def do_unlink_github(platform: Platform, user: User) -> None:
    """Remove the user's GitHub link; refused when it is their only way to log in."""
    if not user.password_hash:
        raise UserError(400, "Set a password first (use “Forgot your password?”), or you "
                        "could not log in any more.", code="last_login_method")
    await OAuthIdentity.filter(user_id=user.id, provider=PROVIDER).delete()
