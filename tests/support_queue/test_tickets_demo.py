from __future__ import annotations

import pytest

from forum.platform import Platform
from forum.projects.demo import seed_demo
from forum.projects.models import Project
from forum.support_queue.demo import DEMO_TICKETS
from forum.support_queue.models import Ticket, TicketState


@pytest.mark.usefixtures("db")
async def test_demo_tickets_are_seeded_once_in_several_states(platform: Platform) -> None:
    first = await seed_demo(platform)
    assert any(c.startswith("ticket DEMO-1") for c in first.created)
    project = await Project.get(slug="demo")
    tickets = await Ticket.filter(project_id=project.id).order_by("number")
    assert [t.state for t in tickets] == [d.state for d in DEMO_TICKETS]
    assert {TicketState.QUEUED, TicketState.ASSIGNED, TicketState.WAITING, TicketState.SOLVED,
            TicketState.DRAFT} <= {t.state for t in tickets}
    answered = [t for t in tickets if t.state == TicketState.ASSIGNED]
    assert answered[0].first_response_at is not None and answered[0].amount_paid == 4900
    again = await seed_demo(platform)
    assert not any(c.startswith("ticket") for c in again.created)
    assert await Ticket.filter(project_id=project.id).count() == len(DEMO_TICKETS)
