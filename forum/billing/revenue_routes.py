"""What came in, for a project's leads: totals by month (gross, Stripe's fees, the platform
fee, the project's net), what the platform owes the project, and the latest ledger rows; as
a page and as JSON. Sums are done by the database (one grouped query)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from tortoise import connections

from forum.accounts.permissions import current_user, require_user
from forum.billing.models import LedgerEntry
from forum.billing.refunds import refundable_rows
from forum.charts import format_money
from forum.projects.models import Project
from forum.projects.permissions import Action, access_project
from forum.projects.routes import login_redirect, platform_of
from forum.web.api import api_route
from forum.web.templating import render

TAG = "billing"
MONTHS = 24
RECENT = 50


class MonthTotal(BaseModel):
    month: str  # "2026-11"
    currency: str
    gross: int
    stripe_fees: int
    platform_fees: int
    net: int
    owed_to_project: int
    movements: int


class Owed(BaseModel):
    currency: str
    amount: int


class LedgerRow(BaseModel):
    id: int
    kind: str
    purpose: str
    occurred_at: datetime
    ticket_id: int | None
    gross: int
    stripe_fee: int
    stripe_fee_known: bool
    platform_fee: int
    project_net: int
    currency: str
    owed_to_project: bool
    stripe_object_id: str


class RevenueOut(BaseModel):
    months: list[MonthTotal]
    owed: list[Owed]
    recent: list[LedgerRow]


async def revenue(project: Project, *, is_sqlite: bool) -> RevenueOut:
    month = "substr(occurred_at, 1, 7)" if is_sqlite else \
        "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM')"
    marker = "?" if is_sqlite else "$1"
    owed_flag = "owed_to_project" if not is_sqlite else "owed_to_project = 1"
    rows: list[dict[str, Any]] = await connections.get("default").execute_query_dict(
        f"SELECT {month} AS month, currency, SUM(gross) AS gross, "
        "SUM(stripe_fee) AS stripe_fees, SUM(platform_fee) AS platform_fees, "
        f"SUM(project_net) AS net, SUM(CASE WHEN {owed_flag} THEN project_net ELSE 0 END) "
        "AS owed, COUNT(*) AS movements "
        f"FROM billing_ledger WHERE project_id = {marker} "
        f"GROUP BY {month}, currency ORDER BY month DESC, currency LIMIT {MONTHS * 4}",
        [project.id])
    months = [MonthTotal(month=str(r["month"]), currency=str(r["currency"]),
                         gross=int(r["gross"] or 0), stripe_fees=int(r["stripe_fees"] or 0),
                         platform_fees=int(r["platform_fees"] or 0), net=int(r["net"] or 0),
                         owed_to_project=int(r["owed"] or 0),
                         movements=int(r["movements"] or 0)) for r in rows]
    owed: dict[str, int] = {}
    for total in months:
        owed[total.currency] = owed.get(total.currency, 0) + total.owed_to_project
    recent = await LedgerEntry.filter(project_id=project.id).order_by(
        "-occurred_at", "-id").limit(RECENT)
    return RevenueOut(
        months=months,
        owed=[Owed(currency=c, amount=a) for c, a in sorted(owed.items()) if a],
        recent=[LedgerRow(id=e.id, kind=str(e.kind), purpose=e.purpose,
                          occurred_at=e.occurred_at, ticket_id=e.ticket_id, gross=e.gross,
                          stripe_fee=e.stripe_fee, stripe_fee_known=e.stripe_fee_known,
                          platform_fee=e.platform_fee, project_net=e.project_net,
                          currency=e.currency, owed_to_project=e.owed_to_project,
                          stripe_object_id=e.stripe_object_id) for e in recent])


async def revenue_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await access_project(user, request.path_params["slug"], Action.MANAGE_SETTINGS)
    data = await revenue(access.project, is_sqlite=platform_of(request).settings.is_sqlite)
    return await render(request, "billing/revenue_page.html", {
        "current_project": access.project, "project": access.project, "revenue": data,
        "money": format_money, "refunds": await refundable_rows(data.recent)})


@api_route("GET", "/api/v1/projects/{slug}/billing/revenue", response=RevenueOut,
           errors=(403, 404), tag=TAG)
async def revenue_api(request: Request) -> RevenueOut:
    """Revenue by month, what is owed to the project and the latest ledger rows (leads)."""
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"], Action.MANAGE_SETTINGS)
    return await revenue(access.project, is_sqlite=platform_of(request).settings.is_sqlite)


def routes() -> list[BaseRoute]:
    return [Route("/p/{slug}/billing/revenue", revenue_page, name="billing_revenue"),
            revenue_api]
