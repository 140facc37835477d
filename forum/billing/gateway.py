"""Stripe, behind a small protocol: plain dicts in, plain dicts (Stripe's shapes) out.

``StripeGateway`` uses the official library's ``StripeClient`` and its ``*_async`` calls
over httpx. ``settings.stripe_api_base`` points it elsewhere (stripe-mock, a proxy, the
tests' fake). ``gateway_for(platform)`` is what the rest of billing calls; tests may put
their own in with ``set_gateway(platform, gateway)``.
"""

from __future__ import annotations

import functools
import json
import ssl
from typing import TYPE_CHECKING, Any, Protocol

import certifi
import httpx
import stripe

from forum.web.errors import UserError

if TYPE_CHECKING:
    from forum.platform import Platform

SIGNATURE_TOLERANCE_SECONDS = 300
GATEWAY_ATTRIBUTE = "_billing_gateway"


class PaymentsNotConfigured(UserError):
    def __init__(self) -> None:
        super().__init__(503, "Payments are not set up on this site.", code="payments_off")


class BadSignature(UserError):
    """A webhook whose ``Stripe-Signature`` is missing, wrong or too old."""

    def __init__(self, reason: str) -> None:
        super().__init__(400, f"Invalid Stripe signature: {reason}", code="bad_signature")


class GatewayError(UserError):
    """Stripe refused a call or could not be reached."""

    def __init__(self, message: str, *, status: int = 502) -> None:
        super().__init__(status, message, code="payment_provider_error")


class PaymentGateway(Protocol):
    async def create_customer(self, *, email: str, name: str, metadata: dict[str, str],
                              idempotency_key: str) -> dict[str, Any]: ...

    async def create_checkout_session(self, params: dict[str, Any], *,
                                      idempotency_key: str) -> dict[str, Any]: ...

    async def retrieve_checkout_session(self, id: str, *,
                                        expand: list[str] | None = None
                                        ) -> dict[str, Any]: ...

    async def retrieve_subscription(self, id: str) -> dict[str, Any]: ...

    async def update_subscription(self, id: str, params: dict[str, Any], *,
                                  idempotency_key: str) -> dict[str, Any]: ...

    async def cancel_subscription(self, id: str) -> dict[str, Any]: ...

    async def retrieve_invoice(self, id: str) -> dict[str, Any]: ...

    async def list_invoices(self, *, customer: str, limit: int = 24) -> list[dict[str, Any]]: ...

    async def list_events(self, *, created_gte: int, types: list[str],
                          starting_after: str | None = None, limit: int = 100
                          ) -> dict[str, Any]: ...

    async def retrieve_payment_intent(self, id: str) -> dict[str, Any]: ...

    async def retrieve_charge(self, id: str) -> dict[str, Any]: ...

    async def retrieve_dispute(self, id: str) -> dict[str, Any]: ...

    async def list_disputes(self, *, charge: str) -> list[dict[str, Any]]: ...

    async def create_account(self, params: dict[str, Any], *,
                             idempotency_key: str) -> dict[str, Any]: ...

    async def create_account_link(self, params: dict[str, Any]) -> dict[str, Any]: ...

    async def retrieve_account(self, id: str) -> dict[str, Any]: ...

    async def create_refund(self, params: dict[str, Any], *,
                            idempotency_key: str) -> dict[str, Any]: ...

    def verify_event(self, payload: bytes, sig_header: str) -> dict[str, Any]: ...


def _plain(obj: Any) -> dict[str, Any]:
    if isinstance(obj, stripe.StripeObject):
        return obj.to_dict(for_json=True)
    return dict(obj)


def verify_signature(payload: bytes, sig_header: str, secret: str, *,
                     tolerance: int = SIGNATURE_TOLERANCE_SECONDS) -> dict[str, Any]:
    """The event in ``payload`` if ``sig_header`` signs it with ``secret`` (one of them:
    several may be given, comma separated) within ``tolerance`` seconds; BadSignature
    otherwise."""
    if not secret:
        raise PaymentsNotConfigured()
    if not sig_header:
        raise BadSignature("no Stripe-Signature header")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise BadSignature("the body is not UTF-8") from None
    # Several secrets, comma separated: the account's endpoint and the Connect endpoint
    # (events of connected accounts) each have their own, and both may post here.
    reason = ""
    for one in (s.strip() for s in secret.split(",")):
        try:
            stripe.WebhookSignature.verify_header(text, sig_header, one, tolerance)
        except stripe.SignatureVerificationError as exc:
            reason = str(exc.user_message or exc)
        else:
            break
    else:
        raise BadSignature(reason)
    try:
        event = json.loads(text)
    except ValueError:
        raise BadSignature("the body is not JSON") from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) \
            or not isinstance(event.get("type"), str):
        raise BadSignature("the body is not an event")
    return event


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every request (building one costs tens of milliseconds)."""
    return ssl.create_default_context(cafile=certifi.where())


class _HTTPXClient(stripe.HTTPXClient):
    """The library's httpx client with two changes: the form body goes as ``content=``
    (httpx deprecates raw bytes in ``data=``, and warnings are errors in the tests), and each
    request uses a short-lived connection, so nothing is left open when an app or a test
    ends (billing makes a few calls per webhook or page, never a stream of them)."""

    def _get_request_args_kwargs(self, method: str, url: str, headers: Any,
                                 post_data: Any) -> Any:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        body = kwargs.pop("data", None)
        if body:
            kwargs["content"] = body
        return args, kwargs

    async def request_async(self, method: str, url: str, headers: Any,
                            post_data: Any = None) -> tuple[bytes, int, Any]:
        args, kwargs = self._get_request_args_kwargs(method, url, headers, post_data)
        try:
            async with httpx.AsyncClient(verify=_tls_context(), timeout=self._timeout
                                         ) as client:
                response = await client.request(*args, **kwargs)
        except Exception as exc:
            self._handle_request_error(exc)
        return response.content, response.status_code, response.headers


class StripeGateway:
    """``PaymentGateway`` on the official library (``StripeClient`` with httpx)."""

    def __init__(self, api_key: str, *, webhook_secret: str = "", api_base: str = "",
                 max_network_retries: int = 2) -> None:
        base: dict[str, str] = {}
        if api_base:
            base = {"api": api_base.rstrip("/"), "connect": api_base.rstrip("/")}
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            api_key, base_addresses=base,  # type: ignore[arg-type]
            http_client=_HTTPXClient(allow_sync_methods=False),
            max_network_retries=max_network_retries)

    @staticmethod
    async def _call(awaitable: Any) -> dict[str, Any]:
        try:
            return _plain(await awaitable)
        except stripe.InvalidRequestError as exc:
            raise GatewayError(f"Stripe refused the request: {exc.user_message or exc}",
                               status=502) from exc
        except stripe.StripeError as exc:
            raise GatewayError(f"The payment provider failed: {exc.user_message or exc}"
                               ) from exc

    async def create_customer(self, *, email: str, name: str, metadata: dict[str, str],
                              idempotency_key: str) -> dict[str, Any]:
        return await self._call(self.client.v1.customers.create_async(
            {"email": email, "name": name, "metadata": metadata},
            {"idempotency_key": idempotency_key}))

    async def create_checkout_session(self, params: dict[str, Any], *,
                                      idempotency_key: str) -> dict[str, Any]:
        return await self._call(self.client.v1.checkout.sessions.create_async(
            params, {"idempotency_key": idempotency_key}))  # type: ignore[arg-type]

    async def retrieve_checkout_session(self, id: str, *,
                                        expand: list[str] | None = None) -> dict[str, Any]:
        """The session; ``expand`` e.g. ["payment_intent.latest_charge.balance_transaction"]
        reads the payment with it in one request."""
        params = {"expand": expand} if expand else None
        return await self._call(self.client.v1.checkout.sessions.retrieve_async(
            id, params))  # type: ignore[arg-type]

    async def retrieve_subscription(self, id: str) -> dict[str, Any]:
        return await self._call(self.client.v1.subscriptions.retrieve_async(id))

    async def update_subscription(self, id: str, params: dict[str, Any], *,
                                  idempotency_key: str) -> dict[str, Any]:
        return await self._call(self.client.v1.subscriptions.update_async(
            id, params, {"idempotency_key": idempotency_key}))  # type: ignore[arg-type]

    async def cancel_subscription(self, id: str) -> dict[str, Any]:
        return await self._call(self.client.v1.subscriptions.cancel_async(
            id, {"prorate": False, "invoice_now": False}))

    async def retrieve_invoice(self, id: str) -> dict[str, Any]:
        return await self._call(self.client.v1.invoices.retrieve_async(
            id, {"expand": ["payments"]}))

    async def list_invoices(self, *, customer: str, limit: int = 24) -> list[dict[str, Any]]:
        page = await self._call(self.client.v1.invoices.list_async(
            {"customer": customer, "limit": limit}))
        return list(page.get("data", []))

    async def list_events(self, *, created_gte: int, types: list[str],
                          starting_after: str | None = None, limit: int = 100
                          ) -> dict[str, Any]:
        """One page of the account's events (newest first) since ``created_gte``."""
        params: dict[str, Any] = {"created": {"gte": created_gte}, "types": types,
                                  "limit": limit}
        if starting_after:
            params["starting_after"] = starting_after
        return await self._call(self.client.v1.events.list_async(
            params))  # type: ignore[arg-type]

    async def retrieve_payment_intent(self, id: str) -> dict[str, Any]:
        return await self._call(self.client.v1.payment_intents.retrieve_async(
            id, {"expand": ["latest_charge.balance_transaction"]}))

    async def retrieve_charge(self, id: str) -> dict[str, Any]:
        return await self._call(self.client.v1.charges.retrieve_async(
            id, {"expand": ["balance_transaction", "refunds", "application_fee"]}))

    async def retrieve_dispute(self, id: str) -> dict[str, Any]:
        return await self._call(self.client.v1.disputes.retrieve_async(id))

    async def list_disputes(self, *, charge: str) -> list[dict[str, Any]]:
        page = await self._call(self.client.v1.disputes.list_async(
            {"charge": charge, "limit": 100}))
        return list(page.get("data", []))

    async def create_account(self, params: dict[str, Any], *,
                             idempotency_key: str) -> dict[str, Any]:
        return await self._call(self.client.v1.accounts.create_async(
            params, {"idempotency_key": idempotency_key}))  # type: ignore[arg-type]

    async def create_account_link(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._call(self.client.v1.account_links.create_async(
            params))  # type: ignore[arg-type]

    async def retrieve_account(self, id: str) -> dict[str, Any]:
        return await self._call(self.client.v1.accounts.retrieve_async(id))

    async def create_refund(self, params: dict[str, Any], *,
                            idempotency_key: str) -> dict[str, Any]:
        return await self._call(self.client.v1.refunds.create_async(
            params, {"idempotency_key": idempotency_key}))  # type: ignore[arg-type]

    def verify_event(self, payload: bytes, sig_header: str) -> dict[str, Any]:
        return verify_signature(payload, sig_header, self.webhook_secret)


def gateway_for(platform: Platform) -> PaymentGateway:
    """The platform's gateway (one per platform, built on first use); 503 without a key."""
    state: dict[str, Any] = vars(platform)
    gateway = state.get(GATEWAY_ATTRIBUTE)
    if gateway is not None:
        return gateway
    settings = platform.settings
    api_key = settings.stripe_api_key.get_secret_value()
    if not api_key:
        raise PaymentsNotConfigured()
    gateway = StripeGateway(api_key,
                            webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
                            api_base=settings.stripe_api_base)
    state[GATEWAY_ATTRIBUTE] = gateway
    return gateway


def set_gateway(platform: Platform, gateway: PaymentGateway | None) -> None:
    """Use ``gateway`` for this platform (None: build one from the settings again)."""
    vars(platform)[GATEWAY_ATTRIBUTE] = gateway
