"""Who may do what with accounts: only the signed-in user acts on their own account."""

from __future__ import annotations

from starlette.requests import Request

from forum.accounts.models import User
from forum.web.errors import Unauthenticated


def current_user(request: Request) -> User | None:
    user = getattr(request.state, "user", None)
    return user if isinstance(user, User) else None


def require_user(request: Request) -> User:
    """The signed-in user (session or API key); 401 otherwise."""
    user = current_user(request)
    if user is None:
        raise Unauthenticated()
    return user
