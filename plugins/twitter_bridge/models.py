"""The bridge's own tables: one state row per project and network (cursor, rate-limit
wait, failure, the month's X spending) and one row per imported mention."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class SourceState(Model):
    """Where polling a network for a project stands."""

    id = fields.IntField(primary_key=True)
    project_id = fields.IntField(db_index=True)  # forum's Project.id
    source = fields.CharField(max_length=20)  # x, mastodon or bluesky
    cursor = fields.CharField(max_length=100, null=True)  # since_id, or Bluesky's indexedAt
    not_before = fields.DatetimeField(null=True)  # rate limited until then
    failing = fields.BooleanField(default=False)
    failure = fields.CharField(max_length=500, default="")  # shown to project leads
    last_polled_at = fields.DatetimeField(null=True)
    imported = fields.IntField(default=0)
    spend_month = fields.CharField(max_length=7, default="")  # "2026-11"
    spend_cents = fields.IntField(default=0)  # X replies paid in spend_month

    class Meta:
        table = "twitter_bridge_sources"
        unique_together = (("project_id", "source"),)


class ImportedMention(Model):
    """A mention that became a thread (or a reply in one). Unique per project, network
    and external id, so nothing is imported twice."""

    id = fields.IntField(primary_key=True)
    project_id = fields.IntField(db_index=True)
    source = fields.CharField(max_length=20)
    external_id = fields.CharField(max_length=300)
    conversation_id = fields.CharField(max_length=300, null=True, db_index=True)
    parent_id = fields.CharField(max_length=300, null=True)
    topic_id = fields.IntField(null=True)  # forum's Topic.id, set once imported
    post_id = fields.IntField(null=True)  # the reply it became, when it joined a thread
    author_handle = fields.CharField(max_length=200, default="")
    author_name = fields.CharField(max_length=200, default="")
    author_url = fields.CharField(max_length=500, default="")
    url = fields.CharField(max_length=500, default="")
    excerpt = fields.CharField(max_length=300, default="")
    mentioned_at = fields.DatetimeField()
    imported_at = fields.DatetimeField(auto_now_add=True)
    reply_ref: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    reply_state = fields.CharField(max_length=12, default="none")  # none, queued, sent, failed
    reply_external_id = fields.CharField(max_length=300, null=True, db_index=True)
    reply_error = fields.CharField(max_length=500, default="")

    class Meta:
        table = "twitter_bridge_mentions"
        unique_together = (("project_id", "source", "external_id"),)


class XConnection(Model):
    """The project's X account connected through OAuth 2.0 PKCE: tokens sealed with
    ``platform.seal("twitter_bridge", ...)``. X rotates the refresh token on every refresh,
    so it is replaced only under a conditional update on the sealed value that was used."""

    id = fields.IntField(primary_key=True)
    project_id = fields.IntField(unique=True)  # forum's Project.id
    handle = fields.CharField(max_length=100, default="")
    access_token_sealed = fields.TextField(default="")
    refresh_token_sealed = fields.TextField(default="")
    expires_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "twitter_bridge_x_connections"
