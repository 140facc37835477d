"""Opt-in: a real test-mode Checkout Session through StripeGateway (set STRIPE_API_KEY to a
``sk_test_...`` key; deselected otherwise by tests/conftest.py)."""

from __future__ import annotations

import os
import secrets

import pytest

from forum.billing.gateway import StripeGateway


@pytest.mark.live("STRIPE_API_KEY")
async def test_a_real_checkout_session() -> None:
    key = os.environ["STRIPE_API_KEY"]
    assert key.startswith(("sk_test_", "rk_test_")), "use a test-mode key"
    gateway = StripeGateway(key)
    nonce = secrets.token_hex(8)
    session = await gateway.create_checkout_session({
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": "usd", "unit_amount": 4900,
            "product_data": {"name": "Priority support for LIVE-1"}}}],
        "client_reference_id": nonce, "metadata": {"purchase_id": nonce},
        "invoice_creation": {"enabled": True}, "tax_id_collection": {"enabled": True},
        "success_url": "https://example.org/ok", "cancel_url": "https://example.org/back",
    }, idempotency_key=f"live-test-{nonce}")
    assert session["id"].startswith("cs_test_")
    assert session["url"].startswith("https://checkout.stripe.com/")
    assert (session["amount_total"], session["currency"]) == (4900, "usd")
    assert session["metadata"] == {"purchase_id": nonce}
    read = await gateway.retrieve_checkout_session(session["id"])
    assert read["status"] == "open" and read["payment_status"] == "unpaid"
