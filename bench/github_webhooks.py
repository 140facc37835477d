"""Benchmark: GitHub webhook deliveries accepted per second through the ASGI app.

Each delivery is a real ``issue_comment`` payload (/work/shared/fixtures/github), a new
``X-GitHub-Delivery`` id, signed with the linked repository's secret: the endpoint checks
the signature, stores the delivery and queues its job (SQLite, embedded job queue, the
worker off so only acceptance is measured). The trivial route ``/healthz`` is measured the
same way in the same run; the ratio says what the webhook costs beyond the app's own
overhead. Figures only, no pass/fail; one JSON line per measurement.

    .venv/bin/python bench/github_webhooks.py [--deliveries 2000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.measure import run_requests, throughput  # noqa: E402

FIXTURE = Path("/work/shared/fixtures/github/issue_comment.created.json")
SECRET = "bench-webhook-secret"
REPO = "Codertocat/Hello-World"


def emit(**figures: Any) -> None:
    print(json.dumps(figures), flush=True)


async def seed(settings: Any, plugins: Any) -> None:
    from tortoise import Tortoise

    from forum.accounts.models import User
    from forum.db import init_db
    from forum.platform import build_platform
    from forum.projects.models import Membership, Project, Role
    from forum.projects.plugin_settings import do_toggle_plugin
    from plugins.github_import.connection import LinkIn, check_link

    platform = build_platform(settings, plugins)
    await init_db(settings, plugins)
    await Tortoise.generate_schemas()
    owner = await User.create(username="lead", username_lower="lead",
                              email="lead@example.org", password_hash="x")
    project = await Project.create(slug="bench", name="Bench")
    await Membership.create(project=project, user=owner, role=Role.OWNER)
    await do_toggle_plugin(platform, project, "github_import", True)
    await check_link(platform, project.id, LinkIn(repo=REPO, token="t", webhook_secret=SECRET,
                                                  api_url="http://127.0.0.1:9"))
    await Tortoise.close_connections()


async def measure(settings: Any, plugins: Any, payload: dict[str, Any], deliveries: int,
                  concurrency: int) -> None:
    import httpx

    from forum.app import create_app
    from forum.platform import build_platform
    from plugins.github_import.models import Delivery

    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()

    def webhook(n: int) -> tuple[str, str, dict[str, Any], int]:
        headers = {"X-GitHub-Event": "issue_comment", "X-GitHub-Delivery": str(uuid.uuid4()),
                   "X-Hub-Signature-256": signature, "Content-Type": "application/json"}
        return "POST", "/webhooks/github", {"content": body, "headers": headers}, 202

    def healthz(n: int) -> tuple[str, str, dict[str, Any], int]:
        return "GET", "/healthz", {}, 200

    app = create_app(settings, platform=build_platform(settings, plugins))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await run_requests(client, healthz, 20, 1)  # warm up
            await run_requests(client, webhook, 20, 1)
            seconds, latencies = await run_requests(client, healthz, deliveries, concurrency)
            trivial = throughput("github_webhooks", "/healthz", seconds, latencies)
            emit(**trivial)
            seconds, latencies = await run_requests(client, webhook, deliveries, concurrency)
            accepted = throughput("github_webhooks", "/webhooks/github", seconds, latencies)
            emit(**accepted, signature_checked=True, stored=await Delivery.all().count(),
                 ratio_per_second=round(trivial["per_second"] / accepted["per_second"], 1),
                 ratio_p50=round(accepted["p50_ms"] / trivial["p50_ms"], 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args, _ = parser.parse_known_args()

    from forum.plugins import PluginManager
    from forum.settings import Settings

    data_dir = Path(tempfile.mkdtemp(prefix="forum-bench-webhooks-"))
    settings = Settings(data_dir=data_dir,
                        database_url=f"sqlite://{data_dir / 'forum.sqlite3'}",
                        secret_key="bench-secret-key-not-for-production",
                        run_embedded_worker=False, base_url="http://bench",
                        rate_limit_login="100000/minute")
    plugins = PluginManager()
    try:
        asyncio.run(seed(settings, plugins))
        payload = json.loads(FIXTURE.read_text())
        payload["comment"]["body"] = "@forum-bot +support"
        asyncio.run(measure(settings, plugins, payload, args.deliveries, args.concurrency))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
