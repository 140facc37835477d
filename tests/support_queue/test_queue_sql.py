"""The queue in the database: positions and pages from indexed queries agree with the pure
policy on random queues; the queue switched off; a plugin's policy through the hook."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from forum.accounts.models import User
from forum.hookspecs import hookimpl
from forum.platform import Platform
from forum.projects.models import Project, ProjectPlugin
from forum.queueing import PAID_TIERS, QueueContext, QueuedTicket, QueueSettingsData
from forum.support_queue import queue as queue_module
from forum.support_queue.models import Ticket, TicketState
from forum.support_queue.policy import FairPolicy, OldestFirstPolicy
from forum.support_queue.queue import (
    QueueFilter,
    QueueReader,
    queue_page,
    queue_position,
    queued_ticket,
    reader_for,
    save_queue_settings,
)
from forum.topics.models import Category, Topic, TopicKind
from tests.factories import make_project, make_user

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TIERS = ["free", *PAID_TIERS]
_numbers: dict[int, int] = {}


async def add_ticket(project: Project, requester: User, *, tier: str = "free",
                     amount_paid: int = 0, waited_minutes: int = 60,
                     state: TicketState = TicketState.QUEUED, due_in: int | None = None,
                     first_response_at: datetime | None = None,
                     submitted_at: datetime | None = None,
                     assignee: User | None = None) -> Ticket:
    """A ticket straight into the tables (no verbs): what the queue reads is all there."""
    category = await Category.filter(project_id=project.id).first()
    if category is None:
        category = await Category.create(project=project, name="Support", slug="support")
    topic = await Topic.create(project=project, category=category, author=requester,
                               kind=TopicKind.TICKET, title="Help", slug="help",
                               last_posted_at=NOW)
    number = _numbers.get(project.id, 0) + 1
    _numbers[project.id] = number
    waiting = NOW - timedelta(minutes=waited_minutes)
    return await Ticket.create(
        topic=topic, project=project, number=number, requester=requester, state=state,
        tier=tier, amount_paid=amount_paid, submitted_at=submitted_at or waiting,
        last_requester_reaction_at=waiting, first_response_at=first_response_at,
        first_response_due_at=None if due_in is None else NOW + timedelta(minutes=due_in),
        assignee=assignee)


def light(tickets: Sequence[Ticket]) -> list[QueuedTicket]:
    return [queued_ticket({
        "id": t.id, "tier": t.tier, "amount_paid": t.amount_paid,
        "last_requester_reaction_at": t.last_requester_reaction_at,
        "submitted_at": t.submitted_at, "first_response_at": t.first_response_at,
        "first_response_due_at": t.first_response_due_at,
        "next_response_due_at": t.next_response_due_at,
        "assignee_id": t.assignee_id,  # type: ignore[attr-defined]
        "priority": t.priority}) for t in tickets]


async def expected_order(project: Project, queue_settings: QueueSettingsData,
                         served: tuple[int, int] = (0, 0)) -> list[int]:
    queued = await Ticket.filter(project_id=project.id,
                                 state__in=["queued", "assigned"])
    context = QueueContext(project.id, NOW, queue_settings, served_paid=served[0],
                           served_unpaid=served[1])
    policy = FairPolicy() if queue_settings.enabled else OldestFirstPolicy()
    return [t.id for t in policy.order(light(queued), context)]


async def sql_order(project: Project, queue_settings: QueueSettingsData) -> list[int]:
    """The order as positions of every ticket, as pages, and as a walk of the filter."""
    reader = QueueReader(project.id, queue_settings, NOW)
    full = [t.id for t in await reader.full_order()]
    assert await QueueReader(project.id, queue_settings, NOW).order_ids() == full
    tickets = {t.id: t for t in await Ticket.filter(project_id=project.id)}
    by_position: dict[int, int] = {}
    for ticket in tickets.values():
        position = await QueueReader(project.id, queue_settings, NOW).position(ticket)
        if ticket.state in (TicketState.QUEUED, TicketState.ASSIGNED):
            assert position is not None
            by_position[position] = ticket.id
        else:
            assert position is None
    assert sorted(by_position) == list(range(1, len(by_position) + 1))
    assert [by_position[p] for p in sorted(by_position)] == full
    pages: list[int] = []
    for offset in range(0, len(full), 3):
        page = await QueueReader(project.id, queue_settings, NOW).slice(offset, 3)
        assert [p for p, _ in page] == list(range(offset + 1, offset + len(page) + 1))
        pages += [t.id for _, t in page]
    assert pages == full
    return full


ticket_specs = st.lists(st.tuples(
    st.sampled_from(TIERS), st.sampled_from([0, 100, 2500]), st.integers(0, 5000),
    st.sampled_from([TicketState.QUEUED, TicketState.QUEUED, TicketState.ASSIGNED,
                     TicketState.DRAFT, TicketState.WAITING]),
    st.one_of(st.none(), st.integers(-300, 300)),
), max_size=14)


@hypothesis_settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=ticket_specs, share=st.integers(0, 100), lead=st.integers(0, 200),
       served=st.tuples(st.integers(0, 3), st.integers(0, 3)))
async def test_sql_positions_and_pages_agree_with_the_pure_policy(
        db: None, specs: list[tuple[str, int, int, TicketState, int | None]], share: int,
        lead: int, served: tuple[int, int]) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    for tier, amount, waited, state, due in specs:
        await add_ticket(project, owner, tier=tier, amount_paid=0 if tier == "free" else amount,
                         waited_minutes=waited, state=state,
                         due_in=due if tier == "enterprise" else None,
                         assignee=owner if state == TicketState.ASSIGNED else None)
    # First responses within the window (solved tickets): the served share.
    for count, tier in ((served[0], "subscription"), (served[1], "free")):
        for _ in range(count):
            await add_ticket(project, owner, tier=tier, state=TicketState.SOLVED,
                             first_response_at=NOW - timedelta(days=2))
    queue_settings = QueueSettingsData(unpaid_share=share, breach_lead_minutes=lead)
    expected = await expected_order(project, queue_settings, served)
    assert await sql_order(project, queue_settings) == expected
    # Filtered pages: the matching tickets in order, with their places in the whole queue.
    assigned = set(await Ticket.filter(project_id=project.id, assignee_id=owner.id)
                   .values_list("id", flat=True))
    for filters, keep in ((QueueFilter(assignee_id=owner.id), assigned.__contains__),
                          (QueueFilter(unassigned=True), lambda i: i not in assigned)):
        wanted = [(p, i) for p, i in enumerate(expected, start=1) if keep(i)]
        reader = QueueReader(project.id, queue_settings, NOW)
        assert [(p, t.id) for p, t in await reader.page(0, 50, filters)] == wanted
        reader = QueueReader(project.id, queue_settings, NOW)
        assert [(p, t.id) for p, t in await reader.page(1, 2, filters)] == wanted[1:3]


async def test_queue_off_is_oldest_submission_first(db: None) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    rich = await add_ticket(project, owner, tier="enterprise", amount_paid=9000,
                            waited_minutes=5)
    old = await add_ticket(project, owner, waited_minutes=500)
    middle = await add_ticket(project, owner, tier="subscription", waited_minutes=100)
    off = QueueSettingsData(enabled=False)
    await save_queue_settings(project.id, off)
    assert await sql_order(project, off) == [old.id, middle.id, rich.id]
    assert await queue_position(rich, now=NOW) == 3
    on = QueueSettingsData()
    await save_queue_settings(project.id, on)
    assert await queue_position(rich, now=NOW) == 1


async def test_drafts_and_paused_tickets_have_no_position(db: None) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    draft = await add_ticket(project, owner, state=TicketState.DRAFT)
    waiting = await add_ticket(project, owner, state=TicketState.WAITING)
    queued = await add_ticket(project, owner)
    assert await queue_position(draft, now=NOW) is None
    assert await queue_position(waiting, now=NOW) is None
    assert await queue_position(queued, now=NOW) == 1


@pytest.mark.parametrize("steps", [(100,), (2, 3)])
async def test_filtered_pages_keep_whole_queue_positions(
        db: None, steps: tuple[int, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue_module, "WALK_CHUNKS", steps)  # (2, 3): walks in small steps
    owner = await make_user()
    supporter = await make_user()
    project = await make_project(owner=owner)
    made = [await add_ticket(project, owner, tier="pay_as_you_go", amount_paid=100,
                             waited_minutes=1000 - n,
                             assignee=supporter if n % 3 == 0 else None,
                             state=TicketState.ASSIGNED if n % 3 == 0 else TicketState.QUEUED)
            for n in range(10)]
    mine = await queue_page(project.id, limit=10, filters=QueueFilter(assignee_id=supporter.id),
                            now=NOW)
    assert [(p, t.id) for p, t in mine] == [(1, made[0].id), (4, made[3].id),
                                           (7, made[6].id), (10, made[9].id)]
    assert mine[0][1].topic.title == "Help"  # loaded with the page
    second = await queue_page(project.id, limit=2, offset=1,
                              filters=QueueFilter(unassigned=True), now=NOW)
    assert [(p, t.id) for p, t in second] == [(3, made[2].id), (5, made[4].id)]


class ReversePolicy:
    """A plugin's policy: newest ticket first."""

    name = "newest-first"

    def order(self, tickets: Sequence[QueuedTicket], context: QueueContext
              ) -> list[QueuedTicket]:
        return sorted(tickets, key=lambda t: -t.id)


class PolicyPlugin:
    PLUGIN_NAME = "reverse_queue"

    def __init__(self, project_ids: set[int]) -> None:
        self.project_ids = project_ids

    @hookimpl
    def forum_queue_policy(self, project_id: int) -> Any:
        return ReversePolicy() if project_id in self.project_ids else None


async def test_a_plugin_installs_its_policy_where_it_is_switched_on(
        db: None, settings: Any) -> None:
    from forum.platform import build_platform
    from forum.plugins import PluginManager

    owner = await make_user()
    project = await make_project(owner=owner)
    other = await make_project(owner=owner)
    plugin = PolicyPlugin({project.id, other.id})
    platform: Platform = build_platform(settings, PluginManager(
        extra=[plugin], load_entry_points=False))
    await ProjectPlugin.create(project=project, name="reverse_queue", enabled=True)
    first = await add_ticket(project, owner, tier="enterprise", amount_paid=100)
    second = await add_ticket(project, owner)
    third = await add_ticket(project, owner, tier="subscription")
    reader = await reader_for(project.id, platform=platform, now=NOW)
    assert reader.policy_name == "newest-first"
    assert [t.id for t in await reader.full_order()] == [third.id, second.id, first.id]
    assert await queue_position(first, platform=platform, now=NOW) == 3
    page = await queue_page(project.id, limit=2, offset=1, platform=platform, now=NOW)
    assert [(p, t.id) for p, t in page] == [(2, second.id), (3, first.id)]
    # Switched off in the other project: the fair policy there.
    a = await add_ticket(other, owner)
    b = await add_ticket(other, owner, tier="enterprise")
    assert (await reader_for(other.id, platform=platform, now=NOW)).policy_name == "fair"
    assert await queue_position(b, platform=platform, now=NOW) == 1
    assert await queue_position(a, platform=platform, now=NOW) == 2
    # The queue switched off beats the plugin.
    await save_queue_settings(project.id, QueueSettingsData(enabled=False))
    assert await queue_position(first, platform=platform, now=NOW) == 1
