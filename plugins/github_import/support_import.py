""""+support": a maintainer marks a GitHub issue as a support request and the bridge pulls
it into the project's support queue as a draft ticket.

Triggered by a comment ``@<bot> +support`` (or ``/support``; see commands.py) from an
OWNER, MEMBER or COLLABORATOR, or by the label ``support`` (only people with triage access
can label), on an issue that is not a pull request, by someone who is not a bot. Then, in
jobs, each step retried on failure and resumed where it stopped:

1. ``github_import.support``: the issue and every comment are imported as a draft ticket
   whose requester is the issue's author, staged as a GitHub identity (when they sign in
   with GitHub, the draft is theirs to confirm); an ``IssueLink`` claims the issue first,
   so nothing is imported twice;
2. ``github_import.announce``: the bot comments (the project's template: the link, the
   expected response time, the plans page), labels the issue ``support``, closes it as
   not planned and, when the project says so, locks it.

Every step the bot took is a line in the topic's timeline (kinds ``github.*``). A rate
limit puts the job back for after the wait instead of failing it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError

from plugins.github_import.client import GitHubError, RateLimited
from plugins.github_import.commands import BOTS_ASSOCIATIONS, has_support_command, is_bot
from plugins.github_import.connection import (
    DEFAULT_BOT,
    client_for,
    fill_template,
    normalize_repo,
    project_options,
)
from plugins.github_import.models import Connection, IssueLink, LinkOrigin

if TYPE_CHECKING:
    from forum.jobs import JobContext
    from forum.platform import Platform

log = logging.getLogger(__name__)

SUPPORT_LABEL = "support"
MAX_BODY = 29_000  # characters of an issue's or comment's text kept (posts take 32,000)
PROVIDER = "github"


def _issue_ref(repo: str, number: int) -> str:
    return f"{repo}#{number}"


async def on_webhook(platform: Platform, connection: Connection, event: str,
                     payload: dict[str, Any]) -> str | None:
    """Queue the import when the delivery is a "+support"; None when it is not one,
    else one line saying what was done or why it was ignored."""
    issue = payload.get("issue")
    if not isinstance(issue, dict) or not isinstance(issue.get("number"), int):
        return None
    action = payload.get("action")
    if event == "issue_comment" and action in ("created", "edited"):
        comment = payload.get("comment")
        if not isinstance(comment, dict):
            return None
        if not has_support_command(comment.get("body"), connection.bot_name or DEFAULT_BOT):
            return None
        actor = comment.get("user")
        association = str(comment.get("author_association") or "")
        if not is_bot(actor) and association not in BOTS_ASSOCIATIONS:
            return (f"+support on {_issue_ref(connection.repo, issue['number'])} ignored: "
                    f"{_login(actor)} has no write access ({association or 'NONE'})")
    elif event == "issues" and action == "labeled":
        label = payload.get("label")
        if not isinstance(label, dict) or str(label.get("name", "")).lower() != SUPPORT_LABEL:
            return None
        actor = payload.get("sender")
    else:
        return None
    ref = _issue_ref(connection.repo, issue["number"])
    if is_bot(actor):
        return f"+support on {ref} ignored: {_login(actor)} is a bot"
    if "pull_request" in issue:
        return f"+support on {ref} ignored: it is a pull request"
    if await IssueLink.exists(repo=connection.repo, issue_number=issue["number"]):
        return f"+support on {ref} ignored: already imported"
    await platform.enqueue("github_import.support", repo=connection.repo,
                           number=issue["number"], actor=_login(actor))
    return f"+support on {ref} by {_login(actor)}: import queued"


def _login(user: object) -> str:
    return str(user.get("login") or "?") if isinstance(user, dict) else "?"


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


async def _again_later(ctx: JobContext, name: str, wait: float, **kwargs: Any) -> None:
    log.info("github: rate limited, %s runs again in %.0f s", name, wait)
    await ctx.platform.jobs.enqueue(name, _delay=timedelta(seconds=wait + 1), **kwargs)


async def _stage(platform: Platform, user: object) -> Any:
    from forum.accounts.service import stage_user

    data = user if isinstance(user, dict) else {}
    user_id = data.get("id")
    login = str(data.get("login") or "ghost")
    return await stage_user(platform, PROVIDER, str(user_id if user_id is not None else login),
                            login, profile={"login": login, "html_url": data.get("html_url"),
                                            "avatar_url": data.get("avatar_url")})


def _cut(body: str) -> str:
    """Room for the note under it; the import cuts what is longer than a post may be."""
    if len(body) <= MAX_BODY:
        return body
    return body[:MAX_BODY] + "\n\n*(cut here: the original is longer)*"


def opening_text(repo: str, issue: dict[str, Any]) -> str:
    body = _cut(str(issue.get("body") or "")) or "*(no text)*"
    author = _login(issue.get("user"))
    return (f"{body}\n\n---\n*Imported from GitHub issue "
            f"[{_issue_ref(repo, issue['number'])}]({issue.get('html_url', '')}), opened by "
            f"@{author} on {str(issue.get('created_at', ''))[:10]}.*")


def comment_text(comment: dict[str, Any]) -> str:
    body = _cut(str(comment.get("body") or "")) or "*(no text)*"
    return (f"{body}\n\n---\n*[Comment]({comment.get('html_url', '')}) by "
            f"@{_login(comment.get('user'))} on GitHub, "
            f"{str(comment.get('created_at', ''))[:16].replace('T', ' ')} UTC.*")


async def import_job(ctx: JobContext, *, repo: str, number: int, actor: str = "") -> None:
    """Import the issue as a draft ticket (idempotent), then queue the bot's actions."""
    platform = ctx.platform
    connection = await Connection.get_or_none(repo=normalize_repo(repo))
    if connection is None:
        return
    link = await IssueLink.get_or_none(repo=connection.repo, issue_number=number)
    if link is not None and link.data.get("imported"):
        await platform.enqueue("github_import.announce", link=link.id)
        return
    if link is not None and link.data.get("claim", "") != f"job:{ctx.job_id}":
        log.info("github: %s is being imported by %s", _issue_ref(connection.repo, number),
                 link.data.get("claim") or "another import")
        return
    try:
        async with client_for(platform, connection) as gh:
            issue = await gh.get_issue(connection.repo, number)
            comments = await gh.list_issue_comments(connection.repo, number)
    except RateLimited as limited:
        await _again_later(ctx, "github_import.support", limited.wait_seconds, repo=repo,
                           number=number, actor=actor)
        return
    if "pull_request" in issue:
        log.info("+support on %s ignored: it is a pull request",
                 _issue_ref(connection.repo, number))
        return
    link = await import_issue(platform, connection, issue, comments, actor=actor,
                              claim=f"job:{ctx.job_id}")
    if link is not None:
        await platform.enqueue("github_import.announce", link=link.id)


async def import_issue(platform: Platform, connection: Connection, issue: dict[str, Any],
                       comments: list[dict[str, Any]], *, actor: str = "",
                       origin: LinkOrigin = LinkOrigin.IMPORTED,
                       claim: str = "") -> IssueLink | None:
    """Import one fetched issue with its comments as a draft ticket in the connection's
    project; returns its link, or None when another import owns the issue. ``claim``
    names the caller (a job's id stays the same over its retries): an unfinished import
    is resumed only by whoever claimed it, so two jobs never import the same issue at
    once. Resuming skips what is done (the ticket, comments already imported)."""
    from forum.projects.service import project_by_id
    from forum.support_queue.service import import_draft_ticket, import_ticket_post
    from forum.topics.service import record_topic_event

    number = int(issue["number"])
    link = await IssueLink.get_or_none(repo=connection.repo, issue_number=number)
    if link is None:
        try:
            # Claimed before anything is written: a concurrent import of the same issue
            # loses here. The topic id is negative until the ticket exists.
            link = await IssueLink.create(
                project_id=connection.project_id, topic_id=-number, repo=connection.repo,
                issue_number=number, issue_node_id=str(issue.get("node_id") or "")[:100],
                html_url=str(issue.get("html_url") or "")[:500], origin=origin,
                state=str(issue.get("state") or "open")[:20], data={"claim": claim})
        except IntegrityError:
            return None
    elif link.data.get("imported"):
        return link
    elif link.data.get("claim", "") != claim:
        log.info("github: %s is being imported by %s", _issue_ref(connection.repo, number),
                 link.data.get("claim") or "another import")
        return None
    project = await project_by_id(connection.project_id)
    if project is None:
        return None
    data: dict[str, Any] = dict(link.data)
    if link.topic_id <= 0:
        options = await project_options(platform, connection.project_id)
        requester = await _stage(platform, issue.get("user"))
        ticket = await import_draft_ticket(
            platform, project, requester, str(issue.get("title") or ""),
            opening_text(connection.repo, issue), is_private=options.private_drafts,
            created_at=_when(issue.get("created_at")))
        data.update(ticket_id=ticket.id, number=ticket.number,
                    reference=ticket.reference_in(project.slug), comments=[])
        link.topic_id = ticket.topic_id  # type: ignore[attr-defined]
        link.data = data
        await link.save(update_fields=["topic_id", "data", "updated_at"])
    done: list[int] = list(data.get("comments") or [])
    for comment in comments:
        comment_id = comment.get("id")
        if not isinstance(comment_id, int) or comment_id in done or is_bot(comment.get("user")):
            continue
        author = await _stage(platform, comment.get("user"))
        await import_ticket_post(project, link.topic_id, author, comment_text(comment),
                                 created_at=_when(comment.get("created_at")))
        done.append(comment_id)
        link.data = {**data, "comments": done}
        await link.save(update_fields=["data", "updated_at"])
    link.data = {**data, "comments": done, "imported": True}
    await link.save(update_fields=["data", "updated_at"])
    who = f" (+support by @{actor})" if actor else ""
    await record_topic_event(
        platform, link.topic_id, "github.imported",
        f"Imported from GitHub issue {_issue_ref(connection.repo, number)} with "
        f"{len(done)} comment(s){who}.", url=link.html_url)
    return link


ACTIONS = ("comment", "label", "close", "lock")


async def announce_text(platform: Platform, link: IssueLink, author: str) -> str:
    from forum.projects.service import project_by_id
    from forum.support_queue.service import expected_response_for_new

    project = await project_by_id(link.project_id)
    options = await project_options(platform, link.project_id)
    base = platform.settings.public_url.rstrip("/")
    slug = project.slug if project is not None else ""
    expected = await expected_response_for_new(link.project_id)
    return fill_template(options.comment_template, {
        "author": author, "project": project.name if project is not None else slug,
        "link": f"{base}/p/{slug}/t/{link.topic_id}",
        "reference": str(link.data.get("reference") or ""),
        "expected_response": expected.label,
        "plans_url": f"{base}/p/{slug}/support/plans", "issue_url": link.html_url})


async def announce_job(ctx: JobContext, *, link: int) -> None:
    """The bot's actions on an imported issue, each once: comment, label, close, lock."""
    from forum.topics.service import record_topic_event

    platform = ctx.platform
    row = await IssueLink.get_or_none(id=link)
    if row is None or not row.data.get("imported"):
        return
    connection = await Connection.get_or_none(repo=row.repo)
    if connection is None:
        return
    options = await project_options(platform, row.project_id)
    wanted = [a for a in ACTIONS if a != "lock" or options.lock_on_import]
    done: list[str] = list(row.data.get("done") or [])
    ref = _issue_ref(row.repo, row.issue_number)
    try:
        async with client_for(platform, connection) as gh:
            for action in wanted:
                if action in done:
                    continue
                if action == "comment":
                    issue = await gh.get_issue(row.repo, row.issue_number)
                    text = await announce_text(platform, row, _login(issue.get("user")))
                    posted = await gh.create_issue_comment(row.repo, row.issue_number, text)
                    line = (f"The bot commented on {ref} with the link to this ticket.",
                            str(posted.get("html_url") or row.html_url))
                elif action == "label":
                    await gh.add_labels(row.repo, row.issue_number, [SUPPORT_LABEL])
                    line = (f'The bot labelled {ref} "{SUPPORT_LABEL}".', row.html_url)
                elif action == "close":
                    await gh.update_issue(row.repo, row.issue_number, state="closed",
                                          state_reason="not_planned")
                    row.state = "closed"
                    line = (f"The bot closed {ref} as not planned.", row.html_url)
                else:
                    await gh.lock_issue(row.repo, row.issue_number)
                    line = (f"The bot locked {ref}.", row.html_url)
                done.append(action)
                row.data = {**row.data, "done": done}
                await row.save(update_fields=["data", "state", "updated_at"])
                await record_topic_event(platform, row.topic_id, f"github.{action}", line[0],
                                         url=line[1])
    except RateLimited as limited:
        await _again_later(ctx, "github_import.announce", limited.wait_seconds, link=link)
    except GitHubError as failed:
        log.warning("github: %s on %s failed: %s", "announce", ref, failed)
        raise
