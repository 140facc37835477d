"""``forum reputation rebuild``: the recount from votes and acceptances equals the
materialised totals after a long random history, and repairs totals that drifted."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tortoise import Tortoise

from forum.cli import cli
from forum.db import init_db
from forum.platform import Platform
from forum.reputation.config import save_rules
from forum.reputation.fraud import correct_serial_votes
from forum.reputation.models import (
    CorrectedVote,
    ReputationEntry,
    ReputationMonth,
    ReputationTotal,
)
from forum.reputation.rebuild import rebuild
from forum.topics.models import Post, Topic
from forum.web.errors import UserError
from tests.reputation.rep_support import (
    OPEN,
    Cast,
    accept,
    answer,
    ask,
    delete,
    ledger_total,
    make_cast,
    reputation_rules,  # noqa: F401  (the real defaults here)
    restore,
    totals,
    vote,
)

OPS = 300


async def random_history(platform: Platform, cast: Cast, rng: random.Random) -> dict[str, int]:
    """Votes, un-votes, vote changes, acceptances and their changes, deletions, restores and
    serial voting reversed, in a seeded random order."""
    users = cast.users
    questions = [await ask(cast, rng.choice(users)) for _ in range(4)]
    answers: dict[int, list[Post]] = {}
    for q in questions:
        answers[q.id] = [await answer(q, rng.choice(users)) for _ in range(3)]
    posts = questions + [a for group in answers.values() for a in group]
    done: dict[str, int] = {}
    for _ in range(OPS):
        op = rng.choices(["vote", "accept", "delete", "restore", "serial"],
                         weights=[70, 12, 6, 8, 4])[0]
        if op == "vote":
            post = rng.choice(posts)
            voters = [u for u in users if u.id != post.author_id]  # type: ignore[attr-defined]
            await vote(platform, cast, rng.choice(voters), post, rng.choice([-1, 0, 1, 1]))
        elif op == "accept":
            q = rng.choice(questions)
            topic = await Topic.get(id=q.topic_id)  # type: ignore[attr-defined]
            gone = await deleted_ids()
            live = [a for a in answers[q.id] if a.id not in gone]
            if topic.deleted_at is not None:
                continue
            choice = rng.choice([*live, None]) if live else None
            await accept(platform, cast, rng.choice([topic_author(topic, users), cast.owner]),
                         q, choice)
        elif op == "delete":
            await delete(platform, cast, rng.choice(posts))
        elif op == "restore":
            gone = await deleted_ids()
            deleted = [p for p in posts if p.id in gone]
            if not deleted:
                continue
            try:
                await restore(platform, cast, rng.choice(deleted))
            except UserError:  # an answer of a deleted question: restore the topic first
                continue
        else:
            author = rng.choice(users)
            theirs = [p for p in posts if p.author_id == author.id]  # type: ignore[attr-defined]
            voter = rng.choice([u for u in users if u.id != author.id])
            for post in theirs:
                await vote(platform, cast, voter, post, 1)
            await correct_serial_votes(cast.project.id)
        done[op] = done.get(op, 0) + 1
    return done


async def deleted_ids() -> set[int]:
    return {int(i) for (i,) in await Post.filter(deleted_at__isnull=False).values_list("id")}


def topic_author(topic: Topic, users: list[Any]) -> Any:
    return next(u for u in users if u.id == topic.author_id)  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", [2026])
async def test_rebuild_equals_the_materialised_totals_after_a_random_history(
        platform: Platform, db: None, seed: int) -> None:
    cast = await make_cast(5)
    await save_rules(cast.project.id, OPEN.model_copy(update={
        "daily_cap": 45, "serial_vote_count": 3}))
    done = await random_history(platform, cast, random.Random(seed))
    assert done.get("vote", 0) > 150 and done.get("accept", 0) > 10
    assert await CorrectedVote.filter(project_id=cast.project.id).exists()
    assert await ReputationEntry.filter(reason="voting_corrected").exists()
    assert await ReputationEntry.filter(reason="post_deleted").exists()
    assert await ReputationEntry.filter(delta__lt=0, reason="unaccepted").exists()

    report = await rebuild(cast.project.id, check=True)
    materialised = await totals(cast)
    assert report.differences == [] and report.months_repaired == []
    assert {u: t for u, t in report.totals.items()} == {
        u: materialised.get(u, 1) for u in report.totals}
    for user in cast.users:
        assert max(1, await ledger_total(cast, user)) == materialised.get(user.id, 1)
    assert any(t > 1 for t in materialised.values())
    # The monthly figures leaderboards read add up to the ledger.
    for user in cast.users:
        months = await ReputationMonth.filter(project_id=cast.project.id, user_id=user.id)
        entries = await ReputationEntry.filter(project_id=cast.project.id, user_id=user.id)
        assert sum(m.gained for m in months) == sum(e.delta for e in entries)
        assert sum(m.accepted for m in months) == sum(
            (1 if e.points > 0 else -1) for e in entries if e.kind == "accept")


async def test_rebuild_reports_and_repairs_drifted_totals(platform: Platform, db: None) -> None:
    cast = await make_cast()
    asker, helper, voter, _ = cast.users
    question = await ask(cast, asker)
    reply = await answer(question, helper)
    await vote(platform, cast, voter, reply, 1)
    await accept(platform, cast, asker, question, reply)
    await ReputationTotal.filter(user_id=helper.id).update(total=999, points=998)
    report = await rebuild(cast.project.id, check=True)
    assert [(d.user_id, d.materialised, d.ledger, d.recount) for d in report.differences] == [
        (helper.id, 999, 26, 26)]
    assert (await ReputationTotal.get(user_id=helper.id)).total == 999  # check changes nothing
    report = await rebuild(cast.project.id)
    assert (await ReputationTotal.get(user_id=helper.id)).total == 26
    assert (await rebuild(cast.project.id, check=True)).differences == []
    # The monthly leaderboard figures are checked against the ledger and derived again.
    await ReputationMonth.filter(user_id=helper.id).update(gained=7, accepted=5)
    assert (await rebuild(cast.project.id, check=True)).months_repaired == [helper.id]
    assert (await rebuild(cast.project.id)).months_repaired == [helper.id]
    [month] = await ReputationMonth.filter(user_id=helper.id)
    assert (month.gained, month.accepted) == (25, 1)
    assert (await rebuild(cast.project.id, check=True)).months_repaired == []


@pytest.fixture
def forum(tmp_path: Path, database_url: str) -> Callable[..., Result]:
    env = {"FORUM_DATABASE_URL": database_url, "FORUM_DATA_DIR": str(tmp_path),
           "FORUM_SECRET_KEY": "test-secret-key-not-for-production",
           "FORUM_CONFIG_FILE": str(tmp_path / "absent.toml"), "FORUM_REDIS_URL": ""}

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return run


def with_db(platform: Platform, work: Callable[[], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        await init_db(platform.settings, platform.plugins)
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(main())


def test_the_rebuild_command(platform: Platform, forum: Callable[..., Result]) -> None:
    async def setup() -> int:
        cast = await make_cast(slug="ledgerly")
        question = await ask(cast, cast.users[0])
        await vote(platform, cast, cast.users[1], question, 1)
        await ReputationTotal.filter(user_id=cast.users[0].id).update(total=5)
        return cast.users[0].id

    user_id = with_db(platform, setup)
    checked = forum("reputation", "rebuild", "--project", "ledgerly", "--check")
    assert checked.exit_code == 1
    assert f"user {user_id}: stored 5, ledger 11, recount 11" in checked.output
    fixed = forum("reputation", "rebuild", "--project", "ledgerly")
    assert fixed.exit_code == 0 and "totals set to the recount" in fixed.output
    again = forum("reputation", "rebuild")
    assert again.exit_code == 0 and "ledgerly: " in again.output and "0 differences" in again.output
    missing = forum("reputation", "rebuild", "--project", "nope")
    assert missing.exit_code == 1 and "no such project" in missing.output
