"""Flags on posts and users: who may flag, one open flag per target, weights and hiding."""

from __future__ import annotations

import pytest

from forum.moderation import flags
from forum.moderation.audit import AuditEntry
from forum.moderation.models import Flag, FlagReason, FlagStatus, ItemKind, ReviewItem
from forum.moderation.schemas import FlagIn, ModerationSettings, save_settings
from forum.topics.models import Post
from forum.topics.service import locate_post
from forum.web.errors import UserError
from tests.moderation.conftest import Privileges, World

SPAM = FlagIn(reason=FlagReason.SPAM)


async def flag(world: World, user_index: int, post: Post, data: FlagIn = SPAM
               ) -> flags.Flagged:
    user = world.flaggers[user_index]
    return await flags.flag_post(world.platform, await locate_post(user, post.id), data)


async def test_spam_flags_from_three_users_hide_the_post_pending_review(world: World) -> None:
    first = await flag(world, 0, world.answer)
    second = await flag(world, 1, world.answer)
    assert not first.post_hidden and not second.post_hidden
    assert (await Post.get(id=world.answer.id)).hidden_at is None
    third = await flag(world, 2, world.answer)
    assert third.post_hidden
    post = await Post.get(id=world.answer.id)
    assert post.hidden_at is not None
    items = await ReviewItem.filter(post_id=post.id)
    assert [(i.kind, i.status) for i in items] == [(ItemKind.FLAGGED_POST, "pending")]
    assert await Flag.filter(post_id=post.id, status=FlagStatus.OPEN).count() == 3
    entry = await AuditEntry.get(action="flags.hide_post")
    assert (entry.target_id, entry.actor_id) == (post.id, None)  # type: ignore[attr-defined]


async def test_off_topic_flags_do_not_hide(world: World) -> None:
    for i in range(3):
        await flag(world, i, world.answer, FlagIn(reason=FlagReason.OFF_TOPIC))
    assert (await Post.get(id=world.answer.id)).hidden_at is None
    assert await ReviewItem.filter(post_id=world.answer.id).count() == 1


async def test_a_moderator_flag_weighs_enough_alone(world: World) -> None:
    found = await locate_post(world.moderator, world.answer.id)
    flagged = await flags.flag_post(world.platform, found, SPAM)
    assert flagged.flag.weight == 3 and flagged.post_hidden


async def test_trusted_flaggers_weigh_two(world: World) -> None:
    await save_settings(world.project.id, ModerationSettings(trusted_flagger_agreed=2))
    trusted = world.flaggers[0]
    for post in (world.opening, world.answer):
        await Flag.create(project_id=world.project.id, flagger_id=trusted.id,
                          target_type="post", post_id=post.id,
                          target_user_id=world.author.id, reason=FlagReason.SPAM,
                          status=FlagStatus.AGREED)
    extra = await world.post_by(world.outsider, "Another reply that gets flagged.")
    first = await flag(world, 0, extra)
    assert first.flag.weight == 2 and not first.post_hidden
    second = await flag(world, 1, extra)
    assert second.flag.weight == 1 and second.post_hidden


async def test_sensitivity_zero_never_hides(world: World) -> None:
    await save_settings(world.project.id, ModerationSettings(hide_threshold=0))
    for i in range(3):
        assert not (await flag(world, i, world.answer)).post_hidden
    assert (await Post.get(id=world.answer.id)).hidden_at is None


async def test_flagging_the_same_post_twice_is_refused(world: World) -> None:
    await flag(world, 0, world.answer)
    with pytest.raises(UserError) as caught:
        await flag(world, 0, world.answer, FlagIn(reason=FlagReason.OFF_TOPIC))
    assert caught.value.status == 409
    assert "already flagged" in caught.value.message
    assert await Flag.filter(post_id=world.answer.id).count() == 1


async def test_own_post_cannot_be_flagged(world: World) -> None:
    found = await locate_post(world.author, world.answer.id)
    with pytest.raises(UserError) as caught:
        await flags.flag_post(world.platform, found, SPAM)
    assert caught.value.status == 403 and "own post" in caught.value.message
    assert await Flag.all().count() == 0
    assert await ReviewItem.all().count() == 0


async def test_needs_moderator_needs_a_note(world: World) -> None:
    with pytest.raises(UserError) as caught:
        await flag(world, 0, world.answer, FlagIn(reason=FlagReason.NEEDS_MODERATOR))
    assert caught.value.status == 422 and "note" in caught.value.fields
    noted = await flag(world, 0, world.answer,
                       FlagIn(reason=FlagReason.NEEDS_MODERATOR, note="  Legal issue.  "))
    assert noted.flag.note == "Legal issue."


async def test_without_the_flag_privilege_nothing_is_flagged(
        world: World, privileges: Privileges) -> None:
    privileges.no_flag.add(world.flaggers[0].id)
    with pytest.raises(UserError) as caught:
        await flag(world, 0, world.answer)
    assert caught.value.status == 403 and "reputation" in caught.value.message
    assert await Flag.all().count() == 0


async def test_a_hidden_post_is_not_flaggable_by_others(world: World) -> None:
    from forum.topics.hide import hide_post

    await hide_post(world.platform, world.answer, "Waiting.", None)
    with pytest.raises(UserError) as caught:
        await flag(world, 0, await Post.get(id=world.answer.id))
    assert caught.value.status == 404


async def test_flag_a_user(world: World) -> None:
    viewer = await world.viewer(world.flaggers[0])
    data = FlagIn(reason=FlagReason.CODE_OF_CONDUCT, note="Rude in every thread.")
    made = await flags.flag_user(world.platform, viewer, world.project,
                                 world.author.username.upper(), data)
    assert made.target_user_id == world.author.id  # type: ignore[attr-defined]
    item = await ReviewItem.get(kind=ItemKind.FLAGGED_USER)
    assert item.target_user_id == world.author.id  # type: ignore[attr-defined]
    with pytest.raises(UserError) as again:
        await flags.flag_user(world.platform, viewer, world.project, world.author.username,
                              data)
    assert again.value.status == 409
    with pytest.raises(UserError) as self_flag:
        await flags.flag_user(world.platform, viewer, world.project,
                              world.flaggers[0].username, data)
    assert self_flag.value.status == 403
    with pytest.raises(UserError) as nobody:
        await flags.flag_user(world.platform, viewer, world.project, "nobody-here", data)
    assert nobody.value.status == 404
    assert await Flag.all().count() == 1
