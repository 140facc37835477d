"""Asking, answering, voting, accepting and searching in a real browser.

Two people sign up (verifying their addresses through the mail the server sends). The
first creates a project and asks a question through the composer (with its live preview);
the second answers it; the first votes the answer up and accepts it; then the project's
search page finds the question.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ForumServer

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


def sign_up(page: Page, server: ForumServer, username: str) -> None:
    """Sign up, follow the verification link from the mail, log in."""
    url = server.url
    email = f"{username}@example.org"
    before = len(server.smtp.received)
    page.goto(f"{url}/signup")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/signup'] button[type=submit]")
    expect(page).to_have_url(f"{url}/verify-email/sent")
    deadline = time.monotonic() + 20
    link = ""
    while not link and time.monotonic() < deadline:
        for mail in server.smtp.wait_for(before + 1, timeout=20)[before:]:
            if mail.rcpt_tos == [email]:
                body = mail.message.get_body(preferencelist=("plain",))
                assert body is not None
                found = re.findall(r"https?://\S+/verify-email\?token=[\w.\-~%=]+",
                                   body.get_content())
                link = found[0] if found else ""
        before = len(server.smtp.received) if not link else before
    assert link, f"no verification mail for {email}"
    page.goto(link)
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    expect(page.locator("header .me")).to_have_text(username)


def create_project(page: Page, url: str, slug: str, name: str, owner_email: str) -> None:
    """The signed-in user creates a project through the form and lands on its home."""
    page.goto(f"{url}/projects/new")
    page.fill("input[name=slug]", slug)
    page.fill("input[name=name]", name)
    page.fill("textarea[name=description]", f"A project for the {name} browser test.")
    page.fill("input[name=legal_entity]", f"{name} Ltd")
    page.fill("input[name=contact_email]", owner_email)
    page.fill("input[name=time_zone]", "UTC")
    page.click("form[action='/projects/new'] button[type=submit]")
    expect(page).to_have_url(f"{url}/p/{slug}")


def new_page(chromium: Browser, problems: list[str]) -> Page:
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda m: problems.append(f"console: {m.text}")
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    return page


def test_ask_answer_vote_accept_search(page: Page, chromium: Browser,
                                       forum_server: ForumServer) -> None:
    url = forum_server.url
    asker = page
    sign_up(asker, forum_server, "asker_qa")

    # A project of the asker's own; new projects come with the default categories.
    create_project(asker, url, "qa-demo", "Q and A Demo", "asker_qa@example.org")
    expect(asker.locator(".categories")).to_contain_text("Questions")

    # Ask: the composer previews the markdown while typing.
    asker.click("a[href='/p/qa-demo/new']")
    expect(asker).to_have_url(f"{url}/p/qa-demo/new")
    asker.fill("input[name=title]", "How do I calibrate the flux capacitor?")
    asker.select_option("select[name=category]", "questions")
    asker.fill("input[name=tags]", "flux, calibration")
    asker.locator("textarea[name=source]").press_sequentially(
        "It reads **88** mph but never jumps.", delay=5)
    expect(asker.locator("#preview strong")).to_have_text("88")
    asker.click("form.composer button[type=submit]")
    expect(asker).to_have_url(re.compile(r"/p/qa-demo/t/\d+-how-do-i-calibrate"))
    expect(asker.locator("h1.topic-title")).to_have_text(
        "How do I calibrate the flux capacitor?")
    topic_url = asker.url.split("#")[0]

    # Another person answers.
    problems: list[str] = []
    helper = new_page(chromium, problems)
    try:
        sign_up(helper, forum_server, "helper_qa")
        helper.goto(topic_url)
        helper.fill("#composer textarea[name=source]", "Set the *plutonium* level to 1.21 GW.")
        helper.click("#composer button[type=submit]")
        expect(helper).to_have_url(re.compile(r"#post-2$"))
        expect(helper.locator("#post-2 .cooked em")).to_have_text("plutonium")
        # The helper may not accept on the asker's behalf.
        expect(helper.locator("#post-2 button.accept")).to_have_count(0)
    finally:
        helper.context.close()
    assert not problems, problems

    # The asker votes the answer up and accepts it.
    asker.goto(topic_url)
    answer = asker.locator("#post-2")
    expect(answer.locator(".post-score")).to_have_text("0")
    answer.locator("button.vote-up").click()
    expect(asker.locator("#post-2 .post-score")).to_have_text("1")
    expect(asker.locator("#post-2 button.vote-up")).to_have_attribute("aria-pressed", "true")
    asker.locator("#post-2 button.accept").click()
    expect(asker.locator("#post-2")).to_have_class(re.compile(r"\baccepted\b"))
    expect(asker.locator("#post-2 .accepted-label")).to_have_text("Accepted answer")
    expect(asker.locator(".topic-meta .badge.ok")).to_have_text("solved")
    ld = asker.locator("script[type='application/ld+json']").text_content() or ""
    assert '"acceptedAnswer"' in ld

    # The solved list shows it; search finds it once the index job ran.
    asker.goto(f"{url}/p/qa-demo/solved")
    expect(asker.locator("a.topic-title")).to_have_text(
        ["How do I calibrate the flux capacitor?"])
    deadline = time.monotonic() + 20
    while True:
        asker.goto(f"{url}/p/qa-demo/search?q=capacitor")
        if asker.locator(".search-hit").count() or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    expect(asker.locator(".search-hit a").first).to_contain_text(
        "How do I calibrate the flux capacitor?")
    asker.locator(".search-hit a").first.click()
    expect(asker).to_have_url(re.compile(r"/p/qa-demo/t/\d+-how-do-i-calibrate"))
