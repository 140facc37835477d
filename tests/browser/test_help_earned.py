"""A community helper answers a paid ticket and sees what their help earned the project.

The owner creates a project that splits a paid ticket's revenue among the posts its team
marks "helped", and prices an upgrade. A requester opens a ticket and pays for it on the
fake Stripe's checkout page (its webhooks reach the server as Stripe's would). A helper
answers; the owner marks that answer as having helped (the link on the ticket panel); the
requester marks the ticket solved. Billing attributes the payment's net to the helper, who
then sees "Help earned $X for the project" on their profile, the ticket on their
recognition page, and gets the notification by email.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.billing.fake_stripe import FakeStripe
from tests.browser.conftest import ForumServer
from tests.browser.test_billing_upgrade import forum_server, stripe
from tests.browser.test_qa_flow import create_project, new_page, sign_up

pytestmark = pytest.mark.browser

__all__ = ["forum_server", "stripe"]

EARNED = re.compile(r"^Help earned (\$\d+\.\d\d) for the project$")


def test_a_helper_sees_what_their_answer_on_a_paid_ticket_earned(
        page: Page, chromium: Browser, forum_server: ForumServer, stripe: FakeStripe) -> None:
    url = forum_server.url
    owner = page
    sign_up(owner, forum_server, "owner_earn")
    create_project(owner, url, "earn", "Earn Demo", "owner_earn@example.org")
    owner.goto(f"{url}/p/earn/billing/settings")
    owner.check("input[name=split_helped]")
    owner.click("form[action='/p/earn/billing/settings'] button[type=submit]")
    owner.goto(f"{url}/p/earn/billing/plans")
    owner.select_option("select[name=kind]", "pay_as_you_go")
    owner.fill("form.plan-form input[name=name]", "Priority ticket")
    owner.fill("form.plan-form input[name=price]", "50.00")
    owner.select_option("form.plan-form select[name=upgrade_priority]", "2")
    owner.click("form.plan-form button[type=submit]")
    expect(owner.locator("table.plans")).to_contain_text("50.00 USD per upgrade")

    problems: list[str] = []
    requester = new_page(chromium, problems)
    helper = new_page(chromium, problems)
    try:
        # The requester opens a ticket and pays for it on Stripe's (fake) checkout page.
        sign_up(requester, forum_server, "requester_earn")
        requester.goto(f"{url}/p/earn/tickets/new")
        requester.fill("input[name=title]", "Exports stall at 99 percent")
        requester.fill("textarea[name=source]", "Version 3.1: every export stops at 99%.")
        requester.click("form.new-ticket button[value=submit]")
        expect(requester).to_have_url(re.compile(r"/p/earn/t/\d+-exports-stall"))
        ticket_url = requester.url.split("#")[0]
        requester.locator(".ticket-panel a", has_text="Upgrade priority").click()
        requester.locator("a", has_text="tell us who is buying").click()
        requester.check("input[name=purpose][value=professional]")
        requester.click("form[action='/p/earn/billing/buyer'] button[type=submit]")
        requester.locator(".upgrade-option button", has_text="Upgrade").click()
        expect(requester.locator(".checkout-summary")).to_contain_text("50.00 USD")
        requester.locator("a.checkout-continue").click()
        expect(requester).to_have_url(re.compile(re.escape(stripe.url) + r"/pay/cs_test_"))
        requester.locator("button", has_text="Pay").click()
        expect(requester).to_have_url(re.compile(re.escape(ticket_url) + r"\?checkout=done"))

        # A community helper answers.
        sign_up(helper, forum_server, "helper_earn")
        helper.goto(ticket_url)
        helper.fill("#composer textarea[name=source]",
                    "Raise `export.chunk_size` to 4096; 3.1 stalls on the last chunk.")
        helper.click("#composer button[type=submit]")
        expect(helper).to_have_url(re.compile(r"#post-2$"))

        # The team marks the answer as having helped, through the ticket panel's link
        # (shown once Stripe's webhooks made the ticket a paid one).
        owner.goto(ticket_url)
        owner.locator(".ticket-panel .helped-link a").click()
        expect(owner).to_have_url(f"{url}/p/earn/tickets/1/helped")
        owner.locator(".helped-posts li", has_text="helper_earn").locator(
            "input[type=checkbox]").check()
        owner.click("form.helped-form button[type=submit]")
        expect(owner.locator(".helped-posts li", has_text="helper_earn").locator(
            "input[type=checkbox]")).to_be_checked()
        expect(owner.locator(".helped-posts li", has_text="requester_earn").locator(
            "input[type=checkbox]")).to_be_disabled()

        # The requester marks the ticket solved; billing credits the helper (a job).
        before = len(forum_server.smtp.received)
        requester.goto(ticket_url)
        requester.locator(".ticket-panel form[action$='/state'] button",
                          has_text="Mark solved").click()
        expect(requester.locator(".ticket-panel .ticket-state")).to_have_text("Solved")

        earned = helper.locator(".help-earned")
        deadline = time.monotonic() + 20
        while True:
            helper.goto(f"{url}/p/earn/u/helper_earn")
            if earned.count() or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        expect(earned).to_have_text(EARNED)
        match = EARNED.match(earned.inner_text())
        assert match
        amount = match.group(1)
        # The project's net: $50.00 less Stripe's fee and the platform's 5%.
        assert 0 < float(amount[1:]) <= 47.50

        helper.locator(".recognition-links a").click()
        expect(helper).to_have_url(f"{url}/p/earn/u/helper_earn/recognition")
        expect(helper.locator("p.help-earned")).to_contain_text("Your help earned")
        expect(helper.locator(".earned-amount")).to_have_text(amount)
        row = helper.locator(".recognition-tickets tr[data-reference='EARN-1']")
        expect(row.locator(".ticket-earned")).to_have_text(amount)

        # The notification is mailed too.
        subject = f"Your answer on EARN-1 earned {amount} for the project"
        deadline = time.monotonic() + 20
        mailed: list[str] = []
        while subject not in " ".join(mailed) and time.monotonic() < deadline:
            mails = forum_server.smtp.wait_for(before + 1, timeout=20)[before:]
            mailed = [str(m.message["Subject"]) for m in mails
                      if m.rcpt_tos == ["helper_earn@example.org"]]
            time.sleep(0.2)
        assert any(subject in s for s in mailed), mailed
    finally:
        requester.context.close()
        helper.context.close()
    assert not problems, problems
