"""A maintainer escalates a thread to a GitHub issue in a real browser and sees the issue's
link on the topic.

``forum serve`` runs as in the other browser tests; the GitHub bridge's tables are added to
its database with ``generate_schemas(safe=True)`` (a no-op once the plugin's migrations
exist), the repository is linked with ``forum github link`` against a fake GitHub (a real
HTTP server in this process), the plugin is switched on from the project's settings page.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SECRET_KEY, ForumServer
from tests.browser.test_qa_flow import create_project, sign_up
from tests.plugins.github_import.fake_github import FakeGitHub, FakeServer

pytestmark = pytest.mark.browser

REPO = "octo-org/flux"

ADD_PLUGIN_TABLES = """
import asyncio
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


def server_env(server: ForumServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    env.update({"FORUM_DATA_DIR": str(server.data_dir),
                "FORUM_DATABASE_URL": f"sqlite://{server.data_dir / 'forum.sqlite3'}",
                "FORUM_SECRET_KEY": SECRET_KEY,
                "FORUM_ALLOW_PRIVATE_OUTBOUND": "1",
                "FORUM_CONFIG_FILE": str(server.data_dir / "forum.toml")})
    return env


@pytest.fixture(scope="module")
def fake_github() -> Iterator[FakeGitHub]:
    server = FakeServer()
    fake = server.start()
    try:
        yield fake
    finally:
        server.stop()


def test_a_maintainer_escalates_a_thread_and_sees_the_issue_link(
        page: Page, forum_server: ForumServer, fake_github: FakeGitHub) -> None:
    url = forum_server.url
    env = server_env(forum_server)
    added = subprocess.run([sys.executable, "-c", ADD_PLUGIN_TABLES], env=env,
                           capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    fake_github.add_token("tok-browser")
    fake_github.add_repo(REPO)

    sign_up(page, forum_server, "owner_gh")
    create_project(page, url, "flux", "Flux", "owner_gh@example.org")
    page.goto(f"{url}/p/flux/settings")
    page.click("form[action='/p/flux/settings/plugins/github_import/toggle'] button")
    expect(page.locator("form[action='/p/flux/settings/plugins/github_import/toggle'] "
                        "button")).to_have_text("Switch off")
    forum = str(Path(sys.executable).parent / "forum")
    linked = subprocess.run([forum, "github", "link", "flux", REPO, "--token", "tok-browser",
                             "--webhook-secret", "s3cret", "--api-url", fake_github.url,
                             "--bot-name", "flux-bot"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert linked.returncode == 0, linked.stderr

    # A thread worth escalating.
    page.goto(f"{url}/p/flux/new")
    page.fill("input[name=title]", "Saving crashes with KeyError")
    page.select_option("select[name=category]", "questions")
    page.fill("textarea[name=source]", "Every save of a *new* file crashes.")
    page.click("form.composer button[type=submit]")
    expect(page).to_have_url(re.compile(r"/p/flux/t/\d+-saving-crashes"))
    topic_url = page.url.split("#")[0]

    # The link comes with the page (htmx) for a maintainer; the form is prefilled.
    page.click("text=Escalate to GitHub issue")
    expect(page).to_have_url(re.compile(r"/p/flux/t/\d+/github/escalate$"))
    expect(page.locator("input[name=title]")).to_have_value("Saving crashes with KeyError")
    summary = page.locator("textarea[name=body]").input_value()
    assert "> Every save of a *new* file crashes." in summary and topic_url in summary
    page.fill("input[name=labels]", "bug")
    page.click("form.github-escalate button[type=submit]")

    expect(page).to_have_url(topic_url)
    issue = fake_github.repo(REPO).issues[1]
    link = page.locator(".github-issue a")
    expect(link).to_have_text(f"{REPO}#1")
    expect(link).to_have_attribute("href", issue["html_url"])
    expect(page.locator(".topic-timeline")).to_contain_text("escalated this to GitHub issue")
    [created] = fake_github.calls_to("POST", f"/repos/{REPO}/issues")
    assert created.json["title"] == "Saving crashes with KeyError"
    assert created.json["labels"] == ["bug"]
    assert created.headers["authorization"] == "Bearer tok-browser"
    # The escalation link is gone now that the topic has its issue.
    expect(page.locator("text=Escalate to GitHub issue")).to_have_count(0)
