"""What the incoming-mail pages and API show: recorded messages, revoked reply keys."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from forum.mail.inbound_models import InboundMessage, InboundStatus


class InboundMessageOut(BaseModel):
    id: int
    created_at: datetime
    status: InboundStatus
    reason: str
    mail_from: str
    rcpt_to: str
    subject: str
    message_id: str
    size: int = Field(description="bytes as received")
    target_kind: str
    target_id: int | None
    user_id: int | None
    url: str

    @classmethod
    def of(cls, row: InboundMessage) -> InboundMessageOut:
        return cls(id=row.id, created_at=row.created_at, status=row.status, reason=row.reason,
                   mail_from=row.mail_from, rcpt_to=row.rcpt_to, subject=row.subject,
                   message_id=row.message_id, size=row.size, target_kind=row.target_kind,
                   target_id=row.target_id, user_id=row.user_id, url=row.url)


class InboundLog(BaseModel):
    counts: dict[str, int] = Field(description="messages per status, all time")
    messages: list[InboundMessageOut] = Field(description="the latest first, at most 100")


class RevokedOut(BaseModel):
    revoked: int = Field(description="keys revoked: reply addresses sent so far stop working")
