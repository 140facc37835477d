"""``POST /webhooks/github`` and "+support" end to end: real payloads signed with the real
HMAC, jobs run, and the exact calls the bridge made to the fake GitHub."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from forum.platform import Platform
from forum.support_queue.imports import expected_response_for_new
from forum.support_queue.models import Ticket, TicketSource, TicketState
from forum.topics.models import Post, Topic, TopicEvent
from plugins.github_import.models import Delivery, IssueLink
from tests.plugins.github_import.conftest import (
    BOT,
    REPO,
    SECRET,
    fixture_issue,
    link_repo,
    payload,
    signed,
    support_comment,
)
from tests.plugins.github_import.fake_github import FakeGitHub

ISSUE_PATH = f"/repos/{REPO.lower()}/issues/1"  # repositories are stored lower-case


async def deliver(client: httpx.AsyncClient, event: str, data: dict[str, Any] | bytes,
                  secret: str = SECRET, *, delivery: str | None = None) -> httpx.Response:
    body, headers = signed(event, data, secret, delivery=delivery)
    return await client.post("/webhooks/github", content=body, headers=headers)


async def test_support_command_imports_comments_labels_and_closes(
        client: httpx.AsyncClient, platform: Platform, fake_github: FakeGitHub,
        run_jobs: Any) -> None:
    connection = await link_repo(platform, fake_github)
    fixture_issue(fake_github)
    fake_github.add_comment(REPO, 1, f"@{BOT} +support", association="OWNER")
    answer = await deliver(client, "issue_comment", support_comment())
    assert answer.status_code == 202 and answer.json()["message"] == "queued"
    await run_jobs()

    link = await IssueLink.get(repo=REPO.lower(), issue_number=1)
    assert link.origin == "imported" and link.project_id == connection.project_id
    ticket = await Ticket.get(topic_id=link.topic_id).select_related("requester", "topic")
    assert ticket.state == TicketState.DRAFT and ticket.source == TicketSource.GITHUB
    requester = ticket.requester
    assert requester.username == "Codertocat"
    assert requester.email == "github-21031067@staged.invalid"
    topic = ticket.topic
    assert topic.title == "Spelling error in the README file"
    assert topic.is_private  # a draft is seen by its requester and the team only
    posts = await Post.filter(topic_id=topic.id).order_by("number").select_related("author")
    assert [p.author.username for p in posts] == ["Codertocat", "hubot-fan", "Codertocat"]
    assert "accidently spelled" in posts[0].source
    assert f"github.com/{REPO}/issues/1" in posts[0].cooked
    assert "Same here, on version 2." in posts[1].cooked and "#issuecomment-" in posts[1].source

    expected = await expected_response_for_new(connection.project_id)
    writes = [w for w in fake_github.writes()]
    assert [(m, p) for m, p, _ in writes] == [
        ("POST", f"{ISSUE_PATH}/comments"), ("POST", f"{ISSUE_PATH}/labels"),
        ("PATCH", ISSUE_PATH)]
    comment = writes[0][2]["body"]
    assert f"http://testserver/p/demo/t/{topic.id}" in comment
    assert expected.label in comment and "Expected first response" in comment
    assert "http://testserver/p/demo/support/plans" in comment
    assert f"DEMO-{ticket.number}" in comment and "@Codertocat" in comment
    assert writes[1][2] == {"labels": ["support"]}
    assert writes[2][2] == {"state": "closed", "state_reason": "not_planned"}
    assert fake_github.repo(REPO).issues[1]["state"] == "closed"

    kinds = [e.kind for e in await TopicEvent.filter(topic_id=topic.id).order_by("id")]
    assert kinds == ["github.imported", "github.comment", "github.label", "github.close"]
    delivery = await Delivery.get()
    assert delivery.processed_at is not None and "import queued" in delivery.result


async def test_lock_and_private_when_the_project_says_so(
        client: httpx.AsyncClient, platform: Platform, fake_github: FakeGitHub,
        run_jobs: Any) -> None:
    await link_repo(platform, fake_github,
                    options={"lock_on_import": True, "private_drafts": True,
                             "comment_template": "See {link} ({expected_response}). {nope}"})
    fixture_issue(fake_github)
    await deliver(client, "issue_comment", support_comment(f"@{BOT.upper()} /Support"))
    await run_jobs()
    link = await IssueLink.get()
    writes = fake_github.writes()
    assert [m for m, _, _ in writes] == ["POST", "POST", "PATCH", "PUT"]
    assert writes[3][1] == f"{ISSUE_PATH}/lock"
    assert writes[0][2]["body"].startswith(f"See http://testserver/p/demo/t/{link.topic_id} (")
    assert writes[0][2]["body"].endswith("{nope}")  # unknown fields stay as written
    topic = await Topic.get(id=link.topic_id)
    assert topic.plugin_data["support_queue"] == {"private": True}
    assert await TopicEvent.filter(topic_id=topic.id, kind="github.lock").exists()


async def test_support_label_imports_too(client: httpx.AsyncClient, platform: Platform,
                                         fake_github: FakeGitHub, run_jobs: Any) -> None:
    await link_repo(platform, fake_github)
    fixture_issue(fake_github)
    data = payload("issues.labeled")
    data["label"]["name"] = "Support"
    assert (await deliver(client, "issues", data)).status_code == 202
    await run_jobs()
    assert await IssueLink.filter(issue_number=1).count() == 1
    assert len(fake_github.writes()) == 3
    # Another label is not a command.
    data = payload("issues.labeled")
    await deliver(client, "issues", data)
    await run_jobs()
    assert len(fake_github.writes()) == 3


async def test_idempotent_same_command_edit_and_redelivery(
        client: httpx.AsyncClient, platform: Platform, fake_github: FakeGitHub,
        run_jobs: Any, caplog: pytest.LogCaptureFixture) -> None:
    await link_repo(platform, fake_github)
    fixture_issue(fake_github)
    first = await deliver(client, "issue_comment", support_comment(), delivery="d-1")
    assert first.status_code == 202
    again = await deliver(client, "issue_comment", support_comment(), delivery="d-1")
    assert again.status_code == 200 and again.json()["message"] == "already received"
    await run_jobs()
    writes = len(fake_github.writes())
    with caplog.at_level(logging.INFO, logger="plugins.github_import"):
        await deliver(client, "issue_comment", support_comment())
        await deliver(client, "issue_comment", support_comment(action="edited"))
        await deliver(client, "issue_comment", support_comment(), delivery="d-1")
        await run_jobs()
    assert len(fake_github.writes()) == writes
    assert await Ticket.all().count() == 1 and await IssueLink.all().count() == 1
    assert caplog.text.count("ignored: already imported") == 2
    assert await Delivery.all().count() == 3


@pytest.mark.parametrize(("comment", "reason"), [
    (dict(association="CONTRIBUTOR"), "has no write access (CONTRIBUTOR)"),
    (dict(association="NONE"), "has no write access (NONE)"),
    (dict(login="dependabot[bot]", association="MEMBER"), "is a bot"),
    (dict(kind="Bot", association="OWNER"), "is a bot"),
])
async def test_ignored_commands_log_one_line(
        client: httpx.AsyncClient, platform: Platform, fake_github: FakeGitHub,
        run_jobs: Any, caplog: pytest.LogCaptureFixture, comment: dict[str, Any],
        reason: str) -> None:
    await link_repo(platform, fake_github)
    fixture_issue(fake_github)
    with caplog.at_level(logging.INFO, logger="plugins.github_import"):
        assert (await deliver(client, "issue_comment",
                              support_comment(**comment))).status_code == 202
        await run_jobs()
    assert fake_github.calls == [] and not await IssueLink.exists()
    lines = [r.getMessage() for r in caplog.records if "ignored" in r.getMessage()]
    assert len(lines) == 1 and reason in lines[0]


async def test_pull_request_is_ignored(client: httpx.AsyncClient, platform: Platform,
                                       fake_github: FakeGitHub, run_jobs: Any,
                                       caplog: pytest.LogCaptureFixture) -> None:
    await link_repo(platform, fake_github)
    data = support_comment()
    data["issue"]["pull_request"] = {"url": "https://api.github.com/repos/x/y/pulls/1"}
    with caplog.at_level(logging.INFO, logger="plugins.github_import"):
        await deliver(client, "issue_comment", data)
        await run_jobs()
    assert fake_github.calls == [] and not await IssueLink.exists()
    assert "ignored: it is a pull request" in caplog.text


async def test_comment_without_the_command_does_nothing(
        client: httpx.AsyncClient, platform: Platform, fake_github: FakeGitHub,
        run_jobs: Any) -> None:
    await link_repo(platform, fake_github)
    for body in ("Thanks!", f"> @{BOT} +support", f"```\n@{BOT} +support\n```"):
        await deliver(client, "issue_comment", support_comment(body))
    await run_jobs()
    assert fake_github.calls == [] and not await IssueLink.exists()


@pytest.mark.parametrize("body", [None, "", "x" * 200_000,
                                  '<script>alert(1)</script><img src="x" onerror="alert(2)">'
                                  '![shot](https://example.org/a.png)'])
async def test_odd_bodies_are_imported_safely(
        client: httpx.AsyncClient, platform: Platform, fake_github: FakeGitHub,
        run_jobs: Any, body: str | None) -> None:
    await link_repo(platform, fake_github)
    fixture_issue(fake_github, body=body)
    await deliver(client, "issue_comment", support_comment())
    await run_jobs()
    link = await IssueLink.get()
    opening = await Post.get(topic_id=link.topic_id, number=1)
    # Raw HTML is shown as text, never as markup.
    assert not re.search(r"<script|<[^>]*\sonerror=", opening.cooked)
    assert len(opening.source) < 32_000
    if body and body.startswith("x"):
        assert "cut here" in opening.source
    if body and "<img" in body:
        assert "https://example.org/a.png" in opening.cooked


async def test_rate_limit_puts_the_job_back_and_nothing_is_done_twice(
        client: httpx.AsyncClient, platform: Platform, fake_github: FakeGitHub,
        run_jobs: Any) -> None:
    from forum.jobs.models import Job

    await link_repo(platform, fake_github)
    fixture_issue(fake_github)
    await deliver(client, "issue_comment", support_comment())
    fake_github.limit_next(403, retry_after=30, times=1)
    await run_jobs()  # the delivery job, then the import job meets the limit
    delayed = await Job.get(name="github_import.support", state="queued")
    assert delayed.kwargs == {"repo": REPO.lower(), "number": 1, "actor": "Codertocat"}
    await Job.filter(id=delayed.id).update(run_at=delayed.created_at)  # the wait is over
    fake_github.limit_next(429, retry_after=5, times=1, method="POST")
    await run_jobs()  # imported; the comment meets a limit
    assert await Ticket.all().count() == 1
    assert fake_github.writes() == []
    waiting = await Job.get(name="github_import.announce", state="queued")
    await Job.filter(id=waiting.id).update(run_at=waiting.created_at)
    await run_jobs()
    assert [m for m, _, _ in fake_github.writes()] == ["POST", "POST", "PATCH"]
    assert await Ticket.all().count() == 1
    assert await Post.filter(topic_id=(await IssueLink.get()).topic_id).count() == 2


async def test_failure_mid_way_resumes_without_repeating(
        client: httpx.AsyncClient, platform: Platform, fake_github: FakeGitHub,
        run_jobs: Any) -> None:
    from forum.jobs.models import Job

    await link_repo(platform, fake_github)
    fixture_issue(fake_github)
    await deliver(client, "issue_comment", support_comment())
    fake_github.limit_next(502, retry_after=None, path_part="/labels")  # GitHub fails once
    await run_jobs()
    # The retry may already have run (the tests' backoff is tiny); if not, it is due now.
    await Job.filter(state="queued").update(run_at=datetime.now(UTC) - timedelta(seconds=1))
    await run_jobs()
    announce = await Job.get(name="github_import.announce")
    assert announce.state == "done" and announce.attempts == 2
    assert "502" in (announce.last_error or "")
    labels = [c for c in fake_github.calls if c.path.endswith("/labels")]
    assert [c.refused for c in labels] == [True, False]
    assert [(m, p.rsplit("/", 1)[-1]) for m, p, _ in fake_github.writes()] == [
        ("POST", "comments"), ("POST", "labels"), ("PATCH", "1")]
    kinds = [e.kind for e in await TopicEvent.filter(kind__startswith="github.")]
    assert sorted(kinds) == ["github.close", "github.comment", "github.imported",
                             "github.label"]


async def test_signature_is_checked_and_nothing_stored_without_it(
        client: httpx.AsyncClient, platform: Platform, fake_github: FakeGitHub,
        run_jobs: Any) -> None:
    await link_repo(platform, fake_github)
    body, headers = signed("issue_comment", support_comment(), "wrong secret")
    bad = await client.post("/webhooks/github", content=body, headers=headers)
    assert bad.status_code == 401
    del headers["X-Hub-Signature-256"]
    missing = await client.post("/webhooks/github", content=body, headers=headers)
    assert missing.status_code == 401
    assert await Delivery.all().count() == 0
    assert await run_jobs() == 0


async def test_ping_unknown_events_and_unlinked_repositories(
        client: httpx.AsyncClient, platform: Platform, fake_github: FakeGitHub,
        run_jobs: Any, caplog: pytest.LogCaptureFixture) -> None:
    await link_repo(platform, fake_github)
    ping = payload("ping.payload")
    ping["repository"]["full_name"] = REPO
    answer = await deliver(client, "ping", ping)
    assert answer.status_code == 200 and answer.json()["message"] == "pong"
    star = {"action": "created", "repository": {"full_name": REPO}}
    answer = await deliver(client, "star", star)
    assert answer.status_code == 202 and "ignored" in answer.json()["message"]
    with caplog.at_level(logging.INFO, logger="plugins.github_import"):
        other = support_comment()
        other["repository"]["full_name"] = "someone/else"
        answer = await deliver(client, "issue_comment", other, "any secret")
    assert answer.status_code == 202 and answer.json()["message"].startswith("ignored")
    assert "'someone/else' is not linked" in caplog.text
    not_json = await client.post("/webhooks/github", content=b"[1,",
                                 headers=signed("issues", b"[1,", SECRET)[1])
    assert not_json.status_code == 400
    assert await Delivery.all().count() == 0 and await run_jobs() == 0


async def test_plugin_switched_off_in_the_project_ignores_deliveries(
        client: httpx.AsyncClient, platform: Platform, fake_github: FakeGitHub,
        run_jobs: Any) -> None:
    from forum.projects.models import Project
    from forum.projects.plugin_settings import do_toggle_plugin

    await link_repo(platform, fake_github)
    await do_toggle_plugin(platform, await Project.get(slug="demo"), "github_import", False)
    await deliver(client, "issue_comment", support_comment())
    await run_jobs()
    assert fake_github.calls == [] and not await IssueLink.exists()
    assert (await Delivery.get()).result == "the GitHub plugin is off in the project"


def test_payload_fixture_is_the_real_one() -> None:
    data = json.loads(json.dumps(payload("issue_comment.created")))
    assert data["repository"]["full_name"] == REPO


async def test_an_import_in_progress_is_left_to_the_job_that_claimed_it(
        client: httpx.AsyncClient, platform: Platform, fake_github: FakeGitHub,
        run_jobs: Any, caplog: pytest.LogCaptureFixture) -> None:
    from plugins.github_import.support_import import import_issue

    connection = await link_repo(platform, fake_github)
    fixture_issue(fake_github)
    await IssueLink.create(project_id=connection.project_id, topic_id=-1,
                           repo=connection.repo, issue_number=1, origin="imported",
                           data={"claim": "job:elsewhere"})
    await platform.enqueue("github_import.support", repo=connection.repo, number=1)
    with caplog.at_level(logging.INFO, logger="plugins.github_import"):
        await run_jobs()
    assert "is being imported by job:elsewhere" in caplog.text
    assert not await Ticket.exists() and fake_github.calls == []
    # The job that claimed it resumes it.
    issue = fake_github.repo(REPO).issues[1]
    comments = fake_github.repo(REPO).comments[1]
    assert await import_issue(platform, connection, issue, comments, claim="other") is None
    link = await import_issue(platform, connection, issue, comments, claim="job:elsewhere")
    assert link is not None and link.topic_id > 0 and link.data["imported"] is True
    assert await Ticket.all().count() == 1
    assert await Post.filter(topic_id=link.topic_id).count() == 2


async def test_old_processed_deliveries_are_pruned(platform: Platform, db: None) -> None:
    from plugins.github_import.plugin import forum_cron
    from plugins.github_import.webhook import prune_deliveries

    now = datetime.now(UTC)
    await Delivery.create(delivery_id="old", event="issues", processed_at=now - timedelta(
        days=31))
    await Delivery.create(delivery_id="recent", event="issues",
                          processed_at=now - timedelta(days=2))
    await Delivery.create(delivery_id="waiting", event="issues")
    from forum.jobs import JobContext

    await prune_deliveries(JobContext(platform=platform, job_id="1", attempt=1))
    kept = sorted(d.delivery_id for d in await Delivery.all())
    assert kept == ["recent", "waiting"]
    assert [c.job for c in forum_cron()] == ["github_import.prune_deliveries"]
