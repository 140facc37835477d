"""The GitHub bridge's own tables (Tortoise app ``github_import``).

Core rows are referred to by id (``project_id``, ``topic_id``), never by foreign key: the
plugin's tables live in their own app and migrations.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class AuthMode(StrEnum):
    TOKEN = "token"  # a fine-grained personal access token for one repository
    APP = "app"  # a GitHub App installation (an RS256 JWT exchanged for a token)


class LinkOrigin(StrEnum):
    IMPORTED = "imported"  # an issue pulled into the forum ("+support", bulk import)
    ESCALATED = "escalated"  # an issue created from a topic


class Connection(Model):
    """A repository linked to a project. Secrets are stored sealed (Fernet, keyed by the
    site's secret key, see plugins/github_import/connection.py) and never shown back."""

    id = fields.IntField(primary_key=True)
    project_id = fields.IntField(db_index=True)
    repo = fields.CharField(max_length=200, unique=True)  # "owner/name", lower-case
    api_url = fields.CharField(max_length=300, default="https://api.github.com")
    mode = fields.CharEnumField(AuthMode, default=AuthMode.TOKEN)
    token_sealed = fields.TextField(default="")
    app_id = fields.CharField(max_length=40, default="")
    private_key_sealed = fields.TextField(default="")
    installation_id = fields.CharField(max_length=40, default="")
    webhook_secret_sealed = fields.TextField(default="")
    bot_name = fields.CharField(max_length=100, default="")
    options = fields.JSONField[dict[str, Any]](default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "github_connections"


class Delivery(Model):
    """A webhook delivery received (by its X-GitHub-Delivery id), kept so a redelivery
    does nothing new."""

    id = fields.IntField(primary_key=True)
    delivery_id = fields.CharField(max_length=100, unique=True)
    event = fields.CharField(max_length=60)
    repo = fields.CharField(max_length=200, default="")
    payload = fields.JSONField[dict[str, Any] | None](null=True)  # kept until processed
    received_at = fields.DatetimeField(auto_now_add=True)
    processed_at = fields.DatetimeField(null=True)
    result = fields.CharField(max_length=300, default="")

    class Meta:
        table = "github_deliveries"


class IssueLink(Model):
    """A GitHub issue and the topic it belongs to, whichever way it was made."""

    id = fields.IntField(primary_key=True)
    project_id = fields.IntField(db_index=True)
    topic_id = fields.IntField(db_index=True)
    repo = fields.CharField(max_length=200)  # lower-case "owner/name"
    issue_number = fields.IntField()
    issue_node_id = fields.CharField(max_length=100, default="")
    html_url = fields.CharField(max_length=500, default="")
    origin = fields.CharEnumField(LinkOrigin)
    state = fields.CharField(max_length=20, default="open")  # the issue's state on GitHub
    # What was done for this link, for retries to resume: "comments" (GitHub comment ids
    # imported), "done" (bot actions taken: "comment", "label", "close", "lock").
    data = fields.JSONField[dict[str, Any]](default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "github_issue_links"
        unique_together = (("repo", "issue_number"), ("topic_id", "repo"))


class MirroredComment(Model):
    """A comment on a linked issue mirrored as a post of its topic (mirror.py), once."""

    id = fields.IntField(primary_key=True)
    comment_id = fields.BigIntField(unique=True)
    repo = fields.CharField(max_length=200)
    issue_number = fields.IntField()
    topic_id = fields.IntField(db_index=True)
    post_id = fields.IntField()
    deleted = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "github_mirrored_comments"


class BulkImportRun(Model):
    """A ``forum github import`` of a repository's matching open issues: where it got to,
    so an interrupted run resumes after the last issue done (bulk.py)."""

    id = fields.IntField(primary_key=True)
    project_id = fields.IntField(db_index=True)
    repo = fields.CharField(max_length=200)
    label = fields.CharField(max_length=100)
    kind = fields.CharField(max_length=20)  # "ticket" or "question"
    page = fields.IntField(default=1)  # the listing's page being worked through
    last_number = fields.IntField(default=0)  # the last issue number done (ascending)
    imported = fields.IntField(default=0)
    skipped = fields.IntField(default=0)
    finished_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "github_bulk_runs"
        unique_together = (("project_id", "repo", "label", "kind"),)
