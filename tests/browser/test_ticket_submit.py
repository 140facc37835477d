"""A requester opens a support ticket in a real browser and sees where it stands.

The project's owner signs up and creates a project; a second person signs up, opens a
ticket from the new-ticket form, lands on the ticket page and sees its reference and its
place in the queue in the ticket panel (loaded by htmx), and gets the acknowledgement mail.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ForumServer
from tests.browser.test_qa_flow import create_project, new_page, sign_up

pytestmark = pytest.mark.browser

def test_a_requester_submits_a_ticket_and_sees_its_position(
        page: Page, chromium: Browser, forum_server: ForumServer) -> None:
    url = forum_server.url
    owner = page
    sign_up(owner, forum_server, "owner_desk")
    create_project(owner, url, "helpdesk", "Help Desk", "owner_desk@example.org")

    problems: list[str] = []
    requester = new_page(chromium, problems)
    try:
        sign_up(requester, forum_server, "requester_desk")
        before = len(forum_server.smtp.received)
        requester.goto(f"{url}/p/helpdesk/tickets/new")
        requester.fill("input[name=title]", "Invoices export as empty files")
        requester.fill("textarea[name=source]",
                       "Version 4.2 on Firefox: every export of March is 0 bytes.")
        requester.click("form.new-ticket button[value=submit]")
        expect(requester).to_have_url(re.compile(r"/p/helpdesk/t/\d+-invoices-export"))
        expect(requester.locator("h1.topic-title")).to_have_text(
            "Invoices export as empty files")
        panel = requester.locator(".ticket-panel")
        expect(panel.locator(".ticket-reference")).to_have_text("HELPDESK-1")
        expect(panel.locator(".ticket-state")).to_have_text("In the queue")
        expect(panel.locator(".ticket-position")).to_have_text("Position 1 in the queue")
        expect(panel.locator(".ticket-expected")).to_contain_text("Expected response:")
        # The requester sees no team tools.
        expect(panel.locator("select[name=assignee]")).to_have_count(0)

        # The acknowledgement mail names the reference and the place in the queue.
        mails = forum_server.smtp.wait_for(before + 1, timeout=20)[before:]
        acknowledged = [m for m in mails if m.rcpt_tos == ["requester_desk@example.org"]]
        assert acknowledged, [m.rcpt_tos for m in mails]
        body = acknowledged[0].message.get_body(preferencelist=("plain",))
        assert body is not None
        text = body.get_content()
        assert "HELPDESK-1" in text and "number 1 in the support queue" in text
    finally:
        requester.context.close()
    assert not problems, problems

    # The team sees the ticket with its tools.
    owner.goto(f"{url}/p/helpdesk/t/{requester_topic_id(owner, url)}")
    expect(owner.locator(".ticket-panel select[name=assignee]")).to_have_count(1)


def requester_topic_id(page: Page, url: str) -> str:
    page.goto(f"{url}/p/helpdesk/c/support")
    href = page.locator("a.topic-title").first.get_attribute("href") or ""
    match = re.search(r"/t/(\d+)", href)
    assert match, href
    return match.group(1)
