"""StripeGateway through the official library against the fake Stripe: the exact calls made
(paths, form parameters, Idempotency-Key, expand), plain dicts back, errors, signatures."""

from __future__ import annotations

import json

import pytest

from forum.billing.gateway import (
    BadSignature,
    GatewayError,
    PaymentsNotConfigured,
    StripeGateway,
    gateway_for,
    set_gateway,
    verify_signature,
)
from forum.platform import Platform
from tests.billing.fake_stripe import FakeStripe, stripe_fee


def gateway(fake: FakeStripe) -> StripeGateway:
    return StripeGateway(fake.api_key, webhook_secret=fake.webhook_secret, api_base=fake.url,
                         max_network_retries=0)


def payment_params(amount: int = 5000) -> dict[str, object]:
    return {
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": "usd", "unit_amount": amount,
            "product_data": {"name": "Priority support for DEMO-42"}}}],
        "client_reference_id": "17",
        "metadata": {"purchase_id": "17", "ticket_id": "3", "kind": "ticket_upgrade"},
        "invoice_creation": {"enabled": True},
        "tax_id_collection": {"enabled": True},
        "payment_intent_data": {"application_fee_amount": 250,
                                "metadata": {"purchase_id": "17"}},
        "success_url": "http://testserver/ok", "cancel_url": "http://testserver/back",
    }


async def test_checkout_session_is_created_with_the_form_stripe_expects(
        fake_stripe: FakeStripe) -> None:
    session = await gateway(fake_stripe).create_checkout_session(
        payment_params(), idempotency_key="upgrade-3-5-1-5000")
    assert isinstance(session, dict)
    assert session["id"].startswith("cs_test_")
    assert session["url"] == f"{fake_stripe.url}/pay/{session['id']}"
    assert session["amount_total"] == 5000 and session["currency"] == "usd"
    assert session["metadata"] == {"purchase_id": "17", "ticket_id": "3",
                                   "kind": "ticket_upgrade"}
    [call] = fake_stripe.calls_to("POST", "/v1/checkout/sessions")
    assert call.idempotency_key == "upgrade-3-5-1-5000"
    assert call.headers["authorization"] == "Bearer sk_test_fake"
    assert call.params["line_items"][0]["price_data"]["unit_amount"] == "5000"
    assert call.params["payment_intent_data"]["application_fee_amount"] == "250"
    assert call.params["invoice_creation"] == {"enabled": "true"}


async def test_same_idempotency_key_gives_the_same_session(fake_stripe: FakeStripe) -> None:
    gw = gateway(fake_stripe)
    first = await gw.create_checkout_session(payment_params(), idempotency_key="k1")
    again = await gw.create_checkout_session(payment_params(), idempotency_key="k1")
    assert again["id"] == first["id"]
    assert len(fake_stripe.of_type("checkout.session")) == 1
    other = await gw.create_checkout_session(payment_params(), idempotency_key="k2")
    assert other["id"] != first["id"]
    with pytest.raises(GatewayError):  # same key, other parameters: Stripe refuses
        await gw.create_checkout_session(payment_params(6000), idempotency_key="k1")


async def test_completed_payment_reads_back_with_expanded_fee(fake_stripe: FakeStripe) -> None:
    gw = gateway(fake_stripe)
    session = await gw.create_checkout_session(payment_params(), idempotency_key="k")
    events = fake_stripe.complete_checkout(session["id"])
    assert [e["type"] for e in events] == ["checkout.session.completed",
                                           "payment_intent.succeeded", "charge.succeeded",
                                           "invoice.paid"]
    read = await gw.retrieve_checkout_session(session["id"])
    assert read["status"] == "complete" and read["payment_status"] == "paid"
    pi = await gw.retrieve_payment_intent(read["payment_intent"])
    charge = pi["latest_charge"]
    assert charge["amount"] == 5000
    assert charge["balance_transaction"]["fee"] == stripe_fee(5000) == 175
    assert pi["application_fee_amount"] == 250
    [pi_call] = fake_stripe.calls_to("GET", "/v1/payment_intents/")
    assert pi_call.params["expand"] == ["latest_charge.balance_transaction"]
    ch = await gw.retrieve_charge(charge["id"])
    assert ch["balance_transaction"]["id"].startswith("txn_")
    invoice = await gw.retrieve_invoice(read["invoice"])
    assert invoice["status"] == "paid"
    assert invoice["payments"]["data"][0]["payment"]["payment_intent"] == pi["id"]


async def test_customer_subscription_invoices_and_cancel(fake_stripe: FakeStripe) -> None:
    gw = gateway(fake_stripe)
    customer = await gw.create_customer(email="a@example.org", name="A",
                                        metadata={"user_id": "5"}, idempotency_key="customer-5")
    assert customer["id"].startswith("cus_")
    again = await gw.create_customer(email="a@example.org", name="A",
                                     metadata={"user_id": "5"}, idempotency_key="customer-5")
    assert again["id"] == customer["id"]
    session = await gw.create_checkout_session({
        "mode": "subscription", "customer": customer["id"],
        "line_items": [{"quantity": 1, "price_data": {
            "currency": "eur", "unit_amount": 20000,
            "recurring": {"interval": "month", "interval_count": 6},
            "product_data": {"name": "Enterprise"}}}],
        "subscription_data": {"metadata": {"purchase_id": "9"},
                              "application_fee_percent": 5},
        "success_url": "http://t/ok", "cancel_url": "http://t/no"}, idempotency_key="sub-9")
    fake_stripe.complete_checkout(session["id"])
    read = await gw.retrieve_checkout_session(session["id"])
    sub = await gw.retrieve_subscription(read["subscription"])
    assert sub["status"] == "active" and sub["metadata"] == {"purchase_id": "9"}
    item = sub["items"]["data"][0]
    assert item["price"]["recurring"]["interval_count"] == 6
    invoices = await gw.list_invoices(customer=customer["id"])
    assert [i["id"] for i in invoices] == [read["invoice"]]
    assert invoices[0]["hosted_invoice_url"]
    updated = await gw.update_subscription(sub["id"], {"cancel_at_period_end": True},
                                           idempotency_key="cancel-9")
    assert updated["cancel_at_period_end"] is True
    canceled = await gw.cancel_subscription(sub["id"])
    assert canceled["status"] == "canceled"
    [call] = fake_stripe.calls_to("DELETE", "/v1/subscriptions/")
    assert call.params.get("prorate") == "false"


async def test_connect_account_and_link(fake_stripe: FakeStripe) -> None:
    gw = gateway(fake_stripe)
    account = await gw.create_account({"type": "express", "metadata": {"project_id": "1"}},
                                      idempotency_key="account-1")
    assert account["id"].startswith("acct_") and account["charges_enabled"] is False
    link = await gw.create_account_link({"account": account["id"], "type": "account_onboarding",
                                         "refresh_url": "http://t/r", "return_url": "http://t/b"})
    assert link["url"].endswith(f"/onboard/{account['id']}")
    fake_stripe.onboard(account["id"])
    assert (await gw.retrieve_account(account["id"]))["charges_enabled"] is True


async def test_unknown_object_is_a_gateway_error(fake_stripe: FakeStripe) -> None:
    with pytest.raises(GatewayError) as caught:
        await gateway(fake_stripe).retrieve_charge("ch_missing")
    assert "No such charge" in caught.value.message


async def test_wrong_api_key_is_a_gateway_error(fake_stripe: FakeStripe) -> None:
    gw = StripeGateway("sk_test_wrong", api_base=fake_stripe.url, max_network_retries=0)
    with pytest.raises(GatewayError):
        await gw.retrieve_account("acct_x")


def test_signature_checks(fake_stripe: FakeStripe) -> None:
    event = {"id": "evt_1", "type": "charge.refunded", "data": {"object": {}}}
    body = json.dumps(event).encode()
    secret = fake_stripe.webhook_secret
    assert verify_signature(body, fake_stripe.sign(body), secret) == event
    with pytest.raises(BadSignature):
        verify_signature(body, fake_stripe.sign(body, secret="whsec_other"), secret)
    with pytest.raises(BadSignature):
        verify_signature(body, "", secret)
    with pytest.raises(BadSignature):  # stale: signed ten minutes ago
        verify_signature(body, fake_stripe.sign(body, t=fake_stripe.now() - 600), secret)
    with pytest.raises(BadSignature):  # the body changed after signing
        verify_signature(body.replace(b"evt_1", b"evt_2"), fake_stripe.sign(body), secret)
    with pytest.raises(BadSignature):
        verify_signature(b"not json", fake_stripe.sign(b"not json"), secret)
    # Two endpoints (the account's and Connect's), two secrets: either signs.
    both = f"{secret}, whsec_connect"
    assert verify_signature(body, fake_stripe.sign(body, secret="whsec_connect"), both) == event
    assert verify_signature(body, fake_stripe.sign(body), both) == event
    with pytest.raises(BadSignature):
        verify_signature(body, fake_stripe.sign(body, secret="whsec_other"), both)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {}


async def test_gateway_for_without_a_key_is_503(platform: Platform) -> None:
    with pytest.raises(PaymentsNotConfigured) as caught:
        gateway_for(platform)
    assert caught.value.status == 503
    assert caught.value.message == "Payments are not set up on this site."


async def test_gateway_can_be_injected(platform: Platform, fake_stripe: FakeStripe) -> None:
    injected = gateway(fake_stripe)
    set_gateway(platform, injected)
    assert gateway_for(platform) is injected
    set_gateway(platform, None)
    with pytest.raises(PaymentsNotConfigured):
        gateway_for(platform)
