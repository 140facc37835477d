"""Spam defences: the moderation domain's screener and its posting limits.

``screen`` (``forum_screen_post``) judges a new or edited post: watched words first (block,
hold or replace), then, for new posts, the same text from the same user within the
duplicate window, the per-address posting limit, and the external checkers plugins add
through ``forum_spam_check``. ``refusal`` (``forum_refuse``) limits how many posts one user
writes in a project per window. The team is exempt from all of it. Limits and windows are
per-project settings (``schemas.ModerationSettings``).
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from forum.gates import Act, Attempt, Draft, Screening, Verdict
from forum.moderation.models import PostingTrace
from forum.moderation.schemas import load_settings
from forum.moderation.watched_words import screen_words
from forum.topics.models import Post

if TYPE_CHECKING:
    from forum.platform import Platform

POSTING_ACTS = frozenset({Act.CREATE_TOPIC, Act.REPLY})
TRACE_KEEP = timedelta(days=1)


def _minutes(n: int) -> str:
    return "a minute" if n == 1 else f"{n} minutes"


async def refusal(attempt: Attempt) -> str | None:
    """Too many posts from this user in the project's rate window."""
    if attempt.act not in POSTING_ACTS or attempt.is_staff or attempt.project_id is None:
        return None
    settings = await load_settings(attempt.project_id)
    if settings.posts_per_user == 0:
        return None
    since = datetime.now(UTC) - timedelta(minutes=settings.rate_window_minutes)
    recent = await Post.filter(author_id=attempt.user_id, topic__project_id=attempt.project_id,
                               created_at__gte=since).count()
    if recent >= settings.posts_per_user:
        return (f"You are posting too fast: at most {settings.posts_per_user} posts in "
                f"{_minutes(settings.rate_window_minutes)}. Please wait a little.")
    return None


async def duplicate_of(draft: Draft, window_minutes: int) -> Post | None:
    """The same text posted by the same user in the project within the window."""
    if window_minutes == 0:
        return None
    since = datetime.now(UTC) - timedelta(minutes=window_minutes)
    recent = await (Post.filter(author_id=draft.user_id, topic__project_id=draft.project_id,
                                created_at__gte=since, deleted_at__isnull=True)
                    .only("id", "source").order_by("-id").limit(50))
    wanted = " ".join(draft.source.split())
    for post in recent:
        if " ".join(post.source.split()) == wanted:
            return post
    return None


async def external_checks(draft: Draft, platform: Platform) -> list[Screening]:
    answers: list[Screening] = []
    for result in platform.plugins.pm.hook.forum_spam_check(draft=draft, platform=platform):
        answer = await result if inspect.isawaitable(result) else result
        if answer is not None:
            answers.append(answer)
    return answers


async def screen(draft: Draft, platform: Platform) -> Screening | None:
    if draft.is_staff:
        return None
    settings = await load_settings(draft.project_id)
    answers: list[Screening] = []
    words = await screen_words(draft.project_id, draft.source, draft.title)
    if words is not None:
        if words.verdict == Verdict.BLOCK:
            return words
        answers.append(words)
    is_new = draft.post_id is None
    if is_new and await duplicate_of(draft, settings.duplicate_window_minutes) is not None:
        return Screening(Verdict.BLOCK, "You posted the same text a moment ago; add to "
                                        "that post instead of posting it again.")
    if is_new and draft.ip and settings.posts_per_ip:
        since = datetime.now(UTC) - timedelta(minutes=settings.rate_window_minutes)
        recent = await PostingTrace.filter(ip=draft.ip, project_id=draft.project_id,
                                           created_at__gte=since).count()
        if recent >= settings.posts_per_ip:
            return Screening(Verdict.BLOCK, "Too many posts from your network address: "
                                            f"at most {settings.posts_per_ip} in "
                                            f"{_minutes(settings.rate_window_minutes)}.")
    for answer in await external_checks(draft, platform):
        if answer.verdict == Verdict.BLOCK:
            return answer
        answers.append(answer)
    if is_new and draft.ip:
        await PostingTrace.create(project_id=draft.project_id, user_id=draft.user_id,
                                  ip=draft.ip[:64])
    return combine(answers)


def combine(answers: list[Screening]) -> Screening | None:
    """Holds and rewrites folded into one answer (the first hold's reason wins)."""
    source: str | None = None
    hold: Screening | None = None
    for answer in answers:
        if answer.source is not None:
            source = answer.source
        if answer.verdict == Verdict.HOLD and hold is None:
            hold = answer
    if hold is not None:
        return Screening(Verdict.HOLD, hold.reason, source)
    if source is not None:
        return Screening(Verdict.ALLOW, "", source)
    return None


async def prune_traces() -> int:
    """Forget posting traces older than a day."""
    return await PostingTrace.filter(created_at__lt=datetime.now(UTC) - TRACE_KEEP).delete()
