"""Privileges and new-user limits: one check answered through the gates, refused alike on
the service and through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from forum.accounts.models import User
from forum.gates import Act, Attempt, Draft, Verdict
from forum.platform import Platform
from forum.projects.models import Role
from forum.reputation.config import save_rules
from forum.reputation.models import ReputationTotal
from forum.reputation.privileges import ACT_PRIVILEGE, privilege_refusal
from forum.reputation.schemas import DEFAULT_THRESHOLDS, Privilege, ReputationSettings
from forum.topics.models import Topic
from tests.factories import add_member
from tests.reputation.rep_support import (
    Cast,
    answer,
    ask,
    make_cast,
    reputation_rules,  # noqa: F401  (the real defaults here)
)
from tests.support import Login


async def give(cast: Cast, user: User, total: int) -> None:
    await ReputationTotal.update_or_create(
        project_id=cast.project.id, user_id=user.id,
        defaults={"total": total, "points": total - 1})


async def age(user: User, days: float) -> None:
    await User.filter(id=user.id).update(created_at=datetime.now(UTC) - timedelta(days=days))


def attempt(cast: Cast, user: User, act: Act, **kw: object) -> Attempt:
    return Attempt(act=act, user_id=user.id, project_id=cast.project.id, **kw)  # type: ignore[arg-type]


async def test_thresholds_unlock_privileges(platform: Platform, db: None) -> None:
    cast = await make_cast(rules=None)
    user = cast.users[0]
    await age(user, 30)
    reason = await privilege_refusal(cast.project.id, user.id, Privilege.VOTE_UP, False)
    assert reason == "Vote up needs 15 reputation in this project; you have 1."
    await give(cast, user, 15)
    assert await privilege_refusal(cast.project.id, user.id, Privilege.VOTE_UP, False) is None
    assert "125" in (await privilege_refusal(cast.project.id, user.id, Privilege.VOTE_DOWN,
                                             False) or "")
    assert await privilege_refusal(cast.project.id, user.id, Privilege.MODERATE, True) is None


@pytest.mark.parametrize("act", sorted(ACT_PRIVILEGE, key=str))
async def test_every_gated_act_needs_its_threshold(platform: Platform, db: None,
                                                   act: Act) -> None:
    cast = await make_cast(rules=None)
    user = cast.users[0]
    await age(user, 30)
    threshold = DEFAULT_THRESHOLDS[ACT_PRIVILEGE[act]]
    target = {"target_user_id": cast.users[1].id}
    if threshold > 1:
        await give(cast, user, threshold - 1)
        refused = await platform.refusal(attempt(cast, user, act, **target))
        assert refused is not None and f"needs {threshold} reputation" in refused
        staff = await platform.refusal(attempt(cast, user, act, is_staff=True, **target))
        assert staff is None or "reputation" not in staff
    await give(cast, user, threshold)
    assert await platform.refusal(attempt(cast, user, act, **target)) is None


async def test_thresholds_are_per_project(platform: Platform, db: None) -> None:
    strict = await make_cast(rules=None)
    lenient = await make_cast(rules=None)
    await save_rules(lenient.project.id, ReputationSettings(thresholds={Privilege.VOTE_DOWN: 5}))
    user = strict.users[0]
    await age(user, 30)
    await give(strict, user, 10)
    await give(lenient, user, 10)
    assert await platform.refusal(attempt(strict, user, Act.VOTE_DOWN))
    assert await platform.refusal(attempt(lenient, user, Act.VOTE_DOWN)) is None
    # Reputation earned in one project is no use in another.
    other = await make_cast(rules=None)
    assert await platform.refusal(attempt(other, user, Act.VOTE_UP))


async def test_replying_in_your_own_topic_needs_no_privilege(platform: Platform,
                                                             db: None) -> None:
    cast = await make_cast(rules=None)
    await save_rules(cast.project.id, ReputationSettings(thresholds={Privilege.REPLY: 5}))
    author, stranger = cast.users[:2]
    for user in (author, stranger):
        await age(user, 30)
    question = await ask(cast, author)
    topic_id = question.topic_id  # type: ignore[attr-defined]
    assert await platform.refusal(attempt(cast, author, Act.REPLY, topic_id=topic_id)) is None
    refused = await platform.refusal(attempt(cast, stranger, Act.REPLY, topic_id=topic_id))
    assert refused == ("Reply to other people's topics needs 5 reputation in this project; "
                       "you have 1.")


async def test_new_users_start_few_topics_and_replies_on_their_first_day(
        platform: Platform, db: None) -> None:
    cast = await make_cast(rules=None)
    await save_rules(cast.project.id, ReputationSettings(new_user_max_topics=2,
                                                         new_user_max_replies=1))
    newcomer, veteran, trusted = cast.users[:3]
    await age(veteran, 2)
    await give(cast, trusted, 15)
    questions = [await ask(cast, u) for u in (newcomer, newcomer, veteran, veteran,
                                              trusted, trusted)]
    await answer(questions[2], newcomer)
    for user in (veteran, trusted):
        await answer(questions[0], user)
    refused = await platform.refusal(attempt(cast, newcomer, Act.CREATE_TOPIC))
    assert refused == ("New members may start 2 topics on their first day; please come back "
                       "tomorrow.")
    refused = await platform.refusal(attempt(cast, newcomer, Act.REPLY,
                                             target_user_id=veteran.id))
    assert refused is not None and "1 replies" in refused
    for user in (veteran, trusted):
        assert await platform.refusal(attempt(cast, user, Act.CREATE_TOPIC)) is None
        assert await platform.refusal(attempt(cast, user, Act.REPLY,
                                              target_user_id=newcomer.id)) is None
    assert await platform.refusal(attempt(cast, newcomer, Act.CREATE_TOPIC, is_staff=True)) is None
    # Yesterday's topics no longer count.
    await Topic.filter(author_id=newcomer.id).update(
        created_at=datetime.now(UTC) - timedelta(hours=25))
    assert await platform.refusal(attempt(cast, newcomer, Act.CREATE_TOPIC)) is None


async def test_new_users_links_and_mentions_are_limited(platform: Platform, db: None) -> None:
    cast = await make_cast(rules=None)
    newcomer, veteran = cast.users[:2]
    await age(veteran, 2)
    links = "See https://a.example/x, http://b.example and www.c.example/page."
    mentions = "Thanks @ann, @bob and @cid!"

    def draft(user: User, source: str, staff: bool = False) -> Draft:
        return Draft(project_id=cast.project.id, user_id=user.id, is_staff=staff,
                     source=source)

    blocked = await platform.screen(draft(newcomer, links))
    assert blocked.verdict == Verdict.BLOCK
    assert blocked.reason == "New members may put at most 2 links in a post (this one has 3)."
    blocked = await platform.screen(draft(newcomer, mentions))
    assert blocked.verdict == Verdict.BLOCK and "mention at most 2 people" in blocked.reason
    two = "https://a.example and https://b.example, thanks @ann and @bob"
    assert (await platform.screen(draft(newcomer, two))).verdict == Verdict.ALLOW
    for user, staff in ((veteran, False), (newcomer, True)):
        assert (await platform.screen(draft(user, links, staff))).verdict == Verdict.ALLOW


# Through the real API: the topics verbs ask the gates.


@pytest.fixture
async def cast(client: httpx.AsyncClient) -> Cast:
    cast = await make_cast(rules=None, slug="gated")
    for user in cast.users:
        await add_member(cast.project, user, Role.MEMBER)
        await age(user, 30)
    return cast


async def test_api_refuses_a_privilege_not_held(client: httpx.AsyncClient, cast: Cast,
                                                login: Login) -> None:
    author, stranger = cast.users[:2]
    question = await ask(cast, author)
    topic_id = question.topic_id  # type: ignore[attr-defined]
    await login(stranger)
    closing = await client.patch(f"/api/v1/topics/{topic_id}", json={"state": "closed"})
    assert closing.status_code == 403
    assert closing.json()["error"]["message"].startswith(
        "Close and reopen topics needs 500 reputation")
    assert (await Topic.get(id=topic_id)).state == "open"
    await save_rules(cast.project.id, ReputationSettings(thresholds={Privilege.REPLY: 5}))
    refused = await client.post(f"/api/v1/topics/{topic_id}/posts", json={"source": "Me too"})
    assert refused.status_code == 403 and "needs 5 reputation" in refused.json()["error"]["message"]
    await give(cast, stranger, 5)
    allowed = await client.post(f"/api/v1/topics/{topic_id}/posts", json={"source": "Me too"})
    assert allowed.status_code == 201


async def test_api_blocks_a_new_users_links(client: httpx.AsyncClient, cast: Cast,
                                            login: Login) -> None:
    newcomer = cast.users[0]
    await User.filter(id=newcomer.id).update(created_at=datetime.now(UTC))
    await login(newcomer)
    body = {"title": "Where are the docs?", "category_id": cast.category.id,
            "source": "Tried https://a.example https://b.example https://c.example"}
    refused = await client.post("/api/v1/projects/gated/topics", json=body)
    assert refused.status_code == 422
    assert "at most 2 links" in refused.json()["error"]["message"]
    assert not await Topic.filter(author_id=newcomer.id).exists()
