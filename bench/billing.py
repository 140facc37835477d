"""Benchmark: Stripe webhook events processed per second through the ASGI app.

Against the tests' fake Stripe (a real HTTP server on loopback): each event is signed with
Stripe's scheme and posted to ``/webhooks/stripe``; the app checks the signature, re-reads
the objects from the fake over HTTP and writes the ledger in one transaction (SQLite).
Three kinds are measured: ``checkout.session.completed`` for paid upgrades (three reads from
Stripe, a ledger row, the ticket's worth settled), an event type billing ignores (signature
and the event's row only) and duplicates (signature and one lookup). The trivial route
``/healthz`` is measured the same way in the same run; ratios say what an event costs beyond
the app's own overhead. Figures only, no pass/fail; one JSON line per measurement.

    .venv/bin/python bench/billing.py [--events 300] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.measure import run_requests, throughput  # noqa: E402


def emit(**figures: Any) -> None:
    print(json.dumps(figures), flush=True)


async def seed(settings: Any, plugins: Any, fake: Any, count: int) -> list[dict[str, Any]]:
    """A project, a customer, ``count`` upgrades paid at the fake; their completion events
    (not yet delivered)."""
    from tortoise import Tortoise

    from forum.accounts.models import User
    from forum.billing.gateway import StripeGateway
    from forum.billing.models import BillingSettings, Purchase, PurchaseKind
    from forum.db import init_db
    from forum.projects.models import Project

    await init_db(settings, plugins)
    await Tortoise.generate_schemas()
    buyer = await User.create(username="buyer", username_lower="buyer",
                              email="buyer@example.org", password_hash="x")
    project = await Project.create(slug="bench", name="Bench")
    await BillingSettings.create(project=project, currency="USD")
    gateway = StripeGateway(fake.api_key, api_base=fake.url, max_network_retries=0)
    completed: list[dict[str, Any]] = []
    for n in range(count):
        purchase = await Purchase.create(
            project=project, user=buyer, kind=PurchaseKind.TICKET_UPGRADE,
            ticket_id=100_000 + n, tier="pay_as_you_go", priority=2, amount=4900 + n,
            currency="USD", idempotency_key=f"bench-{n}")
        metadata = {"purchase_id": str(purchase.id), "ticket_id": str(purchase.ticket_id)}
        session = await gateway.create_checkout_session({
            "mode": "payment", "client_reference_id": str(purchase.id), "metadata": metadata,
            "line_items": [{"quantity": 1, "price_data": {
                "currency": "usd", "unit_amount": purchase.amount,
                "product_data": {"name": f"Priority support {n}"}}}],
            "invoice_creation": {"enabled": True},
            "success_url": "http://bench/ok", "cancel_url": "http://bench/back",
        }, idempotency_key=f"checkout-{purchase.id}")
        purchase.checkout_session_id = session["id"]
        await purchase.save(update_fields=["checkout_session_id"])
        completed.append(fake.complete_checkout(session["id"])[0])
    await Tortoise.close_connections()
    return completed


async def measure(settings: Any, plugins: Any, fake: Any, completed: list[dict[str, Any]],
                  concurrency: int) -> None:
    import httpx

    from forum.app import create_app
    from forum.billing.models import LedgerEntry, StripeEvent
    from forum.platform import build_platform

    total = len(completed)
    ignored = [fake.event("customer.tax_id.created", {"id": f"txi_{n}", "object": "tax_id"})
               for n in range(total)]

    def post(event: dict[str, Any]) -> tuple[str, str, dict[str, Any], int]:
        body, headers = fake.signed(event)
        return "POST", "/webhooks/stripe", {"content": body, "headers": headers}, 200

    def healthz(n: int) -> tuple[str, str, dict[str, Any], int]:
        return "GET", "/healthz", {}, 200

    app = create_app(settings, platform=build_platform(settings, plugins))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await run_requests(client, healthz, 20, 1)  # warm up
            seconds, latencies = await run_requests(client, healthz, total * 2, concurrency)
            trivial = throughput("billing", "/healthz", seconds, latencies)
            emit(**trivial)
            for name, events in (("checkout.session.completed", completed),
                                 ("ignored type", ignored),
                                 ("duplicate", completed)):
                seconds, latencies = await run_requests(
                    client, lambda n, events=events: post(events[n]), total, concurrency)
                result = throughput("billing", f"/webhooks/stripe {name}", seconds, latencies)
                emit(**result, signature_checked=True,
                     ratio_per_second=round(trivial["per_second"] / result["per_second"], 1),
                     ratio_p50=round(result["p50_ms"] / trivial["p50_ms"], 1))
            emit(bench="billing", ledger_rows=await LedgerEntry.all().count(),
                 events_stored=await StripeEvent.all().count())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    args, _ = parser.parse_known_args()

    from forum.plugins import PluginManager
    from forum.settings import Settings
    from tests.billing.fake_stripe import FakeStripe, ServedFake

    fake = FakeStripe()
    data_dir = Path(tempfile.mkdtemp(prefix="forum-bench-billing-"))
    try:
        with ServedFake(fake):
            settings = Settings(data_dir=data_dir,
                                database_url=f"sqlite://{data_dir / 'forum.sqlite3'}",
                                secret_key="bench-secret-key-not-for-production",
                                run_embedded_worker=False, base_url="http://bench",
                                stripe_api_key=fake.api_key,
                                stripe_webhook_secret=fake.webhook_secret,
                                stripe_api_base=fake.url)
            plugins = PluginManager()
            completed = asyncio.run(seed(settings, plugins, fake, args.events))
            asyncio.run(measure(settings, plugins, fake, completed, args.concurrency))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
