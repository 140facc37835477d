"""``forum demo`` gives the demo project months of payments and helpers' credits, so its
dashboards show figures; seeding again adds nothing."""

from __future__ import annotations

import pytest

from forum.billing.models import Attribution, LedgerEntry
from forum.billing.panels import lead_panels
from forum.platform import Platform
from forum.projects.demo import seed_demo
from forum.projects.models import Project
from forum.reputation.recognition import project_earners


@pytest.mark.usefixtures("db")
async def test_demo_revenue_history(platform: Platform) -> None:
    await seed_demo(platform)
    project = await Project.get(slug="demo")
    rows = await LedgerEntry.filter(project_id=project.id)
    assert len(rows) >= 8 * 3
    assert all(r.gross == r.stripe_fee + r.platform_fee + r.project_net for r in rows)
    assert {r.stripe_object_id[:5] for r in rows} == {"demo_"}
    revenue = next(c for c in await lead_panels(project.id, 12) if c.slug.startswith("revenue"))
    gross = next(s for s in revenue.series if s.name.lower().startswith("gross"))
    assert sum(1 for v in gross.values if v) == 8  # every one of the last eight months
    credited = sum(a.amount for a in await Attribution.filter(project_id=project.id))
    earners = await project_earners(project.id)
    assert credited > 0 and sum(a for e in earners for _, a in e.totals) == credited
    assert {e.username for e in earners} == {"carol", "dmitri", "emeka"}

    await seed_demo(platform)
    assert await LedgerEntry.filter(project_id=project.id).count() == len(rows)
