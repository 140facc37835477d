"""Reputation pages and their API twins: privileges, leaderboards, history and the rules
page, each tried from outside its boundary (private projects, other projects' leads,
members who are not leads)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from forum.accounts.models import User
from forum.platform import Platform
from forum.projects.models import Role, Visibility
from forum.reputation.config import load_rules
from forum.reputation.models import ReputationEntry, ReputationMonth
from forum.topics.models import Topic
from tests.factories import add_member, make_user
from tests.reputation.rep_support import (
    Cast,
    accept,
    answer,
    ask,
    make_cast,
    reputation_rules,  # noqa: F401  (the real defaults here)
    vote,
)
from tests.support import Login, post_form


@pytest.fixture
async def cast(client: httpx.AsyncClient, platform: Platform) -> Cast:
    """Project "rep": users[0] asks, users[1] answers well, users[2] answers once."""
    cast = await make_cast(4, slug="rep", rules=None)
    asker, good, fair, voter = cast.users
    for _ in range(2):
        question = await ask(cast, asker)
        reply = await answer(question, good)
        await vote(platform, cast, voter, reply, 1)
        await accept(platform, cast, asker, question, reply)
    question = await ask(cast, asker)
    await vote(platform, cast, voter, await answer(question, fair), 1)
    return cast


async def test_privileges_page_and_api(client: httpx.AsyncClient, cast: Cast,
                                       login: Login) -> None:
    page = await client.get("/p/rep/privileges")
    assert page.status_code == 200 and "Sign in to see" in page.text
    assert 'data-privilege="vote_down"><td>Vote down</td><td>125</td>' in page.text
    anonymous = (await client.get("/api/v1/projects/rep/privileges")).json()
    assert anonymous["reputation"] is None
    assert not any(p["held"] for p in anonymous["privileges"])
    await login(cast.users[1])  # 1 + 20 + 30 = 51
    mine = (await client.get("/api/v1/projects/rep/privileges")).json()
    assert mine["reputation"] == 51 and not mine["is_staff"]
    held = {p["name"] for p in mine["privileges"] if p["held"]}
    assert held == {"reply", "vote_up", "flag"}
    assert "Your reputation here: <strong class=\"reputation\">51</strong>" in (
        await client.get("/p/rep/privileges")).text
    await login(cast.moderator)
    staff = (await client.get("/api/v1/projects/rep/privileges")).json()
    assert staff["is_staff"] and all(p["held"] for p in staff["privileges"])


async def test_leaderboards_by_period_and_kind(client: httpx.AsyncClient, cast: Cast) -> None:
    asker, good, fair, _ = cast.users
    board = (await client.get("/api/v1/projects/rep/leaderboard?period=week")).json()
    assert board["period"] == "week" and board["by"] == "reputation"
    assert [(r["rank"], r["username"], r["value"]) for r in board["rows"]] == [
        (1, good.username, 50), (2, fair.username, 10), (3, asker.username, 4)]
    accepted = (await client.get("/api/v1/projects/rep/leaderboard?by=accepted&period=all")
                ).json()
    assert [(r["username"], r["value"]) for r in accepted["rows"]] == [(good.username, 2)]
    everything = (await client.get("/api/v1/projects/rep/leaderboard?period=all")).json()
    assert everything["rows"][0]["value"] == 51  # all time: the reputation itself
    # Entries from 40 days ago leave the week and the month, not the year.
    await backdate(cast, good, timedelta(days=40))
    for period, names in (("month", [fair.username, asker.username]),
                          ("year", [good.username, fair.username, asker.username])):
        rows = (await client.get(f"/api/v1/projects/rep/leaderboard?period={period}")
                ).json()["rows"]
        assert [r["username"] for r in rows] == names
    assert (await client.get("/api/v1/projects/rep/leaderboard?period=month&by=accepted")
            ).json()["rows"] == []
    page = await client.get("/p/rep/leaderboard?period=year&by=reputation")
    assert page.status_code == 200 and f'data-username="{good.username}"' in page.text


async def backdate(cast: Cast, user: User, ago: timedelta) -> None:
    """Move a user's ledger back in time, with the monthly figures leaderboards read."""
    moment = datetime.now(UTC) - ago
    await ReputationEntry.filter(user_id=user.id).update(created_at=moment)
    rows = await ReputationMonth.filter(project_id=cast.project.id, user_id=user.id)
    await ReputationMonth.filter(user_id=user.id).delete()
    await ReputationMonth.create(project_id=cast.project.id, user_id=user.id,
                                 month=moment.date().replace(day=1),
                                 gained=sum(r.gained for r in rows),
                                 accepted=sum(r.accepted for r in rows))


async def test_bad_leaderboard_parameters_are_422(client: httpx.AsyncClient, cast: Cast) -> None:
    bad = await client.get("/api/v1/projects/rep/leaderboard?period=decade")
    assert bad.status_code == 422 and bad.json()["error"]["fields"] == {
        "period": "week, month, year or all"}
    assert (await client.get("/api/v1/projects/rep/leaderboard?by=karma")).status_code == 422
    assert (await client.get("/p/rep/leaderboard?period=x")).status_code == 422


async def test_history_page_and_api(client: httpx.AsyncClient, cast: Cast) -> None:
    good = cast.users[1]
    page = await client.get(f"/p/rep/u/{good.username}/reputation")
    assert page.status_code == 200
    assert page.text.count('data-reason="accepted"') == 2
    assert "<strong class=\"reputation\">51</strong>" in page.text
    data = (await client.get(f"/api/v1/projects/rep/users/{good.username}/reputation")).json()
    assert data["reputation"] == 51 and [e["reason"] for e in data["entries"]] == [
        "accepted", "upvoted", "accepted", "upvoted"]
    assert all(e["post_url"].startswith("/p/rep/t/") for e in data["entries"])
    assert all(e["voter"] is None for e in data["entries"])
    assert (await client.get("/p/rep/u/nobody/reputation")).status_code == 404
    assert (await client.get(f"/api/v1/projects/rep/users/{good.username}/reputation?before=zz")
            ).status_code == 422


async def test_history_pages_back(client: httpx.AsyncClient, cast: Cast, platform: Platform
                                  ) -> None:
    author = cast.users[2]
    for _ in range(55):
        await vote(platform, cast, cast.users[3], await ask(cast, author), 1)
    first = (await client.get(f"/api/v1/projects/rep/users/{author.username}/reputation")
             ).json()
    assert len(first["entries"]) == 50 and first["next_cursor"]
    rest = (await client.get(f"/api/v1/projects/rep/users/{author.username}/reputation"
                             f"?before={first['next_cursor']}")).json()
    assert len(rest["entries"]) == 6 and rest["next_cursor"] is None


async def test_history_hides_links_to_posts_the_viewer_cannot_read(
        client: httpx.AsyncClient, cast: Cast, platform: Platform, login: Login) -> None:
    author = cast.users[2]
    report = await ask(cast, author)
    await Topic.filter(id=report.topic_id).update(is_private=True)  # type: ignore[attr-defined]
    await vote(platform, cast, cast.owner, report, 1)
    url = f"/api/v1/projects/rep/users/{author.username}/reputation"
    newest = (await client.get(url)).json()["entries"][0]
    assert newest["reason"] == "upvoted" and newest["post_url"] is None
    assert newest["post_id"] is None
    await login(author)
    assert (await client.get(url)).json()["entries"][0]["post_id"] == report.id
    await login(cast.moderator)
    assert (await client.get(url)).json()["entries"][0]["post_url"] is not None


async def test_private_projects_are_not_found_for_outsiders(
        client: httpx.AsyncClient, cast: Cast, login: Login) -> None:
    cast.project.default_visibility = Visibility.MEMBERS
    await cast.project.save()
    member = await make_user()
    await add_member(cast.project, member, Role.MEMBER)
    paths = ["/p/rep/privileges", "/p/rep/leaderboard",
             f"/p/rep/u/{cast.users[1].username}/reputation",
             "/api/v1/projects/rep/privileges", "/api/v1/projects/rep/leaderboard",
             f"/api/v1/projects/rep/users/{cast.users[1].username}/reputation"]
    for user in (None, cast.users[0]):  # anonymous, and signed in without membership
        await login(user)
        for path in paths:
            assert (await client.get(path)).status_code == 404, path
    await login(member)
    for path in paths:
        assert (await client.get(path)).status_code == 200, path


# The rules: owners and leads only, of their own project


async def test_owner_changes_the_rules_on_the_settings_page(
        client: httpx.AsyncClient, cast: Cast, login: Login) -> None:
    await login(cast.owner)
    page = await client.get("/p/rep/settings/reputation")
    assert page.status_code == 200 and 'name="threshold_vote_down" value="125"' in page.text
    form = {name: str(value) for name, value in (await load_rules(cast.project.id)
                                                 ).model_dump(exclude={"thresholds"}).items()}
    form.update({f"threshold_{p}": "125" if p == "vote_down" else "1"
                 for p in ("reply", "vote_up", "flag", "vote_down", "create_tag", "review",
                           "close_reopen", "edit_others_post", "moderate")})
    saved = await post_form(client, "/p/rep/settings/reputation",
                            {**form, "answer_upvote": "7", "threshold_vote_down": "60"})
    assert saved.status_code == 303
    rules = await load_rules(cast.project.id)
    assert rules.answer_upvote == 7 and rules.thresholds["vote_down"] == 60
    refused = await post_form(client, "/p/rep/settings/reputation",
                              {**form, "daily_cap": "-5", "threshold_moderate": "0"})
    assert refused.status_code == 422
    assert "greater than or equal to 0" in refused.text
    assert (await load_rules(cast.project.id)).daily_cap == 200


async def test_only_leads_of_this_project_see_the_rules(
        client: httpx.AsyncClient, cast: Cast, login: Login) -> None:
    elsewhere = await make_cast(slug="elsewhere")
    lead = await make_user()
    await add_member(cast.project, lead, Role.LEAD)
    for user in (cast.moderator, cast.users[0], elsewhere.owner):
        await login(user)
        assert (await client.get("/p/rep/settings/reputation")).status_code == 403
        assert (await client.get("/api/v1/projects/rep/settings/reputation")).status_code == 403
        put = await client.put("/api/v1/projects/rep/settings/reputation",
                               json={"answer_upvote": 1000})
        assert put.status_code == 403
    await login(None)
    assert (await client.get("/api/v1/projects/rep/settings/reputation")).status_code == 401
    assert (await load_rules(cast.project.id)).answer_upvote == 10
    await login(lead)
    put = await client.put("/api/v1/projects/rep/settings/reputation",
                           json={"answer_upvote": 12, "thresholds": {"vote_up": 3}})
    assert put.status_code == 200 and put.json()["thresholds"]["vote_up"] == 3
    assert put.json()["thresholds"]["vote_down"] == 125
    got = (await client.get("/api/v1/projects/rep/settings/reputation")).json()
    assert got["answer_upvote"] == 12
    assert (await load_rules(elsewhere.project.id)).answer_upvote == 10


async def test_bad_rules_are_422_and_change_nothing(client: httpx.AsyncClient, cast: Cast,
                                                    login: Login) -> None:
    await login(cast.owner)
    before = (await load_rules(cast.project.id)).model_dump()
    for body in ({"daily_cap": -1}, {"karma": 3}, {"thresholds": {"fly": 3}},
                 {"thresholds": {"vote_up": 0}}, {"downvote_ratio_max": 2}):
        response = await client.put("/api/v1/projects/rep/settings/reputation", json=body)
        assert response.status_code == 422, body
        assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert (await load_rules(cast.project.id)).model_dump() == before
    assert (await client.get("/api/v1/projects/rep/settings/reputation")).json()[
        "daily_cap"] == 200


async def test_the_openapi_document_lists_the_reputation_api(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    for path in ("/api/v1/projects/{slug}/privileges", "/api/v1/projects/{slug}/leaderboard",
                 "/api/v1/projects/{slug}/users/{username}/reputation"):
        assert "get" in paths[path]
    assert {"get", "put"} <= set(paths["/api/v1/projects/{slug}/settings/reputation"])


async def test_the_profile_links_to_the_reputation_pages(client: httpx.AsyncClient,
                                                         cast: Cast) -> None:
    good = cast.users[1]
    page = await client.get(f"/p/rep/u/{good.username}")
    assert page.status_code == 200
    assert f'<a href="/p/rep/u/{good.username}/reputation">Reputation history</a>' in page.text
    assert '<a href="/p/rep/privileges">Privileges</a>' in page.text
