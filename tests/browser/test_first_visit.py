"""A visitor's first steps in a real browser against a real server and SMTP server.

Sign up, open the verification mail the server sent, follow its link, log in, create a
project and find it on the start page; and the pages fit a phone and a desktop screen.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ForumServer

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def assert_fits(page: Page, viewport: dict[str, int], shot: Path) -> None:
    """Screenshot the page at this size; nothing may stick out sideways."""
    page.set_viewport_size(viewport)  # type: ignore[arg-type]
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} overflows at {viewport}: {widths}"


def test_sign_up_verify_log_in_create_project(page: Page, forum_server: ForumServer,
                                              tmp_path: Path) -> None:
    url = forum_server.url
    before = len(forum_server.smtp.received)

    # Sign up.
    page.goto(f"{url}/signup")
    page.fill("input[name=username]", "ada_browser")
    page.fill("input[name=email]", "ada.browser@example.org")
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("form[action='/signup'] button[type=submit]")
    expect(page).to_have_url(f"{url}/verify-email/sent")

    # The verification mail, caught by the SMTP server.
    mail = forum_server.smtp.wait_for(before + 1, timeout=20)[before]
    message = mail.message
    assert mail.rcpt_tos == ["ada.browser@example.org"]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    links = re.findall(r"https?://\S+/verify-email\?token=[\w.\-~%=]+", text)
    assert links, text
    link = links[0]
    assert link.startswith(f"{url}/verify-email?token=")

    # Logging in before verifying is refused.
    page.goto(f"{url}/login")
    page.fill("input[name=login]", "ada_browser")
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("form[action='/login'] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator("a[href='/verify-email/resend']").first).to_be_visible()

    # Follow the link, then log in.
    page.goto(link)
    expect(page).to_have_url(re.compile(re.escape(f"{url}/login")))
    page.fill("input[name=login]", "ada_browser")
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("form[action='/login'] button[type=submit]")
    expect(page).to_have_url(f"{url}/")
    expect(page.locator("header .me")).to_have_text("ada_browser")

    # Create a project.
    page.goto(f"{url}/projects/new")
    page.fill("input[name=slug]", "browser-made")
    page.fill("input[name=name]", "Made In A Browser")
    page.fill("textarea[name=description]", "Created by the browser test.")
    page.fill("input[name=legal_entity]", "Browser Test Ltd")
    page.fill("input[name=contact_email]", "ada.browser@example.org")
    page.fill("input[name=time_zone]", "Europe/Berlin")
    page.select_option("select[name=default_visibility]", "public")
    page.click("form[action='/projects/new'] button[type=submit]")
    expect(page).to_have_url(f"{url}/p/browser-made")
    expect(page.locator("main h1").first).to_contain_text("Made In A Browser")

    # It is listed on the start page as a link.
    page.goto(f"{url}/")
    link_to_project = page.locator("main a[href='/p/browser-made']")
    expect(link_to_project).to_have_count(1)
    expect(link_to_project).to_contain_text("Made In A Browser")

    assert_fits(page, PHONE, tmp_path / "home-signed-in-phone.png")
    assert_fits(page, DESKTOP, tmp_path / "home-signed-in-desktop.png")


@pytest.mark.parametrize("path", ["/", "/login", "/signup"])
def test_pages_fit_phone_and_desktop(page: Page, forum_server: ForumServer, tmp_path: Path,
                                     path: str) -> None:
    page.goto(f"{forum_server.url}{path}")
    name = path.strip("/") or "home"
    assert_fits(page, PHONE, tmp_path / f"{name}-phone.png")
    assert_fits(page, DESKTOP, tmp_path / f"{name}-desktop.png")
