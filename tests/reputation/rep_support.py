"""Helpers for the reputation tests: a project with a cast of users, posts written straight
to the database, and the topics verbs that emit the events reputation listens to.

Import ``reputation_rules`` into a test module to keep the real default rules there (the
suite-wide fixture of the same name opens every privilege for other domains' tests).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from forum.accounts.models import User
from forum.platform import Platform
from forum.projects.models import Project, Role
from forum.reputation.config import save_rules
from forum.reputation.models import ReputationEntry, ReputationTotal
from forum.reputation.schemas import Privilege, ReputationSettings
from forum.reputation.service import reputation_of
from forum.topics.categories import ensure_default_categories
from forum.topics.models import Category, Post, Topic, TopicKind
from forum.topics.service import delete_post, do_accept, do_vote, load_viewer, restore_post
from tests.factories import add_member, make_project, make_user

_n = itertools.count(1)


@pytest.fixture
def reputation_rules() -> None:
    """The real default rules (overrides the suite-wide fixture that opens privileges)."""


# Rules that let anyone vote and post, for tests of the ledger itself.
OPEN = ReputationSettings(thresholds=dict.fromkeys(Privilege, 1), new_user_hours=0,
                          downvote_ratio_max=1)


@dataclass
class Cast:
    project: Project
    owner: User
    moderator: User
    users: list[User]
    category: Category


async def make_cast(n_users: int = 4, slug: str | None = None,
                    rules: ReputationSettings | None = OPEN) -> Cast:
    owner = await make_user()
    project = await make_project(slug, owner=owner)
    moderator = await make_user()
    await add_member(project, moderator, Role.MODERATOR)
    users = [await make_user() for _ in range(n_users)]
    categories = await ensure_default_categories(project)
    if rules is not None:
        await save_rules(project.id, rules)
    return Cast(project, owner, moderator, users,
                next(c for c in categories if c.slug == "questions"))


async def ask(cast: Cast, author: User, kind: TopicKind = TopicKind.QUESTION) -> Post:
    """A topic with its opening post, written directly (no gates, no events)."""
    n = next(_n)
    topic = await Topic.create(project_id=cast.project.id, category_id=cast.category.id,
                               author_id=author.id, kind=kind, title=f"Question {n}",
                               slug=f"question-{n}", last_posted_at=datetime.now(UTC))
    return await Post.create(topic_id=topic.id, author_id=author.id, number=1,
                             source=f"Question text {n}", cooked=f"<p>Question text {n}</p>")


async def answer(question: Post, author: User) -> Post:
    number = await Post.filter(topic_id=question.topic_id).count() + 1  # type: ignore[attr-defined]
    return await Post.create(topic_id=question.topic_id, author_id=author.id,  # type: ignore[attr-defined]
                             number=number, source=f"Answer {number}",
                             cooked=f"<p>Answer {number}</p>")


async def vote(platform: Platform, cast: Cast, voter: User, post: Post, value: int) -> None:
    """Cast through the topics verb (without its checks), which emits ``VoteCast``."""
    viewer = await load_viewer(voter, cast.project)
    post = await Post.get(id=post.id)
    topic = await Topic.get(id=post.topic_id)  # type: ignore[attr-defined]
    await do_vote(platform, viewer, post, topic, value)


async def accept(platform: Platform, cast: Cast, accepter: User, question: Post,
                 answer_post: Post | None) -> None:
    viewer = await load_viewer(accepter, cast.project)
    topic = await Topic.get(id=question.topic_id)  # type: ignore[attr-defined]
    await do_accept(platform, viewer, topic,
                    await Post.get(id=answer_post.id) if answer_post is not None else None)


async def delete(platform: Platform, cast: Cast, post: Post) -> None:
    viewer = await load_viewer(cast.moderator, cast.project)
    await delete_post(platform, viewer, await Post.get(id=post.id))


async def restore(platform: Platform, cast: Cast, post: Post) -> None:
    viewer = await load_viewer(cast.moderator, cast.project)
    await restore_post(platform, viewer, await Post.get(id=post.id))


async def rep(cast: Cast, user: User) -> int:
    return await reputation_of(cast.project.id, user.id)


async def ledger_total(cast: Cast, user: User) -> int:
    deltas = await ReputationEntry.filter(project_id=cast.project.id, user_id=user.id
                                          ).values_list("delta", flat=True)
    return 1 + sum(int(d) for d in deltas)  # type: ignore[call-overload]


async def totals(cast: Cast) -> dict[int, int]:
    rows = await ReputationTotal.filter(project_id=cast.project.id).values_list("user_id", "total")
    return {int(u): int(t) for u, t in rows}
