"""A reply by email lands in a ticket, for real: the requester submits a ticket in the
browser, ``forum serve`` sends the acknowledgement through SMTP with a ``Reply-To`` of the
requester's own, the answer goes through ``forum mail-in`` (a separate process on the same
database), and the ticket page in the requester's browser shows it."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import parseaddr

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ForumServer
from tests.browser.test_qa_flow import create_project, new_page, sign_up
from tests.browser.test_reply_by_email import DOMAIN, mail_forum, mail_to, send_reply

pytestmark = pytest.mark.browser

__all__ = ["mail_forum"]


def test_a_reply_to_the_acknowledgement_lands_in_the_ticket(
        page: Page, chromium: Browser, mail_forum: tuple[ForumServer, int]) -> None:
    server, mail_port = mail_forum
    url = server.url
    problems: list[str] = []
    owner = new_page(chromium, problems)
    try:
        sign_up(owner, server, "owner_ticketmail")
        create_project(owner, url, "ticket-mail", "Ticket Mail", "owner_ticketmail@example.org")
    finally:
        owner.context.close()
    assert not problems, problems

    requester = page
    sign_up(requester, server, "requester_ticketmail")
    requester.goto(f"{url}/p/ticket-mail/tickets/new")
    requester.fill("input[name=title]", "Backups stop after the first night")
    requester.fill("textarea[name=source]", "Version 3.1: the second backup never starts.")
    requester.click("form.new-ticket button[value=submit]")
    expect(requester).to_have_url(re.compile(r"/p/ticket-mail/t/\d+-backups-stop"))
    ticket_url = requester.url.split("#")[0]
    expect(requester.locator(".ticket-panel .ticket-reference")).to_have_text("TICKET-MAIL-1")

    # The acknowledgement carries a reply address of the requester's own ...
    ack = mail_to(server.smtp, "requester_ticketmail@example.org",
                  "we received your ticket TICKET-MAIL-1").message
    reply_to = parseaddr(str(ack["Reply-To"]))[1]
    assert reply_to.startswith("reply+") and reply_to.endswith(f"@{DOMAIN}")
    body = ack.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()

    # ... and answering it from a mail client, quoting as clients do, posts into the ticket.
    answer = EmailMessage()
    answer["From"] = "Requester <requester_ticketmail@example.org>"
    answer["To"] = str(ack["Reply-To"])
    answer["Subject"] = f"Re: {ack['Subject']}"
    answer["In-Reply-To"] = ack["Message-ID"]
    quoted = "\n".join(f"> {line}" for line in text.splitlines())
    answer.set_content("The log says the disk was full; I freed space and it still stops.\n\n"
                       f"On Monday, Forum <forum@forum.test> wrote:\n{quoted}\n")
    send_reply(mail_port, answer)

    requester.goto(ticket_url)
    expect(requester.locator("#post-2 .cooked")).to_have_text(
        "The log says the disk was full; I freed space and it still stops.")
    expect(requester.locator("#post-2")).to_contain_text("requester_ticketmail")
