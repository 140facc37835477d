"""Polling Stack Overflow: new questions with a project's tags become topics, and the
questions already mirrored get their score, answers and accepted state refreshed.

One poll of one project:

1. ``GET /questions?tagged=...&sort=creation&order=asc&fromdate=<cursor>``, page after
   page while ``has_more`` (at most ``MAX_PAGES``). The cursor is the creation date of the
   newest question seen plus the ids seen at that second (``fromdate`` is inclusive).
2. ``GET /questions/{ids}`` for mirrored questions younger than ``refresh_days``, 100 ids a
   request; a question missing from the answer was deleted and is marked so.

The API's throttling is obeyed: ``backoff`` (seconds) is stored per method as a "not
before" time and the method is left alone until then, also by other workers; the daily
``quota_remaining`` is stored, and polls stop while it is under a safety margin. Errors
(an ``error_id`` answer, a body that is not the documented JSON, no answer) are logged and
end the poll; the next one tries again. A question is imported once per project: a row
in ``stackoverflow_questions`` is claimed before its topic is written.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator
from tortoise.exceptions import IntegrityError

from forum.accounts.service import stage_user
from forum.platform import Platform
from forum.projects.plugin_settings import plugin_project, project_plugin_settings
from forum.topics.service import import_topic, set_topic_plugin_data
from plugins.stackoverflow_bridge.attribution import (
    LABEL,
    LICENCES,
    decode,
    excerpt,
    licence_for,
    question_url,
    safe_url,
    topic_source,
)
from plugins.stackoverflow_bridge.client import (
    PAGE_SIZE,
    ApiError,
    Question,
    QuestionPage,
    QuestionSource,
    StackExchangeClient,
)
from plugins.stackoverflow_bridge.models import ApiThrottle, MirroredQuestion, PollCursor

log = logging.getLogger(__name__)

NAME = "stackoverflow_bridge"  # the entry-point name
PLUGIN_KEY = "stackoverflow"  # where a topic's plugin_data keeps the question
MAX_PAGES = 10  # of 100 questions per poll; a backlog is worked off over several polls
REFRESH_BATCHES = 3  # /questions/{ids} requests per poll
REFRESH_AFTER = timedelta(minutes=5)  # a question refreshed more recently is left alone
QUOTA_FLOOR = 100
METHOD_NEW = "questions"
METHOD_IDS = "questions/{ids}"
TAG_RE = re.compile(r"^[a-z0-9#+.-]{1,35}$")
SITE_RE = re.compile(r"^[a-z][a-z0-9.-]{1,40}$")
SITE_NAMES = {"stackoverflow": "Stack Overflow", "superuser": "Super User",
              "serverfault": "Server Fault", "askubuntu": "Ask Ubuntu"}


class BridgeSettings(BaseModel):
    """A project's Stack Overflow bridge; the settings page builds its form from this."""

    tags: str = Field("", max_length=200, description=(
        "1 to 5 Stack Overflow tags, separated by spaces or ';'. Only questions that carry "
        "ALL of them are mirrored (the API's tagged is an AND): 'python;pandas' brings "
        "pandas questions about Python. Nothing is polled while this is empty."))
    site: str = Field("stackoverflow", max_length=40, description=(
        "The Stack Exchange site's API name: stackoverflow, superuser, serverfault ..."))
    app_key: str = Field("", max_length=100, description=(
        "Optional Stack Apps key (not a secret) for this project's polls. Without one the "
        "platform's FORUM_STACKEXCHANGE_KEY is used; without any key the API allows 300 "
        "requests a day per server address, with one 10,000."))
    poll: bool = Field(True, description=(
        "Poll every 10 minutes. Leads can also poll now from the project's Stack Overflow "
        "page. Nothing is ever posted to Stack Overflow."))
    backfill_days: int = Field(2, ge=0, le=30, description=(
        "How far back the first poll looks, in days."))
    refresh_days: int = Field(14, ge=1, le=90, description=(
        "For how many days after it was asked a question's score, answers and accepted "
        "answer are kept up to date."))

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: str) -> str:
        names: list[str] = []
        for raw in re.split(r"[\s;,]+", value.strip().lower()):
            if not raw:
                continue
            if not TAG_RE.match(raw):
                raise ValueError(f'"{raw[:40]}" is not a Stack Overflow tag.')
            if raw not in names:
                names.append(raw)
        if len(names) > 5:
            raise ValueError("At most 5 tags: the API returns nothing for more.")
        return ";".join(names)

    @field_validator("site")
    @classmethod
    def _site(cls, value: str) -> str:
        value = value.strip().lower()
        if not SITE_RE.match(value):
            raise ValueError("Give the site's API name, e.g. stackoverflow.")
        return value

    @field_validator("app_key")
    @classmethod
    def _key(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"[A-Za-z0-9()*_.-]{8,100}", value):
            raise ValueError("That does not look like a Stack Apps key.")
        return value

    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(";") if t]

    @property
    def site_name(self) -> str:
        return SITE_NAMES.get(self.site, self.site)


@dataclass
class PollReport:
    status: str = "polled"  # polled, disabled, off, no tags, backoff, quota, error
    requests: int = 0
    imported: int = 0
    refreshed: int = 0
    deleted: int = 0
    failed: int = 0  # questions that could not be imported (logged)
    message: str = ""

    def summary(self) -> str:
        text = (f"{self.status}: {self.imported} new, {self.refreshed} refreshed, "
                f"{self.deleted} deleted, {self.requests} requests")
        if self.failed:
            text += f", {self.failed} failed"
        return f"{text}. {self.message}".strip()[:300]


# Throttling: backoff per method and the day's quota, per key


def key_id(key: str) -> str:
    """What identifies a key in the database (never the key itself); "" for no key."""
    return hashlib.sha256(key.encode()).hexdigest()[:16] if key else ""


async def _row(kid: str, method: str) -> ApiThrottle:
    row = await ApiThrottle.get_or_none(key_id=kid, method=method)
    if row is None:
        try:
            row = await ApiThrottle.create(key_id=kid, method=method)
        except IntegrityError:
            row = await ApiThrottle.get(key_id=kid, method=method)
    return row


async def blocked_until(kid: str, method: str, now: datetime) -> datetime | None:
    row = await ApiThrottle.get_or_none(key_id=kid, method=method)
    if row is None or row.not_before is None or row.not_before <= now:
        return None
    return row.not_before


def quota_margin(quota_max: int | None) -> int:
    """Stop while this many requests are left: 5% of the day's quota, at least 15 (a
    keyless 300) and at most 100."""
    if quota_max is None:
        return QUOTA_FLOOR
    return min(QUOTA_FLOOR, max(15, quota_max // 20))


async def quota_low(kid: str, now: datetime) -> bool:
    """Whether today's known quota is under the margin (the quota renews daily, so
    yesterday's figure says nothing)."""
    row = await ApiThrottle.get_or_none(key_id=kid, method="")
    if row is None or row.quota_remaining is None or row.updated_at.date() != now.date():
        return False
    return row.quota_remaining < quota_margin(row.quota_max)


async def note_answer(kid: str, method: str, now: datetime, *, backoff: int | None,
                      quota_remaining: int | None, quota_max: int | None) -> None:
    if backoff:
        row = await _row(kid, method)
        row.not_before = now + timedelta(seconds=min(backoff, 86_400))
        await row.save(update_fields=["not_before", "updated_at"])
    if quota_remaining is not None:
        row = await _row(kid, "")
        row.quota_remaining, row.quota_max = quota_remaining, quota_max
        await row.save(update_fields=["quota_remaining", "quota_max", "updated_at"])


# Importing and refreshing


def plugin_data(row: MirroredQuestion) -> dict[str, Any]:
    """What a mirrored topic keeps under ``plugin_data["stackoverflow"]``."""
    licence = LICENCES[row.licence]
    return {"label": LABEL, "question_id": row.question_id, "link": row.link,
            "author": row.author_name, "author_link": row.author_link, "score": row.score,
            "answer_count": row.answer_count, "is_answered": row.is_answered,
            "accepted_answer_id": row.accepted_answer_id, "licence": licence.name,
            "licence_url": licence.url, "deleted": row.deleted}


def provider_name(site: str) -> str:
    """The staged users' provider: user ids are per site."""
    if site == "stackoverflow":
        return "stackoverflow"
    return ("se-" + re.sub(r"[^a-z0-9]+", "-", site))[:20].rstrip("-")


async def import_question(platform: Platform, project: Any, settings: BridgeSettings,
                          question: Question, now: datetime | None = None
                          ) -> MirroredQuestion | None:
    """Mirror one question as a topic; None if it already is (or is being) mirrored.
    ``now``: the poll's clock (its counts are fresh as of then)."""
    created = datetime.fromtimestamp(question.creation_date, UTC)
    owner = question.owner
    known = owner is not None and owner.user_id is not None \
        and owner.user_type != "does_not_exist"
    name = decode(owner.display_name) if owner is not None else ""
    try:  # claim the question first: a second poll running now gets the IntegrityError
        row = await MirroredQuestion.create(
            project_id=project.id, question_id=question.question_id, topic_id=0,
            title=decode(question.title)[:300] or f"Question {question.question_id}",
            link=safe_url(question.link, question_url(settings.site, question.question_id))[:500],
            author_name=name[:120],
            author_link=(safe_url(owner.link) if known and owner is not None else "")[:500],
            score=question.score, answer_count=question.answer_count,
            is_answered=question.is_answered, accepted_answer_id=question.accepted_answer_id,
            licence=licence_for(created).name, created_at=created,
            refreshed_at=now or datetime.now(UTC))
    except IntegrityError:
        return None
    try:
        provider = provider_name(settings.site)
        if known and owner is not None:
            author = await stage_user(platform, provider, str(owner.user_id),
                                      name or f"user{owner.user_id}", name,
                                      {"link": row.author_link, "site": settings.site})
        else:  # a deleted account: one bridge user speaks for them
            author = await stage_user(platform, provider, "bridge", f"{provider}-bridge",
                                      f"{settings.site_name} bridge")
        source = topic_source(text=excerpt(question.body), author_name=name,
                              author_link=row.author_link, link=row.link,
                              licence=LICENCES[row.licence], site_name=settings.site_name)
        topic = await import_topic(platform, project, author, row.title, source,
                                   kind="external", created_at=created,
                                   plugin_key=PLUGIN_KEY, plugin_data=plugin_data(row),
                                   tags=question.tags)
    except Exception:
        await MirroredQuestion.filter(id=row.id).delete()
        raise
    row.topic_id, row.topic_slug = topic.id, topic.slug
    await row.save(update_fields=["topic_id", "topic_slug"])
    return row


async def poll_new(platform: Platform, project: Any, settings: BridgeSettings,
                   client: QuestionSource, kid: str, now: datetime,
                   report: PollReport) -> None:
    cursor = await PollCursor.get_or_none(project_id=project.id)
    if cursor is None:
        start = int((now - timedelta(days=settings.backfill_days)).timestamp())
        cursor = await PollCursor.create(project_id=project.id, fromdate=start, seen_ids=[])
    fromdate = int(cursor.fromdate or 0)
    seen_before = set(cursor.seen_ids)
    newest, seen = fromdate, set(seen_before)
    for page in range(1, MAX_PAGES + 1):
        if not await _may_ask(kid, METHOD_NEW, now, report):
            return
        try:
            report.requests += 1
            result = await client.questions(tagged=settings.tag_list(), site=settings.site,
                                            fromdate=fromdate, page=page)
        except ApiError as exc:
            await _failed(kid, METHOD_NEW, now, exc, report, project.id)
            return
        await _noted(kid, METHOD_NEW, now, result)
        for question in result.items:
            if question.creation_date < fromdate or (
                    question.creation_date == fromdate and question.question_id in seen_before):
                continue  # seen in an earlier poll
            try:
                if await import_question(platform, project, settings, question, now):
                    report.imported += 1
            except Exception:  # one bad question never stops the others
                log.exception("stackoverflow: question %s not imported into project %s",
                              question.question_id, project.id)
                report.failed += 1
            if question.creation_date > newest:
                newest, seen = question.creation_date, {question.question_id}
            elif question.creation_date == newest:
                seen.add(question.question_id)
        cursor.fromdate, cursor.seen_ids = newest, sorted(seen)
        await cursor.save(update_fields=["fromdate", "seen_ids"])
        if not result.has_more or result.backoff:
            return


async def refresh_known(project: Any, settings: BridgeSettings, client: QuestionSource,
                        kid: str, now: datetime, report: PollReport) -> None:
    rows = await MirroredQuestion.filter(
        project_id=project.id, deleted=False, topic_id__gt=0,
        created_at__gte=now - timedelta(days=settings.refresh_days),
        refreshed_at__lt=now - REFRESH_AFTER,
    ).order_by("refreshed_at", "id").limit(REFRESH_BATCHES * PAGE_SIZE)
    for start in range(0, len(rows), PAGE_SIZE):
        batch = rows[start:start + PAGE_SIZE]
        if not await _may_ask(kid, METHOD_IDS, now, report):
            return
        try:
            report.requests += 1
            result = await client.questions_by_id([r.question_id for r in batch],
                                                  site=settings.site)
        except ApiError as exc:
            await _failed(kid, METHOD_IDS, now, exc, report, project.id)
            return
        await _noted(kid, METHOD_IDS, now, result)
        fresh = {q.question_id: q for q in result.items}
        for row in batch:
            question = fresh.get(row.question_id)
            if question is None:
                if result.skipped or result.has_more:
                    continue  # an item we could not read is not proof of deletion
                row.deleted = True
                report.deleted += 1
            else:
                row.score, row.answer_count = question.score, question.answer_count
                row.is_answered = question.is_answered
                row.accepted_answer_id = question.accepted_answer_id
                report.refreshed += 1
            row.refreshed_at = now
            await row.save(update_fields=["score", "answer_count", "is_answered",
                                          "accepted_answer_id", "deleted", "refreshed_at"])
            await set_topic_plugin_data(row.topic_id, PLUGIN_KEY, plugin_data(row))
        if result.backoff:
            return


async def _may_ask(kid: str, method: str, now: datetime, report: PollReport) -> bool:
    until = await blocked_until(kid, method, now)
    if until is not None:
        report.status = "backoff"
        report.message = f"The API asked to wait: {method} not before {until:%H:%M:%S} UTC."
        return False
    if await quota_low(kid, now):
        report.status = "quota"
        report.message = "Today's API quota is nearly used up; polling resumes tomorrow."
        return False
    return True


async def _noted(kid: str, method: str, now: datetime, result: QuestionPage) -> None:
    await note_answer(kid, method, now, backoff=result.backoff,
                      quota_remaining=result.quota_remaining, quota_max=result.quota_max)


async def _failed(kid: str, method: str, now: datetime, exc: ApiError, report: PollReport,
                  project_id: int) -> None:
    log.warning("stackoverflow: project %s, %s: %s", project_id, method, exc)
    await note_answer(kid, method, now, backoff=exc.backoff,
                      quota_remaining=exc.quota_remaining, quota_max=exc.quota_max)
    report.status = "error"
    report.message = str(exc)[:200]


def make_client(platform: Platform, key: str) -> StackExchangeClient:
    return StackExchangeClient(platform.settings.stackexchange_api_url, key=key)


async def poll_project(platform: Platform, project_id: int, *,
                       now: datetime | None = None) -> PollReport:
    """One poll of one project (see the module's docstring). Never raises for what the
    API answers; the outcome is kept on the project's cursor for its Stack Overflow page."""
    now = now or datetime.now(UTC)
    project = await plugin_project(NAME, project_id)
    if project is None:
        return PollReport(status="disabled")
    settings = await project_plugin_settings(platform, project_id, NAME)
    assert isinstance(settings, BridgeSettings)
    if not settings.poll:
        return PollReport(status="off")
    if not settings.tag_list():
        return PollReport(status="no tags")
    key = settings.app_key or platform.settings.stackexchange_key.get_secret_value()
    kid = key_id(key)
    report = PollReport()
    async with make_client(platform, key) as client:
        await poll_new(platform, project, settings, client, kid, now, report)
        if report.status == "polled":
            await refresh_known(project, settings, client, kid, now, report)
    cursor = await PollCursor.get(project_id=project_id)
    cursor.last_poll_at, cursor.last_result = now, report.summary()
    await cursor.save(update_fields=["last_poll_at", "last_result"])
    log.info("stackoverflow: project %s %s", project_id, report.summary())
    return report
