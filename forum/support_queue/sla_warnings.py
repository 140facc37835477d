"""Breach warnings: a cron job mails the assignee (or the whole team of an unassigned
ticket, but those who muted it) when a ticket's due time comes within the project's
warning lead.

Each (ticket, kind, due time) is claimed as an ``SlaWarning`` row in the same transaction
that queues the mails: a second worker, or the next run, loses the claim and sends
nothing. A due time that moves (a pause, a new reaction) is a new due time and warns again.
Due times that passed more than ``STALE_AFTER`` ago are not warned about any more (the
inbox shows them as breached).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from forum.accounts.models import User
from forum.projects.models import Membership
from forum.support_queue.calendar import Calendar
from forum.support_queue.levels import supporter_levels
from forum.support_queue.models import QUEUED_STATES, Ticket
from forum.support_queue.sla import (
    DEFAULT_LEAD_MINUTES,
    current_due,
    load_calendar,
    priority_names,
)
from forum.support_queue.sla_models import SlaSettings, SlaWarning
from forum.support_queue.team_models import NotifyLevel
from forum.topics.permissions import TEAM_ROLES

if TYPE_CHECKING:
    from forum.platform import Platform

STALE_AFTER = timedelta(hours=1)
KIND_LABELS = {"first_response": "First response", "next_response": "Next response"}


@dataclass(frozen=True)
class Warned:
    ticket_id: int
    kind: str
    due_at: datetime
    recipients: tuple[str, ...]  # email addresses


def _due_window(low: datetime, high: datetime) -> Q:
    return Q(Q(first_response_at__isnull=True, first_response_due_at__gte=low,
               first_response_due_at__lte=high),
             Q(first_response_at__isnull=False, next_response_due_at__gte=low,
               next_response_due_at__lte=high),
             join_type="OR")


async def recipients_for(ticket: Ticket) -> list[User]:
    """The assignee (whatever their level: the ticket is theirs to answer); for an
    unassigned ticket, every team member of the project who has not muted it."""
    assignee_id = ticket.assignee_id  # type: ignore[attr-defined]
    if assignee_id is not None:
        user = await User.get_or_none(id=assignee_id, is_active=True)
        return [user] if user is not None else []
    user_ids = [int(uid) for uid in await Membership.filter(  # type: ignore[call-overload]
        project_id=ticket.project_id,  # type: ignore[attr-defined]
        role__in=list(TEAM_ROLES)).values_list("user_id", flat=True)]
    levels = await supporter_levels(ticket.id, user_ids)
    wanted = [uid for uid in user_ids if levels.get(uid) != NotifyLevel.MUTE]
    return list(await User.filter(id__in=wanted, is_active=True).order_by("id"))


def _minutes_phrase(due_at: datetime, now: datetime) -> str:
    minutes = int((due_at - now).total_seconds() // 60)
    if minutes < 0:
        return f"overdue by {-minutes} minutes"
    return f"due in {minutes} minutes"


async def send_warnings(platform: Platform, now: datetime | None = None) -> list[Warned]:
    """Warn about every open ticket whose due time is within its project's lead."""
    now = now or datetime.now(UTC)
    leads = dict(await SlaSettings.all().values_list("project_id", "warning_lead_minutes"))
    longest = max([DEFAULT_LEAD_MINUTES, *(int(v) for v in leads.values())])
    candidates = await (Ticket.filter(state__in=list(QUEUED_STATES), paused_at__isnull=True)
                        .filter(_due_window(now - STALE_AFTER, now + timedelta(minutes=longest)))
                        .select_related("project", "topic").order_by("id"))
    claimed = {(ticket_id, kind, due_at) for ticket_id, kind, due_at in
               await SlaWarning.filter(ticket_id__in=[t.id for t in candidates])
               .values_list("ticket_id", "kind", "due_at")} if candidates else set()
    projects: dict[int, tuple[Calendar, list[str]]] = {}
    warned: list[Warned] = []
    for ticket in candidates:
        due = current_due(ticket)
        if due is None:
            continue
        kind, due_at = due
        lead = timedelta(minutes=int(leads.get(ticket.project.id, DEFAULT_LEAD_MINUTES)))
        if due_at > now + lead or (ticket.id, kind, due_at) in claimed:
            continue
        if ticket.project.id not in projects:
            projects[ticket.project.id] = (await load_calendar(ticket.project),
                                           await priority_names(ticket.project.id))
        cal, names = projects[ticket.project.id]
        result = await _warn(platform, ticket, kind, due_at, now, cal, names)
        if result is not None:
            warned.append(result)
    return warned


async def _warn(platform: Platform, ticket: Ticket, kind: str, due_at: datetime,
                now: datetime, cal: Calendar, names: list[str]) -> Warned | None:
    users = await recipients_for(ticket)
    project = ticket.project
    reference = ticket.reference_in(project.slug)
    topic = ticket.topic
    local = due_at.astimezone(cal.tz)
    context = {
        "reference": reference, "title": topic.title, "project_name": project.name,
        "url": f"{platform.settings.public_url}/p/{project.slug}/t/{topic.id}-{topic.slug}",
        "kind": KIND_LABELS.get(kind, kind), "due_local": local.strftime("%a %d %b %Y %H:%M %Z"),
        "when": _minutes_phrase(due_at, now), "assigned": ticket.assignee_id is not None,  # type: ignore[attr-defined]
        "priority": f"P{ticket.priority} · {names[min(max(ticket.priority, 1), 5) - 1]}",
        "tier": ticket.tier.value.replace("_", " "),
    }
    subject = f"[{reference}] {context['kind']} {context['when']}: {topic.title}"
    try:
        async with in_transaction():
            await SlaWarning.create(ticket_id=ticket.id, kind=kind, due_at=due_at,
                                    recipients=len(users))
            for user in users:
                await platform.send_mail(user.email, "sla_warning",
                                         {**context, "name": user.username}, subject=subject)
    except IntegrityError:
        return None  # another run claimed this due time first
    return Warned(ticket.id, kind, due_at, tuple(u.email for u in users))
