"""State sync between a linked GitHub issue and its topic.

From GitHub: an ``issues`` delivery (closed, reopened, labeled) for an issue linked to a
topic (``IssueLink``, imported or escalated) becomes a line in the topic's timeline
(``record_topic_event``, which emits ``TopicChanged("timeline")``: the notifications
domain tells the topic's watchers). What the bot did itself (the "+support" import closes
and labels the issue, and records that already) is not told twice.

To GitHub: when a linked topic is closed and the project's ``comment_on_close`` setting is
on, a job comments on the issue with the topic's link.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from forum.projects.plugin_settings import plugin_project
from forum.topics.permissions import Viewer
from forum.topics.service import access_topic, record_topic_event, set_topic_plugin_data
from forum.web.errors import NotFound
from plugins.github_import.connection import (
    NAME,
    client_for,
    connection_for_repo,
    normalize_repo,
    project_options,
)
from plugins.github_import.escalate import topic_data
from plugins.github_import.models import Connection, IssueLink

if TYPE_CHECKING:
    from forum.jobs import JobContext
    from forum.platform import Platform

log = logging.getLogger(__name__)

SYNCED_ACTIONS = ("closed", "reopened", "labeled")
CLOSE_JOB = "github_import.topic_closed"


def is_own_action(sender: dict[str, Any], connection: Connection | None) -> bool:
    """Whether the bot itself did this (its own actions are in the timeline already)."""
    login = str(sender.get("login", "")).lower()
    bot = (connection.bot_name if connection is not None else "").lower().removeprefix("@")
    return bool(bot) and login in {bot, f"{bot}[bot]", bot.removesuffix("[bot]")}


def describe_issue_event(action: str, payload: dict[str, Any], ref: str) -> str:
    issue = payload.get("issue") or {}
    who = str((payload.get("sender") or {}).get("login", "someone"))
    if action == "closed":
        how = {"not_planned": " as not planned", "completed": " as completed"}.get(
            str(issue.get("state_reason") or ""), "")
        return f"{who} closed GitHub issue {ref}{how}"
    if action == "reopened":
        return f"{who} reopened GitHub issue {ref}"
    label = str((payload.get("label") or {}).get("name", ""))
    return f"{who} added the label “{label}” to GitHub issue {ref}"


async def handle_issues_event(platform: Platform, payload: dict[str, Any]) -> str:
    """One ``issues`` delivery; returns a line for the log."""
    action = str(payload.get("action", ""))
    issue = payload.get("issue") or {}
    repo = normalize_repo(str((payload.get("repository") or {}).get("full_name", "")))
    number = issue.get("number")
    if action not in SYNCED_ACTIONS:
        return f"issues.{action}: not synced"
    if not isinstance(number, int) or "pull_request" in issue:
        return f"issues.{action}: not an issue"
    link = await IssueLink.get_or_none(repo=repo, issue_number=number)
    if link is None:
        return f"issues.{action} {repo}#{number}: not linked to a topic"
    if link.topic_id <= 0:  # claimed by an import that has not made its topic yet
        return f"issues.{action} {repo}#{number}: its import is not finished"
    if await plugin_project(NAME, link.project_id) is None:
        return f"issues.{action} {repo}#{number}: the plugin is off in the project"
    connection = await connection_for_repo(repo)
    if action in ("closed", "reopened"):
        state = "closed" if action == "closed" else "open"
        await IssueLink.filter(id=link.id).update(state=state)
        await _keep_state(link, state)
    if is_own_action(payload.get("sender") or {}, connection):
        return f"issues.{action} {repo}#{number}: the bot's own action"
    ref = f"{repo}#{number}"
    await record_topic_event(platform, link.topic_id, f"github.{action}",
                             describe_issue_event(action, payload, ref),
                             url=str(issue.get("html_url", ""))[:500])
    return f"issues.{action} {ref}: topic {link.topic_id}"


async def _keep_state(link: IssueLink, state: str) -> None:
    """The issue's state as the topic page shows it (plugin_data, see escalate.py)."""
    project = await plugin_project(NAME, link.project_id)
    if project is None:
        return
    try:
        topic, _ = await access_topic(Viewer(None, None, True), project, link.topic_id)
    except NotFound:
        return
    data = topic_data(topic)
    if data.get("issue_number") == link.issue_number and data.get("state") != state:
        await set_topic_plugin_data(topic.id, NAME, {**data, "state": state})


# To GitHub: the topic was closed


async def on_topic_changed(platform: Platform, project_id: int, topic_id: int,
                           change: str) -> None:
    """Queue the comment job when a topic linked to an issue may have been closed."""
    if change not in ("state", "closed"):
        return
    if not await IssueLink.exists(topic_id=topic_id):
        return
    await platform.enqueue(CLOSE_JOB, project_id=project_id, topic_id=topic_id)


def close_comment(topic_title: str, url: str, reason: str) -> str:
    because = f" ({reason})" if reason else ""
    return (f"The forum topic “{topic_title}” was closed{because}: {url}\n\n"
            "This comment was posted by the forum's GitHub bridge.")


async def topic_closed_job(ctx: JobContext, *, project_id: int, topic_id: int) -> None:
    """Comment on each issue linked to the topic that it was closed, if the project says
    so and the topic is still closed (once per close: a flag in the topic's plugin data,
    cleared when it is reopened)."""
    platform = ctx.platform
    project = await plugin_project(NAME, project_id)
    if project is None or not (await project_options(platform, project_id)).comment_on_close:
        return
    try:
        topic, _ = await access_topic(Viewer(None, None, True), project, topic_id)
    except NotFound:
        return
    data = topic_data(topic)
    closed = str(topic.state) == "closed"
    if not closed or data.get("close_told"):
        if not closed and data.get("close_told"):  # reopened: the next close is told again
            await set_topic_plugin_data(topic.id, NAME, {**data, "close_told": False})
        return
    await set_topic_plugin_data(topic.id, NAME, {**data, "close_told": True})
    tail = f"-{topic.slug}" if topic.slug else ""
    url = f"{platform.settings.public_url}/p/{project.slug}/t/{topic.id}{tail}"
    reason = str(topic.close_reason or "").replace("_", " ")
    for link in await IssueLink.filter(topic_id=topic.id).order_by("id"):
        connection = await Connection.get_or_none(repo=link.repo, project_id=project.id)
        if connection is None:
            continue
        async with client_for(platform, connection) as client:
            await client.create_issue_comment(link.repo, link.issue_number,
                                              close_comment(topic.title, url, reason))
        await record_topic_event(platform, topic.id, "github.close_commented",
                                 f"Told GitHub issue {link.repo}#{link.issue_number} that "
                                 "this topic was closed", url=link.html_url)


async def on_webhook(platform: Platform, connection: Connection, event: str,
                     payload: dict[str, Any]) -> str | None:
    """The webhook handler (see webhook.py): None when the delivery is not ours."""
    if event != "issues" or str(payload.get("action", "")) not in SYNCED_ACTIONS:
        return None
    issue = payload.get("issue") or {}
    if not await IssueLink.exists(repo=connection.repo, issue_number=issue.get("number")):
        return None  # not linked (yet): "+support" may import it
    return await handle_issues_event(platform, payload)
