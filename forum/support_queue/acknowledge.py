"""The acknowledgement a requester gets by email when their ticket enters the queue: its
reference, place in the queue, expected response, and what speeds an answer up. (The
in-app notice comes from the notifications domain, which hears ``TicketSubmitted`` too.)
Replying to it posts into the ticket: it carries the requester's reply address."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forum.accounts.models import User
from forum.projects.models import Project
from forum.support_queue.models import Ticket
from forum.support_queue.standing import standing
from forum.support_queue.team_notify import thread_headers
from forum.support_queue.tickets import support_settings
from forum.topics.models import Topic

if TYPE_CHECKING:
    from forum.platform import Platform


async def send_acknowledgement(platform: Platform, ticket_id: int) -> bool:
    """Queue the acknowledgement email; False when the ticket or requester is gone."""
    ticket = await Ticket.get_or_none(id=ticket_id)
    if ticket is None:
        return False
    requester = await User.get_or_none(id=ticket.requester_id, is_active=True)  # type: ignore[attr-defined]
    project = await Project.get_or_none(id=ticket.project_id)  # type: ignore[attr-defined]
    topic = await Topic.get_or_none(id=ticket.topic_id)  # type: ignore[attr-defined]
    if requester is None or project is None or topic is None:
        return False
    where = await standing(ticket, platform)
    settings = await support_settings(project.id)
    reference = ticket.reference_in(project.slug)
    await platform.send_mail(requester.email, "ticket_received", {
        "requester_name": requester.username, "reference": reference, "title": topic.title,
        "project_name": project.name, "position": where.position,
        "expected_response": where.expected_response, "guidelines": settings.guidelines,
        "ticket_url": f"{platform.settings.public_url}/p/{project.slug}/t/{topic.id}-{topic.slug}",
    }, subject=f"[{reference}] We received your ticket: {topic.title}",
        # In the ticket's thread, and answered by replying (when incoming mail is on).
        headers=await thread_headers(platform, topic.id, requester.id))
    return True
