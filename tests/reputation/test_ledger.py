"""The ledger: Stack Overflow's point values, reversals, the daily cap and the floor, and
that recounting a post twice writes nothing."""

from __future__ import annotations

from forum.platform import Platform
from forum.reputation.config import save_rules
from forum.reputation.ledger import Cause, reconcile_post
from forum.reputation.models import Reason, ReputationEntry
from forum.reputation.schemas import ReputationSettings
from forum.topics.models import Topic, TopicKind
from forum.topics.service import delete_topic, load_viewer, restore_topic
from tests.reputation.rep_support import (
    OPEN,
    accept,
    answer,
    ask,
    delete,
    ledger_total,
    make_cast,
    rep,
    reputation_rules,  # noqa: F401  (the real defaults here)
    restore,
    vote,
)


async def reasons(cast_project_id: int, user_id: int) -> list[tuple[int, str]]:
    rows = await ReputationEntry.filter(project_id=cast_project_id, user_id=user_id
                                        ).order_by("id").values_list("delta", "reason")
    return [(int(d), str(r)) for d, r in rows]


async def test_stack_overflow_point_values(platform: Platform, db: None) -> None:
    cast = await make_cast()
    asker, helper, voter, other = cast.users
    question = await ask(cast, asker)
    reply = await answer(question, helper)
    await vote(platform, cast, voter, question, 1)
    assert await rep(cast, asker) == 11  # question up +10
    await vote(platform, cast, voter, reply, 1)
    assert await rep(cast, helper) == 11  # answer up +10
    await vote(platform, cast, other, reply, -1)
    assert await rep(cast, helper) == 9  # post down -2
    assert await rep(cast, other) == 1  # -1 for the voter, held at the floor of 1
    await vote(platform, cast, helper, question, -1)
    assert await rep(cast, asker) == 9
    assert await reasons(cast.project.id, helper.id) == [
        (10, "upvoted"), (-2, "downvoted")]  # a down-vote on a question costs nothing
    await accept(platform, cast, asker, question, reply)
    assert await rep(cast, helper) == 9 + 15
    assert await rep(cast, asker) == 9 + 2
    assert (await reasons(cast.project.id, asker.id))[-1] == (2, "accepted_other")


async def test_the_voter_pays_for_down_voting_an_answer(platform: Platform, db: None) -> None:
    cast = await make_cast()
    asker, helper, voter, _ = cast.users
    question = await ask(cast, asker)
    reply = await answer(question, helper)
    await vote(platform, cast, asker, question, 0)  # no change: nothing happens
    for post in (question, reply):
        await vote(platform, cast, voter, post, 1)
    assert await rep(cast, voter) == 1
    await vote(platform, cast, voter, reply, -1)  # change of mind: +10 back out, -2 in
    assert await rep(cast, helper) == 1  # 10 - 10 - 2 = -2, floor 1
    assert await reasons(cast.project.id, voter.id) == [(-1, "downvoted_other")]
    assert await ledger_total(cast, voter) == 0  # the ledger keeps the real sum
    await vote(platform, cast, voter, reply, 0)
    assert await reasons(cast.project.id, voter.id) == [(-1, "downvoted_other"),
                                                         (1, "unvoted")]
    assert await rep(cast, helper) == 1
    assert await ledger_total(cast, helper) == 1


async def test_self_accept_earns_nothing_and_acceptance_moves(platform: Platform,
                                                              db: None) -> None:
    cast = await make_cast()
    asker, first, second, _ = cast.users
    question = await ask(cast, asker)
    own = await answer(question, asker)
    a1 = await answer(question, first)
    a2 = await answer(question, second)
    await accept(platform, cast, asker, question, own)
    assert await rep(cast, asker) == 1
    assert not await ReputationEntry.exists(project_id=cast.project.id)
    await accept(platform, cast, asker, question, a1)
    assert (await rep(cast, first), await rep(cast, asker)) == (16, 3)
    await accept(platform, cast, asker, question, a2)
    assert (await rep(cast, first), await rep(cast, second), await rep(cast, asker)) == (
        1, 16, 3)
    assert await reasons(cast.project.id, first.id) == [(15, "accepted"), (-15, "unaccepted")]
    await accept(platform, cast, asker, question, None)
    assert (await rep(cast, second), await rep(cast, asker)) == (1, 1)


async def test_a_maintainer_accepting_credits_the_asker(platform: Platform, db: None) -> None:
    cast = await make_cast()
    asker, helper, _, _ = cast.users
    question = await ask(cast, asker)
    reply = await answer(question, helper)
    await accept(platform, cast, cast.owner, question, reply)
    assert (await rep(cast, helper), await rep(cast, asker), await rep(cast, cast.owner)) == (
        16, 3, 1)


async def test_deleting_a_post_reverses_what_it_earned_and_restoring_regrants(
        platform: Platform, db: None) -> None:
    cast = await make_cast()
    asker, helper, v1, v2 = cast.users
    question = await ask(cast, asker)
    reply = await answer(question, helper)
    await vote(platform, cast, v1, reply, 1)
    await vote(platform, cast, v2, reply, -1)
    await accept(platform, cast, asker, question, reply)
    assert await rep(cast, helper) == 1 + 10 - 2 + 15
    await delete(platform, cast, reply)
    assert await rep(cast, helper) == 1
    assert await rep(cast, asker) == 1  # the acceptance went with the answer
    assert await ledger_total(cast, v2) == 1  # the down-vote's cost refunded
    helper_rows = await reasons(cast.project.id, helper.id)
    assert [r for _, r in helper_rows[-3:]] == ["post_deleted"] * 3
    await restore(platform, cast, reply)
    # Votes come back; the acceptance was withdrawn by the deletion and stays withdrawn.
    assert await rep(cast, helper) == 1 + 10 - 2
    assert {r for _, r in (await reasons(cast.project.id, helper.id))[-2:]} == {
        "post_restored"}


async def test_deleting_the_topic_reverses_its_posts(platform: Platform, db: None) -> None:
    cast = await make_cast()
    asker, helper, voter, _ = cast.users
    question = await ask(cast, asker)
    reply = await answer(question, helper)
    await vote(platform, cast, voter, question, 1)
    await vote(platform, cast, voter, reply, 1)
    topic = await Topic.get(id=question.topic_id)  # type: ignore[attr-defined]
    moderator = await load_viewer(cast.moderator, cast.project)
    await delete_topic(platform, moderator, topic)
    assert (await rep(cast, asker), await rep(cast, helper)) == (1, 1)
    await restore_topic(platform, moderator, await Topic.get(id=topic.id))
    assert (await rep(cast, asker), await rep(cast, helper)) == (11, 11)


async def test_daily_cap_counts_up_votes_only_and_not_acceptances(
        platform: Platform, db: None) -> None:
    cast = await make_cast(6)
    await save_rules(cast.project.id, OPEN.model_copy(update={"daily_cap": 25}))
    asker, helper, *voters = cast.users
    question = await ask(cast, asker)
    reply = await answer(question, helper)
    for voter in voters:
        await vote(platform, cast, voter, reply, 1)
    assert await rep(cast, helper) == 1 + 25
    capped = await ReputationEntry.filter(user_id=helper.id).order_by("id").values_list(
        "points", "delta")
    assert [(int(p), int(d)) for p, d in capped] == [(10, 10), (10, 10), (10, 5), (10, 0)]
    await vote(platform, cast, voters[0], reply, 0)  # raw 30: still capped at 25
    assert await rep(cast, helper) == 26
    await vote(platform, cast, voters[1], reply, 0)  # raw 20
    assert await rep(cast, helper) == 21
    await vote(platform, cast, voters[2], reply, -1)  # raw 10 and a down-vote
    assert await rep(cast, helper) == 1 + 10 - 2
    await accept(platform, cast, asker, question, reply)  # exempt from the cap
    assert await rep(cast, helper) == 1 + 10 - 2 + 15


async def test_recounting_twice_writes_nothing(platform: Platform, db: None) -> None:
    cast = await make_cast()
    asker, helper, voter, _ = cast.users
    question = await ask(cast, asker)
    reply = await answer(question, helper)
    await vote(platform, cast, voter, reply, 1)
    before = await ReputationEntry.all().count()
    for cause in Cause:
        assert await reconcile_post(reply.id, cause) == []
    assert await ReputationEntry.all().count() == before


async def test_point_values_are_per_project(platform: Platform, db: None) -> None:
    cast = await make_cast()
    other = await make_cast()
    await save_rules(cast.project.id, ReputationSettings(
        answer_upvote=7, thresholds=OPEN.thresholds, new_user_hours=0))
    for c in (cast, other):
        question = await ask(c, c.users[0])
        reply = await answer(question, c.users[1])
        await vote(platform, c, c.users[2], reply, 1)
    assert await rep(cast, cast.users[1]) == 8
    assert await rep(other, other.users[1]) == 11
    assert await rep(cast, other.users[1]) == 1  # reputation is per project


async def test_discussion_replies_earn_answer_values(platform: Platform, db: None) -> None:
    cast = await make_cast()
    opening = await ask(cast, cast.users[0], TopicKind.DISCUSSION)
    await vote(platform, cast, cast.users[1], opening, -1)
    # A discussion's opening post is not a question: down-voting it costs the voter.
    assert await ledger_total(cast, cast.users[1]) == 0
    assert Reason.DOWNVOTED_OTHER in {r for _, r in await reasons(cast.project.id,
                                                                  cast.users[1].id)}


async def test_triage_recounts_a_changed_kind_and_merged_posts(platform: Platform,
                                                               db: None) -> None:
    from forum.topics.triage import change_kind, merge_topic

    cast = await make_cast()
    await save_rules(cast.project.id, OPEN.model_copy(update={"question_upvote": 5}))
    asker, helper, voter, _ = cast.users
    question = await ask(cast, asker)
    reply = await answer(question, helper)
    await vote(platform, cast, voter, question, -1)
    await accept(platform, cast, asker, question, reply)
    assert (await rep(cast, helper), await ledger_total(cast, voter)) == (16, 1)
    moderator = await load_viewer(cast.owner, cast.project)
    topic = await Topic.get(id=question.topic_id)  # type: ignore[attr-defined]
    await change_kind(platform, moderator, topic, TopicKind.DISCUSSION)
    # No longer a question: no accepted answer, and down-voting its opening post costs 1.
    assert (await rep(cast, helper), await ledger_total(cast, voter)) == (1, 0)
    duplicate = await ask(cast, helper)
    await vote(platform, cast, voter, duplicate, 1)
    assert await rep(cast, helper) == 6  # a question's up-vote: 5 here
    await merge_topic(platform, moderator, await Topic.get(id=duplicate.topic_id),  # type: ignore[attr-defined]
                      topic.id)
    assert await rep(cast, helper) == 11  # now a reply: an answer's 10
    assert await reconcile_post(duplicate.id, Cause.RECOUNT) == []
