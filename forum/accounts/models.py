"""People on the platform: one account each, however many projects they take part in."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class User(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=30, unique=True)
    # Lower-cased copy used for uniqueness and log-in, so "Ada" and "ada" are one name.
    username_lower = fields.CharField(max_length=30, unique=True)
    email = fields.CharField(max_length=254, unique=True)  # stored lower-cased
    password_hash = fields.CharField(max_length=255, null=True)  # None: OAuth-only account
    email_verified_at = fields.DatetimeField(null=True)
    is_platform_admin = fields.BooleanField(default=False)
    is_active = fields.BooleanField(default=True)
    # Bumped on password change or "log out everywhere"; sessions carry the value they saw.
    session_version = fields.IntField(default=1)
    display_name = fields.CharField(max_length=80, default="")
    time_zone = fields.CharField(max_length=64, default="UTC")
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField(null=True)

    class Meta:
        table = "users"

    def __str__(self) -> str:
        return self.username

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None


class OAuthIdentity(Model):
    """An account at an identity provider (GitHub) linked to a user."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="identities", on_delete=fields.CASCADE)
    provider = fields.CharField(max_length=20)
    provider_user_id = fields.CharField(max_length=64)
    login = fields.CharField(max_length=100)
    email = fields.CharField(max_length=254, null=True)
    profile: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "oauth_identities"
        unique_together = (("provider", "provider_user_id"),)


class ApiKey(Model):
    """A bearer key for the API. Only its SHA-256 is stored: the key is shown once."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="api_keys", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=80)
    prefix = fields.CharField(max_length=16)  # the first characters, to recognise a key
    key_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_keys"


class UsedToken(Model):
    """Single-use links (email verification, password reset) already spent."""

    id = fields.IntField(primary_key=True)
    digest = fields.CharField(max_length=64, unique=True)
    purpose = fields.CharField(max_length=20)
    used_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "used_tokens"
