"""Stripe's webhook events, each taken in once and acted on from Stripe's current state.

``take_event`` runs inline in the request: the signature was checked by the route; an event
id seen before is a no-op; the handler re-reads the objects the event is about from Stripe
(so an old or out-of-order event acts on what is true now), then writes the event's row and
every change in one transaction. If anything fails nothing is written and the route answers
500, so Stripe delivers the event again. Events for other domains (PaymentRecorded,
TicketWorthChanged, HelpCredited) are emitted after the commit.

Types handled: checkout.session.completed / async_payment_succeeded / async_payment_failed /
expired, invoice.paid, invoice.payment_failed, customer.subscription.created / updated /
deleted, charge.refunded, charge.dispute.created / closed, account.updated. Any other type is
recorded and ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from forum.billing.gateway import PaymentGateway
from forum.billing.ledger import (
    PURPOSE_PLAN,
    PURPOSE_TICKET,
    Origin,
    emit_recorded,
    reconcile_charge,
    stamp,
)
from forum.billing.models import (
    BillingSettings,
    LedgerEntry,
    Purchase,
    PurchaseKind,
    PurchaseState,
    StripeEvent,
    Subscription,
)
from forum.web.errors import Conflict

if TYPE_CHECKING:
    from forum.platform import Platform

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What handling an event did: a line for the event's row, and work for after commit."""

    result: str = ""
    entries: list[LedgerEntry] = field(default_factory=list)
    tickets: set[tuple[int, int]] = field(default_factory=set)  # (project, ticket) to settle
    writes: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


Handler = Callable[["Context", dict[str, Any]], Awaitable[Outcome]]


@dataclass
class Context:
    platform: Platform
    gateway: PaymentGateway
    fee_percent: Decimal


def _object_id(event: dict[str, Any]) -> str:
    obj = (event.get("data") or {}).get("object") or {}
    return str(obj.get("id") or "")


async def take_event(platform: Platform, gateway: PaymentGateway,
                     event: dict[str, Any]) -> str:
    """Process one verified event once; returns what was done (also stored on its row)."""
    event_id = str(event["id"])
    if await StripeEvent.exists(event_id=event_id):
        return "duplicate: already taken in"
    handler = HANDLERS.get(str(event["type"]))
    from forum.projects.service import platform_fee_percent

    context = Context(platform, gateway, await platform_fee_percent(platform))
    outcome = Outcome(result="ignored: not a type billing acts on")
    if handler is not None:
        outcome = await handler(context, event)
    try:
        async with in_transaction():
            for write in outcome.writes:
                await write()
            await StripeEvent.create(
                event_id=event_id, type=str(event["type"])[:80],
                account=str(event["account"])[:64] if event.get("account") else None,
                stripe_created=stamp(event.get("created")), processed_at=datetime.now(UTC),
                result=outcome.result[:200])
    except IntegrityError:
        if await StripeEvent.exists(event_id=event_id):
            return "duplicate: taken in concurrently"
        # Another event about the same money was written at the same moment: nothing of
        # this one was kept; Stripe delivers it again and it then finds those rows.
        raise Conflict("Another event about the same payment is being taken in; "
                       "deliver this one again.") from None
    await after_commit(platform, outcome)
    return outcome.result


async def after_commit(platform: Platform, outcome: Outcome) -> None:
    from forum.billing.attribution import reverse_for_entries
    from forum.billing.worth import settle_ticket_worth

    await emit_recorded(platform, outcome.entries)
    for project_id, ticket_id in sorted(outcome.tickets):
        await settle_ticket_worth(platform, project_id, ticket_id)
    await reverse_for_entries(platform, outcome.entries)


# Finding our rows for Stripe's objects


async def purchase_for_session(session: dict[str, Any]) -> Purchase | None:
    purchase = await Purchase.get_or_none(checkout_session_id=session["id"])
    if purchase is not None:
        return purchase
    metadata = session.get("metadata") or {}
    for value in (metadata.get("purchase_id"), session.get("client_reference_id")):
        if value is not None and str(value).isdigit():
            purchase = await Purchase.get_or_none(id=int(value))
            if purchase is not None:
                return purchase
    return None


def _subscription_id_of(invoice: dict[str, Any]) -> str | None:
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    value = details.get("subscription") or invoice.get("subscription")
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


def _metadata_purchase_id(metadata: dict[str, Any] | None) -> int | None:
    value = (metadata or {}).get("purchase_id")
    return int(value) if value is not None and str(value).isdigit() else None


async def subscription_row(stripe_subscription: dict[str, Any] | None,
                           stripe_id: str | None,
                           purchase: Purchase | None = None) -> Subscription | None:
    """Our Subscription for a Stripe subscription: by its id, else through the purchase
    that started it (created from the purchase when the checkout page made none)."""
    if stripe_id:
        row = await Subscription.get_or_none(stripe_subscription_id=stripe_id)
        if row is not None:
            return row
    if purchase is None and stripe_subscription is not None:
        purchase_id = _metadata_purchase_id(stripe_subscription.get("metadata"))
        if purchase_id is not None:
            purchase = await Purchase.get_or_none(id=purchase_id)
    if purchase is None or purchase.kind != PurchaseKind.SUBSCRIPTION:
        return None
    if purchase.subscription_id is not None:  # type: ignore[attr-defined]
        return await Subscription.get_or_none(
            id=purchase.subscription_id)  # type: ignore[attr-defined]
    if purchase.plan_id is None:  # type: ignore[attr-defined]
        return None
    row = await Subscription.create(
        project_id=purchase.project_id, user_id=purchase.user_id,  # type: ignore[attr-defined]
        plan_id=purchase.plan_id, amount=purchase.amount,  # type: ignore[attr-defined]
        currency=purchase.currency, checkout_session_id=purchase.checkout_session_id)
    await Purchase.filter(id=purchase.id).update(subscription_id=row.id)
    purchase.subscription_id = row.id
    return row


def subscription_changes(sub: dict[str, Any]) -> dict[str, Any]:
    """Our columns from Stripe's subscription (the period lives on its items since 2025)."""
    items = ((sub.get("items") or {}).get("data") or [{}])
    item = items[0] if items else {}
    start = item.get("current_period_start") or sub.get("current_period_start")
    end = item.get("current_period_end") or sub.get("current_period_end")
    price = item.get("price") or {}
    changes: dict[str, Any] = {
        "stripe_subscription_id": sub["id"], "status": str(sub.get("status") or "")[:24],
        "cancel_at_period_end": bool(sub.get("cancel_at_period_end")),
        "current_period_start": stamp(start) if start else None,
        "current_period_end": stamp(end) if end else None,
        "canceled_at": stamp(sub["canceled_at"]) if sub.get("canceled_at") else None,
    }
    if price.get("unit_amount") is not None:
        changes["amount"] = int(price["unit_amount"])
    return changes


# Charges: the ledger


async def _charge_with_disputes(context: Context, charge_id: str
                                ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    charge = await context.gateway.retrieve_charge(charge_id)
    disputes = await context.gateway.list_disputes(charge=charge_id) \
        if charge.get("disputed") else []
    return charge, disputes


async def _payment_intent_charge(context: Context, payment_intent_id: str
                                 ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The payment intent's charge, with its refunds and disputes."""
    intent = await context.gateway.retrieve_payment_intent(payment_intent_id)
    latest = intent.get("latest_charge")
    charge_id = latest.get("id") if isinstance(latest, dict) else latest
    if not charge_id or intent.get("status") != "succeeded":
        return None, []
    charge, disputes = await _charge_with_disputes(context, str(charge_id))
    return charge, disputes


SESSION_PAYMENT = "payment_intent.latest_charge.balance_transaction"


async def _session_charge(context: Context, intent: dict[str, Any] | str
                          ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The session's charge: read with the session when it was expanded and nothing was
    refunded or disputed yet (the common case: one request), else read in full."""
    if not isinstance(intent, dict):
        return await _payment_intent_charge(context, intent)
    charge = intent.get("latest_charge")
    if intent.get("status") != "succeeded" or not charge:
        return None, []
    if isinstance(charge, dict) and isinstance(charge.get("balance_transaction"), dict) \
            and not charge.get("amount_refunded") and not charge.get("disputed"):
        return charge, []
    charge_id = charge.get("id") if isinstance(charge, dict) else charge
    return await _charge_with_disputes(context, str(charge_id))


def _record(outcome: Outcome, charge: dict[str, Any], disputes: list[dict[str, Any]],
            origin: Origin | None, fee_percent: Decimal) -> None:
    async def write() -> None:
        outcome.entries.extend(await reconcile_charge(charge, disputes, origin, fee_percent))
    outcome.writes.append(write)


def _currency_note(charge: dict[str, Any], expected: str) -> str:
    got = str(charge.get("currency") or "").upper()
    if got and got != expected.upper():
        return f"; currency mismatch: paid in {got}, priced in {expected.upper()}"
    return ""


# Handlers


async def on_checkout_session(context: Context, event: dict[str, Any]) -> Outcome:
    session = await context.gateway.retrieve_checkout_session(
        _object_id(event), expand=[SESSION_PAYMENT])
    outcome = Outcome()
    purchase = await purchase_for_session(session)
    if purchase is None:
        outcome.result = "ignored: no purchase for this checkout session"
        return outcome
    kind = str(event["type"])
    paid = session.get("status") == "complete" and session.get("payment_status") in {
        "paid", "no_payment_required"}
    if not paid:
        failed = kind.endswith("async_payment_failed") or session.get("status") == "expired"
        new_state = PurchaseState.EXPIRED if session.get("status") == "expired" \
            else PurchaseState.FAILED
        if failed:
            async def fail() -> None:
                await Purchase.filter(id=purchase.id, state=PurchaseState.PENDING).update(
                    state=new_state)
            outcome.writes.append(fail)
            outcome.result = f"purchase {purchase.id} {new_state.value}"
        else:
            outcome.result = f"purchase {purchase.id} waits for payment"
        return outcome
    changes: dict[str, Any] = {"checkout_session_id": session["id"]}
    invoice_id = session.get("invoice")
    if invoice_id:
        changes["invoice_id"] = str(invoice_id)
    if session.get("mode") == "subscription":
        return await _subscription_checkout(context, session, purchase, changes, outcome)
    intent = session.get("payment_intent")
    intent_id = intent.get("id") if isinstance(intent, dict) else intent
    charge, disputes = (await _session_charge(context, intent) if intent else (None, []))
    if intent_id:
        changes["payment_intent_id"] = str(intent_id)
    origin = Origin(project_id=purchase.project_id,  # type: ignore[attr-defined]
                    user_id=purchase.user_id,  # type: ignore[attr-defined]
                    purpose=PURPOSE_TICKET if purchase.kind == PurchaseKind.TICKET_UPGRADE
                    else PURPOSE_PLAN, currency=purchase.currency, purchase_id=purchase.id,
                    ticket_id=purchase.ticket_id)
    _mark_paid(outcome, purchase, changes)
    note = ""
    if charge is not None:
        _record(outcome, charge, disputes, origin, context.fee_percent)
        note = _currency_note(charge, purchase.currency)
    if purchase.ticket_id is not None:
        outcome.tickets.add((purchase.project_id, purchase.ticket_id))  # type: ignore[attr-defined]
    outcome.result = f"purchase {purchase.id} paid{note}"
    return outcome


def _mark_paid(outcome: Outcome, purchase: Purchase, changes: dict[str, Any]) -> None:
    async def write() -> None:
        fresh = await Purchase.get(id=purchase.id)
        update = dict(changes)
        if fresh.state in {PurchaseState.PENDING, PurchaseState.FAILED,
                           PurchaseState.EXPIRED}:
            update["state"] = PurchaseState.PAID
            update["paid_at"] = datetime.now(UTC)
        await Purchase.filter(id=purchase.id).update(**update)
    outcome.writes.append(write)


async def _subscription_checkout(context: Context, session: dict[str, Any],
                                 purchase: Purchase, changes: dict[str, Any],
                                 outcome: Outcome) -> Outcome:
    sub_id = session.get("subscription")
    sub_id = sub_id.get("id") if isinstance(sub_id, dict) else sub_id
    stripe_sub = await context.gateway.retrieve_subscription(str(sub_id)) if sub_id else None
    invoice_charge: tuple[dict[str, Any] | None, list[dict[str, Any]]] = (None, [])
    if session.get("invoice"):
        invoice = await context.gateway.retrieve_invoice(str(session["invoice"]))
        invoice_charge = await _invoice_charge(context, invoice)

    async def write() -> None:
        row = await subscription_row(stripe_sub, str(sub_id) if sub_id else None, purchase)
        if row is None:
            return
        if stripe_sub is not None:
            await Subscription.filter(id=row.id).update(**subscription_changes(stripe_sub))
        charge, disputes = invoice_charge
        if charge is not None:
            origin = Origin(project_id=row.project_id,  # type: ignore[attr-defined]
                            user_id=row.user_id,  # type: ignore[attr-defined]
                            purpose=PURPOSE_PLAN, currency=row.currency,
                            purchase_id=purchase.id, subscription_id=row.id)
            outcome.entries.extend(await reconcile_charge(charge, disputes, origin,
                                                          context.fee_percent))

    _mark_paid(outcome, purchase, changes)
    outcome.writes.append(write)
    outcome.result = f"purchase {purchase.id} paid; subscription {sub_id}"
    return outcome


async def _invoice_charge(context: Context, invoice: dict[str, Any]
                          ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The charge that paid the invoice (through its payments, API 2025 and later)."""
    if invoice.get("status") != "paid":
        return None, []
    for payment in ((invoice.get("payments") or {}).get("data") or []):
        detail = payment.get("payment") or {}
        intent = detail.get("payment_intent")
        intent = intent.get("id") if isinstance(intent, dict) else intent
        if intent and payment.get("status") in {None, "paid"}:
            return await _payment_intent_charge(context, str(intent))
        charge = detail.get("charge")
        charge = charge.get("id") if isinstance(charge, dict) else charge
        if charge:
            return await _charge_with_disputes(context, str(charge))
    return None, []


async def on_invoice_paid(context: Context, event: dict[str, Any]) -> Outcome:
    invoice = await context.gateway.retrieve_invoice(_object_id(event))
    outcome = Outcome()
    charge, disputes = await _invoice_charge(context, invoice)
    if charge is None:
        outcome.result = "ignored: invoice not paid by a charge"
        return outcome
    sub_id = _subscription_id_of(invoice)
    if sub_id is None:  # a one-time payment's invoice: the checkout's purchase
        purchase = await Purchase.get_or_none(invoice_id=invoice["id"])
        if purchase is None:
            purchase_id = _metadata_purchase_id(invoice.get("metadata"))
            purchase = await Purchase.get_or_none(id=purchase_id) if purchase_id else None
        if purchase is None:
            outcome.result = "ignored: no purchase for this invoice"
            return outcome
        origin = Origin(project_id=purchase.project_id,  # type: ignore[attr-defined]
                        user_id=purchase.user_id,  # type: ignore[attr-defined]
                        purpose=PURPOSE_TICKET, currency=purchase.currency,
                        purchase_id=purchase.id, ticket_id=purchase.ticket_id)
        _mark_paid(outcome, purchase, {"invoice_id": invoice["id"]})
        _record(outcome, charge, disputes, origin, context.fee_percent)
        if purchase.ticket_id is not None:
            outcome.tickets.add((purchase.project_id,  # type: ignore[attr-defined]
                                 purchase.ticket_id))
        outcome.result = f"invoice {invoice['id']} paid for purchase {purchase.id}" + \
            _currency_note(charge, purchase.currency)
        return outcome
    stripe_sub = await context.gateway.retrieve_subscription(sub_id)

    async def write() -> None:
        row = await subscription_row(stripe_sub, sub_id)
        if row is None:
            outcome.result = "ignored: no subscription of ours"
            return
        await Subscription.filter(id=row.id).update(**subscription_changes(stripe_sub))
        first = invoice.get("billing_reason") == "subscription_create"
        purchase_id = _metadata_purchase_id(stripe_sub.get("metadata")) if first else None
        origin = Origin(project_id=row.project_id,  # type: ignore[attr-defined]
                        user_id=row.user_id,  # type: ignore[attr-defined]
                        purpose=PURPOSE_PLAN, currency=row.currency,
                        purchase_id=purchase_id, subscription_id=row.id)
        outcome.entries.extend(await reconcile_charge(charge, disputes, origin,
                                                      context.fee_percent))
        outcome.result = f"invoice {invoice['id']} paid for subscription {row.id}" + \
            _currency_note(charge, row.currency)

    outcome.writes.append(write)
    return outcome


async def on_subscription(context: Context, event: dict[str, Any]) -> Outcome:
    """created / updated / deleted / invoice.payment_failed: copy Stripe's current state."""
    outcome = Outcome()
    obj = (event.get("data") or {}).get("object") or {}
    sub_id = _subscription_id_of(obj) if obj.get("object") == "invoice" else str(obj.get("id"))
    if not sub_id:
        outcome.result = "ignored: not about a subscription"
        return outcome
    stripe_sub = await context.gateway.retrieve_subscription(sub_id)

    async def write() -> None:
        row = await subscription_row(stripe_sub, sub_id)
        if row is None:
            outcome.result = "ignored: no subscription of ours"
            return
        await Subscription.filter(id=row.id).update(**subscription_changes(stripe_sub))
        outcome.result = f"subscription {row.id} is {stripe_sub.get('status')}"

    outcome.writes.append(write)
    return outcome


async def on_charge(context: Context, event: dict[str, Any]) -> Outcome:
    """charge.refunded, charge.dispute.created/closed: the charge's refunds and disputes."""
    obj = (event.get("data") or {}).get("object") or {}
    charge_id = obj.get("charge") if obj.get("object") == "dispute" else obj.get("id")
    charge_id = charge_id.get("id") if isinstance(charge_id, dict) else charge_id
    outcome = Outcome()
    if not charge_id:
        outcome.result = "ignored: no charge"
        return outcome
    charge, disputes = await _charge_with_disputes(context, str(charge_id))
    if obj.get("object") == "dispute" and not any(d["id"] == obj.get("id") for d in disputes):
        disputes.append(await context.gateway.retrieve_dispute(str(obj["id"])))

    async def write() -> None:
        payment = await LedgerEntry.get_or_none(stripe_object_id=str(charge_id))
        if payment is None:
            outcome.result = "waiting: the payment is not in the ledger yet (its own " \
                             "event records this too)"
            return
        new = await reconcile_charge(charge, disputes, None, context.fee_percent)
        outcome.entries.extend(new)
        if payment.ticket_id is not None:
            outcome.tickets.add((payment.project_id,  # type: ignore[attr-defined]
                                 payment.ticket_id))
        outcome.result = f"charge {charge_id}: {len(new)} new ledger rows"

    outcome.writes.append(write)
    return outcome


async def on_account(context: Context, event: dict[str, Any]) -> Outcome:
    from forum.billing.connect import account_changes

    obj = (event.get("data") or {}).get("object") or {}
    account_id = str(event.get("account") or obj.get("id") or "")
    outcome = Outcome()
    if not await BillingSettings.exists(stripe_account_id=account_id):
        outcome.result = "ignored: not a project's account"
        return outcome
    account = await context.gateway.retrieve_account(account_id)

    async def write() -> None:
        await BillingSettings.filter(stripe_account_id=account_id).update(
            **account_changes(account))

    outcome.writes.append(write)
    outcome.result = f"account {account_id}: charges " + (
        "enabled" if account.get("charges_enabled") else "not enabled")
    return outcome


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": on_checkout_session,
    "checkout.session.async_payment_succeeded": on_checkout_session,
    "checkout.session.async_payment_failed": on_checkout_session,
    "checkout.session.expired": on_checkout_session,
    "invoice.paid": on_invoice_paid,
    "invoice.payment_failed": on_subscription,
    "customer.subscription.created": on_subscription,
    "customer.subscription.updated": on_subscription,
    "customer.subscription.deleted": on_subscription,
    "charge.refunded": on_charge,
    "charge.dispute.created": on_charge,
    "charge.dispute.closed": on_charge,
    "account.updated": on_account,
}
