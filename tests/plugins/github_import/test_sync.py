"""State sync: ``issues`` deliveries for a linked issue become timeline lines (and tell
the topic's watchers); closing a linked topic comments on the issue when the project says
so. Payloads are GitHub's real ones (tests/plugins/github_import/conftest.py)."""

from __future__ import annotations

from typing import Any

import httpx

from forum.notifications.models import Notification, NotificationKind, TopicWatch, WatchLevel
from forum.platform import Platform
from forum.projects.plugin_settings import do_toggle_plugin
from forum.topics.models import Topic, TopicEvent, TopicState
from forum.topics.service import load_viewer, set_state
from plugins.github_import.connection import NAME
from plugins.github_import.models import IssueLink, LinkOrigin
from plugins.github_import.sync import on_webhook
from tests.plugins.github_import.conftest import payload, signed
from tests.plugins.github_import.fake_github import FakeGitHub
from tests.plugins.github_import.linking import BOT, REPO, SECRET, Linked, link_project
from tests.topics.read_data import make_category, make_topic


async def linked_topic(linked: Linked, number: int = 1) -> Topic:
    topic = await make_topic(linked.project, await make_category(linked.project),
                             linked.member, title="Crash on save")
    await IssueLink.create(project_id=linked.project.id, topic_id=topic.id, repo=REPO,
                           issue_number=number, origin=LinkOrigin.ESCALATED,
                           html_url=f"https://github.com/{REPO}/issues/{number}")
    await Topic.filter(id=topic.id).update(plugin_data={NAME: {
        "repo": REPO, "issue_number": number, "state": "open",
        "html_url": f"https://github.com/{REPO}/issues/{number}"}})
    return await Topic.get(id=topic.id)


def issues_event(action: str, number: int = 1, **changes: Any) -> dict[str, Any]:
    data = payload("issues.labeled" if action == "labeled" else "issues.reopened")
    data["action"] = action
    data["repository"]["full_name"] = REPO
    data["issue"]["number"] = number
    data["issue"]["html_url"] = f"https://github.com/{REPO}/issues/{number}"
    data["issue"].update(changes)
    return data


async def lines(topic: Topic) -> list[tuple[str, str]]:
    return [(e.kind, e.text) for e in await TopicEvent.filter(topic_id=topic.id).order_by("id")]


async def test_closed_reopened_and_labeled_become_timeline_lines(
        db: None, platform: Platform, fake_github: FakeGitHub, run_jobs: Any) -> None:
    linked = await link_project(platform, fake_github)
    topic = await linked_topic(linked)
    await TopicWatch.create(user=linked.owner, topic=topic, level=WatchLevel.WATCHING)
    closed = issues_event("closed", state="closed", state_reason="completed")
    assert await on_webhook(platform, linked.connection, "issues", closed) == (
        f"issues.closed {REPO}#1: topic {topic.id}")
    assert (await IssueLink.get(topic_id=topic.id)).state == "closed"
    assert (await Topic.get(id=topic.id)).plugin_data[NAME]["state"] == "closed"  # type: ignore[index]
    await on_webhook(platform, linked.connection, "issues", issues_event("reopened"))
    await on_webhook(platform, linked.connection, "issues", issues_event("labeled"))
    assert await lines(topic) == [
        ("github.closed", f"Codertocat closed GitHub issue {REPO}#1 as completed"),
        ("github.reopened", f"Codertocat reopened GitHub issue {REPO}#1"),
        ("github.labeled", f"Codertocat added the label “bug” to GitHub issue {REPO}#1")]
    event = await TopicEvent.filter(topic_id=topic.id).first()
    assert event is not None and event.url == f"https://github.com/{REPO}/issues/1"
    assert (await IssueLink.get(topic_id=topic.id)).state == "open"
    await run_jobs()  # the watcher hears of it
    told = await Notification.filter(user_id=linked.owner.id, kind=NotificationKind.TOPIC_EVENT)
    assert told and "GitHub issue" in told[0].data["text"]


async def test_what_is_not_a_linked_issue_is_left_alone(
        db: None, platform: Platform, fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github)
    topic = await linked_topic(linked)
    for event, data in (("issues", issues_event("closed", number=2)),  # not linked
                        ("issues", issues_event("opened")),
                        ("issues", issues_event("assigned")),
                        ("issue_comment", issues_event("closed")),
                        ("ping", {})):
        assert await on_webhook(platform, linked.connection, event, data) is None
    pull = issues_event("closed", pull_request={"url": "x"})
    assert await on_webhook(platform, linked.connection, "issues", pull) == (
        "issues.closed: not an issue")
    assert await lines(topic) == []


async def test_the_bots_own_actions_are_not_told_twice(
        db: None, platform: Platform, fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github)
    topic = await linked_topic(linked)
    closed = issues_event("closed", state_reason="not_planned")
    closed["sender"]["login"] = f"{BOT}[bot]"
    result = await on_webhook(platform, linked.connection, "issues", closed)
    assert result == f"issues.closed {REPO}#1: the bot's own action"
    assert await lines(topic) == []
    assert (await IssueLink.get(topic_id=topic.id)).state == "closed"  # still in sync


async def test_a_project_that_switched_the_plugin_off_hears_nothing(
        db: None, platform: Platform, fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github)
    topic = await linked_topic(linked)
    await do_toggle_plugin(platform, linked.project, NAME, False)
    result = await on_webhook(platform, linked.connection, "issues", issues_event("closed"))
    assert result == f"issues.closed {REPO}#1: the plugin is off in the project"
    assert await lines(topic) == []


async def close(platform: Platform, linked: Linked, topic: Topic, state: TopicState) -> None:
    viewer = await load_viewer(linked.owner, linked.project)
    await set_state(platform, viewer, await Topic.get(id=topic.id), state)


async def test_closing_the_topic_comments_on_the_issue_once_per_close(
        db: None, platform: Platform, fake_github: FakeGitHub, run_jobs: Any) -> None:
    linked = await link_project(platform, fake_github, comment_on_close=True)
    fake_github.add_issue(REPO, 1)
    topic = await linked_topic(linked)
    await close(platform, linked, topic, TopicState.CLOSED)
    await run_jobs()
    url = f"http://testserver/p/{linked.project.slug}/t/{topic.id}-{topic.slug}"
    assert fake_github.writes() == [("POST", f"/repos/{REPO}/issues/1/comments", {
        "body": f"The forum topic “Crash on save” was closed: {url}\n\n"
                "This comment was posted by the forum's GitHub bridge."})]
    assert ("github.close_commented",
            f"Told GitHub issue {REPO}#1 that this topic was closed") in await lines(topic)
    await platform.enqueue("github_import.topic_closed", project_id=linked.project.id,
                           topic_id=topic.id)
    await run_jobs()  # the job again: no second comment
    assert len(fake_github.writes()) == 1
    await close(platform, linked, topic, TopicState.OPEN)
    await run_jobs()
    await close(platform, linked, topic, TopicState.CLOSED)
    await run_jobs()  # closed again after a reopen: told again
    assert len(fake_github.writes()) == 2


async def test_closing_says_nothing_unless_the_project_asks(
        db: None, platform: Platform, fake_github: FakeGitHub, run_jobs: Any) -> None:
    linked = await link_project(platform, fake_github)
    fake_github.add_issue(REPO, 1)
    topic = await linked_topic(linked)
    await close(platform, linked, topic, TopicState.CLOSED)
    await run_jobs()
    assert fake_github.writes() == []


async def test_a_signed_delivery_reaches_the_timeline_through_the_endpoint(
        client: httpx.AsyncClient, platform: Platform, fake_github: FakeGitHub,
        run_jobs: Any) -> None:
    linked = await link_project(platform, fake_github)
    topic = await linked_topic(linked)
    body, headers = signed("issues", issues_event("closed", state_reason="not_planned"), SECRET)
    response = await client.post("/webhooks/github", content=body, headers=headers)
    assert response.status_code == 202
    await run_jobs()
    assert await lines(topic) == [
        ("github.closed", f"Codertocat closed GitHub issue {REPO}#1 as not planned")]
    again = await client.post("/webhooks/github", content=body, headers=headers)
    assert again.status_code == 200  # the same delivery: nothing new
    await run_jobs()
    assert len(await lines(topic)) == 1


async def test_an_issue_whose_import_is_unfinished_waits(
        db: None, platform: Platform, fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github)
    await IssueLink.create(project_id=linked.project.id, topic_id=-1, repo=REPO,
                           issue_number=1, origin=LinkOrigin.IMPORTED)
    result = await on_webhook(platform, linked.connection, "issues", issues_event("closed"))
    assert result == f"issues.closed {REPO}#1: its import is not finished"
    assert not await TopicEvent.exists()
