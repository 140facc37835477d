"""Dashboards: who sees which board, the reputation domain's figures, CSV and JSON, and a
bounded number of queries."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from forum.accounts.models import User
from forum.charts import month_starts, period_labels
from forum.projects.models import Project, Role, Visibility
from forum.reputation.models import ReputationMonth
from forum.topics.categories import ensure_default_categories
from tests.factories import add_member, make_project, make_user
from tests.support import Login
from tests.topics.read_data import make_topic
from tests.topics.test_queries_count import count_queries


@dataclass
class Cast:
    project: Project
    owner: User
    lead: User
    supporter: User
    helper: User
    other: User  # another member
    outsider: User
    admin: User


async def make_cast(slug: str = "demo") -> Cast:
    owner = await make_user()
    project = await make_project(slug, owner=owner)
    people = {}
    for name, role in (("lead", Role.LEAD), ("supporter", Role.SUPPORTER),
                       ("helper", Role.MEMBER), ("other", Role.MEMBER)):
        people[name] = await make_user()
        await add_member(project, people[name], role)
    return Cast(project, owner, people["lead"], people["supporter"], people["helper"],
                people["other"], await make_user(), await make_user(admin=True))


@pytest.fixture
async def cast(client: httpx.AsyncClient) -> Cast:
    return await make_cast()


def first_of(months_ago: int) -> date:
    return month_starts(months_ago + 1)[0]


def at(months_ago: int, day: int = 10) -> datetime:
    first = first_of(months_ago)
    when = datetime(first.year, first.month, 1, 12, tzinfo=UTC) + timedelta(days=day - 1)
    return min(when, datetime.now(UTC) - timedelta(seconds=5)) if months_ago == 0 else when


async def seed_helper(cast: Cast) -> None:
    """The helper: 3 answers two months ago, 1 this month; reputation 100 long ago, +10
    three months ago, +5 last month with 2 accepted answers."""
    category = (await ensure_default_categories(cast.project))[0]
    await make_topic(cast.project, category, cast.other, replies=3, repliers=[cast.helper],
                     at=at(2))
    await make_topic(cast.project, category, cast.other, replies=1, repliers=[cast.helper],
                     at=at(0, day=1))
    await make_topic(cast.project, category, cast.other, replies=2, repliers=[cast.other],
                     at=at(1))  # someone else's answers
    rows = [(first_of(30), 100, 4), (first_of(3), 10, 0), (first_of(1), 5, 2)]
    for month, gained, accepted in rows:
        await ReputationMonth.create(project=cast.project, user=cast.helper, month=month,
                                     gained=gained, accepted=accepted)
    await ReputationMonth.create(project=cast.project, user=cast.other, month=first_of(1),
                                 gained=40, accepted=1)


async def get(client: httpx.AsyncClient, login: Login, user: User | None, url: str
              ) -> httpx.Response:
    await login(user)
    return await client.get(url)


# Permissions


async def test_helper_board_is_the_helpers_and_the_leads(
        client: httpx.AsyncClient, login: Login, cast: Cast) -> None:
    url = f"/p/demo/dashboard/helper/{cast.helper.username}"
    for user in (cast.helper, cast.owner, cast.lead, cast.admin):
        assert (await get(client, login, user, url)).status_code == 200, user.username
    empty = (await get(client, login, cast.helper, url)).text
    assert "Nothing in this period." in empty  # no empty axes for the answers
    assert empty.count("<svg") == 1  # the reputation line, at 1
    for user in (cast.other, cast.supporter, cast.outsider):
        assert (await get(client, login, user, url)).status_code == 403, user.username
    assert (await get(client, login, None, url)).status_code == 401
    assert (await get(client, login, cast.other, url + "/answers.csv")).status_code == 403
    assert (await get(client, login, cast.other,
                      "/api/v1/projects/demo/dashboard/helper?username="
                      + cast.helper.username)).status_code == 403
    assert (await get(client, login, cast.lead, "/p/demo/dashboard/helper/nobody")
            ).status_code == 404
    # Without a name, the page is the viewer's own board (as in the API); anonymous: 401.
    mine = await get(client, login, cast.other, "/p/demo/dashboard/helper?months=6")
    assert mine.status_code == 303
    assert mine.headers["location"] == f"/p/demo/dashboard/helper/{cast.other.username}?months=6"
    assert (await get(client, login, None, "/p/demo/dashboard/helper")).status_code == 401


async def test_lead_board_is_for_owner_leads_and_admins(
        client: httpx.AsyncClient, login: Login, cast: Cast) -> None:
    for user in (cast.owner, cast.lead, cast.admin):
        assert (await get(client, login, user, "/p/demo/dashboard/lead")).status_code == 200
    for user in (cast.supporter, cast.helper, cast.outsider):
        assert (await get(client, login, user, "/p/demo/dashboard/lead")).status_code == 403
        api = await get(client, login, user, "/api/v1/projects/demo/dashboard/lead")
        assert api.status_code == 403
        assert api.json()["error"]["code"]
        csv_page = await get(client, login, user,
                             "/p/demo/dashboard/lead/top-contributors.csv")
        assert csv_page.status_code == 403
    assert (await get(client, login, None, "/p/demo/dashboard/lead")).status_code == 401
    assert (await get(client, login, None, "/api/v1/projects/demo/dashboard/lead")
            ).status_code == 401


async def test_supporter_board_is_the_supporters_and_the_leads(
        client: httpx.AsyncClient, login: Login, cast: Cast) -> None:
    url = f"/p/demo/dashboard/supporter/{cast.supporter.username}"
    assert (await get(client, login, cast.supporter, url)).status_code == 200
    assert (await get(client, login, cast.lead, url)).status_code == 200
    assert (await get(client, login, cast.helper, url)).status_code == 403
    # Someone off the team has no supporter board, even for a lead.
    assert (await get(client, login, cast.lead,
                      f"/p/demo/dashboard/supporter/{cast.helper.username}")).status_code == 404
    assert (await get(client, login, cast.helper,
                      f"/p/demo/dashboard/supporter/{cast.helper.username}")).status_code == 404


async def test_customer_board_is_always_the_viewers_own(
        client: httpx.AsyncClient, login: Login, cast: Cast) -> None:
    assert (await get(client, login, cast.helper, "/p/demo/dashboard/customer")
            ).status_code == 200
    assert (await get(client, login, None, "/p/demo/dashboard/customer")).status_code == 401
    # A username on the customer board is not a way into someone else's.
    assert (await get(client, login, cast.lead,
                      f"/p/demo/dashboard/customer/{cast.helper.username}")).status_code == 404
    api = await get(client, login, cast.helper,
                    f"/api/v1/projects/demo/dashboard/customer?username={cast.other.username}")
    assert api.status_code == 200
    assert api.json()["username"] is None and api.json()["board"] == "customer"


async def test_other_projects_and_members_only_projects(
        client: httpx.AsyncClient, login: Login, cast: Cast) -> None:
    hidden = await make_project("hidden", owner=await make_user(),
                                default_visibility=Visibility.MEMBERS)
    await make_project("elsewhere", owner=await make_user())
    # The demo project's lead is nobody in the others.
    assert (await get(client, login, cast.lead, "/p/elsewhere/dashboard/lead")
            ).status_code == 403
    assert (await get(client, login, cast.lead, "/p/hidden/dashboard/lead")).status_code == 404
    assert (await get(client, login, cast.lead,
                      f"/p/hidden/dashboard/helper/{cast.lead.username}")).status_code == 404
    assert (await get(client, login, cast.lead, f"/p/{hidden.slug}/dashboard")
            ).status_code == 404
    assert (await get(client, login, cast.lead, "/p/demo/dashboard/nosuch")).status_code == 404


async def test_index_lists_only_the_boards_the_viewer_may_open(
        client: httpx.AsyncClient, login: Login, cast: Cast) -> None:
    page = (await get(client, login, cast.helper, "/p/demo/dashboard")).text
    assert f"/p/demo/dashboard/helper/{cast.helper.username}" in page
    assert "/p/demo/dashboard/customer" in page
    assert "/p/demo/dashboard/lead" not in page and "/dashboard/supporter/" not in page
    page = (await get(client, login, cast.lead, "/p/demo/dashboard")).text
    assert "/p/demo/dashboard/lead" in page
    assert f"/p/demo/dashboard/supporter/{cast.supporter.username}" in page
    assert (await get(client, login, None, "/p/demo/dashboard")).status_code == 401
    home = (await get(client, login, cast.helper, "/p/demo")).text
    assert 'href="/p/demo/dashboard"' in home
    profile_url = f"/p/demo/u/{cast.helper.username}"
    own = f'href="/p/demo/dashboard/helper/{cast.helper.username}"'
    assert own in (await get(client, login, cast.helper, profile_url)).text
    assert own not in (await get(client, login, cast.other, profile_url)).text


# Figures


async def test_helper_figures_per_month(client: httpx.AsyncClient, login: Login,
                                        cast: Cast) -> None:
    await seed_helper(cast)
    await login(cast.helper)
    data = (await client.get("/api/v1/projects/demo/dashboard/helper?months=6")).json()
    assert data["months"] == 6 and data["username"] == cast.helper.username
    charts = {c["slug"]: c for c in data["charts"]}
    labels = list(period_labels(6))
    answers = charts["answers"]
    assert answers["labels"] == labels
    series = {s["name"]: s["values"] for s in answers["series"]}
    assert series["Answers"] == [0, 0, 0, 3, 0, 1]
    assert series["Accepted answers"] == [0, 0, 0, 0, 2, 0]
    reputation = charts["reputation"]["series"][0]["values"]
    assert reputation == [101, 101, 111, 111, 116, 116]


async def test_lead_figures_top_contributors(client: httpx.AsyncClient, login: Login,
                                             cast: Cast) -> None:
    await seed_helper(cast)
    await login(cast.lead)
    data = (await client.get("/api/v1/projects/demo/dashboard/lead?months=12")).json()
    charts = {c["slug"]: c for c in data["charts"]}
    top = charts["top-contributors"]
    assert top["labels"] == [cast.helper.username, cast.other.username]
    assert top["series"][0]["values"] == [2, 1]  # the 4 accepted long ago are outside
    assert top["series"][1]["values"] == [15, 40]
    per_month = {s["name"]: s["values"] for s in charts["accepted-answers"]["series"]}
    assert per_month["Accepted answers"][-2] == 3
    assert per_month["People who gained reputation"][-2] == 2


async def test_page_shows_svg_table_and_csv_equal_to_the_table(
        client: httpx.AsyncClient, login: Login, cast: Cast) -> None:
    await seed_helper(cast)
    await login(cast.helper)
    page = await client.get(f"/p/demo/dashboard/helper/{cast.helper.username}?months=6")
    assert page.status_code == 200
    assert "/static/charts.css" in page.text
    assert 'aria-current="page">last 6 months' in page.text
    svgs = re.findall(r"<svg .*?</svg>", page.text, re.S)
    assert len(svgs) >= 2
    for svg in svgs:
        ET.fromstring(svg)
    section = page.text.split('data-chart="answers"')[1].split("</section>")[0]
    table = [[re.sub(r"<.*?>", "", cell).strip() for cell in re.findall(
        r"<t[hd][^>]*>(.*?)</t[hd]>", row)] for row in re.findall(
        r"<tr>(.*?)</tr>", section.split("<tbody>")[1], re.S)]
    response = await client.get(f"/p/demo/dashboard/helper/{cast.helper.username}"
                                "/answers.csv?months=6")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="demo-helper-{cast.helper.username}-answers-6m.csv"')
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["label", "Answers (answers)", "Accepted answers (answers)"]
    assert rows[1:] == table
    assert rows[4][1] == "3"
    assert (await client.get(f"/p/demo/dashboard/helper/{cast.helper.username}"
                             "/nosuch.csv")).status_code == 404


async def test_bad_period_is_a_422_not_a_500(client: httpx.AsyncClient, login: Login,
                                             cast: Cast) -> None:
    await login(cast.lead)
    for bad in ("7", "x", "-1"):
        assert (await client.get(f"/p/demo/dashboard/lead?months={bad}")).status_code == 422
        api = await client.get(f"/api/v1/projects/demo/dashboard/lead?months={bad}")
        assert api.status_code == 422
        assert "months" in api.json()["error"]["fields"]


async def test_lead_board_queries_do_not_grow_with_data(
        client: httpx.AsyncClient, login: Login, cast: Cast) -> None:
    await login(cast.lead)
    await client.get("/p/demo/dashboard/lead")  # warm up
    with count_queries() as few:
        assert (await client.get("/p/demo/dashboard/lead?months=24")).status_code == 200
    await seed_helper(cast)
    for n in range(8):
        person = await make_user()
        for months_ago in range(0, 20, 3):
            await ReputationMonth.create(project=cast.project, user=person,
                                         month=first_of(months_ago), gained=n, accepted=1)
    with count_queries() as many:
        assert (await client.get("/p/demo/dashboard/lead?months=24")).status_code == 200
    assert len(many.queries) == len(few.queries)
    assert len(few.queries) <= 25, few.queries
