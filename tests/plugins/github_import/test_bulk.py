"""Bulk import: matching open issues (not pull requests) become draft tickets or
questions with their comments, once; an interrupted run resumes from its cursor without
duplicates; rate limits are waited out (the wait is injected, nothing sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tortoise import Tortoise

from forum.cli import cli
from forum.db import init_db
from forum.platform import Platform
from forum.support_queue.models import Ticket, TicketSource, TicketState
from forum.topics.models import Post, Topic, TopicKind
from plugins.github_import import bulk, client
from plugins.github_import.bulk import bulk_import
from plugins.github_import.models import BulkImportRun, IssueLink
from tests.plugins.github_import.fake_github import FakeGitHub
from tests.plugins.github_import.linking import REPO, Linked, link_project


def fill_repo(fake: FakeGitHub, count: int) -> None:
    """``count`` open "question" issues (1..count, two comments on the first), and beside
    them an unlabelled issue, a closed one and a pull request with the label."""
    for n in range(1, count + 1):
        fake.add_issue(REPO, n, title=f"How do I {n}?", body=f"Body {n}",
                       labels=["question"], author=f"asker{n % 3}", author_id=500 + n % 3)
    fake.add_comment(REPO, 1, "Try the flag", author="helper", author_id=77)
    fake.add_comment(REPO, 1, "Thanks, that works", author="asker1", author_id=501)
    fake.add_issue(REPO, count + 1, labels=["bug"])
    fake.add_issue(REPO, count + 2, labels=["question"], state="closed")
    fake.add_issue(REPO, count + 3, labels=["question"], pull_request=True)


class Clock:
    """The injected wait: records what it was asked to wait, and ends the fake's limit."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.waited: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waited.append(seconds)
        self.fake._exhausted_until = None  # the reset time has come


async def test_imports_matching_issues_as_draft_tickets_once(
        db: None, platform: Platform, fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github)
    fill_repo(fake_github, 3)
    said: list[str] = []
    outcome = await bulk_import(platform, linked.connection, linked.project, label="question",
                                say=said.append)
    assert outcome.imported == [1, 2, 3] and outcome.skipped == [6]  # 6: the pull request
    assert fake_github.writes() == []  # a bulk import changes nothing on GitHub
    [listing] = fake_github.calls_to("GET", f"/repos/{REPO}/issues")[:1]
    assert listing.path == f"/repos/{REPO}/issues"
    assert (listing.query["labels"], listing.query["state"], listing.query["page"]) == (
        "question", "open", "1")
    assert [c.path for c in fake_github.calls_to("GET", "/comments")] == [
        f"/repos/{REPO}/issues/{n}/comments" for n in (1, 2, 3)]
    tickets = await Ticket.filter(project_id=linked.project.id).order_by("id") \
        .prefetch_related("topic")
    assert [t.topic.title for t in tickets] == ["How do I 1?", "How do I 2?", "How do I 3?"]
    assert {t.state for t in tickets} == {TicketState.DRAFT}
    assert {t.source for t in tickets} == {TicketSource.GITHUB}
    first = tickets[0].topic
    assert await Post.filter(topic_id=first.id).count() == 3  # the issue and two comments
    links = await IssueLink.filter(repo=REPO).order_by("issue_number")
    assert [(x.issue_number, x.topic_id) for x in links] == [
        (t_n, t.topic.id) for t_n, t in zip((1, 2, 3), tickets, strict=True)]
    assert said[-1].startswith("3 imported, 1 skipped in ")
    # Again: nothing new.
    again = await bulk_import(platform, linked.connection, linked.project, label="question")
    assert again.imported == [] and again.skipped == [1, 2, 3, 6]
    assert await Ticket.filter(project_id=linked.project.id).count() == 3


async def test_imports_as_questions_with_the_comments_as_replies(
        db: None, platform: Platform, fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github)
    fill_repo(fake_github, 2)
    outcome = await bulk_import(platform, linked.connection, linked.project,
                                label="question", kind="question")
    assert outcome.imported == [1, 2]
    topics = await Topic.filter(project_id=linked.project.id, kind=TopicKind.QUESTION) \
        .order_by("id")
    assert [t.title for t in topics] == ["How do I 1?", "How do I 2?"]
    assert topics[0].plugin_data["github_import"]["issue_number"] == 1  # type: ignore[index]
    replies = await Post.filter(topic_id=topics[0].id, number__gt=1).order_by("number")
    assert [r.source.split("\n")[0] for r in replies] == ["Try the flag", "Thanks, that works"]
    assert not await Ticket.filter(project_id=linked.project.id).exists()


class Interrupted(Exception):
    pass


async def test_an_interrupted_run_resumes_without_duplicates(
        db: None, platform: Platform, fake_github: FakeGitHub,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "PER_PAGE", 4)
    monkeypatch.setattr(bulk, "PER_PAGE", 4)
    linked = await link_project(platform, fake_github)
    fill_repo(fake_github, 10)  # 13 listed with the pull request: pages of 4

    def stop_after_six(number: int, outcome: str) -> None:
        if number == 6:
            raise Interrupted

    with pytest.raises(Interrupted):
        await bulk_import(platform, linked.connection, linked.project, label="question",
                          progress=stop_after_six)
    run = await BulkImportRun.get(project_id=linked.project.id, repo=REPO)
    assert (run.page, run.last_number, run.imported, run.finished_at) == (2, 6, 6, None)
    fake_github.calls.clear()
    outcome = await bulk_import(platform, linked.connection, linked.project, label="question")
    assert outcome.imported == [7, 8, 9, 10]
    # It listed again from the page before its cursor, and read only the new issues.
    pages = [c.query["page"] for c in fake_github.calls_to("GET", f"/repos/{REPO}/issues")
             if "/comments" not in c.path]
    assert pages[0] == "1"
    assert [c.path.split("/")[-2] for c in fake_github.calls_to("GET", "/comments")] == [
        "7", "8", "9", "10"]
    assert await Ticket.filter(project_id=linked.project.id).count() == 10
    assert await IssueLink.filter(repo=REPO).count() == 10
    run = await BulkImportRun.get(id=run.id)
    assert run.imported == 10 and run.finished_at is not None


async def test_rate_limits_are_waited_out_and_said(
        db: None, platform: Platform, fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github)
    fill_repo(fake_github, 2)
    clock = Clock(fake_github)
    said: list[str] = []
    fake_github.limit_next(403, retry_after=42)  # the secondary limit, on the listing
    outcome = await bulk_import(platform, linked.connection, linked.project, label="question",
                                sleep=clock, say=said.append)
    assert outcome.imported == [1, 2]
    assert clock.waited == [43.0]
    assert "rate limited by GitHub (403): waiting 43 s" in said
    # The primary limit, spent in the middle: waited until its reset.
    fake_github.add_issue(REPO, 20, labels=["question"])
    fake_github.exhaust(reset_in=30)
    outcome = await bulk_import(platform, linked.connection, linked.project, label="question",
                                sleep=clock, say=said.append)
    assert outcome.imported == [20]
    assert len(clock.waited) == 2 and 29 <= clock.waited[1] <= 32
    assert await Ticket.filter(project_id=linked.project.id).count() == 3


# The command


@pytest.fixture
def forum(tmp_path: Path, database_url: str) -> Callable[..., Result]:
    env = {"FORUM_DATABASE_URL": database_url, "FORUM_DATA_DIR": str(tmp_path),
           "FORUM_SECRET_KEY": "test-secret-key-not-for-production",
           "FORUM_ALLOW_PRIVATE_OUTBOUND": "1",
           "FORUM_CONFIG_FILE": str(tmp_path / "absent.toml"), "FORUM_REDIS_URL": "",
           "FORUM_BASE_URL": "http://testserver"}

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return run


def with_db(platform: Platform, work: Callable[[], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        await init_db(platform.settings, platform.plugins)
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(main())


def test_the_command_imports_with_a_progress_bar_and_checks_its_arguments(
        forum: Callable[..., Result], platform: Platform, fake_github: FakeGitHub) -> None:
    linked: Linked = with_db(platform, lambda: link_project(platform, fake_github))
    fill_repo(fake_github, 3)
    result = forum("github", "import", REPO, "--label", "question", "--as", "question",
                   "--project", linked.project.slug)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "imported 3, skipped 1 (3 imported in all by " \
                                             "this import)"
    assert f"Importing {REPO}" in result.stderr
    assert with_db(platform, lambda: Topic.filter(kind=TopicKind.QUESTION).count()) == 3
    for args, message in (
            (("someone/else", "--label", "q"), "forum: someone/else is not linked"),
            ((REPO, "--label", "q", "--project", "nope"),
             f"forum: {REPO} is linked to {linked.project.slug}, not nope")):
        failed = forum("github", "import", *args)
        assert failed.exit_code == 1
        assert failed.stderr.startswith(message)
    assert forum("github", "import", REPO).exit_code == 2  # --label is required
