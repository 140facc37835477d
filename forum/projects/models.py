"""Projects (tenants), who holds which role in them, invitations and platform settings."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from forum.accounts.models import User


class Role(StrEnum):
    OWNER = "owner"
    LEAD = "lead"
    MAINTAINER = "maintainer"
    SUPPORTER = "supporter"
    MODERATOR = "moderator"
    MEMBER = "member"


class Visibility(StrEnum):
    PUBLIC = "public"  # anyone, signed in or not, can read
    MEMBERS = "members"  # only members can read


class Project(Model):
    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=40, unique=True)
    name = fields.CharField(max_length=80)
    description = fields.TextField(default="")
    legal_entity = fields.CharField(max_length=200, default="")
    contact_email = fields.CharField(max_length=254, default="")
    time_zone = fields.CharField(max_length=64, default="UTC")
    default_visibility = fields.CharEnumField(Visibility, default=Visibility.PUBLIC)
    # How long authors may edit their own posts; moderators and the team always may.
    post_edit_window_minutes = fields.IntField(default=24 * 60)
    # Plugins keep their own per-project fields here, keyed by plugin name.
    plugin_data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "projects"

    def __str__(self) -> str:
        return self.slug


class Membership(Model):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="memberships", on_delete=fields.CASCADE)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="memberships", on_delete=fields.CASCADE)
    role = fields.CharEnumField(Role, default=Role.MEMBER)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "memberships"
        unique_together = (("project", "user"),)


class Invitation(Model):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="invitations", on_delete=fields.CASCADE)
    email = fields.CharField(max_length=254)
    role = fields.CharEnumField(Role, default=Role.MEMBER)
    token_hash = fields.CharField(max_length=64, unique=True)
    invited_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="invitations_sent", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    accepted_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="invitations_accepted", null=True,
        on_delete=fields.SET_NULL)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "invitations"


class ProjectPlugin(Model):
    """A plugin switched on for a project, with its settings."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="plugins", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=100)
    enabled = fields.BooleanField(default=True)
    settings: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)

    class Meta:
        table = "project_plugins"
        unique_together = (("project", "name"),)


class PlatformSetting(Model):
    """Installation-wide values the platform admin edits (e.g. the platform fee)."""

    key = fields.CharField(max_length=64, primary_key=True)
    value: fields.JSONField[Any] = fields.JSONField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "platform_settings"
