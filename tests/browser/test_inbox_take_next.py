"""A supporter takes the next ticket from the inbox and answers it from a response template,
in a real browser.

A requester opens a ticket; the project's owner writes a response template, opens the
support inbox, presses "Take next", lands on the ticket (now theirs), picks the template
above the reply box (the picker is loaded by htmx into the ticket panel and fills the
composer's textarea), finishes the answer and posts it.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ForumServer
from tests.browser.test_qa_flow import create_project, new_page, sign_up

pytestmark = pytest.mark.browser



def test_a_supporter_takes_the_next_ticket_and_answers_from_a_template(
        page: Page, chromium: Browser, forum_server: ForumServer) -> None:
    url = forum_server.url
    owner = page
    sign_up(owner, forum_server, "owner_inbox")
    create_project(owner, url, "inboxdesk", "Inbox Desk", "owner_inbox@example.org")

    problems: list[str] = []
    requester = new_page(chromium, problems)
    try:
        sign_up(requester, forum_server, "requester_inbox")
        requester.goto(f"{url}/p/inboxdesk/tickets/new")
        requester.fill("input[name=title]", "Sync stops after an hour")
        requester.fill("textarea[name=source]", "Version 3.1 on macOS: sync stops at 60 min.")
        requester.click("form.new-ticket button[value=submit]")
        expect(requester).to_have_url(re.compile(r"/p/inboxdesk/t/\d+-sync-stops"))
    finally:
        requester.context.close()
    assert not problems, problems

    owner.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    owner.goto(f"{url}/p/inboxdesk/templates")
    owner.fill("form[action='/p/inboxdesk/templates'] input[name=name]", "Acknowledge")
    owner.fill("form[action='/p/inboxdesk/templates'] textarea[name=body]",
               "Hello {requester_name}, thanks for {reference}.")
    owner.click("form[action='/p/inboxdesk/templates'] button[type=submit]")
    expect(owner.locator("table.response-templates")).to_contain_text("Acknowledge")

    owner.goto(f"{url}/p/inboxdesk/inbox")
    expect(owner.locator("table.inbox")).to_contain_text("INBOXDESK-1 · Sync stops after an hour")
    owner.click("form.take-next button[type=submit]")
    expect(owner).to_have_url(re.compile(r"/p/inboxdesk/t/\d+-sync-stops"))
    panel = owner.locator(".ticket-panel")
    expect(panel.locator(".ticket-assignee")).to_have_text("owner_inbox")

    picker = panel.locator("form.template-picker")
    picker.locator("select[name=template_id]").select_option(label="Acknowledge (personal)")
    picker.locator("button[type=submit]").click()
    composer = owner.locator("#composer textarea[name=source]")
    expect(composer).to_have_value("Hello requester_inbox, thanks for INBOXDESK-1.")
    composer.press("End")
    composer.type(" Fixed in 3.2.")
    owner.click("#composer button[type=submit]")
    expect(owner.locator("article.topic")).to_contain_text(
        "Hello requester_inbox, thanks for INBOXDESK-1. Fixed in 3.2.")
    assert not problems, problems
