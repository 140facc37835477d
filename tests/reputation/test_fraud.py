"""Vote fraud: locked votes, serial voting reversed with "voting_corrected" entries that
moderators see, and the down-vote ratio limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from forum.gates import Act, Attempt
from forum.platform import Platform
from forum.projects.models import Role
from forum.reputation.config import save_rules
from forum.reputation.fraud import correct_serial_votes, serial_runs
from forum.reputation.models import CorrectedVote, ReputationEntry
from forum.reputation.rebuild import rebuild
from forum.topics.models import Post, Vote
from tests.factories import add_member
from tests.reputation.rep_support import (
    OPEN,
    accept,
    answer,
    ask,
    make_cast,
    rep,
    reputation_rules,  # noqa: F401  (the real defaults here)
    vote,
)
from tests.support import Login


async def test_a_vote_locks_after_five_minutes_unless_the_post_is_edited(
        platform: Platform, db: None) -> None:
    cast = await make_cast()
    author, voter = cast.users[:2]
    post = await ask(cast, author)
    await vote(platform, cast, voter, post, 1)
    again = Attempt(act=Act.VOTE_DOWN, user_id=voter.id, project_id=cast.project.id,
                    post_id=post.id, target_user_id=author.id)
    assert await platform.refusal(again) is None
    cast_at = datetime.now(UTC) - timedelta(minutes=6)
    await Vote.filter(post_id=post.id).update(updated_at=cast_at)
    refused = await platform.refusal(again)
    assert refused == ("Your vote was locked 5 minutes after you cast it; it can change only "
                       "if the post is edited.")
    assert await platform.refusal(Attempt(act=Act.VOTE_UP, user_id=voter.id,
                                          project_id=cast.project.id, post_id=post.id))
    other = Attempt(act=Act.VOTE_UP, user_id=cast.users[2].id, project_id=cast.project.id,
                    post_id=post.id)
    assert await platform.refusal(other) is None  # only the voter's own vote is locked
    await Post.filter(id=post.id).update(edited_at=cast_at + timedelta(minutes=1))
    assert await platform.refusal(again) is None


async def test_heavy_down_voters_may_not_vote_down(platform: Platform, db: None) -> None:
    cast = await make_cast(6)
    await save_rules(cast.project.id, OPEN.model_copy(update={
        "downvote_ratio_min_votes": 4, "downvote_ratio_max": 0.5}))
    voter, *authors = cast.users
    posts = [await ask(cast, a) for a in authors]
    for post in posts[:3]:
        await vote(platform, cast, voter, post, -1)
    down = Attempt(act=Act.VOTE_DOWN, user_id=voter.id, project_id=cast.project.id,
                   post_id=posts[4].id)
    assert await platform.refusal(down) is None  # 3 votes: too few to judge
    await vote(platform, cast, voter, posts[3], -1)
    assert await platform.refusal(down) == (
        "More than 50% of your votes here are down-votes; vote up good posts before voting "
        "down again.")
    up = Attempt(act=Act.VOTE_UP, user_id=voter.id, project_id=cast.project.id,
                 post_id=posts[4].id)
    assert await platform.refusal(up) is None
    staff = Attempt(act=Act.VOTE_DOWN, user_id=voter.id, project_id=cast.project.id,
                    post_id=posts[4].id, is_staff=True)
    assert await platform.refusal(staff) is None
    for post in posts[:4]:
        await vote(platform, cast, voter, post, 1)
    assert await platform.refusal(down) is None


def test_serial_runs_finds_dense_stretches() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    times = [(start + timedelta(hours=h), i) for i, h in enumerate([0, 1, 2, 30, 31, 60])]
    assert serial_runs(times, 3, timedelta(hours=24)) == {0, 1, 2}
    assert serial_runs(times, 2, timedelta(hours=24)) == {0, 1, 2, 3, 4}
    assert serial_runs(times, 4, timedelta(hours=24)) == set()


async def serial_setup(platform: Platform) -> tuple[Any, list[Post], Any]:
    cast = await make_cast(5)
    await save_rules(cast.project.id, OPEN.model_copy(update={"serial_vote_count": 4}))
    target, fan, honest, hater = cast.users[:4]
    questions = [await ask(cast, cast.users[4]) for _ in range(5)]
    answers = [await answer(q, target) for q in questions]
    for post in answers:
        await vote(platform, cast, fan, post, 1)
    for post in answers[:3]:
        await vote(platform, cast, honest, post, 1)
    for post in answers[:4]:
        await vote(platform, cast, hater, post, -1)
    await accept(platform, cast, cast.users[4], questions[0], answers[0])
    return cast, answers, (target, fan, honest, hater)


async def test_serial_voting_is_reversed_by_the_job(platform: Platform, db: None,
                                                    run_jobs: Any) -> None:
    cast, answers, (target, fan, honest, hater) = await serial_setup(platform)
    assert await rep(cast, target) == 1 + 50 + 30 - 8 + 15
    assert await rep(cast, hater) == 1  # -4 for down-voting, floor 1
    await platform.enqueue("reputation.serial_votes")
    await run_jobs()
    # The fan's 5 up-votes and the hater's 4 down-votes are reversed; the honest 3 stay.
    assert await rep(cast, target) == 1 + 30 + 15
    corrected = await ReputationEntry.filter(reason="voting_corrected").order_by("id")
    assert sorted((e.user_id, e.delta) for e in corrected) == sorted(
        [(target.id, -10)] * 5 + [(target.id, 2)] * 4 + [(hater.id, 1)] * 4)
    assert {e.voter_id for e in corrected if e.user_id == target.id} == {fan.id, hater.id}
    assert await CorrectedVote.filter(voter_id=honest.id).count() == 0
    # Found once: the next run and a later change of a corrected vote earn nothing.
    assert await correct_serial_votes(cast.project.id) == 0
    await vote(platform, cast, hater, answers[0], 1)
    assert await rep(cast, target) == 1 + 30 + 15
    assert (await rebuild(cast.project.id, check=True)).differences == []


async def test_votes_spread_out_are_not_serial(platform: Platform, db: None) -> None:
    cast = await make_cast(3)
    await save_rules(cast.project.id, OPEN.model_copy(update={"serial_vote_count": 4}))
    target, fan, asker = cast.users
    now = datetime.now(UTC)
    for i in range(5):
        post = await answer(await ask(cast, asker), target)
        await vote(platform, cast, fan, post, 1)
        await Vote.filter(post_id=post.id).update(created_at=now - timedelta(hours=10 * i))
    assert await correct_serial_votes(cast.project.id) == 0
    assert await rep(cast, target) == 51


async def test_moderators_see_who_voted_in_the_history(platform: Platform,
                                                       client: httpx.AsyncClient,
                                                       login: Login) -> None:
    cast, _, (target, fan, _, _) = await serial_setup(platform)
    await correct_serial_votes(cast.project.id)
    url = f"/p/{cast.project.slug}/u/{target.username}/reputation"
    api = f"/api/v1/projects/{cast.project.slug}/users/{target.username}/reputation"
    await login(cast.moderator)
    page = await client.get(url)
    assert page.status_code == 200
    assert page.text.count('data-reason="voting_corrected"') == 9
    assert f"<td>{fan.username}</td>" in page.text
    entries = (await client.get(api)).json()["entries"]
    assert {e["voter"] for e in entries if e["reason"] == "voting_corrected"} == {
        fan.username, cast.users[3].username}
    await login(cast.users[2])
    page = await client.get(url)
    assert page.text.count('data-reason="voting_corrected"') == 9
    assert fan.username not in page.text
    entries = (await client.get(api)).json()["entries"]
    assert {e["voter"] for e in entries} == {None}
    await add_member(cast.project, cast.users[2], Role.MEMBER)
    assert fan.username not in (await client.get(url)).text


async def test_the_vote_api_enforces_privileges_locks_and_the_ratio(
        client: httpx.AsyncClient, login: Login) -> None:
    cast = await make_cast(4, slug="votes", rules=None)
    author, voter = cast.users[:2]
    for user in cast.users:
        await add_member(cast.project, user, Role.MEMBER)
    post = await ask(cast, author)
    url = f"/api/v1/posts/{post.id}/vote"
    await login(voter)
    refused = await client.post(url, json={"value": 1})
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == (
        "Vote up needs 15 reputation in this project; you have 1.")
    assert not await Vote.exists(post_id=post.id)
    await save_rules(cast.project.id, OPEN.model_copy(update={
        "downvote_ratio_min_votes": 2, "downvote_ratio_max": 0.4}))
    assert (await client.post(url, json={"value": 1})).status_code == 200
    assert await rep(cast, author) == 11
    await Vote.filter(post_id=post.id).update(updated_at=datetime.now(UTC) - timedelta(minutes=6))
    for value in (-1, 0):
        locked = await client.post(url, json={"value": value})
        assert locked.status_code == 403 and "locked" in locked.json()["error"]["message"]
    assert (await Vote.get(post_id=post.id)).value == 1 and await rep(cast, author) == 11
    others = [await ask(cast, author) for _ in range(2)]
    assert (await client.post(f"/api/v1/posts/{others[0].id}/vote",
                              json={"value": -1})).status_code == 200
    too_many = await client.post(f"/api/v1/posts/{others[1].id}/vote", json={"value": -1})
    assert too_many.status_code == 403 and "down-votes" in too_many.json()["error"]["message"]


async def test_the_daily_vote_limit(platform: Platform, db: None,
                                    client: httpx.AsyncClient, login: Login) -> None:
    cast = await make_cast(4)
    await save_rules(cast.project.id, OPEN.model_copy(update={"votes_per_day": 3}))
    voter, author = cast.users[0], cast.users[1]
    posts = [await ask(cast, author) for _ in range(5)]
    await login(voter)
    for post in posts[:3]:
        response = await client.post(f"/api/v1/posts/{post.id}/vote", json={"value": 1})
        assert response.status_code == 200, response.text
    refused = await client.post(f"/api/v1/posts/{posts[3].id}/vote", json={"value": 1})
    assert refused.status_code == 403
    assert "3 votes for today" in refused.json()["error"]["message"]
    assert not await Vote.exists(post_id=posts[3].id, user_id=voter.id)
    # Changing a vote already cast is not a new vote.
    changed = await client.post(f"/api/v1/posts/{posts[0].id}/vote", json={"value": -1})
    assert changed.status_code == 200, changed.text
    # Yesterday's votes do not count.
    await Vote.filter(user_id=voter.id).update(
        created_at=datetime.now(UTC) - timedelta(days=1))
    again = await client.post(f"/api/v1/posts/{posts[3].id}/vote", json={"value": 1})
    assert again.status_code == 200, again.text
