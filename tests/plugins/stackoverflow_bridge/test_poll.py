"""Polling against the fake API: the exact requests, cursors, de-duplication, paging,
backoff, quota, refreshes, and the bad answers that must never crash a poll."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum.accounts.models import OAuthIdentity
from forum.platform import Platform
from forum.projects.plugin_settings import do_save_plugin_settings, do_toggle_plugin
from forum.topics.models import Post, Topic, TopicKind
from plugins.stackoverflow_bridge import client as client_module
from plugins.stackoverflow_bridge.models import ApiThrottle, MirroredQuestion, PollCursor
from plugins.stackoverflow_bridge.poll import NAME, BridgeSettings, key_id, poll_project
from tests.plugins.stackoverflow_bridge.conftest import bridge_on
from tests.plugins.stackoverflow_bridge.fake_stackexchange import (
    FakeStackExchange,
    so_question,
)

NOW = datetime.now(UTC).replace(microsecond=0)  # the polls under test run on this clock


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def questions_requests(api: FakeStackExchange) -> list[dict[str, str]]:
    return [r.params for r in api.requests if r.path == "/2.3/questions"]


async def test_first_poll_asks_exactly_and_imports_tagged_questions(
        platform: Platform, db: None, api: FakeStackExchange) -> None:
    project = await bridge_on(platform, tags="python pandas")
    api.add(so_question(101, "How to merge two DataFrames?", ago(hours=3),
                        tags=["python", "pandas"], score=3),
            so_question(102, "Pandas groupby &quot;sum&quot; drops columns", ago(hours=2),
                        tags=["python", "pandas", "group-by"], user_id=2002,
                        display_name="Bob &amp; Co"),
            so_question(103, "Only about Django, not pandas", ago(hours=1),
                        tags=["python", "django"]),
            so_question(104, "Too old for the first poll window", ago(days=3),
                        tags=["python", "pandas"]))

    report = await poll_project(platform, project.id, now=NOW)

    assert (report.status, report.imported, report.requests) == ("polled", 2, 1)
    [request] = api.requests
    assert request.path == "/2.3/questions"
    assert request.params == {
        "tagged": "python;pandas", "site": "stackoverflow", "filter": "withbody",
        "sort": "creation", "order": "asc", "page": "1", "pagesize": "100",
        "fromdate": str(int(ago(days=2).timestamp()))}
    assert "gzip" in request.accept_encoding
    topics = await Topic.filter(project_id=project.id).order_by("created_at")
    assert [t.title for t in topics] == ["How to merge two DataFrames?",
                                         'Pandas groupby "sum" drops columns']
    first = topics[0]
    assert first.kind == TopicKind.EXTERNAL
    assert first.created_at == ago(hours=3)
    assert first.plugin_data["stackoverflow"] == {
        "label": "on Stack Overflow", "question_id": 101,
        "link": "https://stackoverflow.com/questions/101/how-to-merge-two-dataframes",
        "author": "Jane Asker", "author_link": "https://stackoverflow.com/users/1001/jane-asker",
        "score": 3, "answer_count": 0, "is_answered": False, "accepted_answer_id": None,
        "licence": "CC BY-SA 4.0", "licence_url": "https://creativecommons.org/licenses/by-sa/4.0/",
        "deleted": False}
    identity = await OAuthIdentity.get(provider="stackoverflow",
                                       provider_user_id="2002").prefetch_related("user")
    assert identity.user.display_name == "Bob & Co"
    assert identity.user.email.endswith("@staged.invalid")
    assert (await topics[1].author).id == identity.user.id
    cursor = await PollCursor.get(project_id=project.id)
    assert (cursor.fromdate, cursor.seen_ids) == (int(ago(hours=2).timestamp()), [102])
    assert cursor.last_result.startswith("polled: 2 new")


async def test_later_polls_start_at_the_cursor_and_never_duplicate(
        platform: Platform, db: None, api: FakeStackExchange) -> None:
    project = await bridge_on(platform)
    api.add(so_question(201, "First question here", ago(hours=5)),
            so_question(202, "Second question here", ago(hours=4)))
    await poll_project(platform, project.id, now=NOW)
    # One more at the very second of the newest one seen, and one later.
    api.add(so_question(203, "Same second as the last", ago(hours=4)),
            so_question(204, "A later question", ago(hours=1)))

    report = await poll_project(platform, project.id, now=NOW)
    again = await poll_project(platform, project.id, now=NOW)

    assert [p["fromdate"] for p in questions_requests(api)] == [
        str(int(ago(days=2).timestamp())), str(int(ago(hours=4).timestamp())),
        str(int(ago(hours=1).timestamp()))]
    assert (report.imported, again.imported) == (2, 0)
    assert await Topic.filter(project_id=project.id).count() == 4
    assert sorted(await MirroredQuestion.filter(project_id=project.id)
                  .values_list("question_id", flat=True)) == [201, 202, 203, 204]
    # Forgetting the cursor (a restore, a reset) still imports nothing twice.
    await PollCursor.filter(project_id=project.id).delete()
    assert (await poll_project(platform, project.id, now=NOW)).imported == 0
    assert await Topic.filter(project_id=project.id).count() == 4


async def test_has_more_pages_are_followed(platform: Platform, db: None,
                                           api: FakeStackExchange,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "PAGE_SIZE", 2)
    project = await bridge_on(platform)
    api.add(*[so_question(300 + n, f"Paged question number {n}", ago(hours=10 - n))
              for n in range(5)])

    report = await poll_project(platform, project.id, now=NOW)

    assert [(p["page"], p["pagesize"]) for p in questions_requests(api)] == [
        ("1", "2"), ("2", "2"), ("3", "2")]
    assert len({p["fromdate"] for p in questions_requests(api)}) == 1
    assert report.imported == 5
    assert await Topic.filter(project_id=project.id).count() == 5


async def test_backoff_is_obeyed_until_it_passes(platform: Platform, db: None,
                                                 api: FakeStackExchange) -> None:
    project = await bridge_on(platform)
    api.add(so_question(401, "Question before the backoff", ago(hours=1)))
    api.backoff = 30

    await poll_project(platform, project.id, now=NOW)
    assert len(api.requests) == 1
    row = await ApiThrottle.get(key_id="", method="questions")
    assert row.not_before == NOW + timedelta(seconds=30)

    api.add(so_question(402, "Question during the backoff", ago(minutes=1)))
    within = await poll_project(platform, project.id, now=NOW + timedelta(seconds=29))
    assert within.status == "backoff" and within.requests == 0
    assert len(api.requests) == 1  # nothing was asked

    after = await poll_project(platform, project.id, now=NOW + timedelta(seconds=31))
    assert after.imported == 1 and len(questions_requests(api)) == 2


async def test_throttle_violation_sets_the_wait_from_its_message(
        platform: Platform, db: None, api: FakeStackExchange) -> None:
    project = await bridge_on(platform)
    api.error(502, 502, "throttle_violation",
              "too many requests from this IP, more requests available in 120 seconds")

    report = await poll_project(platform, project.id, now=NOW)

    assert report.status == "error" and "throttle_violation" in report.message
    row = await ApiThrottle.get(key_id="", method="questions")
    assert row.not_before == NOW + timedelta(seconds=120)
    assert (await poll_project(platform, project.id, now=NOW + timedelta(seconds=60))
            ).status == "backoff"
    assert len(api.requests) == 1


async def test_polls_stop_when_the_quota_runs_low(platform: Platform, db: None,
                                                  api: FakeStackExchange,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "PAGE_SIZE", 2)
    project = await bridge_on(platform)
    api.add(*[so_question(500 + n, f"Quota question number {n}", ago(hours=10 - n))
              for n in range(5)])
    api.quota_remaining = 101  # 100 left after the first request: the margin for 10,000

    first = await poll_project(platform, project.id, now=NOW)
    assert (first.status, first.requests, first.imported) == ("quota", 2, 4)

    second = await poll_project(platform, project.id, now=NOW)
    assert (second.status, second.requests) == ("quota", 0)
    assert len(api.requests) == 2
    quota = await ApiThrottle.get(key_id="", method="")
    assert (quota.quota_remaining, quota.quota_max) == (99, 10_000)


async def test_malformed_and_partial_answers_never_crash_or_duplicate(
        platform: Platform, db: None, api: FakeStackExchange) -> None:
    project = await bridge_on(platform)
    api.scripted.append((200, b'{"items": [{"question_id": 1, "title": "cut he'))
    api.scripted.append((200, b"<html>Service Unavailable</html>"))
    api.scripted.append((200, {"has_more": False, "quota_remaining": 5000}))

    for _ in range(3):
        report = await poll_project(platform, project.id, now=NOW)
        assert report.status == "error" and report.message
    assert await Topic.filter(project_id=project.id).count() == 0

    api.corrupt_gzip = True
    report = await poll_project(platform, project.id, now=NOW)
    assert report.status == "error" and "malformed_response" in report.message

    good = so_question(601, "A question of the right shape", ago(hours=2))
    odd = {"question_id": "not a number", "title": None}
    far_future = so_question(602, "A question from the year 3000", ago(hours=1))
    far_future["creation_date"] = 32_503_680_000
    api.scripted.append((200, {"items": [odd, good, far_future], "has_more": False,
                               "quota_max": 300, "quota_remaining": 250}))
    report = await poll_project(platform, project.id, now=NOW)
    assert (report.status, report.imported) == ("polled", 1)
    assert [t.title for t in await Topic.filter(project_id=project.id)] == [
        "A question of the right shape"]
    assert (await PollCursor.get(project_id=project.id)).fromdate == int(
        ago(hours=2).timestamp())


async def test_key_is_sent_and_key_errors_are_logged(platform: Platform, db: None,
                                                     api: FakeStackExchange) -> None:
    project = await bridge_on(platform, app_key="abcDEF123((")
    api.error(400, 403, "access_denied", "`key` is not valid for passed access_token")

    report = await poll_project(platform, project.id, now=NOW)

    assert report.status == "error" and "access_denied" in report.message
    assert api.requests[0].params["key"] == "abcDEF123(("
    # Throttle rows name a hash of the key, never the key itself.
    assert all("abcDEF" not in row.key_id for row in await ApiThrottle.all())
    cursor = await PollCursor.get(project_id=project.id)
    assert "access_denied" in cursor.last_result


async def test_platform_key_when_the_project_has_none(
        platform: Platform, db: None, api: FakeStackExchange) -> None:
    from pydantic import SecretStr

    platform.settings.stackexchange_key = SecretStr("platformKey123")
    project = await bridge_on(platform)
    await poll_project(platform, project.id, now=NOW)
    assert api.requests[0].params["key"] == "platformKey123"
    assert await ApiThrottle.filter(key_id=key_id("platformKey123"), method="").count() == 1


async def test_later_polls_refresh_counts_and_mark_deleted_questions(
        platform: Platform, db: None, api: FakeStackExchange) -> None:
    project = await bridge_on(platform)
    api.add(so_question(701, "Will be answered and accepted", ago(hours=3)),
            so_question(702, "Will be deleted on Stack Overflow", ago(hours=2)),
            so_question(703, "Asked long ago but found late", ago(days=1)))
    await poll_project(platform, project.id, now=NOW)
    api.add(so_question(701, "Will be answered and accepted", ago(hours=3), score=7,
                        answer_count=2, is_answered=True, accepted_answer_id=9001))
    del api.questions[702]
    api.requests.clear()

    soon = await poll_project(platform, project.id, now=NOW + timedelta(minutes=1))
    assert soon.refreshed == 0 and len(api.requests) == 1  # too soon to refresh

    later = NOW + timedelta(minutes=10)
    report = await poll_project(platform, project.id, now=later)

    by_id = [r for r in api.requests if r.path != "/2.3/questions"]
    assert len(by_id) == 1 and by_id[0].path.startswith("/2.3/questions/")
    assert sorted(by_id[0].path.rsplit("/", 1)[1].split(";")) == ["701", "702", "703"]
    assert by_id[0].params == {"site": "stackoverflow", "filter": "withbody",
                               "pagesize": "100"}
    assert (report.refreshed, report.deleted) == (2, 1)
    row = await MirroredQuestion.get(question_id=701)
    assert (row.score, row.answer_count, row.is_answered, row.accepted_answer_id) == (
        7, 2, True, 9001)
    topic = await Topic.get(id=row.topic_id)
    data = topic.plugin_data["stackoverflow"]
    assert (data["score"], data["answer_count"], data["accepted_answer_id"]) == (7, 2, 9001)
    gone = await MirroredQuestion.get(question_id=702)
    assert gone.deleted
    assert (await Topic.get(id=gone.topic_id)).plugin_data["stackoverflow"]["deleted"] is True

    # Outside refresh_days a question is left alone.
    api.requests.clear()
    await do_save_plugin_settings(platform, project, NAME,
                                  BridgeSettings(tags="python", refresh_days=1))
    await poll_project(platform, project.id, now=NOW + timedelta(hours=20))
    assert [r.path for r in api.requests if r.path != "/2.3/questions"] == [
        "/2.3/questions/701"]


async def test_deleted_owner_gets_the_bridge_user(platform: Platform, db: None,
                                                  api: FakeStackExchange) -> None:
    project = await bridge_on(platform)
    api.add(so_question(801, "Asked by someone who left", ago(hours=1), user_id=None,
                        display_name="user123"),
            so_question(802, "Asked by someone else who left", ago(minutes=30),
                        user_id=None, display_name="user456"))
    await poll_project(platform, project.id, now=NOW)
    topics = await Topic.filter(project_id=project.id).prefetch_related("author")
    assert len(topics) == 2 and topics[0].author.id == topics[1].author.id
    assert topics[0].author.email == "stackoverflow-bridge@staged.invalid"
    post = await Post.get(topic_id=topics[0].id, number=1)
    assert "user123" in post.cooked and "stackoverflow.com/users" not in post.cooked


async def test_nothing_is_polled_where_the_bridge_is_off(platform: Platform, db: None,
                                                         api: FakeStackExchange) -> None:
    project = await bridge_on(platform)
    api.add(so_question(901, "Nobody should fetch this", ago(hours=1)))
    await do_toggle_plugin(platform, project, NAME, False)
    assert (await poll_project(platform, project.id, now=NOW)).status == "disabled"

    await do_toggle_plugin(platform, project, NAME, True)
    await do_save_plugin_settings(platform, project, NAME,
                                  BridgeSettings(tags="python", poll=False))
    assert (await poll_project(platform, project.id, now=NOW)).status == "off"
    await do_save_plugin_settings(platform, project, NAME, BridgeSettings(tags=""))
    assert (await poll_project(platform, project.id, now=NOW)).status == "no tags"
    assert api.requests == []
    assert await Topic.filter(project_id=project.id).count() == 0


async def test_an_unreachable_api_is_an_error_not_a_crash(platform: Platform, db: None,
                                                          api: FakeStackExchange) -> None:
    project = await bridge_on(platform)
    platform.settings.stackexchange_api_url = "http://127.0.0.1:9/2.3"
    report = await poll_project(platform, project.id, now=NOW)
    assert report.status == "error" and "unreachable" in report.message


async def test_tags_the_project_has_are_kept(platform: Platform, db: None,
                                            api: FakeStackExchange) -> None:
    from forum.topics.tags import get_or_create_tags

    project = await bridge_on(platform)
    await get_or_create_tags(project.id, ["pandas", "numpy"])
    api.add(so_question(1101, "Tagged with a few things", ago(hours=1),
                        tags=["python", "pandas", ".net", "numpy"]))
    await poll_project(platform, project.id, now=NOW)
    topic = await Topic.get(project_id=project.id)
    assert sorted(t.name for t in await topic.tags.all()) == ["numpy", "pandas"]
