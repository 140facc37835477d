"""The support queue's dashboard charts: first-response percentiles by tier, the SLA breach
rate, the unpaid share against its target, queue snapshots, supporters' and customers'
figures; customers see only their own tickets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from forum.accounts.models import User
from forum.charts import period_labels
from forum.projects.models import Project
from forum.support_queue.dashboard_models import QueueSnapshot
from forum.support_queue.dashboard_panels import snapshot_queues
from forum.support_queue.models import Ticket, TicketState, Tier
from forum.support_queue.queue_models import QueueSettings
from forum.topics.categories import ensure_default_categories
from forum.topics.models import Category, TopicKind
from tests.factories import make_project, make_user
from tests.reputation.test_dashboards import Cast, at, make_cast
from tests.support import Login
from tests.topics.read_data import make_topic
from tests.topics.test_queries_count import count_queries

H = timedelta(hours=1)


@dataclass
class Seeded:
    cast: Cast
    category: Category
    base: datetime  # last month, the 10th at noon


async def add_ticket(s: Seeded, number: int, tier: Tier, state: TicketState, *,
                     requester: User | None = None, submitted: datetime | None = None,
                     response: timedelta | None = None, due: timedelta | datetime | None = None,
                     assignee: User | None = None, solved: datetime | None = None,
                     replies: int = 0, project: Project | None = None,
                     responder: User | None = None) -> Ticket:
    project = project or s.cast.project
    submitted = submitted or s.base + timedelta(minutes=number)
    topic = await make_topic(project, s.category, requester or s.cast.helper,
                             kind=TopicKind.TICKET, at=submitted, replies=replies,
                             repliers=[assignee] if assignee else None)
    due_at = due if isinstance(due, datetime) else (submitted + due if due else None)
    return await Ticket.create(
        topic=topic, project=project, number=number, requester=requester or s.cast.helper,
        state=state, tier=tier, submitted_at=submitted,
        first_response_at=submitted + response if response else None,
        first_responder=responder, first_response_due_at=due_at, assignee=assignee,
        solved_at=solved)


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> Seeded:
    cast = await make_cast()
    category = (await ensure_default_categories(cast.project))[0]
    s = Seeded(cast, category, at(1))
    free, ent = Tier.FREE, Tier.ENTERPRISE
    solved = TicketState.SOLVED
    await add_ticket(s, 1, free, solved, response=1 * H, due=2 * H)
    await add_ticket(s, 2, free, solved, response=2 * H, due=1 * H)  # late
    await add_ticket(s, 3, free, solved, response=3 * H)
    await add_ticket(s, 4, free, solved, response=4 * H)
    await add_ticket(s, 5, free, solved, response=10 * H)
    await add_ticket(s, 6, ent, solved, response=H / 2, due=H, assignee=cast.supporter,
                     solved=s.base + timedelta(days=1), replies=2, responder=cast.supporter)
    await add_ticket(s, 7, Tier.PAY_AS_YOU_GO, TicketState.QUEUED, due=H)  # never answered
    await add_ticket(s, 8, Tier.SUBSCRIPTION, TicketState.ASSIGNED, requester=cast.other,
                     submitted=datetime.now(UTC) - timedelta(minutes=5),
                     due=datetime.now(UTC) + timedelta(days=2))  # not due yet
    await QueueSettings.create(project=cast.project, unpaid_share=25)
    return s


async def board(client: httpx.AsyncClient, login: Login, user: User, name: str,
                query: str = "") -> dict[str, Any]:
    await login(user)
    response = await client.get(f"/api/v1/projects/demo/dashboard/{name}?months=6{query}")
    assert response.status_code == 200, response.text
    return {c["slug"]: c for c in response.json()["charts"]}


def series(chart: dict[str, Any]) -> dict[str, list[Any]]:
    return {s["name"]: s["values"] for s in chart["series"]}


async def test_first_response_percentiles_by_tier(client: httpx.AsyncClient, login: Login,
                                                  seeded: Seeded) -> None:
    charts = await board(client, login, seeded.cast.lead, "lead")
    labels = list(period_labels(6))
    median, p90 = charts["first-response-median"], charts["first-response-p90"]
    assert median["labels"] == labels and median["unit"] == "hours"
    assert set(series(median)) == {"Free", "Enterprise"}
    assert series(median)["Free"] == [None, None, None, None, 3.0, None]
    assert series(p90)["Free"][-2] == 10.0
    assert series(median)["Enterprise"][-2] == 0.5
    assert series(p90)["Enterprise"][-2] == 0.5


async def test_breach_rate_unpaid_share_and_top_supporters(
        client: httpx.AsyncClient, login: Login, seeded: Seeded) -> None:
    charts = await board(client, login, seeded.cast.owner, "lead")
    breaches = series(charts["sla-breaches"])["Breach rate"]
    assert breaches[-2] == 50.0  # tickets 2 (late) and 7 (unanswered) of 1, 2, 6, 7
    assert breaches[:-2] == [None] * 4
    assert charts["sla-breaches"]["extra"]["breached"] == "2"
    unpaid = series(charts["unpaid-share"])
    assert unpaid["Unpaid share served"][-2] == 83.3  # 5 free of 6 answered
    assert unpaid["Target"] == [25] * 6
    assert charts["unpaid-share"]["extra"] == {"target": "25%"}
    top = charts["top-supporters"]
    assert top["labels"] == [seeded.cast.supporter.username]
    assert series(top)["Tickets solved"] == [1]


async def test_queue_snapshots_hourly_and_their_chart(
        client: httpx.AsyncClient, login: Login, seeded: Seeded) -> None:
    quiet = await make_project("quiet", owner=await make_user())
    await add_ticket(seeded, 1, Tier.FREE, TicketState.SOLVED, project=quiet)
    hour = seeded.base.replace(minute=0, second=0, microsecond=0)
    assert await snapshot_queues(hour + timedelta(minutes=7)) == 2
    assert await snapshot_queues(hour + timedelta(minutes=40)) == 0  # the same hour
    await Ticket.filter(project=seeded.cast.project, number=7).update(
        state=TicketState.SOLVED)
    assert await snapshot_queues(hour + timedelta(hours=1, minutes=1)) == 2
    rows = await QueueSnapshot.filter(project=seeded.cast.project).order_by(
        "taken_at").values_list("taken_at", "queued", "paid")
    assert [(q, p) for _, q, p in rows] == [(2, 2), (1, 1)]
    assert rows[0][0] == hour
    assert await QueueSnapshot.filter(project=quiet).values_list("queued", flat=True) == [0, 0]
    size = series((await board(client, login, seeded.cast.lead, "lead"))["queue-size"])
    assert size["Average"][-2] == 1.5 and size["Largest"][-2] == 2
    assert size["Average"][-1] is None


async def test_supporter_figures(client: httpx.AsyncClient, login: Login,
                                 seeded: Seeded) -> None:
    supporter = seeded.cast.supporter
    await make_topic(seeded.cast.project, seeded.category, seeded.cast.helper, replies=3,
                     repliers=[supporter], at=seeded.base)  # a question, not a ticket
    # "My first responses" are those the supporter gave, whoever the ticket is assigned to:
    # not the lead's 5 hours on a ticket assigned to the supporter, but the supporter's
    # 1.5 hours on somebody else's.
    await add_ticket(seeded, 9, Tier.FREE, TicketState.QUEUED, response=5 * H,
                     assignee=supporter, responder=seeded.cast.lead)
    await add_ticket(seeded, 10, Tier.FREE, TicketState.QUEUED, response=1.5 * H,
                     assignee=seeded.cast.lead, responder=supporter)
    charts = await board(client, login, supporter, "supporter",
                         f"&username={supporter.username}")
    tickets = series(charts["tickets"])
    assert tickets["Answered"] == [0, 0, 0, 0, 1, 0]  # two replies on one ticket
    assert tickets["Solved"] == [0, 0, 0, 0, 1, 0]
    mine = series(charts["my-first-response"])
    assert mine["Median"][-2] == 0.5 and mine["90th percentile"][-2] == 1.5
    # The lead sees the same board; a helper sees none.
    assert (await board(client, login, seeded.cast.lead, "supporter",
                        f"&username={supporter.username}"))["tickets"] == charts["tickets"]
    await login(seeded.cast.helper)
    refused = await client.get("/api/v1/projects/demo/dashboard/supporter?username="
                               + supporter.username)
    assert refused.status_code == 403


async def test_customer_sees_only_their_own_tickets(client: httpx.AsyncClient, login: Login,
                                                    seeded: Seeded) -> None:
    mine = await board(client, login, seeded.cast.helper, "customer")
    states = mine["my-tickets"]
    assert dict(zip(states["labels"], states["series"][0]["values"], strict=True)) == {
        "Queued": 1, "Solved": 6}
    times = mine["my-response-times"]
    assert times["labels"] == ["DEMO-1", "DEMO-2", "DEMO-6", "DEMO-7"]
    assert series(times) == {"First response": [1.0, 2.0, 0.5, None],
                             "Promised": [2.0, 1.0, 1.0, 1.0]}
    theirs = await board(client, login, seeded.cast.other, "customer")
    assert dict(zip(theirs["my-tickets"]["labels"],
                    theirs["my-tickets"]["series"][0]["values"], strict=True)) == {"Assigned": 1}
    assert theirs["my-response-times"]["labels"] == ["DEMO-8"]
    assert series(theirs["my-response-times"])["First response"] == [None]
    page = await client.get("/p/demo/dashboard/customer")
    assert "DEMO-8" in page.text and "DEMO-1<" not in page.text


async def test_lead_board_queries_do_not_grow_with_tickets(
        client: httpx.AsyncClient, login: Login, seeded: Seeded) -> None:
    await login(seeded.cast.lead)
    await client.get("/p/demo/dashboard/lead")
    with count_queries() as few:
        assert (await client.get("/p/demo/dashboard/lead")).status_code == 200
    for n in range(9, 29):
        await add_ticket(seeded, n, Tier.FREE, TicketState.SOLVED, response=n * H, due=H,
                         assignee=seeded.cast.supporter, solved=seeded.base + H)
    with count_queries() as many:
        assert (await client.get("/p/demo/dashboard/lead")).status_code == 200
    assert len(many.queries) == len(few.queries)


async def test_snapshot_runs_hourly_as_a_job(seeded: Seeded, platform: Any,
                                             run_jobs: Any) -> None:
    from forum.hookspecs import CronDefinition

    assert CronDefinition("support_queue.snapshot_queues", minute={0}) in \
        platform.plugins.collect("forum_cron")
    await platform.enqueue("support_queue.snapshot_queues")
    await run_jobs()
    rows = await QueueSnapshot.filter(project=seeded.cast.project).values_list(
        "queued", "paid")
    assert rows == [(2, 2)]  # tickets 7 (pay as you go) and 8 (subscription)
