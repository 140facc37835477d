"""Billing's dashboard charts: revenue by month and currency, top earners, a helper's
earnings and a customer's own payments, all sums over the ledger."""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from forum.accounts.models import User
from forum.billing.models import Attribution, LedgerEntry, LedgerKind
from forum.projects.models import Project
from forum.support_queue.models import Ticket, TicketState
from forum.topics.categories import ensure_default_categories
from forum.topics.models import TopicKind
from tests.factories import make_project, make_user
from tests.reputation.test_dashboards import Cast, at, make_cast
from tests.support import Login
from tests.topics.read_data import make_topic
from tests.topics.test_queries_count import count_queries

_ids = itertools.count(1)


async def pay(project: Project, user: User | None, when: datetime, gross: int, stripe: int,
              platform: int, *, purpose: str = "ticket_upgrade", ticket_id: int | None = None,
              currency: str = "USD", kind: LedgerKind = LedgerKind.PAYMENT) -> LedgerEntry:
    return await LedgerEntry.create(
        project=project, user=user, kind=kind, purpose=purpose, ticket_id=ticket_id,
        gross=gross, stripe_fee=stripe, platform_fee=platform,
        project_net=gross - stripe - platform, currency=currency,
        stripe_object_id=f"ch_{next(_ids)}", occurred_at=when)


async def credit(entry: LedgerEntry, user: User, amount: int, when: datetime) -> None:
    row = await Attribution.create(project_id=entry.project_id,  # type: ignore[attr-defined]
                                   entry=entry, user=user, ticket_id=entry.ticket_id or 0,
                                   topic_id=1, post_id=next(_ids), amount=amount,
                                   currency=entry.currency)
    await Attribution.filter(id=row.id).update(created_at=when)


@dataclass
class Seeded:
    cast: Cast
    ticket: Ticket


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> Seeded:
    cast = await make_cast()
    project, last, now = cast.project, at(1), at(0, day=1)
    category = (await ensure_default_categories(project))[0]
    topic = await make_topic(project, category, cast.other, kind=TopicKind.TICKET, at=last)
    ticket = await Ticket.create(topic=topic, project=project, number=5, requester=cast.other,
                                 state=TicketState.SOLVED)
    upgrade = await pay(project, cast.other, last, 10000, 320, 500, ticket_id=ticket.id)
    await pay(project, cast.other, last + timedelta(hours=1), 6000, 204, 300,
              purpose="plan_invoice")
    refund = await pay(project, cast.other, last + timedelta(days=2), -5000, 0, -250,
                       ticket_id=ticket.id, kind=LedgerKind.REFUND)
    later = await pay(project, cast.helper, now, 2000, 88, 100, ticket_id=999999)
    await pay(project, cast.other, at(30), 99999, 0, 0)  # before the period
    euros = await pay(project, cast.other, last, 3000, 117, 150, currency="EUR")
    elsewhere = await make_project("elsewhere", owner=await make_user())
    await pay(elsewhere, cast.other, last, 7777, 0, 0)
    await credit(upgrade, cast.helper, 4000, last)
    await credit(refund, cast.helper, -1000, last + timedelta(days=2))
    await credit(later, cast.other, 500, now)
    await credit(euros, cast.other, 999, last)
    return Seeded(cast, ticket)


async def board(client: httpx.AsyncClient, login: Login, user: User, name: str,
                query: str = "") -> dict[str, Any]:
    await login(user)
    response = await client.get(f"/api/v1/projects/demo/dashboard/{name}?months=6{query}")
    assert response.status_code == 200, response.text
    return {c["slug"]: c for c in response.json()["charts"]}


def series(chart: dict[str, Any]) -> dict[str, list[Any]]:
    return {s["name"]: s["values"] for s in chart["series"]}


async def test_revenue_by_month_sums_the_ledger(client: httpx.AsyncClient, login: Login,
                                                seeded: Seeded) -> None:
    charts = await board(client, login, seeded.cast.lead, "lead")
    revenue = charts["revenue"]
    assert revenue["currency"] == "USD"
    assert series(revenue) == {
        "Gross": [0, 0, 0, 0, 11000, 2000], "Stripe fees": [0, 0, 0, 0, 524, 88],
        "Platform fee": [0, 0, 0, 0, 550, 100], "Net": [0, 0, 0, 0, 9926, 1812]}
    assert revenue["extra"] == {"net over the period": "$117.38"}
    euros = charts["revenue-eur"]
    assert euros["currency"] == "EUR" and series(euros)["Gross"][-2] == 3000
    top = charts["top-earners"]
    assert top["labels"] == [seeded.cast.helper.username, seeded.cast.other.username]
    assert series(top)["Earned"] == [3000, 500]  # refund deducted; euros apart


async def test_lead_page_table_and_csv_in_money(client: httpx.AsyncClient, login: Login,
                                               seeded: Seeded) -> None:
    await login(seeded.cast.owner)
    page = await client.get("/p/demo/dashboard/lead?months=6")
    assert page.status_code == 200
    section = page.text.split('data-chart="revenue"')[1].split("</section>")[0]
    assert "<td>$110.00</td>" in section and "<td>$99.26</td>" in section
    assert "<svg" in section and "$100" in section  # a tick on the money axis
    response = await client.get("/p/demo/dashboard/lead/revenue.csv?months=6")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["label", "Gross (USD)", "Stripe fees (USD)", "Platform fee (USD)",
                       "Net (USD)"]
    assert rows[-2][1:] == ["110.00", "5.24", "5.50", "99.26"]
    assert rows[-1][1:] == ["20.00", "0.88", "1.00", "18.12"]


async def test_helper_earnings(client: httpx.AsyncClient, login: Login,
                               seeded: Seeded) -> None:
    helper = seeded.cast.helper
    charts = await board(client, login, helper, "helper", f"&username={helper.username}")
    assert series(charts["earned"])["Earned"] == [0, 0, 0, 0, 3000, 0]
    assert charts["earned"]["extra"] == {"over the period": "$30.00"}
    # Another member cannot read what the helper earned.
    await login(seeded.cast.other)
    refused = await client.get(f"/api/v1/projects/demo/dashboard/helper?username="
                               f"{helper.username}")
    assert refused.status_code == 403


async def test_customer_sees_what_their_own_money_paid_for(
        client: httpx.AsyncClient, login: Login, seeded: Seeded) -> None:
    charts = await board(client, login, seeded.cast.other, "customer")
    paid = charts["paid-for"]
    assert paid["labels"] == ["Plan invoices", "Ticket upgrades"]
    assert series(paid)["Paid"] == [6000, 5000]  # the refund deducted
    tickets = charts["paid-tickets"]
    assert tickets["kind"] == "table"
    assert tickets["labels"] == ["DEMO-5"] and series(tickets)["Paid"] == [5000]
    # Another customer sees their own payment only.
    theirs = await board(client, login, seeded.cast.helper, "customer")
    assert series(theirs["paid-for"])["Paid"] == [2000]
    assert theirs["paid-tickets"]["labels"] == ["ticket 999999"]
    page = await client.get("/p/demo/dashboard/customer")
    assert "DEMO-5" not in page.text and "$60.00" not in page.text


async def test_lead_board_queries_do_not_grow_with_the_ledger(
        client: httpx.AsyncClient, login: Login, seeded: Seeded) -> None:
    await login(seeded.cast.lead)
    await client.get("/p/demo/dashboard/lead")
    with count_queries() as few:
        assert (await client.get("/p/demo/dashboard/lead")).status_code == 200
    for n in range(30):
        entry = await pay(seeded.cast.project, await make_user(), datetime.now(UTC)
                          - timedelta(days=n * 5), 1000 + n, 30, 50)
        await credit(entry, seeded.cast.helper, 100, datetime.now(UTC) - timedelta(days=n))
    with count_queries() as many:
        assert (await client.get("/p/demo/dashboard/lead")).status_code == 200
    assert len(many.queries) == len(few.queries)
