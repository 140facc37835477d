"""Test data in one line: a test says only what matters to it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from forum.accounts.models import User
from forum.accounts.passwords import hash_password
from forum.projects.models import Membership, Project, Role

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"
_HASH: str | None = None


def _password_hash(password: str) -> str:
    global _HASH
    if password != PASSWORD:
        return hash_password(password)
    if _HASH is None:  # argon2 is slow on purpose; hash the common password once
        _HASH = hash_password(PASSWORD)
    return _HASH


async def make_user(username: str | None = None, *, email: str | None = None,
                    password: str = PASSWORD, verified: bool = True, admin: bool = False,
                    **fields: Any) -> User:
    n = next(_seq)
    username = username or f"user{n}"
    return await User.create(
        username=username,
        username_lower=username.lower(),
        email=(email or f"{username.lower()}@example.org").lower(),
        password_hash=_password_hash(password),
        email_verified_at=datetime.now(UTC) if verified else None,
        is_platform_admin=admin,
        **fields,
    )


async def make_project(slug: str | None = None, *, owner: User | None = None,
                       **fields: Any) -> Project:
    n = next(_seq)
    slug = slug or f"proj{n}"
    project = await Project.create(slug=slug, name=fields.pop("name", slug.title()), **fields)
    if owner is not None:
        await Membership.create(project=project, user=owner, role=Role.OWNER)
    return project


async def add_member(project: Project, user: User, role: Role = Role.MEMBER) -> Membership:
    return await Membership.create(project=project, user=user, role=role)
