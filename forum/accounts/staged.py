"""Staged users: accounts for people the forum heard from elsewhere (a GitHub issue's
author, a Stack Overflow asker, someone who mentioned the project on Mastodon) before
they ever signed in, as Discourse stages the senders of incoming mail.

A staged user has no password and an address under ``.invalid`` (RFC 2606), so nothing is
ever mailed to it and nobody can log in as it. Its identity at the provider is an
``OAuthIdentity``: when the same GitHub account signs in, it *is* this user (the sign-in
verb's "already linked" case), and what was staged for them (a draft ticket) is theirs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from forum import events
from forum.accounts.models import OAuthIdentity, User

if TYPE_CHECKING:
    from forum.platform import Platform

STAGED_DOMAIN = "staged.invalid"
PROVIDER_RE = re.compile(r"[a-z][a-z0-9_-]{0,19}")  # "x" too


def staged_email(provider: str, provider_user_id: str) -> str:
    local = re.sub(r"[^a-z0-9._-]+", "-", f"{provider}-{provider_user_id}".lower())[:64]
    return f"{local}@{STAGED_DOMAIN}"


def is_staged_email(email: str) -> bool:
    return email.lower().endswith("@" + STAGED_DOMAIN)


async def _free_username(login: str, provider: str) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", login).strip("-_.")[:30]
    if len(base) < 3:
        base = f"{provider}-{base}".strip("-_.")[:30] if base else f"{provider}-user"
    candidate, n = base, 1
    while await User.exists(username_lower=candidate.lower()):
        n += 1
        suffix = f"-{n}"
        candidate = base[:30 - len(suffix)].rstrip("-_.") + suffix
    return candidate


async def stage_user(platform: Platform, provider: str, provider_user_id: str, login: str,
                     display_name: str = "", profile: dict[str, Any] | None = None) -> User:
    """The user who is ``provider_user_id`` at ``provider`` ("github", "stackoverflow",
    "mastodon" ...): the linked account if there is one (staged or real), else a new
    staged account. Idempotent, also when two workers stage the same person at once."""
    if not PROVIDER_RE.fullmatch(provider):
        raise ValueError(f"bad provider name {provider!r}")
    provider_user_id = str(provider_user_id)[:64]
    found = await OAuthIdentity.get_or_none(
        provider=provider, provider_user_id=provider_user_id).select_related("user")
    if found is not None:
        return found.user
    username = await _free_username(login or provider_user_id, provider)
    try:
        async with in_transaction():
            user = await User.create(
                username=username, username_lower=username.lower(),
                email=staged_email(provider, provider_user_id), password_hash=None,
                display_name=(display_name or login)[:80])
            await OAuthIdentity.create(user=user, provider=provider,
                                       provider_user_id=provider_user_id,
                                       login=(login or provider_user_id)[:100],
                                       profile=profile or {})
    except IntegrityError:  # staged a moment ago by another worker, or the name was taken
        found = await OAuthIdentity.get_or_none(
            provider=provider, provider_user_id=provider_user_id).select_related("user")
        if found is None:
            raise
        return found.user
    await platform.emit(events.UserCreated(user_id=user.id, username=user.username))
    return user
