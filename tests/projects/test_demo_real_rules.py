"""``forum demo`` with the real reputation rules and moderation screening: the demo users
are new and have no reputation, yet seeding must create every topic, tag, vote and
answer (it acts as the platform itself; see forum.gates.unguarded)."""

from __future__ import annotations

import pytest

from forum.gates import Act, Attempt, Draft, Verdict, is_unguarded, unguarded
from forum.platform import Platform
from forum.projects.demo import seed_demo
from forum.projects.models import Project
from forum.topics.models import Tag, Topic, Vote
from tests.factories import make_user


@pytest.fixture
def reputation_rules() -> None:
    """The real default rules (overrides the suite-wide fixture that opens privileges)."""


@pytest.mark.usefixtures("db")
async def test_demo_seeds_everything_under_the_real_rules(platform: Platform) -> None:
    result = await seed_demo(platform)
    project = await Project.get(slug="demo")
    assert await Topic.filter(project_id=project.id).count() >= 20
    assert await Tag.filter(project_id=project.id).count() >= 5
    assert await Vote.all().count() >= 20
    assert any("topic" in line or "question" in line for line in result.created)
    # Outside seeding the gates apply again: a new user may not vote down.
    assert not is_unguarded()
    newcomer = await make_user()
    reason = await platform.refusal(Attempt(Act.VOTE_DOWN, newcomer.id, project.id))
    assert reason and "reputation" in reason


async def test_unguarded_lets_everything_through_and_ends(platform: Platform) -> None:
    attempt = Attempt(Act.VOTE_DOWN, 1, None)
    draft = Draft(project_id=1, user_id=1, is_staff=False, source="x")
    with unguarded():
        assert is_unguarded()
        assert await platform.refusal(attempt) is None
        assert (await platform.screen(draft)).verdict == Verdict.ALLOW
    assert not is_unguarded()
