"""Content for the badge tests, written straight through the ORM (the rules read tables)."""

from __future__ import annotations

from datetime import datetime

from forum.accounts.models import User
from forum.platform import Platform
from forum.projects.models import Project
from forum.reputation.badges import BadgeAward, evaluate_project
from forum.topics.models import Category, Post, Topic, TopicKind
from tests.topics.read_data import make_topic, posts_of


async def question(project: Project, category: Category, asker: User, *,
                   answerers: list[User] | None = None, kind: TopicKind = TopicKind.QUESTION,
                   **fields: object) -> tuple[Topic, list[Post]]:
    """A question with one answer per answerer; returns the topic and its posts."""
    people = answerers or []
    topic = await make_topic(project, category, asker, kind=kind, replies=len(people),
                             repliers=people or None, **fields)
    return topic, await posts_of(topic)


async def set_score(post: Post, score: int) -> None:
    await Post.filter(id=post.id).update(score=score, upvotes=max(score, 0))
    if post.number == 1:
        await Topic.filter(id=post.topic_id).update(score=score)  # type: ignore[attr-defined]


async def set_created(post: Post, when: datetime) -> None:
    await Post.filter(id=post.id).update(created_at=when)


async def held(project: Project, badge: str) -> list[tuple[str, int | None]]:
    """(username, post id) of every award of ``badge`` in the project, oldest first."""
    awards = await BadgeAward.filter(project_id=project.id, badge=badge).order_by(
        "id").select_related("user")
    return [(a.user.username, a.post_id) for a in awards]


async def evaluate(platform: Platform, project: Project, now: datetime | None = None
                   ) -> list[tuple[str, int]]:
    """Run every rule; (badge, user id) of what was newly awarded."""
    return [(a.badge, a.user_id)  # type: ignore[attr-defined]
            for a in await evaluate_project(platform, project.id, now)]
