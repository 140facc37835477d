"""Who may see and retry jobs: platform admins only."""

from __future__ import annotations

from starlette.requests import Request

from forum.accounts.models import User
from forum.accounts.permissions import require_user
from forum.web.errors import Forbidden


def access_jobs_admin(request: Request) -> User:
    """The signed-in platform admin; 401 when signed out, 403 for anyone else."""
    user = require_user(request)
    if not user.is_platform_admin:
        raise Forbidden("Only platform admins may see the jobs.")
    return user
