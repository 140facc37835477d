"""Mirrored comments: ``issue_comment`` deliveries on a linked issue become read-only
posts by the commenter (a staged GitHub identity), edits update them, deletions hide them,
each comment once. GitHub's real payloads, with the fields a test needs changed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from forum.accounts.models import User
from forum.platform import Platform
from forum.topics.models import Post, PostRevision, Topic
from plugins.github_import.mirror import on_webhook
from plugins.github_import.models import IssueLink, LinkOrigin, MirroredComment
from tests.plugins.github_import.conftest import payload
from tests.plugins.github_import.fake_github import FakeGitHub
from tests.plugins.github_import.linking import BOT, REPO, Linked, link_project
from tests.topics.read_data import make_category, make_topic


async def linked_topic(linked: Linked) -> Topic:
    topic = await make_topic(linked.project, await make_category(linked.project),
                             linked.member, title="Crash on save")
    await IssueLink.create(project_id=linked.project.id, topic_id=topic.id, repo=REPO,
                           issue_number=1, origin=LinkOrigin.ESCALATED)
    return topic


def comment_event(action: str, body: str = "Same here on 2.3.1", **user: Any) -> dict[str, Any]:
    data = payload(f"issue_comment.{action}")
    data["repository"]["full_name"] = REPO
    data["comment"]["body"] = body
    data["comment"]["user"].update(user)
    return data


async def mirrored_posts(topic: Topic) -> list[Post]:
    return await Post.filter(topic_id=topic.id, number__gt=1).order_by("number")


async def test_a_comment_is_mirrored_once_edited_and_hidden(
        db: None, platform: Platform, fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github, mirror_comments=True)
    topic = await linked_topic(linked)
    created = comment_event("created")
    comment = created["comment"]
    result = await on_webhook(platform, linked.connection, "issue_comment", created)
    [post] = await mirrored_posts(topic)
    assert result == f"comment {comment['id']}: mirrored as post {post.id}"
    assert post.source == (f"Same here on 2.3.1\n\n*Mirrored from [a comment on GitHub]"
                           f"({comment['html_url']}).*")
    assert post.created_at == datetime(2019, 5, 15, 15, 20, 21, tzinfo=UTC)
    author = await User.get(id=post.author_id)  # type: ignore[attr-defined]
    assert author.username == "Codertocat" and author.email.endswith("@staged.invalid")
    # Redelivered, or delivered again under another id: nothing new.
    again = await on_webhook(platform, linked.connection, "issue_comment", created)
    assert again == f"comment {comment['id']}: mirrored already"
    assert len(await mirrored_posts(topic)) == 1

    edited = comment_event("edited", "Same here on 2.3.2 **too**")
    edited["comment"]["id"] = comment["id"]
    assert await on_webhook(platform, linked.connection, "issue_comment", edited) == (
        f"comment {comment['id']}: updated post {post.id}")
    stored = await Post.get(id=post.id)
    assert stored.source.startswith("Same here on 2.3.2 **too**")
    assert "<strong>too</strong>" in stored.cooked
    assert await PostRevision.filter(post_id=post.id).count() == 2

    deleted = comment_event("deleted")
    deleted["comment"]["id"] = comment["id"]
    assert await on_webhook(platform, linked.connection, "issue_comment", deleted) == (
        f"comment {comment['id']}: hidden post {post.id}")
    hidden = await Post.get(id=post.id)
    assert hidden.hidden_at is not None and hidden.hidden_reason == "Deleted on GitHub."
    assert (await MirroredComment.get(comment_id=comment["id"])).deleted
    # An edit arriving after the deletion does not bring it back.
    await on_webhook(platform, linked.connection, "issue_comment", edited)
    assert (await Post.get(id=post.id)).hidden_at is not None


async def test_an_edit_of_a_comment_never_mirrored_mirrors_it(
        db: None, platform: Platform, fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github, mirror_comments=True)
    topic = await linked_topic(linked)
    edited = comment_event("edited", "Edited before the setting was on")
    await on_webhook(platform, linked.connection, "issue_comment", edited)
    [post] = await mirrored_posts(topic)
    assert post.source.startswith("Edited before the setting was on")
    assert await MirroredComment.filter(topic_id=topic.id).count() == 1


async def test_nothing_is_mirrored_unless_the_project_asks(
        db: None, platform: Platform, fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github)
    topic = await linked_topic(linked)
    created = comment_event("created")
    assert await on_webhook(platform, linked.connection, "issue_comment", created) is None
    assert await mirrored_posts(topic) == []


async def test_bots_pull_requests_and_unlinked_issues_are_not_mirrored(
        db: None, platform: Platform, fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github, mirror_comments=True)
    topic = await linked_topic(linked)
    for user in ({"login": BOT}, {"login": "dependabot[bot]"}, {"type": "Bot"}):
        result = await on_webhook(platform, linked.connection, "issue_comment",
                                  comment_event("created", **user))
        assert result is not None and result.endswith("by a bot, not mirrored")
    unlinked = comment_event("created")
    unlinked["issue"]["number"] = 2
    pull = comment_event("created")
    pull["issue"]["pull_request"] = {"url": "x"}
    for data in (unlinked, pull):
        assert await on_webhook(platform, linked.connection, "issue_comment", data) is None
    assert await on_webhook(platform, linked.connection, "issues", comment_event("created")) \
        is None
    assert await mirrored_posts(topic) == []
