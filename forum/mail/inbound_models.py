"""Incoming mail's tables: the per-user keys that sign reply addresses, and every message
received, whatever became of it."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from forum.accounts.models import User


class ReplyKey(Model):
    """A secret mixed into the MAC of a user's reply tokens. Revoking it (``revoked_at``)
    invalidates every reply address the user was sent, and a new key signs the next ones."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="reply_keys", on_delete=fields.CASCADE)
    key = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "mail_reply_keys"
        indexes = (("user_id", "revoked_at"),)


class InboundStatus(StrEnum):
    POSTED = "posted"  # a domain took it (a reply posted, a draft ticket opened)
    BOUNCED = "bounced"  # refused, and the sender was told why
    DROPPED = "dropped"  # an auto-reply, a bounce, a loop or a duplicate: silently ignored
    REJECTED = "rejected"  # refused without a bounce (malformed, oversized, unknown address)


class InboundMessage(Model):
    """One message received by ``forum mail-in`` or ``POST /mail/inbound``. ``raw_message`` keeps
    the message as received (cut at FORUM_MAIL_IN_MAX_BYTES for oversized ones)."""

    id = fields.IntField(primary_key=True)
    raw_message = fields.BinaryField()
    size = fields.IntField(default=0)
    mail_from = fields.CharField(max_length=254, default="", db_index=True)
    rcpt_to = fields.CharField(max_length=254, default="")
    message_id = fields.CharField(max_length=255, default="", db_index=True)
    subject = fields.CharField(max_length=255, default="")
    status = fields.CharEnumField(InboundStatus, max_length=10)
    reason = fields.CharField(max_length=500, default="")
    target_kind = fields.CharField(max_length=20, default="")
    target_id = fields.IntField(null=True)
    user_id = fields.IntField(null=True)  # the token's user, when a token was verified
    url = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "mail_inbound"
        indexes = (("mail_from", "status", "created_at"),)
