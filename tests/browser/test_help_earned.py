"""A community helper answers a paid ticket and sees what their help earned the project.

A requester opens a ticket, the project's owner sets what it was paid (the team's panel),
a helper answers it, the owner marks that answer as having helped (the link on the ticket
panel) and the requester marks the ticket solved. Billing's attribution of the payment
arrives as ``HelpCredited``, emitted through the platform by a separate process on the
server's database (as billing's webhook handler does after a payment); the helper then
sees "Help earned $47.50 for the project" on their profile, the ticket on their recognition
page, and gets the notification by email.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import SECRET_KEY, ForumServer
from tests.browser.test_qa_flow import create_project, new_page, sign_up

pytestmark = pytest.mark.browser

# Run in a separate process on the server's database: billing credits the helper's post.
CREDIT_SCRIPT = """
import asyncio, sys
from forum import events
from forum.db import close_db, init_db
from forum.platform import build_platform
from forum.settings import Settings
from forum.projects.models import Project
from forum.topics.models import Post

async def main() -> None:
    slug, number, username, amount = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    platform = build_platform(Settings())
    await init_db(platform.settings, platform.plugins)
    try:
        project = await Project.get(slug=slug)
        for result in platform.plugins.pm.hook.forum_ticket_facts(
                project_id=project.id, number=number, ticket_id=None, platform=platform):
            facts = await result if asyncio.iscoroutine(result) else result
            if facts is not None:
                break
        post = await Post.get(topic_id=facts.topic_id, author__username=username)
        await platform.emit(events.HelpCredited(
            project=project.id, attribution_id=1, user_id=post.author_id, ticket_id=facts.ticket_id,
            topic_id=facts.topic_id, post_id=post.id, amount=amount, currency="USD",
            reference=facts.reference))
    finally:
        await platform.jobs.stop()
        await close_db()

asyncio.run(main())
"""


def credit_helper(server: ForumServer, slug: str, number: int, username: str,
                  amount: int) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("FORUM_")}
    env.update({"FORUM_DATA_DIR": str(server.data_dir),
                "FORUM_DATABASE_URL": f"sqlite://{server.data_dir / 'forum.sqlite3'}",
                "FORUM_SECRET_KEY": SECRET_KEY, "FORUM_RUN_EMBEDDED_WORKER": "0",
                "FORUM_CONFIG_FILE": str(server.data_dir / "absent.toml")})
    result = subprocess.run([sys.executable, "-c", CREDIT_SCRIPT, slug, str(number), username,
                             str(amount)], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


def test_a_helper_sees_what_their_answer_on_a_paid_ticket_earned(
        page: Page, chromium: Browser, forum_server: ForumServer) -> None:
    url = forum_server.url
    owner = page
    sign_up(owner, forum_server, "owner_earn")
    create_project(owner, url, "earn", "Earn Demo", "owner_earn@example.org")

    problems: list[str] = []
    requester = new_page(chromium, problems)
    helper = new_page(chromium, problems)
    try:
        sign_up(requester, forum_server, "requester_earn")
        requester.goto(f"{url}/p/earn/tickets/new")
        requester.fill("input[name=title]", "Exports stall at 99 percent")
        requester.fill("textarea[name=source]", "Version 3.1: every export stops at 99%.")
        requester.click("form.new-ticket button[value=submit]")
        expect(requester).to_have_url(re.compile(r"/p/earn/t/\d+-exports-stall"))
        ticket_url = requester.url.split("#")[0]
        expect(requester.locator(".ticket-panel .ticket-reference")).to_have_text("EARN-1")

        # The team records the payment on the ticket panel.
        owner.goto(ticket_url)
        panel = owner.locator(".ticket-panel")
        panel.locator("select[name=tier]").select_option("pay_as_you_go")
        panel.locator("input[name=amount_paid]").fill("5000")
        panel.locator("form[action$='/worth'] button[type=submit]").click()
        expect(owner.locator(".ticket-panel .helped-link a")).to_have_count(1)

        # A community helper answers.
        sign_up(helper, forum_server, "helper_earn")
        helper.goto(ticket_url)
        helper.fill("#composer textarea[name=source]",
                    "Raise `export.chunk_size` to 4096; 3.1 stalls on the last chunk.")
        helper.click("#composer button[type=submit]")
        expect(helper).to_have_url(re.compile(r"#post-2$"))

        # The team marks the answer as having helped, through the panel's link.
        owner.goto(ticket_url)
        owner.locator(".ticket-panel .helped-link a").click()
        expect(owner).to_have_url(f"{url}/p/earn/tickets/1/helped")
        answer = owner.locator(".helped-posts li", has_text="helper_earn")
        answer.locator("input[type=checkbox]").check()
        owner.click("form.helped-form button[type=submit]")
        expect(owner.locator(".helped-posts li", has_text="helper_earn").locator(
            "input[type=checkbox]")).to_be_checked()
        expect(owner.locator(".helped-posts li", has_text="requester_earn").locator(
            "input[type=checkbox]")).to_be_disabled()

        # The requester marks the ticket solved.
        requester.goto(ticket_url)
        requester.locator(".ticket-panel form[action$='/state'] button",
                          has_text="Mark solved").click()
        expect(requester.locator(".ticket-panel .ticket-state")).to_have_text("Solved")

        # Billing credits the helper's answer with the ticket's net revenue.
        before = len(forum_server.smtp.received)
        credit_helper(forum_server, "earn", 1, "helper_earn", 4750)

        helper.goto(f"{url}/p/earn/u/helper_earn")
        expect(helper.locator(".help-earned")).to_have_text(
            "Help earned $47.50 for the project")
        helper.locator(".recognition-links a").click()
        expect(helper).to_have_url(f"{url}/p/earn/u/helper_earn/recognition")
        expect(helper.locator("p.help-earned")).to_contain_text("Your help earned")
        expect(helper.locator(".earned-amount")).to_have_text("$47.50")
        row = helper.locator(".recognition-tickets tr[data-reference='EARN-1']")
        expect(row.locator(".ticket-earned")).to_have_text("$47.50")

        # The notification is mailed too.
        mails = forum_server.smtp.wait_for(before + 1, timeout=20)[before:]
        earned = [m for m in mails if m.rcpt_tos == ["helper_earn@example.org"]]
        assert earned, [m.rcpt_tos for m in mails]
        assert "Your answer on EARN-1 earned $47.50 for the project" in str(
            earned[0].message["Subject"])
    finally:
        requester.context.close()
        helper.context.close()
    assert not problems, problems
