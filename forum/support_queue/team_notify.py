"""What the team hears about tickets, decided in jobs queued by the event hooks of
``team_plugin``: the activity each supporter's digest reports, every message by email for
supporters at level "every", and the email to a ticket's new assignee."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forum.accounts.models import User
from forum.hookspecs import JobDefinition
from forum.jobs import JobContext
from forum.mail.outgoing import mail_domain
from forum.mail.reply_tokens import reply_address
from forum.projects.models import Membership, Project
from forum.support_queue.digest import record
from forum.support_queue.levels import ids_of, supporter_level
from forum.support_queue.models import Ticket
from forum.support_queue.team_models import ActivityKind, NotifyLevel, TicketNotifyLevel
from forum.topics.models import Post, Topic
from forum.topics.permissions import TEAM_ROLES

if TYPE_CHECKING:
    from forum.platform import Platform

ASSIGNED_JOB = "support.notify_assigned"
MESSAGE_JOB = "support.notify_message"
STATE_JOB = "support.notify_state"
MENTION_JOB = "support.notify_mentions"
RATE_JOB = "support.ask_rating"


async def _names(*user_ids: int | None) -> dict[int, str]:
    ids = [i for i in user_ids if i is not None]
    return dict(await User.filter(id__in=ids).values_list("id", "username")) if ids else {}


async def _ticket_url(platform: Platform, ticket: Ticket) -> tuple[str, Project, Topic]:
    project = await Project.get(id=ticket.project_id)  # type: ignore[attr-defined]
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    return (f"{platform.settings.public_url}/p/{project.slug}/t/{topic.id}-{topic.slug}",
            project, topic)


async def thread_headers(platform: Platform, topic_id: int, user_id: int) -> dict[str, str]:
    """Keep the ticket's emails in one thread, and let the supporter answer by replying
    (a signed reply address for this user and topic, when incoming mail is on)."""
    thread = f"<topic-{topic_id}@{mail_domain(platform.settings)}>"
    headers = {"References": thread, "In-Reply-To": thread}
    reply_to = await reply_address(platform.settings, kind="topic", target_id=topic_id,
                                   user_id=user_id)
    if reply_to is not None:
        headers["Reply-To"] = reply_to
    return headers


async def team_ids(project_id: int, user_ids: list[int]) -> list[int]:
    """Those of ``user_ids`` on the project's team (admins included)."""
    if not user_ids:
        return []
    members = set(await ids_of(Membership.filter(
        project_id=project_id, user_id__in=user_ids,
        role__in=[str(r) for r in TEAM_ROLES]), "user_id"))
    admins = set(await ids_of(User.filter(id__in=user_ids, is_platform_admin=True), "id"))
    return [uid for uid in user_ids if uid in members or uid in admins]


async def notify_assigned(ctx: JobContext, *, ticket_id: int, assignee_id: int,
                          actor_id: int) -> None:
    """The new assignee hears of it in their digest and, unless muted, by email now."""
    ticket = await Ticket.get_or_none(id=ticket_id)
    if ticket is None or ticket.assignee_id != assignee_id:  # type: ignore[attr-defined]
        return  # reassigned again since
    names = await _names(actor_id)
    actor = names.get(actor_id, "Someone")
    await record([assignee_id], ticket_id, ActivityKind.ASSIGNED,
                 f"assigned to you by {actor}", actor_id=actor_id)
    if await supporter_level(ticket_id, assignee_id) == NotifyLevel.MUTE:
        return
    user = await User.get_or_none(id=assignee_id, is_active=True)
    if user is None or not user.is_verified:
        return
    url, project, topic = await _ticket_url(ctx.platform, ticket)
    reference = ticket.reference_in(project.slug)
    await ctx.platform.send_mail(user.email, "support_assigned", {
        "actor": actor, "reference": reference, "title": topic.title, "ticket_url": url,
        "inbox_url": f"{ctx.platform.settings.public_url}/p/{project.slug}/inbox",
    }, subject=f"[{project.name}] {reference} assigned to you: {topic.title}",
        headers=await thread_headers(ctx.platform, topic.id, user.id))


async def notify_message(ctx: JobContext, *, ticket_id: int, post_id: int) -> None:
    """A message in a ticket: its assignee's digest reports it, and every supporter at
    level "every" (still on the team) gets it by email."""
    ticket = await Ticket.get_or_none(id=ticket_id)
    post = await Post.get_or_none(id=post_id)
    if ticket is None or post is None or post.deleted_at is not None or post.hidden_at:
        return
    author_id: int = post.author_id  # type: ignore[attr-defined]
    names = await _names(author_id)
    author = names.get(author_id, "someone")
    assignee_id = ticket.assignee_id  # type: ignore[attr-defined]
    if assignee_id is not None:
        await record([assignee_id], ticket_id, ActivityKind.UPDATE,
                     f"new message from {author}", actor_id=author_id, post_id=post_id)
    loud = await ids_of(TicketNotifyLevel.filter(ticket_id=ticket_id,
                                                 level=NotifyLevel.EVERY), "user_id")
    recipients = await team_ids(ticket.project_id,  # type: ignore[attr-defined]
                                [u for u in loud if u != author_id])
    if not recipients:
        return
    url, project, topic = await _ticket_url(ctx.platform, ticket)
    reference = ticket.reference_in(project.slug)
    for user in await User.filter(id__in=recipients, is_active=True):
        if not user.is_verified:
            continue
        await ctx.platform.send_mail(user.email, "support_ticket_message", {
            "summary": f"{author} wrote in {reference} ({topic.title}):",
            "excerpt": post.source[:2000], "post_url": f"{url}#post-{post.id}",
            "ticket_url": url,
        }, subject=f"[{project.name}] {reference}: {topic.title}",
            headers=await thread_headers(ctx.platform, topic.id, user.id))


async def notify_state(ctx: JobContext, *, ticket_id: int, actor_id: int | None, old: str,
                       new: str) -> None:
    ticket = await Ticket.get_or_none(id=ticket_id)
    if ticket is None or ticket.assignee_id is None:  # type: ignore[attr-defined]
        return
    names = await _names(actor_id)
    who = names.get(actor_id, "the system") if actor_id is not None else "the system"
    await record([ticket.assignee_id], ticket_id, ActivityKind.UPDATE,  # type: ignore[attr-defined]
                 f"{old.replace('_', ' ')} → {new.replace('_', ' ')} by {who}",
                 actor_id=actor_id)


async def notify_mentions(ctx: JobContext, *, topic_id: int, post_id: int, author_id: int,
                          mentioned_user_ids: list[int]) -> None:
    """Team members @mentioned in a ticket: reported in their digest (never for a muted
    ticket: the digest leaves those out)."""
    ticket = await Ticket.get_or_none(topic_id=topic_id)
    if ticket is None:
        return
    team = await team_ids(ticket.project_id, mentioned_user_ids)  # type: ignore[attr-defined]
    if not team:
        return
    names = await _names(author_id)
    await record(team, ticket.id, ActivityKind.MENTION,
                 f"{names.get(author_id, 'someone')} mentioned you", actor_id=author_id,
                 post_id=post_id)


async def ask_rating(ctx: JobContext, *, ticket_id: int) -> None:
    """A solved ticket: ask its requester how it went (once, while it stays solved)."""
    from forum.support_queue.models import TicketState
    from forum.support_queue.team_models import SatisfactionRating

    ticket = await Ticket.get_or_none(id=ticket_id)
    if ticket is None or ticket.state != TicketState.SOLVED:
        return
    if await SatisfactionRating.exists(ticket_id=ticket_id):
        return
    user = await User.get_or_none(id=ticket.requester_id,  # type: ignore[attr-defined]
                                  is_active=True)
    if user is None or not user.is_verified:
        return
    url, project, topic = await _ticket_url(ctx.platform, ticket)
    reference = ticket.reference_in(project.slug)
    await ctx.platform.send_mail(user.email, "support_rate_request", {
        "username": user.username, "reference": reference, "title": topic.title,
        "ticket_url": url,
    }, subject=f"[{project.name}] {reference} is solved: how did we do?",
        headers={"References": f"<topic-{topic.id}@{mail_domain(ctx.platform.settings)}>"})


def definitions() -> list[JobDefinition]:
    from forum.support_queue.autoclose import AUTOCLOSE_JOB, autoclose_job
    from forum.support_queue.digest import DIGEST_JOB, digest_job

    return [
        JobDefinition(ASSIGNED_JOB, notify_assigned),
        JobDefinition(MESSAGE_JOB, notify_message),
        JobDefinition(STATE_JOB, notify_state),
        JobDefinition(MENTION_JOB, notify_mentions),
        JobDefinition(RATE_JOB, ask_rating),
        JobDefinition(DIGEST_JOB, digest_job, max_tries=1),
        JobDefinition(AUTOCLOSE_JOB, autoclose_job, max_tries=1),
    ]

