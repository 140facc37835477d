"""Demo tickets for ``forum demo``: a few tickets from bob in the demo project, in
different states (queued, assigned and answered, waiting on him, solved, and a draft
imported from email). Skipped when the project already has tickets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from forum.accounts.models import User
from forum.projects.models import Project
from forum.support_queue.models import Ticket, TicketSource, TicketState, Tier
from forum.support_queue.permissions import access_ticket
from forum.support_queue.states import do_assign, do_set_state, set_tier
from forum.support_queue.tickets import TicketDraft, do_create_ticket, ensure_support_category
from forum.topics.access import load_viewer
from forum.topics.models import Topic
from forum.topics.reply import reply
from forum.topics.schemas import ReplyIn
from forum.topics.writing import cook_post

if TYPE_CHECKING:
    from forum.platform import Platform


@dataclass(frozen=True)
class DemoTicket:
    title: str
    text: str
    state: TicketState
    tier: Tier = Tier.FREE
    amount_paid: int = 0
    answer: str = ""
    source: TicketSource = TicketSource.WEB


DEMO_TICKETS = (
    DemoTicket("Retries stop after a worker restart",
               "tidepool 2.3.1, Python 3.12, Redis 7.2. After restarting the worker, tasks "
               "that were mid-retry never run again. Expected: they resume.",
               TicketState.QUEUED),
    DemoTicket("Scheduling 10,000 tasks at once takes minutes",
               "tidepool 2.3.0 on PostgreSQL 16: `schedule_many` with 10,000 tasks takes "
               "about four minutes. Is there a bulk path?", TicketState.ASSIGNED,
               Tier.SUBSCRIPTION, 49_00,
               "Thanks for the figures. `schedule_many(batch_size=1000)` uses one COPY per "
               "batch; could you try it and tell us the time?"),
    DemoTicket("Which Redis versions are supported?",
               "Our platform team asks which Redis versions tidepool 2.x supports.",
               TicketState.WAITING, answer="Redis 6.2 and later. Which version do you run, "
               "and do you use Redis Cluster?"),
    DemoTicket("Upgrade guide from 1.x",
               "Is there a guide for moving from tidepool 1.9 to 2.x?", TicketState.SOLVED,
               Tier.PAY_AS_YOU_GO, 15_00,
               "Yes: docs/upgrading.md covers it; the only breaking change is the retry "
               "policy's signature."),
    DemoTicket("Fwd: tasks run twice",
               "Forwarded from our ops mailbox: some tasks run twice after a failover.",
               TicketState.DRAFT, source=TicketSource.EMAIL),
)


async def seed_tickets(platform: Platform, project_id: int, user_ids: dict[str, int]
                       ) -> list[str]:
    if await Ticket.exists(project_id=project_id):
        return []
    project = await Project.get(id=project_id)
    requester = await User.get_or_none(id=user_ids.get("bob", 0))
    supporter = await User.get_or_none(id=user_ids.get("alice", 0))
    if requester is None or supporter is None:
        return []
    category = await ensure_support_category(project)
    asker = await load_viewer(requester, project)
    team = await load_viewer(supporter, project)
    created: list[str] = []
    for demo in DEMO_TICKETS:
        cooked = await cook_post(project, asker, demo.text, None)
        submit = demo.state != TicketState.DRAFT
        ticket = await do_create_ticket(platform, asker, project, TicketDraft(
            category, demo.title, demo.text, cooked, False, submit, demo.source, None))
        if demo.tier != Tier.FREE:
            await set_tier(platform, supporter, ticket, demo.tier, demo.amount_paid)
        if submit and demo.state != TicketState.QUEUED:
            ctx = await access_ticket(supporter, ticket.id)
            await do_assign(platform, ctx, supporter)
            if demo.answer:
                topic = await Topic.get(id=ctx.topic.id)
                await reply(platform, team, topic, ReplyIn(source=demo.answer))
            if demo.state not in (TicketState.ASSIGNED, TicketState.QUEUED):
                await do_set_state(platform, await access_ticket(supporter, ticket.id),
                                   demo.state)
        created.append(f"ticket {ticket.reference_in(project.slug)} ({demo.state.value})")
    return created
