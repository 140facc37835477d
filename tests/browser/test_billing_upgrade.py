"""A requester pays to upgrade a ticket in a real browser and watches it move up the queue.

The owner signs up, creates a project, prices a pay-as-you-go upgrade and opens a ticket
of their own. The requester signs up and opens a ticket (second in the queue), presses
"Upgrade priority", says who is buying, presses "Upgrade", pays on the fake Stripe's
checkout page (which completes the session and sends the signed webhooks to the server,
as Stripe does) and comes back to the ticket, now first in the queue.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.billing.fake_stripe import FakeStripe, ServedFake
from tests.browser.conftest import (
    SECRET_KEY,
    ForumServer,
    prepare_database,
    wait_until_ready,
)
from tests.browser.test_qa_flow import create_project, new_page, sign_up
from tests.smtp import SMTPServer, free_port

pytestmark = pytest.mark.browser

# Tables that no migration creates yet are created as the models say (CREATE TABLE IF NOT
# EXISTS: nothing once the migrations have them).
CREATE_MISSING = """
import asyncio, sys
from tortoise import Tortoise
from forum.db import init_db
from forum.plugins import PluginManager
from forum.settings import load_settings

async def main() -> None:
    await init_db(load_settings(), PluginManager())
    await Tortoise.generate_schemas(safe=True)
    await Tortoise.close_connections()

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe()
    with ServedFake(fake):
        yield fake


@pytest.fixture(scope="module")
def forum_server(tmp_path_factory: pytest.TempPathFactory, smtp_server: SMTPServer,
                 stripe: FakeStripe) -> Iterator[ForumServer]:
    """``forum serve`` as in tests/browser/conftest.py, with Stripe pointed at the fake."""
    data_dir = tmp_path_factory.mktemp("forum-billing")
    database_url = f"sqlite://{data_dir / 'forum.sqlite3'}"
    prepare_database(data_dir, database_url)
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("FORUM_")}
    env.update({
        "FORUM_CONFIG_FILE": str(data_dir / "forum.toml"),
        "FORUM_HOST": "127.0.0.1", "FORUM_PORT": str(port),
        "FORUM_DATA_DIR": str(data_dir), "FORUM_DATABASE_URL": database_url,
        "FORUM_SECRET_KEY": SECRET_KEY,
        "FORUM_SMTP_HOST": smtp_server.host, "FORUM_SMTP_PORT": str(smtp_server.port),
        "FORUM_REQUIRE_EMAIL_VERIFICATION": "1", "FORUM_RUN_EMBEDDED_WORKER": "1",
        "FORUM_JOB_POLL_SECONDS": "0.2", "FORUM_LOG_LEVEL": "WARNING",
        "FORUM_STRIPE_API_KEY": stripe.api_key,
        "FORUM_STRIPE_WEBHOOK_SECRET": stripe.webhook_secret,
        "FORUM_STRIPE_API_BASE": stripe.url,
    })
    subprocess.run([sys.executable, "-c", CREATE_MISSING], env=env, check=True, timeout=120)
    log = data_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(Path(sys.executable).parent / "forum"), "serve"],
                                   cwd=data_dir, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    server = ForumServer(url=f"http://127.0.0.1:{port}", data_dir=data_dir,
                         process=process, log=log, smtp=smtp_server)
    stripe.app_url = server.url  # the checkout page's "Pay" delivers webhooks here
    try:
        wait_until_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def open_ticket(page: Page, url: str, title: str, text: str) -> None:
    page.goto(f"{url}/p/paydesk/tickets/new")
    page.fill("input[name=title]", title)
    page.fill("textarea[name=source]", text)
    page.click("form.new-ticket button[value=submit]")
    expect(page).to_have_url(re.compile(r"/p/paydesk/t/\d+-"))


def test_a_requester_pays_for_priority_and_moves_up_the_queue(
        page: Page, chromium: Browser, forum_server: ForumServer, stripe: FakeStripe) -> None:
    url = forum_server.url
    owner = page
    sign_up(owner, forum_server, "owner_pay")
    create_project(owner, url, "paydesk", "Pay Desk", "owner_pay@example.org")
    # The owner prices an upgrade.
    owner.goto(f"{url}/p/paydesk/billing/plans")
    owner.select_option("select[name=kind]", "pay_as_you_go")
    owner.fill("form.plan-form input[name=name]", "Priority ticket")
    owner.fill("form.plan-form input[name=price]", "49.00")
    owner.select_option("form.plan-form select[name=upgrade_priority]", "2")
    owner.click("form.plan-form button[type=submit]")
    expect(owner.locator("table.plans")).to_contain_text("49.00 USD per upgrade")
    open_ticket(owner, url, "Backups fail at midnight", "Every night since 3.1, log attached.")

    problems: list[str] = []
    requester = new_page(chromium, problems)
    try:
        sign_up(requester, forum_server, "requester_pay")
        open_ticket(requester, url, "Exports are empty", "Version 4.2: every export is 0 bytes.")
        panel = requester.locator(".ticket-panel")
        expect(panel.locator(".ticket-position")).to_have_text("Position 2 in the queue")
        ticket_url = requester.url

        panel.locator("a", has_text="Upgrade priority").click()
        expect(requester).to_have_url(f"{url}/p/paydesk/tickets/2/upgrade")
        expect(requester.locator(".queue-position")).to_have_text("Position 2")
        expect(requester.locator(".seller")).to_have_text("Pay Desk Ltd")
        requester.locator("a", has_text="tell us who is buying").click()
        requester.check("input[name=purpose][value=professional]")
        requester.click("form[action='/p/paydesk/billing/buyer'] button[type=submit]")
        expect(requester).to_have_url(f"{url}/p/paydesk/tickets/2/upgrade")
        option = requester.locator(".upgrade-option")
        expect(option.locator(".upgrade-price")).to_contain_text("49.00 USD")
        option.locator("button", has_text="Upgrade").click()
        expect(requester.locator(".checkout-summary")).to_contain_text("49.00 USD")
        requester.locator("a.checkout-continue").click()

        # Stripe's (fake) checkout page: pay.
        expect(requester).to_have_url(re.compile(re.escape(stripe.url) + r"/pay/cs_test_"))
        expect(requester.locator(".product")).to_have_text("Priority support for PAYDESK-2")
        requester.locator("button", has_text="Pay").click()

        # Back on the ticket, which Stripe's webhooks moved ahead of the free one.
        expect(requester).to_have_url(re.compile(re.escape(ticket_url) + r"\?checkout=done"))
        deadline = time.monotonic() + 20
        while True:
            position = requester.locator(".ticket-panel .ticket-position")
            position.wait_for()
            if position.inner_text() == "Position 1 in the queue" or (
                    time.monotonic() > deadline):
                break
            time.sleep(0.3)
            requester.reload()
        expect(position).to_have_text("Position 1 in the queue")
    finally:
        requester.context.close()
    assert not problems, problems
    sessions = [c for c in stripe.calls if c.method == "POST"
                and c.path == "/v1/checkout/sessions"]
    assert len(sessions) == 1
    assert sessions[0].params["line_items"][0]["price_data"]["unit_amount"] == "4900"
