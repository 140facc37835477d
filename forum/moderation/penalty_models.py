"""Penalties on users, and the terms and code of conduct they accept.

A penalty with ``project`` None applies on the whole platform (platform admins only); an
``ends_at`` of None means permanently. A lifted penalty keeps its row (``lifted_at`` set)
so the history stays readable.

Terms documents are versioned: publishing a new version adds a row with the next
``version`` for the same project (None: the platform) and kind. A user has accepted a
kind when a ``TermsAcceptance`` names its current row.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.projects.models import Project


class PenaltyKind(StrEnum):
    SILENCE = "silence"  # may read, may not post, edit or flag
    SUSPEND = "suspend"  # platform-wide: may not log in; in a project: may not take part
    BAN = "ban"  # may not take part; platform-wide the same as a suspension that never ends


class Penalty(Model):
    """One silence, suspension or ban of a user, in a project or on the whole platform."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="penalties", on_delete=fields.CASCADE)
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="penalties", null=True, on_delete=fields.CASCADE)
    kind = fields.CharEnumField(PenaltyKind, max_length=16)
    reason = fields.TextField()
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="penalties_given", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)
    ends_at = fields.DatetimeField(null=True)  # None: permanent
    lifted_at = fields.DatetimeField(null=True)
    lifted_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="penalties_lifted", null=True, on_delete=fields.SET_NULL)
    lift_reason = fields.TextField(default="")
    if TYPE_CHECKING:
        user_id: int
        project_id: int | None
        created_by_id: int | None
        lifted_by_id: int | None

    class Meta:
        table = "penalties"
        indexes = (("user_id", "lifted_at"),)


class TermsKind(StrEnum):
    TERMS = "terms"
    CODE_OF_CONDUCT = "code_of_conduct"


class TermsDocument(Model):
    """One published version of a project's (or, with ``project`` None, the platform's)
    terms of service or code of conduct."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="terms_documents", null=True, on_delete=fields.CASCADE)
    kind = fields.CharEnumField(TermsKind, max_length=20)
    version = fields.IntField()
    source = fields.TextField()
    cooked = fields.TextField()
    published_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="terms_published", null=True, on_delete=fields.SET_NULL)
    published_at = fields.DatetimeField(auto_now_add=True)
    if TYPE_CHECKING:
        project_id: int | None

    class Meta:
        table = "terms_documents"
        unique_together = (("project", "kind", "version"),)


class TermsAcceptance(Model):
    """A user accepted one version of a document."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="terms_acceptances", on_delete=fields.CASCADE)
    document: fields.ForeignKeyRelation[TermsDocument] = fields.ForeignKeyField(
        "forum.TermsDocument", related_name="acceptances", on_delete=fields.CASCADE)
    version = fields.IntField()
    accepted_at = fields.DatetimeField(auto_now_add=True)
    if TYPE_CHECKING:
        user_id: int
        document_id: int

    class Meta:
        table = "terms_acceptances"
        unique_together = (("user", "document"),)
