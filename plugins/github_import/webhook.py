"""Webhook deliveries: checked, stored once, handed to a job.

``receive`` runs in the request and does only what must happen before answering: the
``X-Hub-Signature-256`` check (HMAC-SHA256 of the raw body under the linked repository's
secret, compared in constant time), storing the delivery under its ``X-GitHub-Delivery``
id (a redelivery finds it and does nothing) and queueing ``github_import.delivery`` in the
same transaction. The job hands the payload to each handler of
``plugin.webhook_handlers()`` ("+support", and state sync when present).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from plugins.github_import.connection import NAME, connection_for_repo, webhook_secret
from plugins.github_import.models import Connection, Delivery

if TYPE_CHECKING:
    from forum.jobs import JobContext
    from forum.platform import Platform

log = logging.getLogger(__name__)

# Events a handler may want; anything else is acknowledged and dropped.
HANDLED_EVENTS = frozenset({"issues", "issue_comment"})
MAX_RESULT = 300

WebhookHandler = Callable[["Platform", Connection, str, dict[str, Any]],
                          Awaitable[str | None]]


def expected_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """GitHub's X-Hub-Signature-256 check (constant time); no secret verifies nothing."""
    if not secret or not header:
        return False
    return hmac.compare_digest(expected_signature(secret, body).encode(),
                               header.strip().encode())


@dataclass(frozen=True)
class Received:
    """The answer to a delivery: HTTP status and one line saying what happened."""

    status: int
    message: str


def _repo_of(payload: dict[str, Any]) -> str:
    repository = payload.get("repository")
    if isinstance(repository, dict) and isinstance(repository.get("full_name"), str):
        return str(repository["full_name"])
    return ""


async def receive(platform: Platform, event: str, delivery_id: str, body: bytes,
                  signature: str | None) -> Received:
    """Check and store one delivery; see the module's docstring."""
    if not signature:
        return Received(401, "missing X-Hub-Signature-256")
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        return Received(400, "the body is not a JSON object")
    repo = _repo_of(payload)
    connection = await connection_for_repo(repo) if repo else None
    if connection is None:
        log.info("github webhook %s (%s) ignored: repository %r is not linked",
                 delivery_id, event, repo)
        return Received(202, "ignored: repository not linked")
    if not verify_signature(webhook_secret(platform, connection), body, signature):
        log.warning("github webhook %s for %s refused: bad signature", delivery_id, repo)
        return Received(401, "bad signature")
    if event == "ping":
        return Received(200, "pong")
    if event not in HANDLED_EVENTS:
        return Received(202, f"ignored: event {event!r} is not used")
    if not delivery_id:
        return Received(400, "missing X-GitHub-Delivery")
    try:
        async with in_transaction():
            row = await Delivery.create(delivery_id=delivery_id[:100], event=event[:60],
                                        repo=connection.repo, payload=payload)
            await platform.enqueue("github_import.delivery", delivery=row.id)
    except IntegrityError:
        return Received(200, "already received")
    return Received(202, "queued")


async def process_delivery(ctx: JobContext, *, delivery: int) -> None:
    """Hand a stored delivery to the handlers once; a failing handler fails the job, which
    is retried (the handlers are idempotent)."""
    platform = ctx.platform
    row = await Delivery.get_or_none(id=delivery)
    if row is None or row.processed_at is not None:
        return
    lines = await dispatch(platform, row)
    result = "; ".join(lines) or "nothing to do"
    await Delivery.filter(id=row.id).update(processed_at=datetime.now(UTC),
                                            result=result[:MAX_RESULT], payload=None)


async def dispatch(platform: Platform, row: Delivery) -> list[str]:
    from forum.projects.service import enabled_plugin_names
    from plugins.github_import.plugin import webhook_handlers

    connection = await Connection.get_or_none(repo=row.repo)
    if connection is None:
        return [f"repository {row.repo} is no longer linked"]
    if NAME not in await enabled_plugin_names(platform, connection.project_id):
        log.info("github delivery %s ignored: the plugin is off in project %s",
                 row.delivery_id, connection.project_id)
        return ["the GitHub plugin is off in the project"]
    payload = row.payload if isinstance(row.payload, dict) else {}
    lines: list[str] = []
    for handler in webhook_handlers():
        line = await handler(platform, connection, row.event, payload)
        if line:
            log.info("github delivery %s (%s %s): %s", row.delivery_id, row.event,
                     payload.get("action", ""), line)
            lines.append(line)
    return lines


async def prune_deliveries(ctx: JobContext, *, days: int = 30) -> None:
    """Forget processed deliveries older than ``days`` (GitHub redelivers within days)."""
    from datetime import timedelta

    cutoff = datetime.now(UTC) - timedelta(days=days)
    await Delivery.filter(processed_at__lt=cutoff).delete()
