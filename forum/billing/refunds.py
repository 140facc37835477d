"""Refunds a project's leads ask for from the revenue page or the API.

``do_refund`` asks Stripe for the refund (``POST /v1/refunds``) with an idempotency key built
from our ids, and records a ``RefundRequest`` for the audit trail. It does not write the
ledger: Stripe's ``charge.refunded`` webhook does (``reconcile_charge``), exactly as for a
refund made in Stripe's dashboard. Until then the requested amount counts as pending, so a
double submit cannot refund twice. With a connected account (a destination charge) the
refund also returns the application fee and reverses the transfer, as Stripe documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from tortoise.exceptions import IntegrityError

from forum.accounts.models import User
from forum.billing.gateway import gateway_for
from forum.billing.models import LedgerEntry, LedgerKind, RefundRequest
from forum.projects.models import Project
from forum.web.errors import Invalid, NotFound

if TYPE_CHECKING:
    from forum.platform import Platform


class RefundReason(StrEnum):
    REQUESTED_BY_CUSTOMER = "requested_by_customer"
    DUPLICATE = "duplicate"
    FRAUDULENT = "fraudulent"


NOTE_MAX = 500


class HasId(Protocol):
    @property
    def id(self) -> int: ...


@dataclass(frozen=True)
class Refundable:
    """A payment and what may still be refunded of it (minor units)."""

    payment: LedgerEntry
    refunded: int  # refunds and disputes already in the ledger
    pending: int  # asked for here, not yet confirmed by Stripe
    requests: list[RefundRequest]

    @property
    def left(self) -> int:
        return max(self.payment.gross - self.refunded - self.pending, 0)

    @property
    def connected(self) -> bool:
        return not self.payment.owed_to_project


@dataclass(frozen=True)
class Split:
    """Who gives back what for a refund of ``amount``."""

    amount: int
    platform: int
    project: int


async def access_payment(project: Project, entry_id: int) -> LedgerEntry:
    """One of the project's payments; another project's (or no) payment is not found."""
    payment = await LedgerEntry.get_or_none(id=entry_id, project_id=project.id,
                                            kind=LedgerKind.PAYMENT)
    if payment is None:
        raise NotFound("No such payment.")
    return payment


async def refundable(payment: LedgerEntry) -> Refundable:
    reversals = await LedgerEntry.filter(reverses_id=payment.id).values_list(
        "stripe_object_id", "gross")
    confirmed = {str(object_id) for object_id, _ in reversals}
    refunded = -sum(int(gross) for _, gross in reversals)
    requests = await RefundRequest.filter(ledger_entry_id=payment.id).order_by(
        "created_at", "id").prefetch_related("requested_by")
    pending = sum(r.amount for r in requests if r.stripe_refund_id not in confirmed)
    return Refundable(payment, refunded, pending, list(requests))


async def refundable_rows(rows: Sequence[HasId]) -> dict[int, Refundable]:
    """For the revenue page: each listed payment's refund state, by ledger id."""
    ids = [r.id for r in rows]
    payments = await LedgerEntry.filter(id__in=ids, kind=LedgerKind.PAYMENT)
    return {p.id: await refundable(p) for p in payments}


def split(state: Refundable, amount: int) -> Split:
    """The platform gives back its fee in proportion (cumulatively, as the ledger does);
    the project the rest. Stripe keeps its processing fee."""
    payment = state.payment
    before = state.refunded + state.pending
    if payment.gross <= 0:
        return Split(amount, 0, amount)
    platform = (payment.platform_fee * min(before + amount, payment.gross) // payment.gross
                - payment.platform_fee * min(before, payment.gross) // payment.gross)
    return Split(amount, platform, amount - platform)


def check_refund(state: Refundable, amount: int | None, reason: str, note: str) -> int:
    """The amount to refund (default: all that is left), or refuse with 422."""
    fields: dict[str, str] = {}
    if reason not in {r.value for r in RefundReason}:
        fields["reason"] = "Choose requested_by_customer, duplicate or fraudulent."
    if len(note) > NOTE_MAX:
        fields["note"] = f"At most {NOTE_MAX} characters."
    amount = state.left if amount is None else amount
    if state.left <= 0:
        fields["amount"] = "Nothing is left to refund on this payment."
    elif amount <= 0:
        fields["amount"] = "The amount must be more than zero."
    elif amount > state.left:
        fields["amount"] = "That is more than is left to refund."
    if fields:
        raise Invalid("The refund cannot be made.", fields=fields)
    return amount


async def do_refund(platform: Platform, user: User, state: Refundable, amount: int,
                    reason: str, note: str) -> RefundRequest:
    """Ask Stripe for the refund and record the request (the webhook writes the ledger).
    Stripe's refusal raises GatewayError and nothing is stored."""
    payment = state.payment
    params: dict[str, object] = {
        "charge": payment.stripe_object_id, "amount": amount, "reason": reason,
        "metadata": {"project_id": str(payment.project_id),  # type: ignore[attr-defined]
                     "user_id": str(user.id), "ledger_entry_id": str(payment.id)}}
    if state.connected:
        params.update({"refund_application_fee": True, "reverse_transfer": True})
    key = f"refund-{payment.id}-{state.refunded + state.pending}-{amount}"
    refund = await gateway_for(platform).create_refund(params, idempotency_key=key)
    try:
        return await RefundRequest.create(
            ledger_entry_id=payment.id, amount=amount, reason=reason, note=note,
            requested_by_id=user.id, stripe_refund_id=str(refund["id"]))
    except IntegrityError:
        # The same request twice at once: Stripe answered both with one refund.
        return await RefundRequest.get(stripe_refund_id=str(refund["id"]))
