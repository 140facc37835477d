"""``forum reputation``: recount the totals from the votes and acceptances."""

from __future__ import annotations

import click

from forum.cli import fail, pass_platform, run_with_db
from forum.platform import Platform
from forum.projects.models import Project
from forum.reputation.rebuild import RebuildReport, rebuild

SHOWN_DIFFERENCES = 50


@click.group("reputation")
def reputation() -> None:
    """Reputation: recount totals."""


@reputation.command("rebuild")
@click.option("--project", "slug", default=None, help="Only this project (its slug).")
@click.option("--check", is_flag=True,
              help="Change nothing; exit 1 when a total differs from the recount.")
@pass_platform
def rebuild_command(platform: Platform, slug: str | None, check: bool) -> None:
    """Recount every total from the votes and acceptances and report the differences."""

    async def work() -> list[tuple[str, RebuildReport]] | None:
        query = Project.all().order_by("id")
        if slug is not None:
            query = query.filter(slug=slug)
        projects = await query.values_list("id", "slug")
        if not projects:
            return None
        return [(str(s), await rebuild(int(pid), check=check)) for pid, s in projects]

    reports = run_with_db(platform, work)
    if reports is None:
        fail(f"no such project: {slug}" if slug else "no projects")
        return
    differing = 0
    for project_slug, report in reports:
        differing += len(report.differences)
        click.echo(f"{project_slug}: {report.users} users, {report.votes} votes, "
                   f"{report.acceptances} acceptances, {len(report.differences)} differences "
                   f"({report.seconds:.2f} s)")
        for diff in report.differences[:SHOWN_DIFFERENCES]:
            click.echo(f"  user {diff.user_id}: stored {diff.materialised}, ledger "
                       f"{diff.ledger}, recount {diff.recount}")
        if len(report.differences) > SHOWN_DIFFERENCES:
            click.echo(f"  ... and {len(report.differences) - SHOWN_DIFFERENCES} more")
        if report.months_repaired:
            differing += len(report.months_repaired)
            click.echo(f"  monthly leaderboard figures {'differ' if check else 'derived again'}"
                       f" for {len(report.months_repaired)} users")
    if check and differing:
        raise SystemExit(1)
    if differing and not check:
        click.echo("totals set to the recount")
