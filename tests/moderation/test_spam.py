"""Spam defences: watched words (block, hold, replace), duplicate posts, posting limits per
user and per address, and external checkers through ``forum_spam_check``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from forum.gates import Draft, Screening, Verdict
from forum.hookspecs import hookimpl
from forum.moderation import watched_words
from forum.moderation.audit import AuditEntry
from forum.moderation.models import ItemKind, PostingTrace, ReviewItem, WatchedWord, WordAction
from forum.moderation.schemas import ModerationSettings, WatchedWordIn, save_settings
from forum.platform import Platform
from forum.topics.models import Post
from forum.topics.schemas import ReplyIn
from forum.topics.service import reply
from forum.web.errors import UserError
from tests.moderation.conftest import World


async def watch(world: World, word: str, action: WordAction, replacement: str = "") -> None:
    await watched_words.add_word(world.project, world.owner,
                                 WatchedWordIn(word=word, action=action,
                                               replacement=replacement))


async def post(world: World, index: int, source: str, ip: str | None = None) -> Post:
    viewer = await world.viewer(world.flaggers[index])
    return await reply(world.platform, viewer, world.topic, ReplyIn(source=source), ip=ip)


async def refused(world: World, index: int, source: str, ip: str | None = None) -> UserError:
    before = await Post.all().count()
    with pytest.raises(UserError) as caught:
        await post(world, index, source, ip)
    assert await Post.all().count() == before
    return caught.value


async def test_a_blocked_word_refuses_the_post(world: World) -> None:
    await watch(world, "casino*", WordAction.BLOCK)
    error = await refused(world, 0, "The best CASINOS are here, friend.")
    assert error.status == 422 and "casino*" in error.message
    assert (await post(world, 0, "A casual reply about casing.")).id


async def test_a_held_word_stores_the_post_hidden_for_review(world: World) -> None:
    await watch(world, "free money", WordAction.HOLD)
    held = await post(world, 0, "Get free   money with this trick.")
    held = await Post.get(id=held.id)
    assert held.hidden_at is not None and held.held
    item = await ReviewItem.get(post_id=held.id)
    assert item.kind == ItemKind.HELD_POST and "free money" in item.reason


async def test_a_replaced_word_is_rewritten(world: World) -> None:
    await watch(world, "darn", WordAction.REPLACE, "d*rn")
    made = await post(world, 0, "Darn, this darned thing.")
    assert (await Post.get(id=made.id)).source == "d*rn, this darned thing."


async def test_the_team_is_not_screened(world: World) -> None:
    await watch(world, "casino", WordAction.BLOCK)
    viewer = await world.viewer(world.moderator)
    made = await reply(world.platform, viewer, world.topic, ReplyIn(source="casino rules"))
    assert made.id


async def test_watched_word_list_is_validated_and_audited(world: World) -> None:
    await watch(world, "  Spam  Word ", WordAction.HOLD)
    assert [w.word for w in await WatchedWord.all()] == ["spam word"]
    with pytest.raises(UserError) as twice:
        await watch(world, "spam word", WordAction.BLOCK)
    assert twice.value.status == 409
    with pytest.raises(UserError) as no_replacement:
        await watch(world, "heck", WordAction.REPLACE)
    assert no_replacement.value.status == 422 and "replacement" in no_replacement.value.fields
    word = await WatchedWord.get(word="spam word")
    await watched_words.remove_word(world.project, world.owner, word.id)
    assert await WatchedWord.all().count() == 0
    assert [e.action for e in await AuditEntry.all().order_by("id")] == [
        "watched_words.add", "watched_words.remove"]


async def test_the_same_text_twice_is_refused_within_the_window(world: World) -> None:
    await post(world, 0, "Have you tried turning it off and on again?")
    error = await refused(world, 0, "Have you tried  turning it off and on again?")
    assert error.status == 422 and "same text" in error.message
    # Someone else may say the same thing.
    await post(world, 1, "Have you tried turning it off and on again?")
    await save_settings(world.project.id, ModerationSettings(duplicate_window_minutes=0))
    await post(world, 0, "Have you tried turning it off and on again?")


async def test_posting_too_fast_is_refused_per_user(world: World) -> None:
    await save_settings(world.project.id, ModerationSettings(posts_per_user=2))
    await post(world, 0, "First reply.")
    await post(world, 0, "Second reply.")
    error = await refused(world, 0, "Third reply.")
    assert error.status == 403 and "too fast" in error.message
    await post(world, 1, "Another person is not limited by the first.")
    viewer = await world.viewer(world.moderator)
    for n in range(3):
        await reply(world.platform, viewer, world.topic, ReplyIn(source=f"Team reply {n}."))


async def test_posting_too_fast_is_refused_per_address(world: World) -> None:
    await save_settings(world.project.id, ModerationSettings(posts_per_ip=2))
    await post(world, 0, "From the cafe.", ip="203.0.113.9")
    await post(world, 1, "Also from the cafe.", ip="203.0.113.9")
    error = await refused(world, 2, "Me too, from the cafe.", ip="203.0.113.9")
    assert error.status == 422 and "network address" in error.message
    await post(world, 2, "From home.", ip="198.51.100.7")
    assert await PostingTrace.filter(ip="203.0.113.9").count() == 2


class Checker:
    PLUGIN_NAME = "spam-checker"

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict
        self.seen: list[Draft] = []

    @hookimpl
    async def forum_spam_check(self, draft: Draft, platform: Platform) -> Screening | None:
        self.seen.append(draft)
        if "viagra" in draft.source:
            return Screening(self.verdict, "The external checker thinks this is spam.")
        return None


@pytest.fixture
def checker(platform: Platform, request: pytest.FixtureRequest) -> Iterator[Checker]:
    found = Checker(request.param)
    platform.plugins.pm.register(found, name=found.PLUGIN_NAME)
    yield found
    platform.plugins.pm.unregister(found)


@pytest.mark.parametrize("checker", [Verdict.BLOCK], indirect=True)
async def test_an_external_checker_blocks(world: World, checker: Checker) -> None:
    error = await refused(world, 0, "cheap viagra here")
    assert error.status == 422 and "external checker" in error.message
    await post(world, 0, "An honest reply.")
    assert [d.source for d in checker.seen][-1] == "An honest reply."


@pytest.mark.parametrize("checker", [Verdict.HOLD], indirect=True)
async def test_an_external_checker_holds(world: World, checker: Checker) -> None:
    held = await post(world, 0, "cheap viagra here")
    assert (await Post.get(id=held.id)).hidden_at is not None
    assert (await ReviewItem.get(post_id=held.id)).kind == ItemKind.HELD_POST
