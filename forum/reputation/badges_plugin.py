"""Badges: the built-in rules, the models, pages, jobs and the events that ask for an
evaluation.

The built-in set follows Stack Overflow's: questions and answers count only in topics of
kind "question"; answers are the posts after the opening one; deleted posts and topics,
and those hidden pending review, never count. Thresholds are the defaults of Stack
Exchange sites.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from tortoise.expressions import Subquery

from forum import events
from forum.hookspecs import (
    BadgeContext,
    BadgeGrant,
    BadgeLevel,
    BadgeRule,
    CronDefinition,
    JobDefinition,
    hookimpl,
)

if TYPE_CHECKING:
    from starlette.routing import BaseRoute
    from tortoise.queryset import QuerySet

    from forum.gates import Flair
    from forum.jobs import JobContext
    from forum.platform import Platform
    from forum.topics.models import Post


# Queries the rules share


def _answers(project_id: int) -> QuerySet[Post]:
    from forum.topics.models import Post, TopicKind

    return Post.filter(topic__project_id=project_id, topic__kind=TopicKind.QUESTION,
                       topic__deleted_at__isnull=True, topic__hidden_at__isnull=True,
                       number__gt=1, deleted_at__isnull=True, hidden_at__isnull=True)


def _questions(project_id: int) -> QuerySet[Post]:
    from forum.topics.models import Post, TopicKind

    return Post.filter(topic__project_id=project_id, topic__kind=TopicKind.QUESTION,
                       topic__deleted_at__isnull=True, topic__hidden_at__isnull=True,
                       number=1, deleted_at__isnull=True, hidden_at__isnull=True)


def _holders(ctx: BadgeContext, slug: str) -> Subquery:
    """Who holds the badge already, as a subquery (a list of ids could outgrow the
    database's limit on parameters)."""
    from forum.reputation.badges import BadgeAward

    return Subquery(BadgeAward.filter(project_id=ctx.project_id, badge=slug).values(
        "user_id"))


async def _new_pairs(query: QuerySet[Post], ctx: BadgeContext) -> list[BadgeGrant]:
    """(author, post) of the posts the badge was not given for yet."""
    rows: list[Any] = list(await query.values_list("author_id", "id"))
    return [BadgeGrant(int(author), int(post)) for author, post in rows
            if int(post) not in ctx.held_posts]


async def _first_per_author(query: QuerySet[Post], ctx: BadgeContext, slug: str
                            ) -> list[BadgeGrant]:
    """The earliest qualifying post of each author who does not hold the badge yet."""
    rows: list[Any] = list(await query.exclude(author_id__in=_holders(ctx, slug)).order_by(
        "created_at", "id").values_list("author_id", "id"))
    first: dict[int, int] = {}
    for author, post in rows:
        first.setdefault(int(author), int(post))
    return [BadgeGrant(author, post) for author, post in first.items()]


async def _accepted(project_id: int) -> list[tuple[int, int, int, int]]:
    """(asker, answerer, answer id, answer score) of every accepted answer."""
    from forum.topics.models import Post, Topic

    topics: list[Any] = list(await Topic.filter(
        project_id=project_id, accepted_post_id__isnull=False, deleted_at__isnull=True,
        hidden_at__isnull=True).values_list("accepted_post_id", "author_id"))
    if not topics:
        return []
    asker = {int(post): int(author) for post, author in topics}
    posts: list[Any] = list(await Post.filter(
        id__in=list(asker), deleted_at__isnull=True, hidden_at__isnull=True).values_list(
        "id", "author_id", "score"))
    return [(asker[int(pid)], int(author), int(pid), int(score))
            for pid, author, score in posts]


# Rules


def score_rule(slug: str, name: str, level: BadgeLevel, of: str, threshold: int
               ) -> BadgeRule:
    """Earned once per question (``of`` "question") or answer with this score."""

    async def evaluate(ctx: BadgeContext) -> list[BadgeGrant]:
        base = _questions(ctx.project_id) if of == "question" else _answers(ctx.project_id)
        return await _new_pairs(base.filter(score__gte=threshold), ctx)

    return BadgeRule(slug, name, f"{of.capitalize()} score of {threshold} or more.", level,
                     evaluate, multiple=True)


def views_rule(slug: str, name: str, level: BadgeLevel, threshold: int) -> BadgeRule:
    async def evaluate(ctx: BadgeContext) -> list[BadgeGrant]:
        return await _new_pairs(_questions(ctx.project_id).filter(
            topic__view_count__gte=threshold), ctx)

    return BadgeRule(slug, name, f"Asked a question with {threshold:,} views.", level,
                     evaluate, multiple=True)


def streak_rule(slug: str, name: str, level: BadgeLevel, days: int) -> BadgeRule:
    """Answers on ``days`` consecutive days (UTC). Looks back twice the streak: evaluation
    runs on every new answer and nightly, so older streaks were seen when they happened."""

    async def evaluate(ctx: BadgeContext) -> list[int]:
        since = ctx.now - timedelta(days=2 * days + 1)
        rows: list[Any] = list(await _answers(ctx.project_id).filter(
            created_at__gte=since).exclude(author_id__in=_holders(ctx, slug)).values_list(
            "author_id", "created_at"))
        dates: dict[int, set[date]] = defaultdict(set)
        for author, created in rows:
            dates[int(author)].add(created.date())
        return [author for author, seen in dates.items() if longest_run(seen) >= days]

    return BadgeRule(slug, name, f"Answered questions on {days} consecutive days.", level,
                     evaluate)


def longest_run(days: set[date]) -> int:
    """The longest run of consecutive dates."""
    best = 0
    for day in days:
        if day - timedelta(days=1) in days:
            continue
        run = 1
        while day + timedelta(days=run) in days:
            run += 1
        best = max(best, run)
    return best


async def _student(ctx: BadgeContext) -> list[BadgeGrant]:
    return await _first_per_author(_questions(ctx.project_id).filter(score__gte=1), ctx,
                                   "student")


async def _teacher(ctx: BadgeContext) -> list[BadgeGrant]:
    return await _first_per_author(_answers(ctx.project_id).filter(score__gte=1), ctx,
                                   "teacher")


async def _helper(ctx: BadgeContext) -> list[BadgeGrant]:
    return [BadgeGrant(answerer, post) for asker, answerer, post, _ in
            await _accepted(ctx.project_id) if asker != answerer]


async def _scholar(ctx: BadgeContext) -> list[int]:
    return [asker for asker, answerer, _, _ in await _accepted(ctx.project_id)
            if asker != answerer]


async def _guru(ctx: BadgeContext) -> list[BadgeGrant]:
    return [BadgeGrant(answerer, post) for _, answerer, post, score in
            await _accepted(ctx.project_id) if score >= 40]


async def _self_learner(ctx: BadgeContext) -> list[BadgeGrant]:
    rows: list[Any] = list(await _answers(ctx.project_id).filter(score__gte=3).values_list(
        "author_id", "topic__author_id", "id"))
    return [BadgeGrant(int(a), int(p)) for a, asker, p in rows if a == asker]


async def _voters(ctx: BadgeContext, value: int, slug: str) -> list[int]:
    from forum.topics.models import Vote

    rows: list[Any] = list(await Vote.filter(
        post__topic__project_id=ctx.project_id, value=value).exclude(
        user_id__in=_holders(ctx, slug)).distinct().values_list("user_id", flat=True))
    return [int(u) for u in rows]


async def _supporter(ctx: BadgeContext) -> list[int]:
    return await _voters(ctx, 1, "supporter")


async def _critic(ctx: BadgeContext) -> list[int]:
    return await _voters(ctx, -1, "critic")


async def _editor(ctx: BadgeContext) -> list[BadgeGrant]:
    """A first edit of someone else's post."""
    from forum.topics.models import PostRevision

    rows: list[Any] = list(await PostRevision.filter(
        post__topic__project_id=ctx.project_id, number__gt=1,
        editor_id__isnull=False).exclude(editor_id__in=_holders(ctx, "editor")).order_by(
        "created_at", "id").values_list("editor_id", "post__author_id", "post_id"))
    first: dict[int, int] = {}
    for editor, author, post in rows:
        if editor != author:
            first.setdefault(int(editor), int(post))
    return [BadgeGrant(editor, post) for editor, post in first.items()]


async def _organizer(ctx: BadgeContext) -> list[int]:
    from forum.reputation.badges import RETAG, BadgeFact

    rows: list[Any] = list(await BadgeFact.filter(project_id=ctx.project_id, kind=RETAG)
                           .distinct().values_list("user_id", flat=True))
    return [int(u) for u in rows]


def builtin_rules() -> list[BadgeRule]:
    return [
        BadgeRule("student", "Student", "Asked a question with a score of 1 or more.",
                  "bronze", _student),
        BadgeRule("teacher", "Teacher", "Answered a question with a score of 1 or more.",
                  "bronze", _teacher),
        BadgeRule("scholar", "Scholar", "Asked a question and accepted an answer.",
                  "bronze", _scholar),
        BadgeRule("helper", "Helper", "Wrote an answer that was accepted.", "bronze",
                  _helper),
        BadgeRule("supporter", "Supporter", "Voted a post up for the first time.", "bronze",
                  _supporter),
        BadgeRule("critic", "Critic", "Voted a post down for the first time.", "bronze",
                  _critic),
        BadgeRule("editor", "Editor", "Edited someone else's post for the first time.",
                  "bronze", _editor),
        BadgeRule("organizer", "Organizer", "Changed a topic's tags for the first time.",
                  "bronze", _organizer),
        BadgeRule("self-learner", "Self-Learner",
                  "Answered their own question with a score of 3 or more.", "bronze",
                  _self_learner, multiple=True),
        score_rule("nice-question", "Nice Question", "bronze", "question", 10),
        score_rule("nice-answer", "Nice Answer", "bronze", "answer", 10),
        views_rule("popular-question", "Popular Question", "bronze", 1000),
        streak_rule("enthusiast", "Enthusiast", "bronze", 5),
        score_rule("good-question", "Good Question", "silver", "question", 25),
        score_rule("good-answer", "Good Answer", "silver", "answer", 25),
        views_rule("notable-question", "Notable Question", "silver", 2500),
        BadgeRule("guru", "Guru", "Wrote an accepted answer with a score of 40 or more.",
                  "silver", _guru, multiple=True),
        streak_rule("devoted", "Devoted", "silver", 30),
        score_rule("great-question", "Great Question", "gold", "question", 100),
        score_rule("great-answer", "Great Answer", "gold", "answer", 100),
        views_rule("famous-question", "Famous Question", "gold", 10000),
    ]


# Registrations


@hookimpl
def forum_models() -> list[str]:
    return ["forum.reputation.badges"]


@hookimpl
def forum_badge_rules() -> list[BadgeRule]:
    return builtin_rules()


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.reputation.badge_routes import routes

    return routes()


@hookimpl
def forum_template_outlets() -> dict[str, str]:
    return {"user_profile": "reputation/badge_profile_links.html"}


async def evaluate_job(ctx: JobContext, *, project_id: int) -> None:
    from forum.reputation.badges import run_evaluation

    await run_evaluation(ctx.platform, project_id)


async def evaluate_all_job(ctx: JobContext) -> None:
    """The nightly sweep: every project gets an evaluation (time-based rules, views)."""
    from forum.projects.models import Project
    from forum.reputation.badges import EVALUATE_JOB

    project_ids: list[Any] = list(await Project.all().values_list("id", flat=True))
    for project_id in project_ids:
        await ctx.platform.enqueue(EVALUATE_JOB, project_id=int(project_id))


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    from forum.reputation.badges import EVALUATE_ALL_JOB, EVALUATE_JOB

    return [JobDefinition(EVALUATE_JOB, evaluate_job),
            JobDefinition(EVALUATE_ALL_JOB, evaluate_all_job)]


@hookimpl
def forum_cron() -> list[CronDefinition]:
    from forum.reputation.badges import EVALUATE_ALL_JOB

    return [CronDefinition(EVALUATE_ALL_JOB, minute={41}, hour={2})]


@hookimpl
async def forum_author_flair(project_id: int, user_ids: list[int]) -> dict[int, Flair]:
    from forum.reputation.badges import author_flair

    return await author_flair(project_id, user_ids)


# Activity that may earn badges asks for a (debounced) evaluation of its project.


async def _evaluate_soon(platform: Platform, project_id: int) -> None:
    from forum.reputation.badges import request_evaluation

    await request_evaluation(platform, project_id)


@hookimpl
async def on_vote_cast(event: events.VoteCast, platform: Platform) -> None:
    await _evaluate_soon(platform, event.project)


@hookimpl
async def on_answer_accepted(event: events.AnswerAccepted, platform: Platform) -> None:
    await _evaluate_soon(platform, event.project)


@hookimpl
async def on_topic_created(event: events.TopicCreated, platform: Platform) -> None:
    await _evaluate_soon(platform, event.project)


@hookimpl
async def on_post_created(event: events.PostCreated, platform: Platform) -> None:
    await _evaluate_soon(platform, event.project)


@hookimpl
async def on_post_edited(event: events.PostEdited, platform: Platform) -> None:
    await _evaluate_soon(platform, event.project)


@hookimpl
async def on_topic_changed(event: events.TopicChanged, platform: Platform) -> None:
    if event.change == "tags" and event.actor_id is not None:
        from forum.reputation.badges import RETAG, do_record_fact

        await do_record_fact(event.project, event.actor_id, RETAG, event.topic_id)
    await _evaluate_soon(platform, event.project)


@hookimpl(trylast=True)
async def forum_demo(platform: Platform, project_id: int, user_ids: dict[str, int]
                     ) -> list[str]:
    """After the other domains seeded the demo project, award what its users earned."""
    from forum.reputation.badges import evaluate_project

    awarded = await evaluate_project(platform, project_id)
    return [f"{len(awarded)} badges"] if awarded else []
