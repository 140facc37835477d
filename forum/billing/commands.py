"""``forum billing catch-up``: take in the Stripe events the webhook missed."""

from __future__ import annotations

import click

from forum.billing.catch_up import MAX_DAYS, CatchUp, catch_up
from forum.cli import fail, pass_platform, run_with_db
from forum.platform import Platform
from forum.web.errors import UserError


@click.group("billing")
def billing() -> None:
    """Payments: Stripe events."""


@billing.command("catch-up")
@click.option("--days", default=3, show_default=True,
              help=f"How far back to look (1 to {MAX_DAYS}; Stripe keeps {MAX_DAYS} days).")
@pass_platform
def catch_up_command(platform: Platform, days: int) -> None:
    """Take in every Stripe event of the last DAYS days that the webhook missed; events
    taken in before are left as they are."""
    if not 1 <= days <= MAX_DAYS:
        fail(f"--days must be between 1 and {MAX_DAYS}")
        return

    async def work() -> CatchUp | str:
        try:
            return await catch_up(platform, days)
        except UserError as exc:
            return exc.message

    report = run_with_db(platform, work)
    if isinstance(report, str):
        fail(report)
        return
    click.echo(f"{report.listed} events in the last {days} days: {report.taken} taken in "
               f"now, {report.seen} already, {len(report.failed)} failed")
    for line in report.failed:
        click.echo(f"  {line}")
    if report.failed:
        raise SystemExit(1)
