"""The accounts domain's verbs: sign-up, verification, log-in, password reset, API keys.

``check_*`` validate and raise ``UserError`` subclasses (4xx) before anything changes;
``do_*`` change state in one transaction and emit events after it commits; ``access_*``
load an object the caller may act on or raise ``NotFound``. GitHub sign-in is in
``forum.accounts.github``.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from starlette.requests import Request
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from forum import events
from forum.accounts import tokens
from forum.accounts.middleware import API_KEY_PREFIX, hash_api_key
from forum.accounts.models import ApiKey, User
from forum.accounts.passwords import (
    hash_password_async,
    needs_rehash,
    password_problem,
    verify_password_async,
)
from forum.accounts.staged import is_staged_email as is_staged_email
from forum.accounts.staged import stage_user as stage_user
from forum.gates import Act, Attempt
from forum.web.errors import Conflict, Invalid, NotFound, UserError

if TYPE_CHECKING:
    from forum.platform import Platform

USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{2,29}")
EMAIL_LOCAL_RE = re.compile(r"[^\s@<>()\[\],;:\\\"]{1,64}")
EMAIL_DOMAIN_RE = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}")
MAX_API_KEYS = 20


def utcnow() -> datetime:
    return datetime.now(UTC)


# Validation


def normalize_email(email: str) -> str:
    return email.strip().lower()


def username_problem(username: str) -> str | None:
    if not 3 <= len(username) <= 30:
        return "Use 3 to 30 characters."
    if not USERNAME_RE.fullmatch(username):
        return ("Use letters, digits, underscores, hyphens and dots, "
                "starting with a letter or digit.")
    return None


def email_problem(email: str) -> str | None:
    local, at, domain = email.rpartition("@")
    if (not at or len(email) > 254 or not EMAIL_LOCAL_RE.fullmatch(local)
            or not EMAIL_DOMAIN_RE.fullmatch(domain)):
        return "Enter a valid email address, like name@example.org."
    return None


async def check_new_user(username: str, email: str, password: str | None) -> tuple[str, str]:
    """Validate a new account; returns the username and normalized email.

    Malformed values give 422 naming every bad field; names already taken give 409.
    """
    username = username.strip()
    email = normalize_email(email)
    fields: dict[str, str] = {}
    if problem := username_problem(username):
        fields["username"] = problem
    if problem := email_problem(email):
        fields["email"] = problem
    if password is not None and (
        problem := password_problem(password, username=username, email=email)
    ):
        fields["password"] = problem
    if fields:
        raise Invalid(f"Please correct: {', '.join(fields)}.", fields=fields)
    if conflict := await _taken(username, email):
        raise conflict
    return username, email


async def _taken(username: str, email: str) -> Conflict | None:
    fields: dict[str, str] = {}
    if await User.exists(username_lower=username.lower()):
        fields["username"] = "This username is already taken."
    if await User.exists(email=email):
        fields["email"] = "An account with this email address already exists."
    if not fields:
        return None
    message = " ".join(fields.values())
    return Conflict(message, fields=fields)


def check_password(password: str, *, user: User) -> None:
    if problem := password_problem(password, username=user.username, email=user.email):
        raise Invalid(f"Please choose another password: {problem}",
                      fields={"password": problem})


# Creating accounts


async def create_user_row(platform: Platform, *, username: str, email: str,
                       password_hash: str | None, verified: bool, is_platform_admin: bool,
                       send_verification: bool) -> User:
    """Create the row (and queue the verification mail) in one transaction."""
    try:
        async with in_transaction():
            user = await User.create(
                username=username, username_lower=username.lower(), email=email,
                password_hash=password_hash, is_platform_admin=is_platform_admin,
                email_verified_at=utcnow() if verified else None)
            if send_verification:
                await send_verification_mail(platform, user)
    except IntegrityError:
        # Someone took the name between the check and the insert.
        conflict = await _taken(username, email)
        raise conflict or Conflict("This account already exists.") from None
    return user


async def do_create_user(platform: Platform, *, username: str, email: str,
                         password: str | None, verified: bool = False,
                         is_platform_admin: bool = False) -> User:
    """Create an account (``password`` None: it can only sign in through GitHub)."""
    username, email = await check_new_user(username, email, password)
    password_hash = await hash_password_async(password) if password is not None else None
    user = await create_user_row(platform, username=username, email=email,
                              password_hash=password_hash, verified=verified,
                              is_platform_admin=is_platform_admin, send_verification=False)
    await platform.emit(events.UserCreated(user_id=user.id, username=user.username))
    return user


async def do_sign_up(platform: Platform, *, username: str, email: str, password: str) -> User:
    """Self-service sign-up: verified at once, or sent a verification link first."""
    username, email = await check_new_user(username, email, password)
    password_hash = await hash_password_async(password)
    must_verify = platform.settings.require_email_verification
    user = await create_user_row(platform, username=username, email=email,
                              password_hash=password_hash, verified=not must_verify,
                              is_platform_admin=False, send_verification=must_verify)
    await platform.emit(events.UserCreated(user_id=user.id, username=user.username))
    return user


# Email verification


async def send_verification_mail(platform: Platform, user: User) -> None:
    settings = platform.settings
    token = tokens.make_token(settings, tokens.VERIFY_EMAIL,
                              {"uid": user.id, "email": user.email})
    await platform.send_mail(
        user.email, "verify_email",
        {"username": user.username, "url": f"{settings.public_url}/verify-email?token={token}",
         "hours": settings.token_max_age_seconds // 3600},
        subject=f"Confirm your email address for {settings.platform_name}")


async def check_verification_token(platform: Platform, token: str) -> User:
    payload = tokens.read_token(platform.settings, tokens.VERIFY_EMAIL, token)
    user = await User.get_or_none(id=payload.get("uid"))
    if user is None or user.email != payload.get("email"):
        raise tokens.BadLink("This link is for an account or address that no longer exists.",
                             purpose=tokens.VERIFY_EMAIL, reason="invalid")
    await tokens.check_unused(token, tokens.VERIFY_EMAIL)
    return user


async def do_verify_email(platform: Platform, token: str) -> User:
    user = await check_verification_token(platform, token)
    newly_verified = not user.is_verified
    async with in_transaction():
        await tokens.spend(token, tokens.VERIFY_EMAIL)
        if newly_verified:
            user.email_verified_at = utcnow()
            await user.save(update_fields=["email_verified_at"])
    if newly_verified:
        await platform.emit(events.UserVerified(user_id=user.id))
    return user


async def do_resend_verification(platform: Platform, email: str) -> None:
    """Mail a fresh link if an unverified account has this address; silent otherwise."""
    user = await User.get_or_none(email=normalize_email(email), is_active=True)
    if user is not None and not user.is_verified:
        await send_verification_mail(platform, user)


# Logging in and out


async def check_login(platform: Platform, login: str, password: str) -> User:
    """The account for these credentials, if it may log in now.

    Wrong name and wrong password get the same answer in about the same time.
    """
    login = login.strip()
    user: User | None = None
    if login and len(password) <= 1024:
        if "@" in login:
            user = await User.get_or_none(email=normalize_email(login))
        else:
            user = await User.get_or_none(username_lower=login.lower())
    ok = await verify_password_async(user.password_hash if user else None, password)
    if user is None or not ok:
        raise UserError(401, "The username or email address and password do not match.",
                        code="invalid_credentials")
    await check_may_log_in(platform, user)
    # The one write a check makes: a hash made with older argon2 parameters is renewed
    # while the plain password is at hand (it never is otherwise).
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = await hash_password_async(password)
        await user.save(update_fields=["password_hash"])
    return user


async def check_may_log_in(platform: Platform, user: User) -> None:
    """Whether this account may start a session now (password or GitHub sign-in)."""
    if not user.is_active:
        raise UserError(403, "This account has been suspended.", code="account_disabled")
    if platform.settings.require_email_verification and not user.is_verified:
        raise UserError(403, "Please confirm your email address first: open the link we "
                        "mailed you, or ask for a new one.", code="email_unverified")
    # Platform-wide suspensions and bans (the moderation domain answers).
    reason = await platform.refusal(Attempt(Act.LOG_IN, user.id, None))
    if reason:
        raise UserError(403, reason, code="account_suspended")


async def login_user(request: Request, user: User) -> None:
    """Start a fresh session for ``user`` (old session data and CSRF token dropped)."""
    request.session.clear()
    request.session["uid"] = user.id
    request.session["ver"] = user.session_version
    request.session["csrf"] = secrets.token_urlsafe(32)
    request.state.user = user
    request.state.user_id = user.id
    await User.filter(id=user.id).update(last_seen_at=utcnow())


async def logout_user(request: Request) -> None:
    request.session.clear()
    request.session["csrf"] = secrets.token_urlsafe(32)
    request.state.user = None
    request.state.user_id = None


# Password reset


def password_fingerprint(user: User) -> str:
    """Changes whenever the password does, so a reset link dies with the old password."""
    return tokens.token_digest(user.password_hash or "")[:16]


async def do_request_password_reset(platform: Platform, email: str) -> None:
    """Mail a reset link if an active account has this address; silent otherwise."""
    user = await User.get_or_none(email=normalize_email(email), is_active=True)
    if user is None:
        return
    settings = platform.settings
    token = tokens.make_token(settings, tokens.PASSWORD_RESET,
                              {"uid": user.id, "pw": password_fingerprint(user)})
    await platform.send_mail(
        user.email, "password_reset",
        {"username": user.username,
         "url": f"{settings.public_url}/password/reset?token={token}",
         "hours": settings.token_max_age_seconds // 3600},
        subject=f"Reset your {settings.platform_name} password")


async def check_reset_token(platform: Platform, token: str) -> User:
    payload = tokens.read_token(platform.settings, tokens.PASSWORD_RESET, token)
    user = await User.get_or_none(id=payload.get("uid"), is_active=True)
    if user is None:
        raise tokens.BadLink("This link is for an account that no longer exists.",
                             purpose=tokens.PASSWORD_RESET, reason="invalid")
    await tokens.check_unused(token, tokens.PASSWORD_RESET)
    if payload.get("pw") != password_fingerprint(user):
        raise tokens.used_link(tokens.PASSWORD_RESET)
    return user


async def do_reset_password(platform: Platform, token: str, password: str) -> User:
    """Set a new password from a reset link; every existing session is logged out."""
    user = await check_reset_token(platform, token)
    check_password(password, user=user)
    password_hash = await hash_password_async(password)
    async with in_transaction():
        await tokens.spend(token, tokens.PASSWORD_RESET)
        # Receiving the link proves the address, so it counts as verified.
        await User.filter(id=user.id).update(
            password_hash=password_hash, session_version=F("session_version") + 1,
            email_verified_at=user.email_verified_at or utcnow())
    await user.refresh_from_db()
    return user


# API keys


def check_api_key_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 80:
        raise Invalid("Give the key a name of 1 to 80 characters.",
                      fields={"name": "Use 1 to 80 characters."})
    return name


async def do_create_api_key(platform: Platform, user: User, name: str) -> tuple[ApiKey, str]:
    """A new key for ``user``; returns the row and the key, which is never shown again."""
    name = check_api_key_name(name)
    if await ApiKey.filter(user_id=user.id, revoked_at=None).count() >= MAX_API_KEYS:
        raise Invalid(f"You have {MAX_API_KEYS} keys; revoke one before creating another.",
                      fields={"name": "Too many keys."})
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = await ApiKey.create(user=user, name=name, prefix=secret[:10],
                                  key_hash=hash_api_key(secret))
    return api_key, secret


async def api_keys_of(user: User) -> list[ApiKey]:
    return await ApiKey.filter(user_id=user.id, revoked_at=None).order_by("-created_at", "-id")


async def access_api_key(user: User, key_id: int) -> ApiKey:
    """One of ``user``'s live keys; anybody else's key is as unknown as a missing one."""
    api_key = await ApiKey.get_or_none(id=key_id, user_id=user.id, revoked_at=None)
    if api_key is None:
        raise NotFound("No such API key.")
    return api_key


async def do_revoke_api_key(platform: Platform, api_key: ApiKey) -> None:
    await ApiKey.filter(id=api_key.id, revoked_at=None).update(revoked_at=utcnow())
