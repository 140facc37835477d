"""Mirrored comments: comments on a linked GitHub issue shown as posts of its topic.

With the project's ``mirror_comments`` setting on, an ``issue_comment`` delivery for an
issue linked to a topic is mirrored: "created" imports the comment as a reply by its
author (a staged GitHub identity, ``stage_user``), "edited" replaces the post's text (a
new revision), "deleted" hides the post. Each comment is mirrored once
(``MirroredComment``, unique by the comment's id): a redelivery or a created after an
edited does nothing new. The bot's own comments and other bots' are not mirrored. The
posts are read-only here in the sense that GitHub is their source: they carry a link to
the comment, and the next edit on GitHub replaces them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError

from forum.accounts.service import stage_user
from forum.projects.plugin_settings import plugin_project
from forum.topics.permissions import Viewer
from forum.topics.service import (
    access_topic,
    hide_post,
    import_edit,
    import_reply,
    load_posts,
)
from forum.web.errors import NotFound, UserError
from plugins.github_import.connection import NAME, project_options
from plugins.github_import.models import IssueLink, MirroredComment
from plugins.github_import.sync import is_own_action

if TYPE_CHECKING:
    from forum.platform import Platform
    from plugins.github_import.escalate import Post, Topic
    from plugins.github_import.models import Connection

log = logging.getLogger(__name__)

ACTIONS = ("created", "edited", "deleted")
ADMIN = Viewer(None, None, True)  # the bridge reads what it mirrors whatever the viewer


def mirrored_source(comment: dict[str, Any]) -> str:
    body = str(comment.get("body") or "")
    url = str(comment.get("html_url") or "")
    return f"{body}\n\n*Mirrored from [a comment on GitHub]({url}).*" if url else body


def github_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def is_bot(user: dict[str, Any], connection: Connection) -> bool:
    login = str(user.get("login", ""))
    return user.get("type") == "Bot" or login.endswith("[bot]") or is_own_action(
        user, connection)


async def on_webhook(platform: Platform, connection: Connection, event: str,
                     payload: dict[str, Any]) -> str | None:
    """The webhook handler (see webhook.py): None when the delivery is not ours."""
    if event != "issue_comment":
        return None
    action = str(payload.get("action", ""))
    issue = payload.get("issue") or {}
    comment = payload.get("comment") or {}
    number, comment_id = issue.get("number"), comment.get("id")
    if action not in ACTIONS or not isinstance(number, int) or not isinstance(comment_id, int):
        return None
    link = await IssueLink.get_or_none(repo=connection.repo, issue_number=number)
    if link is None or "pull_request" in issue:
        return None
    if not (await project_options(platform, connection.project_id)).mirror_comments:
        return None
    user = comment.get("user") or {}
    if is_bot(user, connection):
        return f"comment {comment_id}: by a bot, not mirrored"
    return await mirror_comment(platform, link, action, comment)


async def _topic(link: IssueLink) -> Topic | None:
    project = await plugin_project(NAME, link.project_id)
    if project is None:
        return None
    try:
        topic, _ = await access_topic(ADMIN, project, link.topic_id)
    except NotFound:
        return None
    return topic


async def _post(topic: Topic, post_id: int) -> Post | None:
    return next((p for p in await load_posts(ADMIN, topic) if p.id == post_id), None)


async def mirror_comment(platform: Platform, link: IssueLink, action: str,
                         comment: dict[str, Any]) -> str:
    comment_id = int(comment["id"])
    topic = await _topic(link)
    if topic is None:
        return f"comment {comment_id}: the topic is gone"
    mirrored = await MirroredComment.get_or_none(comment_id=comment_id)
    if action == "deleted":
        if mirrored is None:
            return f"comment {comment_id}: deleted, never mirrored"
        post = await _post(topic, mirrored.post_id)
        if post is not None:
            await hide_post(platform, post, "Deleted on GitHub.", None)
        await MirroredComment.filter(id=mirrored.id).update(deleted=True)
        return f"comment {comment_id}: hidden post {mirrored.post_id}"
    if mirrored is not None:
        if action == "created":
            return f"comment {comment_id}: mirrored already"
        post = await _post(topic, mirrored.post_id)
        if post is None or mirrored.deleted:
            return f"comment {comment_id}: its post is gone"
        await import_edit(platform, post, mirrored_source(comment))
        return f"comment {comment_id}: updated post {post.id}"
    # Created, or edited before it was ever mirrored (the setting was off then).
    user = comment.get("user") or {}
    author = await stage_user(platform, "github", str(user.get("id", "")),
                              str(user.get("login", "ghost")))
    try:
        post = await import_reply(platform, topic, author, mirrored_source(comment),
                                  created_at=github_time(comment.get("created_at")))
    except UserError as exc:  # e.g. the topic was deleted or merged
        return f"comment {comment_id}: not mirrored ({exc.message})"
    try:
        await MirroredComment.create(comment_id=comment_id, repo=link.repo,
                                     issue_number=link.issue_number, topic_id=topic.id,
                                     post_id=post.id)
    except IntegrityError:  # another worker mirrored it at the same moment
        await hide_post(platform, post, "Mirrored twice.", None)
        return f"comment {comment_id}: mirrored already"
    return f"comment {comment_id}: mirrored as post {post.id}"
