"""Bulk import: ``forum github import OWNER/REPO --label question [--as ticket|question]
[--project SLUG]``.

The repository's open issues with the label (pull requests left out) are listed oldest
first and imported one by one, with their comments: as draft tickets (the "+support"
import, ``support_import.import_issue``) or as questions (``import_topic`` of kind
question, comments as replies). An issue already linked to a topic (``IssueLink``, unique
by repository and number) is never imported again.

Resumable: a ``BulkImportRun`` row per (project, repository, label, kind) keeps the
listing page and the last issue number done, saved after every issue. A run that was
interrupted starts listing again one page before its cursor (issues closed meanwhile move
the later ones to earlier pages) and skips what it did. A finished run started again looks
for new issues from the start.

Rate limits: a refusal (``RateLimited``: the secondary limit's ``retry-after``, or a spent
primary limit until its reset) is waited out and the call tried again, with the wait
printed; a spent primary limit seen in the headers is waited out before the next call. The
wait is injectable (``sleep``) so tests do not sleep.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click
from tortoise.exceptions import IntegrityError

from forum.accounts.service import stage_user
from forum.cli import fail, pass_platform, run_with_db
from forum.projects.plugin_settings import plugin_project
from forum.projects.service import project_by_id
from forum.topics.permissions import Viewer
from forum.topics.service import access_topic, import_reply, import_topic, record_topic_event
from plugins.github_import.client import PER_PAGE, GitHubClient, RateLimited
from plugins.github_import.connection import NAME, client_for, connection_for_repo
from plugins.github_import.models import BulkImportRun, Connection, IssueLink, LinkOrigin

if TYPE_CHECKING:
    from forum.platform import Platform
    from plugins.github_import.escalate import Project

KINDS = ("ticket", "question")
MAX_WAITS = 20  # rate-limit waits in a row before giving up
MAX_PAGES = 50

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Say = Callable[[str], None]


@dataclass
class BulkOutcome:
    """What a run did: issues imported now, skipped (linked already, pull requests) and
    the waits it sat out."""

    run: BulkImportRun
    imported: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)


class Patient:
    """Calls to GitHub that wait out rate limits (``sleep`` is injectable)."""

    def __init__(self, client: GitHubClient, sleep: Sleep, say: Say,
                 waits: list[float]) -> None:
        self.client = client
        self.sleep = sleep
        self.say = say
        self.waits = waits

    async def _wait(self, seconds: float, why: str) -> None:
        seconds = max(0.0, seconds)
        self.waits.append(seconds)
        self.say(f"{why}: waiting {seconds:.0f} s")
        await self.sleep(seconds)

    async def call(self, make: Callable[[], Awaitable[T]]) -> T:
        for _ in range(MAX_WAITS):
            rate = self.client.rate
            if rate is not None and rate.remaining == 0 and rate.seconds_to_reset() > 0:
                await self._wait(rate.seconds_to_reset() + 1, "GitHub's rate limit is spent")
                self.client.rate = None
            try:
                return await make()
            except RateLimited as limited:
                await self._wait(limited.wait_seconds + 1,
                                 f"rate limited by GitHub ({limited.status})")
                self.client.rate = None  # the refusal's headers are waited out too
        raise RateLimited(429, "still rate limited after waiting", 0.0)

    async def page(self, repo: str, label: str, page: int) -> list[dict[str, Any]]:
        async def fetch() -> list[dict[str, Any]]:
            async for items in self.client.issue_pages(repo, labels=[label], page=page,
                                                       max_pages=1):
                return items
            return []

        return await self.call(fetch)

    async def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        return await self.call(lambda: self.client.list_issue_comments(repo, number))


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


async def _stage(platform: Platform, user: object) -> Any:
    data = user if isinstance(user, dict) else {}
    login = str(data.get("login") or "ghost")
    return await stage_user(platform, "github", str(data.get("id") or login), login)


async def import_question(platform: Platform, connection: Connection, project: Project,
                          issue: dict[str, Any], comments: list[dict[str, Any]]
                          ) -> IssueLink | None:
    """One issue as a question with its comments as replies; resumes after a failure and
    returns None when the issue belongs to another import."""
    from plugins.github_import.commands import is_bot
    from plugins.github_import.support_import import comment_text, opening_text

    number = int(issue["number"])
    link = await IssueLink.get_or_none(repo=connection.repo, issue_number=number)
    if link is None:
        try:
            link = await IssueLink.create(
                project_id=project.id, topic_id=-number, repo=connection.repo,
                issue_number=number, issue_node_id=str(issue.get("node_id") or "")[:100],
                html_url=str(issue.get("html_url") or "")[:500], origin=LinkOrigin.IMPORTED,
                state=str(issue.get("state") or "open")[:20], data={})
        except IntegrityError:
            return None
    elif link.data.get("imported"):
        return link
    data: dict[str, Any] = dict(link.data)
    if link.topic_id <= 0:
        author = await _stage(platform, issue.get("user"))
        topic = await import_topic(
            platform, project, author, str(issue.get("title") or ""),
            opening_text(connection.repo, issue), kind="question",
            created_at=_when(issue.get("created_at")), plugin_key=NAME,
            plugin_data={"repo": connection.repo, "issue_number": number,
                         "html_url": link.html_url, "state": link.state})
        link.topic_id = topic.id
        data["comments"] = []
        link.data = data
        await link.save(update_fields=["topic_id", "data", "updated_at"])
    topic, _ = await access_topic(Viewer(None, None, True), project, link.topic_id)
    done: list[int] = list(data.get("comments") or [])
    for comment in comments:
        comment_id = comment.get("id")
        if not isinstance(comment_id, int) or comment_id in done or is_bot(comment.get("user")):
            continue
        author = await _stage(platform, comment.get("user"))
        await import_reply(platform, topic, author, comment_text(comment),
                           created_at=_when(comment.get("created_at")))
        done.append(comment_id)
        link.data = {**data, "comments": done}
        await link.save(update_fields=["data", "updated_at"])
    link.data = {**data, "comments": done, "imported": True}
    await link.save(update_fields=["data", "updated_at"])
    await record_topic_event(platform, link.topic_id, "github.imported",
                             f"Imported from GitHub issue {connection.repo}#{number} with "
                             f"{len(done)} comment(s).", url=link.html_url)
    return link


async def _imported(repo: str, number: int) -> bool:
    link = await IssueLink.get_or_none(repo=repo, issue_number=number)
    return link is not None and bool(link.data.get("imported"))


async def start_run(project_id: int, repo: str, label: str, kind: str) -> BulkImportRun:
    run, _ = await BulkImportRun.get_or_create(
        project_id=project_id, repo=repo, label=label, kind=kind)
    if run.finished_at is not None:  # done before: look for new issues from the start
        run.page, run.last_number, run.finished_at = 1, 0, None
        await run.save(update_fields=["page", "last_number", "finished_at", "updated_at"])
    return run


async def bulk_import(platform: Platform, connection: Connection, project: Project, *,
                      label: str, kind: str = "ticket", sleep: Sleep = asyncio.sleep,
                      say: Say = lambda line: None,
                      progress: Callable[[int, str], None] | None = None) -> BulkOutcome:
    """Import the repository's open issues labelled ``label`` (see the module's docs).
    ``progress(number, outcome)`` is called after each issue ("imported" or "skipped")."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    from plugins.github_import.support_import import import_issue

    run = await start_run(project.id, connection.repo, label, kind)
    outcome = BulkOutcome(run)
    started = time.monotonic()
    async with client_for(platform, connection) as client:
        gh = Patient(client, sleep, say, outcome.waits)
        page = max(1, run.page - 1 if run.last_number else run.page)
        for _ in range(MAX_PAGES):
            items = await gh.page(connection.repo, label, page)
            for issue in items:
                number = issue.get("number")
                if not isinstance(number, int) or issue.get("state", "open") != "open":
                    continue
                if number <= run.last_number:
                    continue  # done by an earlier, interrupted run
                result = "skipped"
                if "pull_request" not in issue and not await _imported(connection.repo,
                                                                       number):
                    comments = await gh.comments(connection.repo, number)
                    if kind == "ticket":
                        link = await import_issue(platform, connection, issue, comments)
                    else:
                        link = await import_question(platform, connection, project, issue,
                                                     comments)
                    result = "imported" if link is not None else "skipped"
                (outcome.imported if result == "imported" else outcome.skipped).append(number)
                run.page, run.last_number = page, number
                if result == "imported":
                    run.imported += 1
                else:
                    run.skipped += 1
                await run.save(update_fields=["page", "last_number", "imported", "skipped",
                                              "updated_at"])
                if progress is not None:
                    progress(number, result)
            if len(items) < PER_PAGE:
                break
            page += 1
    run.finished_at = datetime.now(UTC)
    await run.save(update_fields=["finished_at", "updated_at"])
    elapsed = time.monotonic() - started
    say(f"{len(outcome.imported)} imported, {len(outcome.skipped)} skipped in {elapsed:.1f} s")
    return outcome


# The command (added to the ``forum github`` group, plugins/github_import/cli.py)


def register(github: click.Group) -> None:
    @github.command("import")
    @click.argument("repo")
    @click.option("--label", required=True, help="Import the open issues with this label.")
    @click.option("--as", "kind", type=click.Choice(KINDS), default="ticket", show_default=True,
                  help="Draft tickets (the requester confirms them) or questions.")
    @click.option("--project", default="", help="The project's slug (when several projects "
                  "could be meant; checked against the repository's link).")
    @pass_platform
    def import_command(platform: Platform, repo: str, label: str, kind: str,
                       project: str) -> None:
        """Import REPO's (owner/name) open issues labelled --label, resumably."""
        from plugins.github_import.client import GitHubError

        async def work() -> BulkOutcome:
            connection = await connection_for_repo(repo)
            if connection is None:
                raise click.ClickException(f"{repo} is not linked to a project "
                                           "(forum github link PROJECT OWNER/REPO ...)")
            found = await plugin_project(NAME, connection.project_id)
            if project and (found is None or found.slug != project):
                linked = await project_by_id(connection.project_id)
                raise click.ClickException(
                    f"{connection.repo} is linked to "
                    f"{linked.slug if linked is not None else 'another project'}, not {project}")
            if found is None:
                raise click.ClickException("the GitHub plugin is switched off in the "
                                           "repository's project")
            with click.progressbar(length=0, label=f"Importing {connection.repo}",
                                   show_pos=True, file=sys.stderr) as bar:
                def step(number: int, outcome: str) -> None:
                    bar.length = (bar.length or 0) + 1
                    bar.update(1)

                def say(line: str) -> None:
                    click.echo(f"\n{line}", err=True)

                return await bulk_import(platform, connection, found, label=label, kind=kind,
                                         say=say, progress=step)

        try:
            outcome = run_with_db(platform, work)
        except click.ClickException as exc:
            fail(exc.message)
            return
        except GitHubError as exc:
            fail(str(exc))
            return
        run = outcome.run
        click.echo(f"imported {len(outcome.imported)}, skipped {len(outcome.skipped)} "
                   f"({run.imported} imported in all by this import)")
