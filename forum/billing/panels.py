"""Billing's dashboard charts, every figure a sum over the ledger.

Lead board: revenue by month (gross, Stripe's fees, the platform fee, the project's net)
and the helpers whose answers earned the most (``Attribution``). Helper board: what the
helper's help earned the project each month. Customer board: what the viewer's own
payments paid for, by purpose and by ticket.

Amounts are summed in SQL per UTC month and currency; a project's charts are in its
billing currency, and a currency it was also paid in gets its own revenue chart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tortoise.expressions import RawSQL
from tortoise.functions import Sum

from forum.billing.models import Attribution, BillingSettings, LedgerEntry
from forum.charts import (
    Chart,
    Series,
    by_month,
    current_dialect,
    format_money,
    month_sql,
    period_labels,
    period_start,
)

if TYPE_CHECKING:
    from forum.platform import Platform

TOP = 10
TICKETS_SHOWN = 8  # each reference is asked of the support queue
PURPOSE_NAMES = {"ticket_upgrade": "Ticket upgrades", "plan_invoice": "Plan invoices"}


async def project_currency(project_id: int) -> str:
    found = await BillingSettings.filter(project_id=project_id).values_list("currency")
    return str(found[0][0]).upper() if found else "USD"


def _month(table: str, column: str) -> RawSQL:
    return RawSQL(month_sql(f'"{table}"."{column}"', current_dialect()))


async def lead_panels(project_id: int, months: int, now: datetime | None = None
                      ) -> list[Chart]:
    now = now or datetime.now(UTC)
    labels = period_labels(months, now)
    since = period_start(months, now)
    currency = await project_currency(project_id)
    rows = await LedgerEntry.filter(project_id=project_id, occurred_at__gte=since).annotate(
        month=_month("billing_ledger", "occurred_at"), gross_sum=Sum("gross"),
        stripe_sum=Sum("stripe_fee"), platform_sum=Sum("platform_fee"),
        net_sum=Sum("project_net")).group_by("currency", "month").values_list(
        "currency", "month", "gross_sum", "stripe_sum", "platform_sum", "net_sum")
    sums: dict[str, dict[str, tuple[int, ...]]] = {}
    for cur, month, *values in rows:
        sums.setdefault(str(cur).upper(), {})[str(month)] = tuple(int(v or 0) for v in values)
    currencies = [currency, *sorted(c for c in sums if c != currency)]
    charts = [_revenue_chart(labels, cur, sums.get(cur, {}), primary=cur == currency)
              for cur in currencies]
    top = await Attribution.filter(project_id=project_id, created_at__gte=since,
                                   currency=currency).annotate(
        total=Sum("amount")).group_by("user__username").order_by(
        "-total", "user__username").limit(TOP).values_list("user__username", "total")
    charts.append(Chart(
        "top-earners", "Top contributors by revenue earned", "bar",
        tuple(str(name) for name, _ in top),
        (Series("Earned", tuple(int(total or 0) for _, total in top)),),
        currency=currency, order=60,
        note=f"The {TOP} helpers credited with the most of the project's net over the period "
             "(refunds deducted)."))
    return charts


def _revenue_chart(labels: tuple[str, ...], currency: str, sums: dict[str, tuple[int, ...]],
                   *, primary: bool) -> Chart:
    names = ("Gross", "Stripe fees", "Platform fee", "Net")
    series = tuple(Series(name, tuple(sums.get(label, (0, 0, 0, 0))[i] for label in labels))
                   for i, name in enumerate(names))
    total = sum(v[3] for v in sums.values())
    return Chart(
        "revenue" if primary else f"revenue-{currency.lower()}",
        "Revenue by month" + ("" if primary else f" ({currency})"), "bar", labels, series,
        currency=currency, order=5 if primary else 6,
        extra={"net over the period": format_money(total, currency)},
        note="Sums over the ledger by the month Stripe recorded each movement (UTC); refunds "
             "and disputes count against their month.")


async def helper_panels(project_id: int, user_id: int, months: int,
                        now: datetime | None = None) -> list[Chart]:
    now = now or datetime.now(UTC)
    labels = period_labels(months, now)
    since = period_start(months, now)
    currency = await project_currency(project_id)
    rows = dict(await Attribution.filter(
        project_id=project_id, user_id=user_id, currency=currency,
        created_at__gte=since).annotate(
        month=_month("billing_attributions", "created_at"), total=Sum("amount")).group_by(
        "month").values_list("month", "total"))
    earned = {str(m): int(v or 0) for m, v in rows.items()}
    return [Chart("earned", "What your help earned the project", "bar", labels,
                  (Series("Earned", by_month(labels, earned)),), currency=currency, order=30,
                  extra={"over the period": format_money(sum(earned.values()), currency)},
                  note="Your share of what paid tickets solved by your answers brought the "
                       "project, by month (refunds deducted).")]


async def customer_panels(project_id: int, user_id: int, months: int, platform: Platform,
                          now: datetime | None = None) -> list[Chart]:
    now = now or datetime.now(UTC)
    since = period_start(months, now)
    currency = await project_currency(project_id)
    mine = LedgerEntry.filter(project_id=project_id, user_id=user_id, currency=currency,
                              occurred_at__gte=since)
    purposes = await mine.annotate(total=Sum("gross")).group_by("purpose").order_by(
        "purpose").values_list("purpose", "total")
    tickets = await mine.filter(ticket_id__not_isnull=True).annotate(
        total=Sum("gross")).group_by("ticket_id").order_by("-ticket_id").limit(
        TICKETS_SHOWN).values_list("ticket_id", "total")
    references = [await _reference(platform, project_id, int(t)) for t, _ in tickets]
    return [
        Chart("paid-for", "What my payments paid for", "bar",
              tuple(PURPOSE_NAMES.get(str(p), str(p)) for p, _ in purposes),
              (Series("Paid", tuple(int(v or 0) for _, v in purposes)),),
              currency=currency, order=30,
              note="Your payments to the project over the period, refunds deducted."),
        Chart("paid-tickets", "Tickets I paid for", "table", tuple(references),
              (Series("Paid", tuple(int(v or 0) for _, v in tickets)),),
              currency=currency, order=31,
              note=f"Your last {TICKETS_SHOWN} tickets with payments in the period."),
    ]


async def _reference(platform: Platform, project_id: int, ticket_id: int) -> str:
    facts = await platform.ticket_facts(project_id, ticket_id=ticket_id)
    return facts.reference if facts is not None else f"ticket {ticket_id}"
