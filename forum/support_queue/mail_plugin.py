"""A support address per project: mail to ``support+<project-slug>@<FORUM_MAIL_IN_DOMAIN>``
opens a draft ticket (forum/mail/inbound.py hands it over through
``forum_mail_to_address``).

The From address is not signed, so nothing is queued on its word alone: the ticket is a
draft (source "email", seen by its requester and the team only, alerting nobody) and the
sender's registered address gets the link to look it over and submit it. A sender with no
verified account, a project that does not exist or whose Support category the sender may
not post in: a polite bounce, nothing created. A retried delivery of the same message is
not opened twice: the pipeline drops a Message-ID already posted to the same address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from forum.accounts.models import User
from forum.hookspecs import MailHandled, hookimpl
from forum.projects.models import Project, Visibility
from forum.support_queue.models import TicketSource
from forum.support_queue.schemas import TicketIn
from forum.support_queue.team_notify import thread_headers
from forum.support_queue.tickets import create_ticket
from forum.topics.access import load_viewer
from forum.topics.schemas import clean_title
from forum.web.errors import UserError

if TYPE_CHECKING:
    from forum.platform import Platform

SUPPORT_PREFIX = "support+"
SUBJECT_PREFIXES = ("re:", "fwd:", "fw:", "aw:", "wg:", "tr:", "sv:")


def ticket_title(subject: str, username: str) -> str:
    """The subject as a title (reply and forward prefixes dropped), or a fallback when it
    is empty or not a valid title."""
    title = " ".join(subject.split())
    while title.lower().startswith(SUBJECT_PREFIXES):
        title = title.partition(":")[2].strip()
    try:
        return clean_title(title)
    except ValueError:
        return f"Support request from {username} by email"


async def open_draft_by_mail(platform: Platform, slug: str, sender_email: str, subject: str,
                             text: str, message_id: str) -> MailHandled:
    """Open a draft ticket in project ``slug`` for the sender and mail them its link."""
    public_url = platform.settings.public_url.rstrip("/")
    project = await Project.get_or_none(slug=slug)
    user = await User.get_or_none(email=sender_email.strip().lower(), is_active=True)
    viewer = await load_viewer(user, project) if project is not None else None
    if (project is None or viewer is None
            or (project.default_visibility != Visibility.PUBLIC and not viewer.is_member)):
        # A members-only project is not revealed to strangers.
        return MailHandled.refused(
            f"There is no project at this address that takes support requests by email. "
            f"Find the project you mean at {public_url} and write to its support address.")
    if user is None or not user.is_verified:
        return MailHandled.refused(
            f"We do not know your address {sender_email}. To open a ticket with "
            f"{project.name}, sign up (or confirm your email address) at "
            f"{public_url}/p/{project.slug}, then write again.")
    try:
        data = TicketIn.model_validate({"title": ticket_title(subject, user.username),
                                        "source": text, "submit": False})
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
        return MailHandled.refused(f"The ticket cannot be opened as written: {problem}")
    try:
        ticket = await create_ticket(platform, viewer, project, data,
                                     source=TicketSource.EMAIL)
    except UserError as exc:
        return MailHandled.refused(exc.message)
    topic_id: int = ticket.topic_id  # type: ignore[attr-defined]
    url = f"{public_url}/p/{project.slug}/t/{topic_id}"
    await ticket.fetch_related("topic")
    if ticket.topic.slug:
        url += f"-{ticket.topic.slug}"
    reference = ticket.reference_in(project.slug)
    headers = await thread_headers(platform, topic_id, user.id)
    headers.pop("Reply-To", None)  # a draft is confirmed on its page, not by mail
    if message_id:
        headers["In-Reply-To"] = message_id
        headers["References"] = f"{message_id} {headers['References']}"
    await platform.send_mail(user.email, "support_draft_opened", {
        "requester_name": user.username, "reference": reference, "title": data.title,
        "project_name": project.name, "ticket_url": url,
    }, subject=f"[{reference}] Please confirm your ticket: {data.title}"[:200],
        headers=headers)
    return MailHandled.posted(url)


@hookimpl
async def forum_mail_to_address(local_part: str, sender_email: str, subject: str, text: str,
                                message_id: str, platform: Platform) -> MailHandled | None:
    local = local_part.strip().lower()
    if not local.startswith(SUPPORT_PREFIX):
        return None
    return await open_draft_by_mail(platform, local.removeprefix(SUPPORT_PREFIX),
                                    sender_email, subject, text, message_id)
