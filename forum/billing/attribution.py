"""Crediting helpers with the money their answers earned a project.

When a paid ticket is solved, the project net of its payments is attributed: by default all
of it to the author of the accepted answer; a project that splits (``split_helped``) shares
it equally among the authors of the posts its team marked "helped" (integer shares, the
remainder to the first post). The requester is never credited; team members only when the
project says so (``credit_team``). Each share is an Attribution row against the payment's
ledger entry, announced as ``HelpCredited``.

A refund or dispute takes back credit in proportion: each credited share follows the
payment's remaining net (cumulatively, so a full refund ends at exactly zero), as negative
rows against the refund's entry. Everything is idempotent: rows are unique per entry, user
and post, and a ticket solved twice is credited once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from forum import events
from forum.billing.models import Attribution, BillingSettings, HelpedMark, LedgerEntry, LedgerKind
from forum.projects.models import Membership
from forum.topics.models import Post, Topic
from forum.topics.permissions import TEAM_ROLES

if TYPE_CHECKING:
    from forum.platform import Platform


@dataclass(frozen=True)
class Share:
    post_id: int
    user_id: int


async def credited_posts(project_id: int, ticket_id: int, topic_id: int,
                         requester_id: int) -> list[Share]:
    """Whose posts get the ticket's revenue, in order (the first takes the remainder)."""
    settings = await BillingSettings.get_or_none(project_id=project_id)
    split = settings is not None and settings.split_helped
    credit_team = settings is not None and settings.credit_team
    posts: list[Post] = []
    if split:
        marks = await HelpedMark.filter(ticket_id=ticket_id, post__topic_id=topic_id
                                        ).order_by("post_id").prefetch_related("post")
        posts = [mark.post for mark in marks if mark.post.deleted_at is None]
    if not posts:
        topic = await Topic.get_or_none(id=topic_id)
        if topic is not None and topic.accepted_post_id is not None:
            accepted = await Post.get_or_none(id=topic.accepted_post_id, topic_id=topic_id)
            if accepted is not None and accepted.deleted_at is None:
                posts = [accepted]
    authors = {p.author_id for p in posts}  # type: ignore[attr-defined]
    team: set[int] = set()
    if not credit_team and authors:
        members: list[Any] = await Membership.filter(
            project_id=project_id, user_id__in=list(authors),
            role__in=list(TEAM_ROLES)).values_list("user_id", flat=True)
        team = {int(m) for m in members}
    return [Share(p.id, p.author_id) for p in posts  # type: ignore[attr-defined]
            if p.author_id != requester_id and p.author_id not in team]  # type: ignore[attr-defined]


def split_equally(amount: int, parts: int) -> list[int]:
    """``amount`` in ``parts`` integer shares (toward zero), the remainder to the first."""
    sign = -1 if amount < 0 else 1
    each, rest = divmod(abs(amount), parts)
    shares = [each] * parts
    shares[0] += rest
    return [sign * s for s in shares]


async def on_ticket_resolved(platform: Platform, project_id: int, ticket_id: int) -> int:
    """Credit the helpers of a solved paid ticket; returns how many rows were added."""
    payments = await LedgerEntry.filter(project_id=project_id, ticket_id=ticket_id,
                                        kind=LedgerKind.PAYMENT).order_by("id")
    if not payments:
        return 0
    facts = await platform.ticket_facts(project_id, ticket_id=ticket_id)
    if facts is None:
        return 0
    shares = await credited_posts(project_id, ticket_id, facts.topic_id, facts.requester_id)
    if not shares:
        return 0
    created: list[Attribution] = []
    async with in_transaction():
        for payment in payments:
            if payment.project_net <= 0 or await Attribution.exists(entry_id=payment.id):
                continue
            for share, amount in zip(shares, split_equally(payment.project_net,
                                                           len(shares)), strict=True):
                if amount == 0:
                    continue
                created.append(await Attribution.create(
                    project_id=project_id, entry_id=payment.id, user_id=share.user_id,
                    ticket_id=ticket_id, topic_id=facts.topic_id, post_id=share.post_id,
                    amount=amount, currency=payment.currency))
        for payment in payments:
            created += await _follow_reversals(payment)
    await _announce(platform, created, facts.reference)
    return len(created)


async def _follow_reversals(payment: LedgerEntry) -> list[Attribution]:
    """Bring each share credited for ``payment`` in line with what is left of its net
    after its refunds and disputes (rows against each reversing entry, oldest first)."""
    created: list[Attribution] = []
    if payment.project_net <= 0:
        return created
    credited = await Attribution.filter(entry_id=payment.id).order_by("id")
    if not credited:
        return created
    reversals = await LedgerEntry.filter(reverses_id=payment.id).order_by("occurred_at", "id")
    remaining = payment.project_net
    reversal_ids = [e.id for e in reversals]
    for entry in reversals:
        remaining += entry.project_net
        rows = await Attribution.filter(entry_id=entry.id).values_list("user_id", "post_id")
        done = set(rows)
        for share in credited:
            key = (share.user_id, share.post_id)  # type: ignore[attr-defined]
            if key in done:
                continue
            target = share.amount * max(remaining, 0) // payment.project_net
            taken: list[Any] = await Attribution.filter(
                entry_id__in=reversal_ids, user_id=share.user_id,  # type: ignore[attr-defined]
                post_id=share.post_id).values_list("amount", flat=True)
            so_far = share.amount + sum(int(a) for a in taken)
            change = target - so_far
            created.append(await Attribution.create(
                project_id=payment.project_id, entry_id=entry.id,  # type: ignore[attr-defined]
                user_id=share.user_id, ticket_id=share.ticket_id,  # type: ignore[attr-defined]
                topic_id=share.topic_id, post_id=share.post_id, amount=change,
                currency=share.currency))
    return created


async def reverse_for_entries(platform: Platform, entries: list[LedgerEntry]) -> int:
    """After new refund or dispute rows: take back (or give back) the helpers' credit."""
    payment_ids = sorted({e.reverses_id for e in entries  # type: ignore[attr-defined]
                          if e.kind != LedgerKind.PAYMENT
                          and e.reverses_id is not None})  # type: ignore[attr-defined]
    created: list[Attribution] = []
    async with in_transaction():
        for payment in await LedgerEntry.filter(id__in=payment_ids).order_by("id"):
            created += await _follow_reversals(payment)
    by_ticket: dict[tuple[int, int], list[Attribution]] = {}
    for row in created:
        by_ticket.setdefault((row.project_id, row.ticket_id), []  # type: ignore[attr-defined]
                             ).append(row)
    for (project_id, ticket_id), rows in by_ticket.items():
        facts = await platform.ticket_facts(project_id, ticket_id=ticket_id)
        await _announce(platform, rows, facts.reference if facts else f"#{ticket_id}")
    return len(created)


async def _announce(platform: Platform, rows: list[Attribution], reference: str) -> None:
    for row in rows:
        if row.amount == 0:
            continue
        await platform.emit(events.HelpCredited(
            project=row.project_id, attribution_id=row.id,  # type: ignore[attr-defined]
            user_id=row.user_id, ticket_id=row.ticket_id,  # type: ignore[attr-defined]
            topic_id=row.topic_id, post_id=row.post_id, amount=row.amount,
            currency=row.currency, reference=reference))
