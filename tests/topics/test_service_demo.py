"""``forum demo`` fills the demo project with topics, answers, votes and accepted answers,
through the service verbs, once."""

from __future__ import annotations

import pytest

from forum.accounts.models import User
from forum.platform import Platform
from forum.projects.demo import seed_demo
from forum.projects.models import Project
from forum.topics.demo import THREADS
from forum.topics.models import Category, Post, Tag, Topic, TopicKind, TopicState, Vote


@pytest.mark.usefixtures("db")
async def test_demo_topics_are_seeded_once(platform: Platform) -> None:
    first = await seed_demo(platform)
    assert f"{len(THREADS)} demo topics" in first.created
    assert "user carol" in first.created
    project = await Project.get(slug="demo")
    # The support queue seeds its demo tickets (topics of kind "ticket") too.
    topics = await Topic.filter(project_id=project.id).exclude(kind=TopicKind.TICKET)
    assert len(topics) == len(THREADS)
    questions = [t for t in topics if t.kind == TopicKind.QUESTION]
    assert len(questions) >= 25
    assert sum(t.state == TopicState.SOLVED for t in questions) >= 10
    assert any(t.kind == TopicKind.ANNOUNCEMENT for t in topics)
    assert any(t.kind == TopicKind.BUG_REPORT for t in topics)
    assert any(t.kind == TopicKind.DISCUSSION for t in topics)
    assert await Post.filter(topic__project_id=project.id, number__gt=1).count() >= 40
    assert await Vote.all().count() >= 100
    assert await Tag.filter(project_id=project.id, topic_count__gt=3).count() >= 3
    # The counts the verbs keep are right, and history is spread over weeks.
    for topic in topics:
        replies = await Post.filter(topic_id=topic.id, number__gt=1).count()
        assert topic.reply_count == replies
        opening = await Post.get(topic_id=topic.id, number=1)
        assert topic.score == opening.score
    assert len({t.created_at.date() for t in topics}) > 10
    solved = next(t for t in topics if t.state == TopicState.SOLVED)
    accepted = await Post.get(id=solved.accepted_post_id)
    assert accepted.topic_id == solved.id and accepted.number > 1  # type: ignore[attr-defined]
    categories = {c.id: c for c in await Category.filter(project_id=project.id)
                  if c.slug != "support"}
    assert sum(c.topic_count for c in categories.values()) == len(THREADS)
    assert await User.filter(username_lower="fatima").exists()

    again = await seed_demo(platform)
    assert again.created == []
    assert await Topic.filter(project_id=project.id).exclude(
        kind=TopicKind.TICKET).count() == len(THREADS)
