"""Flagging a post until it hides, then reviewing it, in a real browser.

The people and their posts are seeded through the service verbs (in a subprocess sharing
the server's database): a project with a moderator, an author whose reply is spam, and
three members whose answers the team voted up, so they hold the flag privilege. Each of
the three flags the spam reply on its flag page; the third flag hides it (visitors no
longer see it). The moderator opens the review queue, claims the item, sees the claim,
and rejects it: the post is deleted and the queue is empty.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import SECRET_KEY, ForumServer

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parent.parent.parent
SPAM = "Cheap replica watches at replica-watch-shop, best prices online today"


async def seed() -> dict[str, Any]:
    """People, a question, three upvoted answers and a spam reply (run in a subprocess)."""
    from forum.db import close_db, init_db
    from forum.platform import build_platform
    from forum.projects.models import Role
    from forum.settings import load_settings
    from forum.topics.categories import ensure_default_categories
    from forum.topics.models import Post
    from forum.topics.schemas import ReplyIn, TopicIn
    from forum.topics.service import create_topic, load_viewer, reply, vote
    from tests.factories import add_member, make_project, make_user

    platform = build_platform(load_settings())

    async def queue_nothing(name: str, **kwargs: Any) -> None:
        """The server's worker would run these jobs (notifications, search) while this
        process still writes: SQLite allows one writer, so leave them out."""

    setattr(platform.jobs, "enqueue", queue_nothing)  # noqa: B010
    await init_db(platform.settings, platform.plugins)
    try:
        owner = await make_user("fr_owner")
        project = await make_project("flagging", owner=owner, name="Flagging")
        moderator = await make_user("fr_moderator")
        await add_member(project, moderator, Role.MODERATOR)
        author = await make_user("fr_author")
        flaggers = [await make_user(f"fr_flagger{n}") for n in range(3)]
        categories = {c.slug: c for c in await ensure_default_categories(project)}
        topic = await create_topic(platform, await load_viewer(author, project), project,
                                   TopicIn(title="Where is the configuration reference?",
                                           category_id=categories["questions"].id,
                                           source="I cannot find the list of options."))
        for flagger in flaggers:
            answer = await reply(platform, await load_viewer(flagger, project), topic,
                                 ReplyIn(source=f"See the reference page, {flagger.username}."))
            for voter in (owner, moderator):
                await vote(platform, await load_viewer(voter, project), answer, 1)
        spam = await reply(platform, await load_viewer(author, project), topic,
                           ReplyIn(source=SPAM))
        spam = await Post.get(id=spam.id)
        return {"topic_url": f"/p/{project.slug}/t/{topic.id}-{topic.slug}",
                "topic_id": topic.id,
                "spam_id": spam.id, "spam_number": spam.number,
                "flaggers": [f.username for f in flaggers]}
    finally:
        await close_db()


def run_seed(server: ForumServer) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    env.update({"FORUM_DATA_DIR": str(server.data_dir),
                "FORUM_DATABASE_URL": f"sqlite://{server.data_dir / 'forum.sqlite3'}",
                "FORUM_SECRET_KEY": SECRET_KEY, "FORUM_RUN_EMBEDDED_WORKER": "0",
                "FORUM_SQLITE_BUSY_TIMEOUT_MS": "20000",
                "FORUM_CONFIG_FILE": str(server.data_dir / "absent.toml"),
                "PYTHONPATH": str(ROOT)})
    code = ("import asyncio, json; from tests.browser.test_flag_review import seed; "
            "print(json.dumps(asyncio.run(seed())))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    seeded: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return seeded


def visible_post_ids(page: Page, server: ForumServer, topic_id: int) -> list[int]:
    response = page.request.get(f"{server.url}/api/v1/topics/{topic_id}")
    assert response.ok, response.text()
    return [post["id"] for post in response.json()["posts"]]


def log_in(page: Page, server: ForumServer, username: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    expect(page.locator("header .me")).to_have_text(username)


def test_flag_until_hidden_then_review(page: Page, chromium: Browser,
                                       forum_server: ForumServer) -> None:
    url = forum_server.url
    seeded = run_seed(forum_server)
    topic_url = url + seeded["topic_url"]
    flag_url = f"{url}/posts/{seeded['spam_id']}/flag"
    anchor = f"#post-{seeded['spam_number']}"

    page.goto(topic_url)
    expect(page.locator(anchor)).to_contain_text("replica watches")

    for n, username in enumerate(seeded["flaggers"]):
        context = chromium.new_context(viewport={"width": 1280, "height": 800})
        flagger = context.new_page()
        flagger.set_default_timeout(15_000)
        try:
            log_in(flagger, forum_server, username)
            flagger.goto(flag_url)
            expect(flagger.locator(".flag-excerpt")).to_contain_text("replica watches")
            flagger.check("input[name=reason][value=spam]")
            flagger.click("form.flag-form button[type=submit]")
            expect(flagger).to_have_url(re.compile(re.escape(seeded["topic_url"])))
            expected = "was hidden" if n == 2 else "a moderator will look at it"
            expect(flagger.locator(".flash-success")).to_contain_text(expected)
        finally:
            context.close()

    # Hidden: a visitor no longer gets it (the topic page's posts come from the same
    # visibility rules as the API's).
    assert seeded["spam_id"] not in visible_post_ids(page, forum_server, seeded["topic_id"])

    log_in(page, forum_server, "fr_moderator")
    page.goto(f"{url}/p/flagging/review")
    item = page.locator(".review-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("replica watches")
    expect(item.locator(".flags li")).to_have_count(3)
    expect(item.locator(".badge")).to_have_text("hidden")
    item.locator("button", has_text="Claim").click()
    expect(page.locator(".review-item .claim")).to_contain_text("Claimed by fr_moderator")
    page.locator(".review-item button", has_text="Reject").click()
    expect(page.locator(".flash-success")).to_have_text("Rejected.")
    expect(page.locator(".review-item")).to_have_count(0)
    expect(page.get_by_text("Nothing waits for review.")).to_be_visible()

    page.goto(f"{url}/p/flagging/review/history")
    expect(page.locator(".review-history tbody tr")).to_have_count(2)
    expect(page.locator(".review-history")).to_contain_text("reject")
