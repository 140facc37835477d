"""A local fake of the part of Stripe's API billing uses, served over real HTTP.

Objects are built from Stripe's published shapes (``../shared/fixtures/stripe/fixtures3.json``,
the OpenAPI fixtures stripe-mock serves) with our own ids and values filled in. Requests are
form-encoded as the official library sends them (``a[b][0]=c``); ``expand[]`` is honoured
for the paths billing asks for. Every call is recorded (method, path, params, headers) and
POSTs with an ``Idempotency-Key`` return the first answer again (a different body with the
same key is refused with ``idempotency_error``, as Stripe does).

Test helpers play Stripe's side of a payment: ``complete_checkout`` (the customer paid),
``renew_subscription``, ``refund``, ``dispute``, ``close_dispute``, ``onboard`` (a connected
account finished onboarding), each returning the events Stripe would send. ``sign`` makes a
``Stripe-Signature`` header with the real scheme and ``deliver`` posts an event to the app.
``GET /pay/{session}`` is a checkout page with a Pay button; pressing it completes the session
and delivers the signed events to ``app_url`` (browser tests).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fake_server import Served

FIXTURES = Path("/work/shared/fixtures/stripe/fixtures3.json")
API_KEY = "sk_test_fake"
WEBHOOK_SECRET = "whsec_test_secret"
API_VERSION = "2025-10-29.clover"
_SHAPES: dict[str, dict[str, Any]] | None = None
_counter = itertools.count(1)


def shape(resource: str) -> dict[str, Any]:
    """A deep copy of Stripe's published example of ``resource`` ("charge", ...)."""
    global _SHAPES
    if _SHAPES is None:
        _SHAPES = json.loads(FIXTURES.read_text())["resources"]
    return copy.deepcopy(_SHAPES[resource])


def new_id(prefix: str) -> str:
    return f"{prefix}_{next(_counter):04d}{secrets.token_hex(8)}"


def stripe_fee(amount: int) -> int:
    """Stripe's standard card fee: 2.9% + 30 (rounded half up)."""
    return (amount * 29 + 500) // 1000 + 30


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``a[b][0][c]=v`` pairs into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = [key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", key)]
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _listify(root)


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        converted = {k: _listify(v) for k, v in node.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return node


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")

    @property
    def stripe_account(self) -> str | None:
        return self.headers.get("stripe-account")


@dataclass
class FakeStripe:
    url: str = ""
    api_key: str = API_KEY
    webhook_secret: str = WEBHOOK_SECRET
    app_url: str = ""  # where the checkout page delivers webhooks (a live server)
    calls: list[Call] = field(default_factory=list)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)  # every event, in order
    idempotent: dict[str, tuple[str, dict[str, Any], int, dict[str, Any]]] = field(
        default_factory=dict)
    fail_next: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.objects.clear()
            self.events.clear()
            self.idempotent.clear()
            self.fail_next.clear()
            self.app_url = ""

    def calls_to(self, method: str, path: str) -> list[Call]:
        """Recorded calls with this method whose path starts with ``path``."""
        return [c for c in self.calls if c.method == method and c.path.startswith(path)]

    def of_type(self, object_type: str) -> list[dict[str, Any]]:
        return [o for o in self.objects.values() if o.get("object") == object_type]

    # Stripe's side of things (helpers for tests)

    def now(self) -> int:
        return int(time.time())

    def event(self, type: str, obj: dict[str, Any], *, account: str | None = None,
              previous: dict[str, Any] | None = None) -> dict[str, Any]:
        event = shape("event")
        event.update({
            "id": new_id("evt"), "type": type, "created": self.now(),
            "api_version": API_VERSION, "pending_webhooks": 1,
            "data": {"object": copy.deepcopy(obj)},
        })
        if previous is not None:
            event["data"]["previous_attributes"] = previous
        if account is not None:
            event["account"] = account
        self.events.append(event)
        return event

    def _balance_transaction(self, source: str, amount: int, currency: str, *,
                             type: str = "charge", fee: int | None = None) -> dict[str, Any]:
        txn = shape("balance_transaction")
        fee = stripe_fee(amount) if fee is None else fee
        txn.update({"id": new_id("txn"), "amount": amount, "fee": fee, "net": amount - fee,
                    "currency": currency, "source": source, "type": type,
                    "reporting_category": type, "created": self.now(),
                    "description": None, "status": "pending",
                    "fee_details": [{"amount": fee, "application": None, "currency": currency,
                                     "description": "Stripe processing fees",
                                     "type": "stripe_fee"}] if fee else []})
        self.objects[txn["id"]] = txn
        return txn

    def _pay(self, amount: int, currency: str, *, customer: str | None,
             metadata: dict[str, Any], application_fee_amount: int | None,
             destination: str | None, description: str | None) -> tuple[dict[str, Any],
                                                                       dict[str, Any]]:
        """A succeeded payment intent and its charge (with a balance transaction)."""
        pi = shape("payment_intent")
        charge = shape("charge")
        pi_id, ch_id = new_id("pi"), new_id("ch")
        txn = self._balance_transaction(ch_id, amount, currency)
        transfer = {"amount": None, "destination": destination} if destination else None
        pi.update({"id": pi_id, "amount": amount, "amount_received": amount,
                   "currency": currency, "customer": customer, "metadata": dict(metadata),
                   "status": "succeeded", "latest_charge": ch_id, "created": self.now(),
                   "canceled_at": None, "last_payment_error": None, "next_action": None,
                   "processing": None, "client_secret": f"{pi_id}_secret_x",
                   "application_fee_amount": application_fee_amount,
                   "transfer_data": transfer, "description": description})
        charge.update({"id": ch_id, "amount": amount, "amount_captured": amount,
                       "amount_refunded": 0, "captured": True, "paid": True,
                       "currency": currency, "customer": customer,
                       "metadata": dict(metadata), "payment_intent": pi_id,
                       "balance_transaction": txn["id"], "created": self.now(),
                       "application_fee_amount": application_fee_amount,
                       "transfer_data": transfer, "description": description,
                       "refunded": False, "disputed": False, "source": None,
                       "refunds": {"object": "list", "data": [], "has_more": False,
                                   "url": f"/v1/charges/{ch_id}/refunds"}})
        if application_fee_amount is not None:
            fee = shape("application_fee")
            fee.update({"id": new_id("fee"), "amount": application_fee_amount,
                        "amount_refunded": 0, "refunded": False, "charge": ch_id,
                        "account": destination, "currency": currency, "created": self.now(),
                        "fee_source": {"charge": ch_id, "type": "charge"},
                        "balance_transaction": None,
                        "refunds": {"object": "list", "data": [], "has_more": False,
                                    "url": "/v1/application_fees/{fee_id}/refunds"}})
            self.objects[fee["id"]] = fee
            charge["application_fee"] = fee["id"]
        else:
            charge["application_fee"] = None
        self.objects[pi_id] = pi
        self.objects[ch_id] = charge
        return pi, charge

    def _invoice(self, *, customer: str | None, amount: int, currency: str,
                 pi_id: str | None, subscription: str | None, metadata: dict[str, Any],
                 billing_reason: str, period: tuple[int, int] | None = None,
                 paid: bool = True) -> dict[str, Any]:
        invoice = shape("invoice")
        in_id = new_id("in")
        now = self.now()
        start, end = period or (now, now)
        parent: dict[str, Any] | None = None
        if subscription:
            parent = {"type": "subscription_details", "quote_details": None,
                      "subscription_details": {"metadata": dict(metadata),
                                               "subscription": subscription}}
        invoice.update({
            "id": in_id, "customer": customer, "currency": currency, "total": amount,
            "subtotal": amount, "amount_due": amount, "amount_paid": amount if paid else 0,
            "amount_remaining": 0 if paid else amount, "status": "paid" if paid else "open",
            "billing_reason": billing_reason, "created": now, "parent": parent,
            "metadata": {} if subscription else dict(metadata),
            "period_start": start, "period_end": end, "number": f"FAKE-{next(_counter):04d}",
            "hosted_invoice_url": f"{self.url}/invoices/{in_id}",
            "invoice_pdf": f"{self.url}/invoices/{in_id}/pdf", "subscription": None,
            "attempted": True, "attempt_count": 1,
            "payments": {"object": "list", "has_more": False,
                         "url": f"/v1/invoice_payments?invoice={in_id}",
                         "data": [{"id": new_id("inpay"), "object": "invoice_payment",
                                   "amount_paid": amount if paid else None,
                                   "amount_requested": amount, "currency": currency,
                                   "invoice": in_id, "is_default": True,
                                   "livemode": False, "created": now,
                                   "status": "paid" if paid else "open",
                                   "payment": {"type": "payment_intent",
                                               "payment_intent": pi_id}}]
                         if pi_id else []},
        })
        self.objects[in_id] = invoice
        return invoice

    def complete_checkout(self, session_id: str) -> list[dict[str, Any]]:
        """The customer paid the Checkout Session: everything Stripe creates, and its events
        (not yet delivered) in the order Stripe sends them."""
        with self.lock:
            session = self.objects[session_id]
            if session["status"] == "complete":
                return []
            amount = int(session["amount_total"] or 0)
            currency = session["currency"]
            customer = session.get("customer")
            events: list[dict[str, Any]] = []
            if session["mode"] == "subscription":
                events = self._complete_subscription(session, amount, currency, customer)
            else:
                pi_data = session.get("_payment_intent_data") or {}
                destination = (pi_data.get("transfer_data") or {}).get("destination")
                fee = pi_data.get("application_fee_amount")
                pi, charge = self._pay(
                    amount, currency, customer=customer,
                    metadata=pi_data.get("metadata") or {},
                    application_fee_amount=_int(fee) if fee is not None else None,
                    destination=destination, description=pi_data.get("description"))
                session.update({"payment_intent": pi["id"]})
                invoice = None
                if (session.get("invoice_creation") or {}).get("enabled"):
                    invoice = self._invoice(
                        customer=customer, amount=amount, currency=currency,
                        pi_id=pi["id"], subscription=None,
                        metadata=session.get("metadata") or {}, billing_reason="manual")
                    session["invoice"] = invoice["id"]
                session.update({"status": "complete", "payment_status": "paid"})
                events.append(self.event("checkout.session.completed", session))
                events.append(self.event("payment_intent.succeeded", pi))
                events.append(self.event("charge.succeeded", charge))
                if invoice is not None:
                    events.append(self.event("invoice.paid", invoice))
            return events

    def _complete_subscription(self, session: dict[str, Any], amount: int, currency: str,
                               customer: str | None) -> list[dict[str, Any]]:
        sub_data = session.get("_subscription_data") or {}
        line = (session.get("_line_items") or [{}])[0]
        price_data = line.get("price_data") or {}
        recurring = price_data.get("recurring") or {}
        interval_count = _int(recurring.get("interval_count"), 1)
        sub = shape("subscription")
        sub_id = new_id("sub")
        start = self.now()
        end = start + interval_count * 30 * 86400
        metadata = dict(sub_data.get("metadata") or {})
        fee_percent = sub_data.get("application_fee_percent")
        destination = (sub_data.get("transfer_data") or {}).get("destination")
        item = sub["items"]["data"][0]
        item.update({"id": new_id("si"), "subscription": sub_id, "quantity": 1,
                     "current_period_start": start, "current_period_end": end,
                     "created": start})
        item["price"].update({"id": new_id("price"), "currency": currency,
                              "unit_amount": amount, "unit_amount_decimal": str(amount),
                              "recurring": {**item["price"]["recurring"],
                                            "interval": recurring.get("interval", "month"),
                                            "interval_count": interval_count}})
        item.pop("plan", None)
        sub.update({"id": sub_id, "customer": customer, "currency": currency,
                    "status": "active", "metadata": metadata, "created": start,
                    "start_date": start, "billing_cycle_anchor": start,
                    "cancel_at": None, "canceled_at": None, "ended_at": None,
                    "cancel_at_period_end": False,
                    "application_fee_percent": float(fee_percent) if fee_percent else None,
                    "transfer_data": {"destination": destination, "amount_percent": None}
                    if destination else None,
                    "items": {**sub["items"], "data": [item],
                              "url": f"/v1/subscription_items?subscription={sub_id}"}})
        self.objects[sub_id] = sub
        invoice_events = self._subscription_invoice(sub, "subscription_create")
        session.update({"status": "complete", "payment_status": "paid",
                        "subscription": sub_id, "invoice": sub["latest_invoice"]})
        events = [self.event("checkout.session.completed", session),
                  self.event("customer.subscription.created", sub)]
        return events + invoice_events

    def _subscription_invoice(self, sub: dict[str, Any], reason: str) -> list[dict[str, Any]]:
        item = sub["items"]["data"][0]
        amount = int(item["price"]["unit_amount"])
        currency = sub["currency"]
        fee_percent = sub.get("application_fee_percent")
        app_fee = (amount * round(float(fee_percent) * 100) + 5000) // 10000 \
            if fee_percent else None
        destination = (sub.get("transfer_data") or {}).get("destination")
        pi, charge = self._pay(amount, currency, customer=sub["customer"], metadata={},
                               application_fee_amount=app_fee, destination=destination,
                               description="Subscription update" if reason
                               == "subscription_cycle" else "Subscription creation")
        invoice = self._invoice(customer=sub["customer"], amount=amount, currency=currency,
                                pi_id=pi["id"], subscription=sub["id"],
                                metadata=sub["metadata"], billing_reason=reason,
                                period=(item["current_period_start"],
                                        item["current_period_end"]))
        sub["latest_invoice"] = invoice["id"]
        return [self.event("payment_intent.succeeded", pi),
                self.event("charge.succeeded", charge), self.event("invoice.paid", invoice)]

    def renew_subscription(self, sub_id: str) -> list[dict[str, Any]]:
        """The next billing period starts and its invoice is paid."""
        with self.lock:
            sub = self.objects[sub_id]
            item = sub["items"]["data"][0]
            length = item["current_period_end"] - item["current_period_start"]
            item["current_period_start"] = item["current_period_end"]
            item["current_period_end"] = item["current_period_start"] + length
            events = [self.event("customer.subscription.updated", sub)]
            return events + self._subscription_invoice(sub, "subscription_cycle")

    def fail_renewal(self, sub_id: str) -> list[dict[str, Any]]:
        """The next period's invoice could not be paid: it stays open, the subscription
        goes past_due."""
        with self.lock:
            sub = self.objects[sub_id]
            item = sub["items"]["data"][0]
            invoice = self._invoice(customer=sub["customer"],
                                    amount=int(item["price"]["unit_amount"]),
                                    currency=sub["currency"], pi_id=None,
                                    subscription=sub["id"], metadata=sub["metadata"],
                                    billing_reason="subscription_cycle", paid=False)
            sub.update({"status": "past_due", "latest_invoice": invoice["id"]})
            return [self.event("invoice.payment_failed", invoice),
                    self.event("customer.subscription.updated", sub)]

    def expire(self, session_id: str) -> list[dict[str, Any]]:
        """Nobody paid within the session's lifetime."""
        with self.lock:
            session = self.objects[session_id]
            session["status"] = "expired"
            return [self.event("checkout.session.expired", session)]

    def cancel(self, sub_id: str) -> list[dict[str, Any]]:
        """The customer (or Stripe's dashboard) cancels the subscription now."""
        with self.lock:
            self._cancel_subscription(self.objects[sub_id])
            return [self.events[-1]]

    def refund(self, charge_id: str, amount: int | None = None, *,
               refund_application_fee: bool = False) -> list[dict[str, Any]]:
        """Refund ``amount`` (all that is left by default) of a charge. As at Stripe, a
        Connect application fee goes back only with ``refund_application_fee``: in
        proportion, the rest of it on a refund of what is left."""
        with self.lock:
            charge = self.objects[charge_id]
            left = charge["amount"] - charge["amount_refunded"]
            amount = left if amount is None else amount
            assert 0 < amount <= left, "refund more than is left"
            fee = self.objects.get(str(charge.get("application_fee")))
            if refund_application_fee and fee is not None:
                back = fee["amount"] - fee["amount_refunded"] if amount == left \
                    else fee["amount"] * amount // charge["amount"]
                fee_refund = shape("fee_refund")
                fee_refund.update({"id": new_id("fr"), "amount": back, "fee": fee["id"],
                                   "currency": fee["currency"], "created": self.now()})
                self.objects[fee_refund["id"]] = fee_refund
                fee["amount_refunded"] += back
                fee["refunded"] = fee["amount_refunded"] == fee["amount"]
                fee["refunds"]["data"].insert(0, fee_refund["id"])
            refund = shape("refund")
            re_id = new_id("re")
            txn = self._balance_transaction(re_id, -amount, charge["currency"], type="refund",
                                            fee=0)
            refund.update({"id": re_id, "amount": amount, "charge": charge_id,
                           "currency": charge["currency"],
                           "payment_intent": charge["payment_intent"], "created": self.now(),
                           "balance_transaction": txn["id"], "status": "succeeded"})
            self.objects[re_id] = refund
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            charge["refunds"]["data"].insert(0, re_id)
            return [self.event("charge.refunded", self._expanded(charge, ["refunds"])),
                    self.event("refund.created", refund)]

    def dispute(self, charge_id: str, amount: int | None = None) -> list[dict[str, Any]]:
        with self.lock:
            charge = self.objects[charge_id]
            dispute = shape("dispute")
            dp_id = new_id("dp")
            amount = charge["amount"] if amount is None else amount
            txn = self._balance_transaction(dp_id, -amount, charge["currency"],
                                            type="adjustment", fee=1500)
            dispute.update({"id": dp_id, "amount": amount, "charge": charge_id,
                            "currency": charge["currency"],
                            "payment_intent": charge["payment_intent"],
                            "created": self.now(), "status": "needs_response",
                            "balance_transactions": [txn], "reason": "fraudulent"})
            self.objects[dp_id] = dispute
            charge["disputed"] = True
            return [self.event("charge.dispute.created", dispute)]

    def close_dispute(self, dispute_id: str, *, won: bool) -> list[dict[str, Any]]:
        with self.lock:
            dispute = self.objects[dispute_id]
            dispute["status"] = "won" if won else "lost"
            if won:
                charge = self.objects[dispute["charge"]]
                txn = self._balance_transaction(dispute_id, dispute["amount"],
                                                charge["currency"], type="adjustment", fee=0)
                dispute["balance_transactions"].append(txn)
            return [self.event("charge.dispute.closed", dispute)]

    def onboard(self, account_id: str) -> list[dict[str, Any]]:
        """The connected account finished onboarding: charges and payouts enabled."""
        with self.lock:
            account = self.objects[account_id]
            account.update({"charges_enabled": True, "payouts_enabled": True,
                            "details_submitted": True})
            account["requirements"].update({"currently_due": [], "eventually_due": [],
                                            "past_due": [], "disabled_reason": None})
            return [self.event("account.updated", account, account=account_id)]

    def sign(self, payload: bytes | str, secret: str | None = None,
             t: int | None = None) -> str:
        """A ``Stripe-Signature`` header: ``t=...,v1=HMAC-SHA256(secret, "{t}.{body}")``."""
        body = payload.decode() if isinstance(payload, bytes) else payload
        t = self.now() if t is None else t
        mac = hmac.new((secret or self.webhook_secret).encode(), f"{t}.{body}".encode(),
                       hashlib.sha256).hexdigest()
        return f"t={t},v1={mac}"

    def signed(self, event: dict[str, Any], *, secret: str | None = None,
               t: int | None = None) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(event).encode()
        return body, {"Stripe-Signature": self.sign(body, secret, t),
                      "Content-Type": "application/json"}

    async def deliver(self, client: httpx.AsyncClient, event: dict[str, Any], *,
                      secret: str | None = None, t: int | None = None) -> httpx.Response:
        """POST a signed event to the app's ``/webhooks/stripe``, as Stripe does."""
        body, headers = self.signed(event, secret=secret, t=t)
        return await client.post("/webhooks/stripe", content=body, headers=headers)

    async def deliver_all(self, client: httpx.AsyncClient,
                          events: list[dict[str, Any]]) -> list[httpx.Response]:
        responses = [await self.deliver(client, event) for event in events]
        for response in responses:
            assert response.status_code == 200, response.text
        return responses

    # The HTTP side

    def _expanded(self, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
        result = copy.deepcopy(obj)
        for path in paths:
            self._expand_path(result, path.split("."))
        return result

    def _expand_path(self, node: Any, parts: list[str]) -> None:
        if not parts or not isinstance(node, dict):
            return
        head, rest = parts[0], parts[1:]
        value = node.get(head)
        if isinstance(value, str) and value in self.objects:
            node[head] = copy.deepcopy(self.objects[value])
        elif isinstance(value, dict) and value.get("object") == "list":
            value["data"] = [copy.deepcopy(self.objects[v]) if isinstance(v, str)
                             and v in self.objects else v for v in value["data"]]
        self._expand_path(node.get(head), rest)

    @staticmethod
    def _error(status: int, message: str, *, type: str = "invalid_request_error",
               code: str | None = None, param: str | None = None) -> JSONResponse:
        return JSONResponse({"error": {"type": type, "message": message, "code": code,
                                       "param": param}}, status_code=status)

    def _missing(self, kind: str, id: str) -> JSONResponse:
        return self._error(404, f"No such {kind}: '{id}'", code="resource_missing",
                           param="id")

    async def _request(self, request: Request) -> tuple[dict[str, Any], Response | None]:
        if request.method == "GET" or request.method == "DELETE":
            pairs = list(request.query_params.multi_items())
            if request.method == "DELETE":
                pairs += parse_qsl((await request.body()).decode(), keep_blank_values=True)
        else:
            pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True)
        params = decode_form(pairs)
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self.lock:
            self.calls.append(Call(request.method, request.url.path, params, headers))
            if self.fail_next:
                status, body = self.fail_next.pop(0)
                return params, JSONResponse(body, status_code=status)
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return params, self._error(401, "Invalid API Key provided.",
                                       type="invalid_request_error")
        return params, None

    def _idempotent(self, request: Request, params: dict[str, Any],
                    make: Any) -> Response:
        key = request.headers.get("idempotency-key")
        with self.lock:
            if key and key in self.idempotent:
                path, first_params, status, body = self.idempotent[key]
                if path != request.url.path or first_params != params:
                    return self._error(
                        400, "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with.", type="idempotency_error")
                return JSONResponse(body, status_code=status,
                                    headers={"Idempotent-Replayed": "true"})
            response = make()
            if key and isinstance(response, JSONResponse):
                self.idempotent[key] = (request.url.path, params, response.status_code,
                                        json.loads(bytes(response.body)))
            return response

    async def api(self, request: Request) -> Response:
        params, refused = await self._request(request)
        if refused is not None:
            return refused
        path = request.url.path.removeprefix("/v1/")
        params = dict(params)
        expand = [str(e) for e in params.pop("expand", [])] if isinstance(
            params.get("expand"), list) else []
        method = request.method
        parts = path.split("/")
        resource = "/".join(parts[:2]) if parts[0] == "checkout" else parts[0]
        object_id = parts[-1] if len(parts) > (2 if parts[0] == "checkout" else 1) else None
        if method == "POST" and object_id is None:
            creators = {"customers": self._create_customer,
                        "checkout/sessions": self._create_session,
                        "accounts": self._create_account,
                        "account_links": self._create_account_link,
                        "refunds": self._create_refund}
            creator = creators.get(resource)
            if creator is None:
                return self._error(404, f"Unrecognized request URL (POST: {request.url.path})")
            return self._idempotent(request, params, lambda: creator(params))
        if method == "GET" and object_id is None and resource == "invoices":
            customer = params.get("customer")
            limit = _int(params.get("limit"), 10)
            with self.lock:
                found = [self._expanded(o, expand) for o in self.objects.values()
                         if o.get("object") == "invoice" and o.get("customer") == customer]
            found.sort(key=lambda o: o["created"], reverse=True)
            return JSONResponse({"object": "list", "data": found[:limit],
                                 "has_more": len(found) > limit, "url": "/v1/invoices"})
        if method == "GET" and object_id is None and resource == "events":
            return self._list_events(params)
        if method == "GET" and object_id is None and resource == "disputes":
            with self.lock:
                found = [copy.deepcopy(o) for o in self.objects.values()
                         if o.get("object") == "dispute" and o.get("charge") == params.get(
                             "charge")]
            found.sort(key=lambda o: o["created"], reverse=True)
            return JSONResponse({"object": "list", "data": found, "has_more": False,
                                 "url": "/v1/disputes"})
        kinds = {"checkout/sessions": "checkout.session", "subscriptions": "subscription",
                 "invoices": "invoice", "payment_intents": "payment_intent",
                 "charges": "charge", "disputes": "dispute", "accounts": "account",
                 "customers": "customer"}
        kind = kinds.get(resource)
        if kind is None or object_id is None:
            return self._error(404, f"Unrecognized request URL ({method}: {request.url.path})")
        with self.lock:
            obj = self.objects.get(object_id)
            if obj is None or obj.get("object") != kind:
                return self._missing(kind, object_id)
            if method == "GET":
                return JSONResponse(self._public(self._expanded(obj, expand)))
            if kind == "subscription" and method == "DELETE":
                return JSONResponse(self._cancel_subscription(obj))
            if kind == "subscription" and method == "POST":
                return self._idempotent(request, params,
                                        lambda: JSONResponse(self._update_subscription(
                                            obj, params)))
        return self._error(404, f"Unrecognized request URL ({method}: {request.url.path})")

    def _list_events(self, params: dict[str, Any]) -> Response:
        """``GET /v1/events``: the platform's own events (not its connected accounts'),
        newest first, filtered by ``created[gte]`` and ``types[]``, paged by
        ``starting_after``, as Stripe lists them."""
        created = params.get("created") or {}
        since = _int(created.get("gte"), 0) if isinstance(created, dict) else 0
        types = params.get("types")
        wanted = set(types) if isinstance(types, list) else None
        limit = min(max(_int(params.get("limit"), 10), 1), 100)
        with self.lock:
            found = [copy.deepcopy(e) for e in reversed(self.events)
                     if e["created"] >= since and not e.get("account")
                     and (wanted is None or e["type"] in wanted)]
        after = params.get("starting_after")
        if after:
            ids = [e["id"] for e in found]
            if after not in ids:
                return self._missing("event", str(after))
            found = found[ids.index(after) + 1:]
        return JSONResponse({"object": "list", "data": found[:limit],
                             "has_more": len(found) > limit, "url": "/v1/events"})

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def _create_customer(self, params: dict[str, Any]) -> Response:
        customer = shape("customer")
        customer.update({"id": new_id("cus"), "email": params.get("email"),
                         "name": params.get("name"), "metadata": params.get("metadata") or {},
                         "created": self.now(), "discount": None})
        self.objects[customer["id"]] = customer
        return JSONResponse(customer)

    def _create_session(self, params: dict[str, Any]) -> Response:
        mode = params.get("mode")
        if mode not in {"payment", "subscription", "setup"}:
            return self._error(400, "Missing required param: mode.", param="mode")
        lines = params.get("line_items") or []
        if not lines:
            return self._error(400, "line_items is required.", param="line_items")
        total, currencies = 0, set()
        for line in lines:
            price_data = line.get("price_data") or {}
            if "unit_amount" not in price_data or "currency" not in price_data:
                return self._error(400, "Each line item needs price_data with unit_amount "
                                   "and currency.", param="line_items")
            if mode == "subscription" and not price_data.get("recurring"):
                return self._error(400, "Subscription mode needs a recurring price.",
                                   param="line_items")
            total += _int(price_data["unit_amount"]) * _int(line.get("quantity"), 1)
            currencies.add(str(price_data["currency"]).lower())
        if len(currencies) != 1:
            return self._error(400, "All line items must share one currency.",
                               param="line_items")
        session = shape("checkout.session")
        cs_id = "cs_test_" + secrets.token_hex(24)
        session.update({
            "id": cs_id, "mode": mode, "status": "open", "payment_status": "unpaid",
            "amount_total": total, "amount_subtotal": total, "currency": currencies.pop(),
            "customer": params.get("customer"), "customer_email": params.get("customer_email"),
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {},
            "success_url": params.get("success_url"), "cancel_url": params.get("cancel_url"),
            "payment_intent": None, "subscription": None, "invoice": None,
            "created": self.now(), "expires_at": self.now() + 86400,
            "url": f"{self.url}/pay/{cs_id}", "shipping_cost": None,
            "shipping_address_collection": None, "custom_text": {},
            "invoice_creation": {"enabled": str((params.get("invoice_creation") or {})
                                                .get("enabled")).lower() == "true",
                                 "invoice_data": shape("checkout.session")
                                 ["invoice_creation"]["invoice_data"]}
            if mode == "payment" else None,
            "tax_id_collection": {"enabled": str((params.get("tax_id_collection") or {})
                                                 .get("enabled")).lower() == "true",
                                  "required": "never"},
            "_line_items": lines,
            "_payment_intent_data": params.get("payment_intent_data") or {},
            "_subscription_data": params.get("subscription_data") or {},
        })
        self.objects[cs_id] = session
        return JSONResponse(self._public(session))

    def _create_refund(self, params: dict[str, Any]) -> Response:
        """``POST /v1/refunds``: refunds the charge through ``refund()`` (so the application
        fee goes back only with ``refund_application_fee``, and ``charge.refunded`` and
        ``refund.created`` are sent); Stripe's refusals for a refunded or too small charge."""
        with self.lock:
            charge_id = str(params.get("charge") or "")
            charge = self.objects.get(charge_id)
            if charge is None or charge.get("object") != "charge":
                return self._missing("charge", charge_id)
            left = charge["amount"] - charge["amount_refunded"]
            amount = _int(params.get("amount"), left) if "amount" in params else left
            if left <= 0:
                return self._error(400, f"Charge {charge_id} has already been refunded.",
                                   code="charge_already_refunded")
            if amount <= 0 or amount > left:
                return self._error(400, f"Refund amount ({amount}) is greater than charge "
                                   f"amount remaining ({left})", code="amount_too_large",
                                   param="amount")
            self.refund(charge_id, amount, refund_application_fee=params.get(
                "refund_application_fee") == "true")
            refund = self.objects[charge["refunds"]["data"][0]]
            refund.update({"reason": params.get("reason"),
                           "metadata": dict(params.get("metadata") or {})})
            return JSONResponse(self._public(refund))

    def _create_account(self, params: dict[str, Any]) -> Response:
        account = shape("account")
        account.update({"id": new_id("acct"), "type": params.get("type", "express"),
                        "email": params.get("email"), "country": params.get("country", "US"),
                        "metadata": params.get("metadata") or {}, "created": self.now(),
                        "charges_enabled": False, "payouts_enabled": False,
                        "details_submitted": False})
        self.objects[account["id"]] = account
        return JSONResponse(account)

    def _create_account_link(self, params: dict[str, Any]) -> Response:
        account = params.get("account")
        if account not in self.objects:
            return self._missing("account", str(account))
        for name in ("refresh_url", "return_url", "type"):
            if not params.get(name):
                return self._error(400, f"Missing required param: {name}.", param=name)
        link = shape("account_link")
        link.update({"created": self.now(), "expires_at": self.now() + 300,
                     "url": f"{self.url}/onboard/{account}"})
        return JSONResponse(link)

    def _update_subscription(self, sub: dict[str, Any],
                             params: dict[str, Any]) -> dict[str, Any]:
        if "metadata" in params:
            sub["metadata"].update(params["metadata"])
        if "cancel_at_period_end" in params:
            sub["cancel_at_period_end"] = str(params["cancel_at_period_end"]).lower() == "true"
        for line in params.get("items") or []:
            price_data = line.get("price_data") or {}
            if "unit_amount" in price_data:
                price = sub["items"]["data"][0]["price"]
                price.update({"id": new_id("price"),
                              "unit_amount": _int(price_data["unit_amount"]),
                              "unit_amount_decimal": str(price_data["unit_amount"])})
        return copy.deepcopy(sub)

    def _cancel_subscription(self, sub: dict[str, Any]) -> dict[str, Any]:
        sub.update({"status": "canceled", "canceled_at": self.now(), "ended_at": self.now(),
                    "cancel_at_period_end": False})
        sub["cancellation_details"] = {"comment": None, "feedback": None,
                                       "reason": "cancellation_requested"}
        self.event("customer.subscription.deleted", sub)
        return copy.deepcopy(sub)

    async def checkout_page(self, request: Request) -> Response:
        session = self.objects.get(request.path_params["session_id"])
        if session is None or session.get("object") != "checkout.session":
            return HTMLResponse("<h1>No such checkout</h1>", status_code=404)
        amount = f"{int(session['amount_total']) / 100:.2f} {session['currency'].upper()}"
        names = ", ".join(escape(str((line.get("price_data") or {}).get("product_data", {})
                                     .get("name", ""))) for line in session["_line_items"])
        return HTMLResponse(
            f"<!doctype html><title>Fake Stripe Checkout</title><h1>Pay {escape(amount)}</h1>"
            f"<p class=\"product\">{names}</p>"
            f"<form method=\"post\"><button type=\"submit\">Pay</button></form>"
            f"<a href=\"{escape(str(session['cancel_url'] or ''))}\">Cancel</a>")

    async def checkout_pay(self, request: Request) -> Response:
        session_id = request.path_params["session_id"]
        if session_id not in self.objects:
            return HTMLResponse("<h1>No such checkout</h1>", status_code=404)
        events = self.complete_checkout(session_id)
        if self.app_url:
            async with httpx.AsyncClient(base_url=self.app_url, timeout=30) as client:
                for event in events:
                    await self.deliver(client, event)
        return RedirectResponse(str(self.objects[session_id]["success_url"]), status_code=303)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/pay/{session_id}", self.checkout_page, methods=["GET"]),
            Route("/pay/{session_id}", self.checkout_pay, methods=["POST"]),
            Route("/v1/{path:path}", self.api, methods=["GET", "POST", "DELETE"]),
        ])


ServedFake = Served  # kept for the tests that name it


def stripe_settings(fake: FakeStripe) -> dict[str, Any]:
    """Settings overrides that point the app at the fake."""
    return {"stripe_api_key": fake.api_key, "stripe_webhook_secret": fake.webhook_secret,
            "stripe_api_base": fake.url}
