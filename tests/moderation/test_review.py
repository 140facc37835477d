"""The review queue: held and flagged posts become items; claims; approve, reject, delete;
who may review, and only in their own project."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum.moderation import flags, review
from forum.moderation.audit import AuditEntry
from forum.moderation.models import (
    Flag,
    FlagReason,
    FlagStatus,
    ItemKind,
    ItemStatus,
    ReviewDecision,
    ReviewItem,
)
from forum.moderation.schemas import FlagIn
from forum.projects.models import Role
from forum.topics.hide import hide_post
from forum.topics.models import Post
from forum.topics.service import locate_post
from forum.web.errors import UserError
from tests.factories import add_member, make_user
from tests.moderation.conftest import Privileges, World, make_world


async def hidden_by_flags(world: World) -> ReviewItem:
    for user in world.flaggers:
        await flags.flag_post(world.platform, await locate_post(user, world.answer.id),
                              FlagIn(reason=FlagReason.SPAM))
    return await ReviewItem.get(post_id=world.answer.id)


async def flag_statuses(post_id: int) -> set[str]:
    return {str(f.status) for f in await Flag.filter(post_id=post_id)}


async def test_a_held_post_waits_in_the_queue(world: World) -> None:
    await hide_post(world.platform, world.answer, "Held: first post with links.", None)
    item = await ReviewItem.get(post_id=world.answer.id)
    assert (item.kind, item.status, item.reason) == (
        ItemKind.HELD_POST, ItemStatus.PENDING, "Held: first post with links.")
    entries = await review.pending(world.project)
    assert [e.item.id for e in entries] == [item.id]
    assert entries[0].post is not None and entries[0].post.hidden_at is not None


async def test_approve_shows_the_post_and_disagrees_with_the_flags(world: World) -> None:
    item = await hidden_by_flags(world)
    viewer = await world.viewer(world.moderator)
    decided = await review.decide(world.platform, viewer, world.project, item, "approve")
    assert decided.status == ItemStatus.APPROVED and decided.pending_key is None
    assert (await Post.get(id=world.answer.id)).hidden_at is None
    assert await flag_statuses(world.answer.id) == {FlagStatus.DISAGREED.value}
    assert await review.pending(world.project) == []
    entry = await AuditEntry.get(action="review.approve")
    actor_id = entry.actor_id  # type: ignore[attr-defined]
    assert (actor_id, entry.target_id) == (world.moderator.id, world.answer.id)
    # A new flag after the decision opens a new item.
    await flags.flag_post(world.platform, await locate_post(world.flaggers[0], world.answer.id),
                          FlagIn(reason=FlagReason.OFF_TOPIC))
    assert await ReviewItem.filter(post_id=world.answer.id, status="pending").count() == 1


async def test_reject_deletes_the_post_and_agrees_with_the_flags(world: World) -> None:
    item = await hidden_by_flags(world)
    viewer = await world.viewer(world.moderator)
    await review.decide(world.platform, viewer, world.project, item, "reject", "spam link")
    post = await Post.get(id=world.answer.id)
    assert post.deleted_at is not None
    assert await flag_statuses(post.id) == {FlagStatus.AGREED.value}
    assert (await ReviewItem.get(id=item.id)).status == ItemStatus.REJECTED
    history = await review.history(world.project)
    assert [(d.action, d.note, u.id if u else None) for d, u in history] == [
        ("reject", "spam link", world.moderator.id)]
    # Agreed flags make the flagger trusted next time (after enough of them).
    assert await Flag.filter(flagger_id=world.flaggers[0].id, status="agreed").count() == 1


async def test_delete_closes_flags_unjudged(world: World) -> None:
    item = await hidden_by_flags(world)
    await review.decide(world.platform, await world.viewer(world.moderator), world.project,
                        item, "delete")
    assert (await Post.get(id=world.answer.id)).deleted_at is not None
    assert await flag_statuses(world.answer.id) == {FlagStatus.IGNORED.value}


async def test_a_claim_keeps_other_moderators_off_until_released_or_expired(
        world: World) -> None:
    item = await hidden_by_flags(world)
    second = await make_user()
    await add_member(world.project, second, Role.MODERATOR)
    first_viewer = await world.viewer(world.moderator)
    second_viewer = await world.viewer(second)
    claimed = await review.claim(world.platform, first_viewer, world.project, item)
    assert claimed.claimed_by_id == world.moderator.id  # type: ignore[attr-defined]
    [entry] = await review.pending(world.project)
    assert entry.claimed_by is not None and entry.claimed_by.id == world.moderator.id
    for attempt in (review.claim(world.platform, second_viewer, world.project, item),
                    review.decide(world.platform, second_viewer, world.project, item,
                                  "approve"),
                    review.release(world.platform, second_viewer, world.project, item)):
        with pytest.raises(UserError) as caught:
            await attempt
        assert caught.value.status == 409
        assert world.moderator.username in caught.value.message
    assert (await ReviewItem.get(id=item.id)).status == ItemStatus.PENDING
    assert (await Post.get(id=world.answer.id)).hidden_at is not None
    # Released: the second moderator may claim and decide.
    await review.release(world.platform, first_viewer, world.project, item)
    await review.claim(world.platform, second_viewer, world.project, item)
    # An expired claim no longer holds.
    await ReviewItem.filter(id=item.id).update(
        claimed_until=datetime.now(UTC) - timedelta(seconds=1))
    item = await ReviewItem.get(id=item.id)
    await review.decide(world.platform, first_viewer, world.project, item, "approve")
    actions = [d.action for d in await ReviewDecision.filter(item_id=item.id).order_by("id")]
    assert actions == ["claim", "release", "claim", "approve"]


async def test_a_decided_item_cannot_be_decided_again(world: World) -> None:
    item = await hidden_by_flags(world)
    viewer = await world.viewer(world.moderator)
    await review.decide(world.platform, viewer, world.project, item, "approve")
    item = await ReviewItem.get(id=item.id)
    with pytest.raises(UserError) as caught:
        await review.decide(world.platform, viewer, world.project, item, "reject")
    assert caught.value.status == 409
    assert (await Post.get(id=world.answer.id)).deleted_at is None


async def test_members_without_the_privilege_cannot_review(world: World) -> None:
    item = await hidden_by_flags(world)
    member_viewer = await world.viewer(world.flaggers[0])
    with pytest.raises(UserError) as caught:
        await review.decide(world.platform, member_viewer, world.project, item, "approve")
    assert caught.value.status == 403 and "reputation" in caught.value.message
    assert (await ReviewItem.get(id=item.id)).status == ItemStatus.PENDING


async def test_privileged_reviewers_approve_and_reject_but_do_not_delete(
        world: World, privileges: Privileges) -> None:
    item = await hidden_by_flags(world)
    reviewer = world.outsider
    privileges.reviewers.add(reviewer.id)
    viewer = await world.viewer(reviewer)
    with pytest.raises(UserError) as caught:
        await review.decide(world.platform, viewer, world.project, item, "delete")
    assert caught.value.status == 403
    await review.decide(world.platform, viewer, world.project, item, "reject")
    post = await Post.get(id=world.answer.id)
    assert post.deleted_at is None and post.hidden_at is not None  # stays hidden


async def test_a_moderator_of_another_project_cannot_act_here(world: World) -> None:
    item = await hidden_by_flags(world)
    other = await make_world(world.platform)
    stranger = await other.viewer(other.moderator, world.project)
    for attempt in (review.claim(world.platform, stranger, world.project, item),
                    review.decide(world.platform, stranger, world.project, item, "reject")):
        with pytest.raises(UserError) as caught:
            await attempt
        assert caught.value.status == 403
    # Through their own project, the item is not found.
    with pytest.raises(UserError) as missing:
        await review.access_item(other.project, item.id)
    assert missing.value.status == 404
    assert (await ReviewItem.get(id=item.id)).status == ItemStatus.PENDING
    assert (await Post.get(id=world.answer.id)).deleted_at is None


async def test_a_flagged_user_is_dismissed_or_agreed(world: World) -> None:
    viewer = await world.viewer(world.flaggers[0])
    await flags.flag_user(world.platform, viewer, world.project, world.author.username,
                          FlagIn(reason=FlagReason.CODE_OF_CONDUCT))
    item = await ReviewItem.get(kind=ItemKind.FLAGGED_USER)
    moderator = await world.viewer(world.moderator)
    with pytest.raises(UserError) as caught:
        await review.decide(world.platform, moderator, world.project, item, "delete")
    assert caught.value.status == 422
    await review.decide(world.platform, moderator, world.project, item, "reject")
    assert await Flag.filter(target_user_id=world.author.id, status="agreed").count() == 1


async def test_deleting_a_queued_post_elsewhere_empties_its_item(world: World) -> None:
    from forum.topics.service import delete_post

    item = await hidden_by_flags(world)
    await delete_post(world.platform, await world.viewer(world.moderator),
                      await Post.get(id=world.answer.id))
    assert (await ReviewItem.get(id=item.id)).status == ItemStatus.DELETED
    assert await Flag.filter(post_id=world.answer.id, status="open").count() == 0
