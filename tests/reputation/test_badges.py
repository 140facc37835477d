"""Each built-in badge rule: awarded once earned, not before, and only once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.exceptions import IntegrityError

from forum.platform import Platform
from forum.reputation.badges import (
    BadgeAward,
    BadgeFact,
    do_record_fact,
    evaluate_rule,
    registered_rules,
)
from forum.reputation.badges_plugin import builtin_rules, longest_run
from forum.topics.models import PostRevision, Topic, TopicKind, TopicState, Vote
from tests.factories import make_project, make_user
from tests.reputation.badge_data import evaluate, held, question, set_created, set_score
from tests.topics.read_data import accept, make_category

pytestmark = pytest.mark.usefixtures("db")


async def test_builtin_set_spans_three_levels_with_unique_slugs(platform: Platform) -> None:
    rules = builtin_rules()
    assert len(rules) >= 10
    assert {r.level for r in rules} == {"bronze", "silver", "gold"}
    assert len({r.slug for r in rules}) == len(rules)
    assert set(registered_rules(platform)) >= {r.slug for r in rules}


async def test_answer_score_badges_at_their_thresholds(platform: Platform) -> None:
    asker, helper = await make_user(), await make_user("helper")
    project = await make_project(owner=asker)
    _topic, posts = await question(project, await make_category(project), asker,
                                  answerers=[helper])
    answer = posts[1]
    await set_score(answer, 9)
    assert [b for b, _ in await evaluate(platform, project)
            if b.endswith("-answer")] == []
    await set_score(answer, 10)
    assert ("nice-answer", helper.id) in await evaluate(platform, project)
    await set_score(answer, 24)
    assert await evaluate(platform, project) == []
    await set_score(answer, 25)
    assert [b for b, _ in await evaluate(platform, project)] == ["good-answer"]
    await set_score(answer, 99)
    assert await evaluate(platform, project) == []
    await set_score(answer, 100)
    assert [b for b, _ in await evaluate(platform, project)] == ["great-answer"]
    assert await held(project, "nice-answer") == [("helper", answer.id)]
    # Per post: a second answer earns its own Nice Answer.
    _, more = await question(project, await make_category(project), asker,
                             answerers=[helper])
    await set_score(more[1], 12)
    assert ("nice-answer", helper.id) in await evaluate(platform, project)
    assert [p for _, p in await held(project, "nice-answer")] == [answer.id, more[1].id]


async def test_question_score_badges_count_questions_only(platform: Platform) -> None:
    asker = await make_user("asker")
    project = await make_project(owner=asker)
    category = await make_category(project)
    _, posts = await question(project, category, asker)
    _, talk = await question(project, category, asker, kind=TopicKind.DISCUSSION)
    await set_score(talk[0], 150)
    await set_score(posts[0], 10)
    assert sorted(b for b, _ in await evaluate(platform, project)) == [
        "nice-question", "student"]
    await set_score(posts[0], 100)
    assert sorted(b for b, _ in await evaluate(platform, project)) == [
        "good-question", "great-question"]
    assert await held(project, "great-question") == [("asker", posts[0].id)]


async def test_first_question_and_answer_need_a_positive_score(platform: Platform) -> None:
    asker, helper = await make_user(), await make_user()
    project = await make_project(owner=asker)
    _, posts = await question(project, await make_category(project), asker,
                              answerers=[helper])
    await set_score(posts[1], -1)
    assert await evaluate(platform, project) == []
    await set_score(posts[0], 1)
    await set_score(posts[1], 1)
    assert sorted(await evaluate(platform, project)) == [
        ("student", asker.id), ("teacher", helper.id)]


async def test_accepted_answer_gives_helper_and_scholar_not_to_self(platform: Platform
                                                                    ) -> None:
    asker, helper = await make_user(), await make_user()
    project = await make_project(owner=asker)
    category = await make_category(project)
    own, own_posts = await question(project, category, asker, answerers=[asker])
    await accept(own, own_posts[1])
    assert await evaluate(platform, project) == []
    topic, posts = await question(project, category, asker, answerers=[helper])
    assert await evaluate(platform, project) == []
    await accept(topic, posts[1])
    assert sorted(await evaluate(platform, project)) == [
        ("helper", helper.id), ("scholar", asker.id)]


async def test_deleted_and_hidden_posts_earn_nothing(platform: Platform) -> None:
    asker, helper = await make_user(), await make_user()
    project = await make_project(owner=asker)
    topic, posts = await question(project, await make_category(project), asker,
                                  answerers=[helper])
    await set_score(posts[1], 30)
    await type(posts[1]).filter(id=posts[1].id).update(deleted_at=datetime.now(UTC))
    assert await evaluate(platform, project) == []
    await type(posts[1]).filter(id=posts[1].id).update(deleted_at=None)
    await Topic.filter(id=topic.id).update(deleted_at=datetime.now(UTC))
    assert await evaluate(platform, project) == []
    # Nor do posts hidden pending review.
    await Topic.filter(id=topic.id).update(deleted_at=None)
    await type(posts[1]).filter(id=posts[1].id).update(hidden_at=datetime.now(UTC))
    assert await evaluate(platform, project) == []
    await type(posts[1]).filter(id=posts[1].id).update(hidden_at=None)
    assert ("nice-answer", helper.id) in await evaluate(platform, project)


async def test_guru_and_self_learner(platform: Platform) -> None:
    asker, helper = await make_user(), await make_user()
    project = await make_project(owner=asker)
    category = await make_category(project)
    topic, posts = await question(project, category, asker, answerers=[helper])
    await accept(topic, posts[1])
    await set_score(posts[1], 39)
    assert "guru" not in {b for b, _ in await evaluate(platform, project)}
    await set_score(posts[1], 40)
    assert ("guru", helper.id) in await evaluate(platform, project)
    _mine, mine_posts = await question(project, category, asker, answerers=[asker])
    await set_score(mine_posts[1], 2)
    assert await evaluate(platform, project) == [("teacher", asker.id)]
    await set_score(mine_posts[1], 3)
    assert await evaluate(platform, project) == [("self-learner", asker.id)]


async def test_first_votes_edits_and_retags(platform: Platform) -> None:
    asker, voter, editor = await make_user(), await make_user(), await make_user()
    project = await make_project(owner=asker)
    topic, posts = await question(project, await make_category(project), asker)
    await PostRevision.create(post=posts[0], number=1, source="a", editor=asker)
    await PostRevision.create(post=posts[0], number=2, source="b", editor=asker)
    assert await evaluate(platform, project) == []  # editing your own post is no badge
    await Vote.create(post=posts[0], user=voter, value=-1)
    await PostRevision.create(post=posts[0], number=3, source="c", editor=editor)
    await do_record_fact(project.id, editor.id, "retag", topic.id)
    await do_record_fact(project.id, editor.id, "retag", topic.id)  # the same retag twice
    assert await BadgeFact.filter(project_id=project.id).count() == 1
    assert sorted(await evaluate(platform, project)) == sorted([
        ("critic", voter.id), ("editor", editor.id), ("organizer", editor.id)])
    await Vote.filter(user_id=voter.id).update(value=1)
    assert await evaluate(platform, project) == [("supporter", voter.id)]
    assert await held(project, "editor") == [(editor.username, posts[0].id)]


async def test_view_count_badges(platform: Platform) -> None:
    asker = await make_user()
    project = await make_project(owner=asker)
    topic, _posts = await question(project, await make_category(project), asker,
                                  view_count=999)
    assert await evaluate(platform, project) == []
    await Topic.filter(id=topic.id).update(view_count=1000)
    assert await evaluate(platform, project) == [("popular-question", asker.id)]
    await Topic.filter(id=topic.id).update(view_count=10_000)
    assert sorted(b for b, _ in await evaluate(platform, project)) == [
        "famous-question", "notable-question"]


async def test_answer_streak_needs_consecutive_days(platform: Platform) -> None:
    asker, helper = await make_user(), await make_user()
    project = await make_project(owner=asker)
    category = await make_category(project)
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    answers = []
    for _ in range(6):
        _, posts = await question(project, category, asker, answerers=[helper])
        answers.append(posts[1])
    # Days -5, -4, -3, -1, 0: a gap, so the longest run is 3.
    for answer, back in zip(answers, (5, 4, 3, 1, 0, 0), strict=True):
        await set_created(answer, now - timedelta(days=back))
    assert await evaluate(platform, project, now) == []
    await set_created(answers[5], now - timedelta(days=2))  # fills the gap: 6 days
    assert await evaluate(platform, project, now) == [("enthusiast", helper.id)]
    # The streak is read from recent answers only: 30 days back it no longer counts.
    later = now + timedelta(days=40)
    assert await evaluate(platform, project, later) == []


def test_longest_run() -> None:
    day = datetime(2026, 1, 1).date()
    assert longest_run(set()) == 0
    assert longest_run({day}) == 1
    assert longest_run({day, day + timedelta(days=1), day + timedelta(days=3)}) == 2


async def test_evaluating_again_awards_nothing_twice(platform: Platform) -> None:
    asker, helper = await make_user(), await make_user()
    project = await make_project(owner=asker)
    topic, posts = await question(project, await make_category(project), asker,
                                  answerers=[helper])
    await set_score(posts[1], 10)
    await accept(topic, posts[1])
    first = await evaluate(platform, project)
    assert ("nice-answer", helper.id) in first and ("helper", helper.id) in first
    assert await evaluate(platform, project) == []
    count = await BadgeAward.all().count()
    # Two evaluations at once still store each award once (the unique key decides).
    rule = next(r for r in builtin_rules() if r.slug == "teacher")
    await BadgeAward.filter(badge="teacher").delete()
    results = await asyncio.gather(evaluate_rule(platform, project.id, rule),
                                   evaluate_rule(platform, project.id, rule))
    assert sum(len(r) for r in results) == 1
    assert await BadgeAward.all().count() == count
    with pytest.raises(IntegrityError):
        await BadgeAward.create(project=project, user=helper, badge="teacher",
                                level="bronze")


async def test_badges_belong_to_their_project(platform: Platform) -> None:
    asker, helper = await make_user(), await make_user()
    project = await make_project(owner=asker)
    other = await make_project(owner=asker)
    topic, posts = await question(project, await make_category(project), asker,
                                  answerers=[helper])
    await set_score(posts[1], 10)
    assert await evaluate(platform, other) == []
    assert ("nice-answer", helper.id) in await evaluate(platform, project)
    await Topic.filter(id=topic.id).update(state=TopicState.SOLVED)
    assert await BadgeAward.filter(project_id=other.id).count() == 0
