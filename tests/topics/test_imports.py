"""Imported topics and posts: staged authors, sanitised text, plugin data, the timeline."""

from __future__ import annotations

from forum.accounts.service import stage_user
from forum.platform import Platform
from forum.topics.models import Post
from forum.topics.service import import_reply, import_topic, record_topic_event, topic_timeline
from tests.factories import make_project, make_user


async def test_import_topic_and_timeline(platform: Platform, db: None) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    author = await stage_user(platform, "github", "583231", "octocat", "The Octocat")
    again = await stage_user(platform, "github", "583231", "octocat")
    assert again.id == author.id
    assert author.email == "github-583231@staged.invalid" and author.password_hash is None
    topic = await import_topic(platform, project, author, "Imported <b>x</b>",
                               "Hello <script>alert(1)</script>", kind="discussion",
                               plugin_key="gh", plugin_data={"n": 1})
    assert topic.plugin_data == {"gh": {"n": 1}}
    opening = await Post.get(topic_id=topic.id, number=1)
    assert "<script>" not in opening.cooked and "Hello" in opening.cooked
    post = await import_reply(platform, topic, author, "a reply")
    assert post.number == 2
    await record_topic_event(platform, topic.id, "github.escalated", "Escalated", "https://x")
    assert [e.kind for e in await topic_timeline(topic.id)] == ["github.escalated"]
