"""Auto-close: a ticket waiting on its requester, or solved, closes after a project's idle
time without interaction (default 30 days), the requester warned by email a few days before
(default 3). A reply by the requester within the grace period after closing (default 7
days) reopens the ticket; a later one opens a new ticket linked to the old one.

"Interaction" is the latest of: the last post in the ticket, its submission, when it was
solved and when it started waiting. A warning counts only when nothing happened after it;
the ticket closes once the idle time has passed AND the warning is at least the warning
period old, so a late warning (the worker was down) still gives the requester their days.

Functions others call::

    await run_autoclose(platform, now=None) -> AutoCloseRun   # the cron job's work
    await reply_after_close(platform, ctx, source) -> FollowUp  # web, API and mail-in
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import ValidationError
from tortoise.expressions import Q

from forum.accounts.models import User
from forum.hookspecs import MailHandled
from forum.projects.models import Project
from forum.support_queue.levels import ids_of
from forum.support_queue.models import Ticket, TicketState
from forum.support_queue.permissions import TicketContext, access_ticket
from forum.support_queue.schemas import TicketIn
from forum.support_queue.states import do_set_state, queue_state
from forum.support_queue.team_models import AutoCloseSettings, AutoCloseWarning, TicketFollowUp
from forum.support_queue.team_notify import thread_headers
from forum.support_queue.tickets import create_ticket
from forum.topics.models import Category, Post, Topic
from forum.topics.permissions import Viewer
from forum.topics.reply import reply
from forum.topics.schemas import ReplyIn
from forum.web.errors import Conflict, Forbidden, UserError

if TYPE_CHECKING:
    from forum.jobs import JobContext
    from forum.platform import Platform

log = logging.getLogger(__name__)

AUTOCLOSE_JOB = "support.autoclose"
IDLE_STATES = [TicketState.WAITING, TicketState.SOLVED]
BATCH = 500


@dataclass(frozen=True)
class Rule:
    enabled: bool = True
    idle_days: int = 30
    warn_days: int = 3
    grace_days: int = 7

    @property
    def idle(self) -> timedelta:
        return timedelta(days=self.idle_days)

    @property
    def warn(self) -> timedelta:
        return timedelta(days=min(self.warn_days, self.idle_days))

    @property
    def grace(self) -> timedelta:
        return timedelta(days=self.grace_days)


async def rule_for(project_id: int) -> Rule:
    row = await AutoCloseSettings.get_or_none(project_id=project_id)
    if row is None:
        return Rule()
    return Rule(row.enabled, row.idle_days, row.warn_days, row.grace_days)


async def do_save_rule(project_id: int, rule: Rule) -> None:
    await AutoCloseSettings.update_or_create(
        defaults={"enabled": rule.enabled, "idle_days": rule.idle_days,
                  "warn_days": rule.warn_days, "grace_days": rule.grace_days},
        project_id=project_id)


def last_interaction(ticket: Ticket, topic: Topic) -> datetime:
    moments = [topic.last_posted_at, ticket.submitted_at, ticket.solved_at, ticket.paused_at,
               ticket.created_at]
    return max(m for m in moments if m is not None)


@dataclass
class AutoCloseRun:
    warned: list[int]
    closed: list[int]


def system_context(project: Project, ticket: Ticket, topic: Topic, category: Category
                   ) -> TicketContext:
    """The tickets domain's verbs acting for nobody (events carry actor None)."""
    return TicketContext(project, Viewer(None, None, False), ticket, topic, category)


async def run_autoclose(platform: Platform, now: datetime | None = None) -> AutoCloseRun:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    done = AutoCloseRun([], [])
    project_ids = sorted(set(await ids_of(Ticket.filter(state__in=IDLE_STATES),
                                          "project_id")))
    for project_id in project_ids:
        rule = await rule_for(project_id)
        if not rule.enabled:
            continue
        await _run_project(platform, project_id, rule, now, done)
    return done


async def _run_project(platform: Platform, project_id: int, rule: Rule, now: datetime,
                       done: AutoCloseRun) -> None:
    quiet_since = now - (rule.idle - rule.warn)
    project = await Project.get(id=project_id)
    # Every moment of interaction before the threshold, so the batch holds only tickets
    # due for a warning or a close (none skipped run after run).
    tickets = await (Ticket.filter(
        Q(project_id=project_id, state__in=IDLE_STATES,
          topic__last_posted_at__lte=quiet_since, created_at__lte=quiet_since),
        Q(submitted_at__isnull=True) | Q(submitted_at__lte=quiet_since),
        Q(solved_at__isnull=True) | Q(solved_at__lte=quiet_since),
        Q(paused_at__isnull=True) | Q(paused_at__lte=quiet_since),
    ).select_related("topic").order_by("id").limit(BATCH))
    for ticket in tickets:
        topic: Topic = ticket.topic
        last = last_interaction(ticket, topic)
        if now - last < rule.idle - rule.warn:
            continue
        warning = await AutoCloseWarning.get_or_none(ticket_id=ticket.id)
        warned = warning is not None and warning.warned_at >= last
        if not warned:
            await _warn(platform, project, ticket, topic, last + rule.idle, now, rule)
            done.warned.append(ticket.id)
            continue
        assert warning is not None
        if now >= max(last + rule.idle, warning.warned_at + rule.warn):
            category = await Category.get(id=topic.category_id)  # type: ignore[attr-defined]
            ctx = system_context(project, ticket, topic, category)
            try:
                await do_set_state(platform, ctx, TicketState.CLOSED, now)
            except Conflict:
                continue  # it changed meanwhile: next run looks again
            done.closed.append(ticket.id)


async def _warn(platform: Platform, project: Project, ticket: Ticket, topic: Topic,
                closes_at: datetime, now: datetime, rule: Rule) -> None:
    closes_at = max(closes_at, now + rule.warn)
    await AutoCloseWarning.update_or_create(defaults={"warned_at": now, "closes_at": closes_at},
                                            ticket_id=ticket.id)
    requester = await User.get_or_none(id=ticket.requester_id,  # type: ignore[attr-defined]
                                       is_active=True)
    if requester is None or not requester.is_verified:
        return
    reference = ticket.reference_in(project.slug)
    url = f"{platform.settings.public_url}/p/{project.slug}/t/{topic.id}-{topic.slug}"
    await platform.send_mail(requester.email, "support_autoclose_warning", {
        "username": requester.username, "reference": reference, "title": topic.title,
        "closes_on": f"{closes_at:%A %d %B %Y}", "ticket_url": url,
        "solved": ticket.state == TicketState.SOLVED, "grace_days": rule.grace_days,
    }, subject=f"[{project.name}] {reference} will be closed on {closes_at:%d %B}",
        headers=await thread_headers(platform, topic.id, requester.id))


async def autoclose_job(ctx: JobContext) -> None:
    run = await run_autoclose(ctx.platform)
    if run.warned or run.closed:
        log.info("auto-close: warned %s, closed %s tickets", len(run.warned), len(run.closed))


# A reply to a closed ticket


@dataclass(frozen=True)
class FollowUp:
    ticket: Ticket  # the reopened ticket, or the new one
    post_id: int
    reopened: bool


def within_grace(closed_at: datetime, rule: Rule, now: datetime | None = None) -> bool:
    return (now or datetime.now(UTC)) - closed_at <= rule.grace


def check_reply_after_close(ctx: TicketContext) -> None:
    if not ctx.is_requester:
        raise Forbidden("Only the ticket's requester may reopen it by replying.")
    if ctx.ticket.state != TicketState.CLOSED:
        raise Conflict("This ticket is not closed: reply to it as usual.")


async def reply_after_close(platform: Platform, ctx: TicketContext, source: str,
                            now: datetime | None = None) -> FollowUp:
    """Within the grace period the ticket reopens (back into the queue) and takes the reply;
    later, a new ticket is opened with the reply, linked to this one."""
    check_reply_after_close(ctx)
    now = now or datetime.now(UTC)
    rule = await rule_for(ctx.project.id)
    ticket = ctx.ticket
    if within_grace(ticket.closed_at or now, rule, now):
        await do_set_state(platform, ctx, queue_state(ticket), now)
        topic = await Topic.get(id=ctx.topic.id)
        post = await reply(platform, ctx.viewer, topic, ReplyIn(source=source))
        return FollowUp(ticket, post.id, True)
    reference = ticket.reference_in(ctx.project.slug)
    title = f"Follow-up to {reference}: {ctx.topic.title}"[:200]
    body = (f"Follow-up to [{reference}](/p/{ctx.project.slug}/t/{ctx.topic.id}-"
            f"{ctx.topic.slug}).\n\n{source}")
    new = await create_ticket(platform, ctx.viewer, ctx.project, TicketIn.model_validate(
        {"title": title, "source": body, "is_private": ctx.topic.is_private}))
    await TicketFollowUp.create(ticket_id=new.id, previous_id=ticket.id)
    post = await Post.get(topic_id=new.topic_id, number=1)  # type: ignore[attr-defined]
    return FollowUp(new, post.id, False)


async def mail_reply_after_close(platform: Platform, target_kind: str, target_id: int,
                                 user_id: int, text: str) -> MailHandled | None:
    """A reply by email from the requester of a closed ticket (the topics domain would
    refuse it: the topic is closed): reopen or follow up as on the web. None for anything
    else, which the other domains handle."""
    if target_kind == "topic":
        ticket = await Ticket.get_or_none(topic_id=target_id)
    elif target_kind == "ticket":
        ticket = await Ticket.get_or_none(id=target_id)
    else:
        return None
    if (ticket is None or ticket.state != TicketState.CLOSED
            or ticket.requester_id != user_id):  # type: ignore[attr-defined]
        return None
    user = await User.get_or_none(id=user_id, is_active=True)
    if user is None:
        return None
    try:
        ctx = await access_ticket(user, ticket.id)
        done = await reply_after_close(platform, ctx, text)
    except UserError as exc:
        return MailHandled.refused(exc.message)
    except ValidationError as exc:
        return MailHandled.refused("The reply cannot be posted as written: "
                                   f"{exc.errors()[0]['msg']}.")
    topic = await Topic.get(id=done.ticket.topic_id)  # type: ignore[attr-defined]
    return MailHandled.posted(f"{platform.settings.public_url}/p/{ctx.project.slug}/t/"
                              f"{topic.id}-{topic.slug}#post-{done.post_id}")


async def follow_ups_of(ticket_id: int) -> list[int]:
    """Ids of the tickets opened as follow-ups of this one."""
    return await ids_of(TicketFollowUp.filter(previous_id=ticket_id).order_by("id"),
                        "ticket_id")
