"""The money ledger: one row per money movement, written from Stripe's current state.

``reconcile_charge`` is the one writer. Given a charge as Stripe shows it now (balance
transaction and refunds expanded) and its disputes, it makes sure the ledger holds the
payment, every refund, every dispute and every dispute won back, each exactly once (rows are
unique by the Stripe object's id). Whichever webhook arrives first, and however often, the
rows come out the same.

For every row gross = stripe_fee + platform_fee + project_net. A payment's platform fee is
the Connect application fee when Stripe took one; without a connected account the platform
collected everything, its fee is computed from the platform's percentage and the row is
``owed_to_project``. Refunds and disputes are negative rows. The platform's fee goes back in
proportion, cumulatively (so a charge refunded in parts returns exactly the whole fee), with
integer arithmetic. With Connect, Stripe returns an application fee only when the refund
asked for it (``refund_application_fee``): the fee given back is then never more than the
charge's expanded ``application_fee.amount_refunded`` says, so a refund made without it
leaves the platform its fee, as at Stripe. Stripe's fee is what Stripe's own balance
transaction for the movement says: Stripe keeps its processing fee on a refund (0 unless the
refund's balance transaction, when expanded, shows a fee returned), and charges a dispute
fee, returned only if the balance transaction of a won dispute says so. So a fully refunded
charge leaves the project the Stripe fee it paid, as it does at Stripe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from forum import events
from forum.billing.models import LedgerEntry, LedgerKind

if TYPE_CHECKING:
    from forum.platform import Platform

PURPOSE_TICKET = "ticket_upgrade"
PURPOSE_PLAN = "plan_invoice"


@dataclass(frozen=True)
class Origin:
    """What a payment paid for (from our purchase or subscription)."""

    project_id: int
    user_id: int | None
    purpose: str
    currency: str  # what we asked for; a charge in another currency is noted
    purchase_id: int | None = None
    subscription_id: int | None = None
    ticket_id: int | None = None


def percent_of(amount: int, percent: Decimal) -> int:
    """``percent`` % of ``amount`` minor units, rounded half up to a whole unit."""
    return int((Decimal(amount) * percent / 100).quantize(Decimal(1), ROUND_HALF_UP))


def stamp(seconds: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(seconds), UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.now(UTC)


def _expanded(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _fee_of(transactions: list[Any], withdrawn: bool) -> int:
    """Stripe's fee on the balance transactions that took money (``withdrawn``) or gave it
    back; ids that are not expanded count as no fee."""
    return sum(int(t.get("fee") or 0) for t in transactions
               if isinstance(t, dict) and (int(t.get("amount") or 0) < 0) == withdrawn)


def _movements(charge: dict[str, Any], disputes: list[dict[str, Any]]
               ) -> list[tuple[int, str, LedgerKind, int, int]]:
    """The charge's refunds and disputes, oldest first: (created, id, kind, amount, Stripe's
    fee on it: what a refund's fee returned (negative) or a dispute's fee)."""
    found: list[tuple[int, str, LedgerKind, int, int]] = []
    refunds = (_expanded(charge.get("refunds")) or {}).get("data") or []
    for refund in refunds:
        if isinstance(refund, dict) and refund.get("status") not in {"failed", "canceled"}:
            found.append((int(refund.get("created") or 0), str(refund["id"]),
                          LedgerKind.REFUND, int(refund.get("amount") or 0),
                          _fee_of([refund.get("balance_transaction")], True)))
    for dispute in disputes:
        if dispute.get("charge") == charge["id"]:
            found.append((int(dispute.get("created") or 0), str(dispute["id"]),
                          LedgerKind.DISPUTE, int(dispute.get("amount") or 0),
                          _fee_of(dispute.get("balance_transactions") or [], True)))
    found.sort()
    return found


async def reconcile_charge(charge: dict[str, Any], disputes: list[dict[str, Any]],
                           origin: Origin | None, fee_percent: Decimal) -> list[LedgerEntry]:
    """Bring the ledger in line with ``charge`` (run inside the caller's transaction).

    ``origin`` says what the charge paid for; None when the caller only knows the charge
    (a refund or dispute event): then nothing is written unless the payment is already in
    the ledger (the payment's own event writes the refunds it finds). Returns the new rows.
    """
    new: list[LedgerEntry] = []
    payment = await LedgerEntry.get_or_none(stripe_object_id=charge["id"])
    if payment is None:
        if origin is None or charge.get("status") not in {None, "succeeded"} \
                or not charge.get("paid", True):
            return new
        gross = int(charge.get("amount") or 0)
        txn = _expanded(charge.get("balance_transaction"))
        fee_known = txn is not None and txn.get("fee") is not None
        stripe_fee = int(txn["fee"]) if txn is not None and fee_known else 0
        application_fee = charge.get("application_fee_amount")
        owed = application_fee is None
        platform_fee = percent_of(gross, fee_percent) if application_fee is None \
            else int(application_fee)
        payment = await LedgerEntry.create(
            project_id=origin.project_id, user_id=origin.user_id, kind=LedgerKind.PAYMENT,
            purpose=origin.purpose, purchase_id=origin.purchase_id,
            subscription_id=origin.subscription_id, ticket_id=origin.ticket_id,
            gross=gross, stripe_fee=stripe_fee, stripe_fee_known=fee_known,
            platform_fee=platform_fee, project_net=gross - stripe_fee - platform_fee,
            currency=str(charge.get("currency") or origin.currency).upper(),
            stripe_object_id=charge["id"], owed_to_project=owed,
            occurred_at=stamp(charge.get("created")))
        new.append(payment)
    new += await _reverse(payment, _movements(charge, disputes), _fee_refunded(charge))
    new += await _disputes_won(payment, disputes)
    return new


def _fee_refunded(charge: dict[str, Any]) -> int | None:
    """How much of the Connect application fee Stripe has given back, when the charge was
    read with its ``application_fee`` expanded; None when unknown (then in proportion)."""
    fee = _expanded(charge.get("application_fee"))
    if fee is None or fee.get("amount_refunded") is None:
        return None
    return int(fee["amount_refunded"])


async def _reverse(payment: LedgerEntry,
                   movements: list[tuple[int, str, LedgerKind, int, int]],
                   fee_refunded: int | None = None) -> list[LedgerEntry]:
    new: list[LedgerEntry] = []
    gross = payment.gross
    if gross <= 0:
        return new
    found: list[Any] = await LedgerEntry.filter(
        stripe_object_id__in=[m[1] for m in movements]).values_list("stripe_object_id",
                                                                    "platform_fee")
    existing = {str(object_id): -int(fee) for object_id, fee in found}
    taken = returned = 0
    for created, object_id, kind, amount, stripe_fee in movements:
        before, taken = taken, min(taken + max(amount, 0), gross)
        if object_id in existing:
            returned += existing[object_id]
            continue
        if taken == before:
            continue
        back = taken - before
        # What should have gone back by now, less what the rows before this one gave back.
        platform = max(_fee_back(payment, taken, fee_refunded) - returned, 0)
        returned += platform
        new.append(await LedgerEntry.create(
            project_id=payment.project_id, user_id=payment.user_id,  # type: ignore[attr-defined]
            kind=kind, purpose=payment.purpose,
            purchase_id=payment.purchase_id,  # type: ignore[attr-defined]
            subscription_id=payment.subscription_id,  # type: ignore[attr-defined]
            ticket_id=payment.ticket_id, gross=-back, stripe_fee=stripe_fee,
            stripe_fee_known=payment.stripe_fee_known, platform_fee=-platform,
            project_net=-back - stripe_fee + platform, currency=payment.currency,
            stripe_object_id=object_id, reverses=payment,
            owed_to_project=payment.owed_to_project, occurred_at=stamp(created)))
    return new


def _fee_back(payment: LedgerEntry, taken: int, fee_refunded: int | None) -> int:
    """The platform fee given back once ``taken`` of the payment went back: in proportion,
    and with Connect never more than Stripe refunded of the application fee."""
    back = payment.platform_fee * taken // payment.gross
    if fee_refunded is not None and not payment.owed_to_project:
        back = min(back, fee_refunded)
    return back


async def _disputes_won(payment: LedgerEntry,
                        disputes: list[dict[str, Any]]) -> list[LedgerEntry]:
    """A dispute the merchant won gives its money back: the dispute row, negated."""
    new: list[LedgerEntry] = []
    for dispute in disputes:
        if dispute.get("status") != "won" or dispute.get("charge") != payment.stripe_object_id:
            continue
        won_id = f"{dispute['id']}:won"
        lost = await LedgerEntry.get_or_none(stripe_object_id=dispute["id"])
        if lost is None or await LedgerEntry.exists(stripe_object_id=won_id):
            continue
        closed = max([int(t.get("created") or 0) for t in dispute.get("balance_transactions")
                      or [] if isinstance(t, dict)] or [int(dispute.get("created") or 0)])
        # The money comes back; the dispute fee only if Stripe's reinstating transaction
        # returns it (a negative fee).
        fee_back = _fee_of(dispute.get("balance_transactions") or [], False)
        new.append(await LedgerEntry.create(
            project_id=lost.project_id, user_id=lost.user_id,  # type: ignore[attr-defined]
            kind=LedgerKind.DISPUTE_REVERSAL, purpose=lost.purpose,
            purchase_id=lost.purchase_id,  # type: ignore[attr-defined]
            subscription_id=lost.subscription_id,  # type: ignore[attr-defined]
            ticket_id=lost.ticket_id, gross=-lost.gross, stripe_fee=fee_back,
            stripe_fee_known=lost.stripe_fee_known, platform_fee=-lost.platform_fee,
            project_net=-lost.gross - fee_back + lost.platform_fee, currency=lost.currency,
            stripe_object_id=won_id,
            reverses=payment, owed_to_project=lost.owed_to_project,
            occurred_at=stamp(closed)))
    return new


def recorded_events(entries: list[LedgerEntry]) -> list[events.PaymentRecorded]:
    return [events.PaymentRecorded(
        project=e.project_id, entry_id=e.id, user_id=e.user_id,  # type: ignore[attr-defined]
        purpose=e.purpose, amount=e.gross, project_net=e.project_net, currency=e.currency,
        ticket_id=e.ticket_id) for e in entries]


async def emit_recorded(platform: Platform, entries: list[LedgerEntry]) -> None:
    """After commit: tell the other domains (and plugins) what reached the ledger."""
    for event in recorded_events(entries):
        await platform.emit(event)


def balanced(entry: LedgerEntry) -> bool:
    return entry.gross == entry.stripe_fee + entry.platform_fee + entry.project_net
