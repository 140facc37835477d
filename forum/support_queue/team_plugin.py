"""The support team's side: response templates, notification levels per ticket, the daily
digest (its cron job and the activity it reports), the inbox, satisfaction and auto-close."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forum.hookspecs import CronDefinition, JobDefinition, MailHandled, hookimpl

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from forum import events
    from forum.platform import Platform


@hookimpl
def forum_models() -> list[str]:
    return ["forum.support_queue.team_models"]


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.support_queue import (
        autoclose_routes,
        inbox_routes,
        satisfaction_routes,
        team_routes,
    )

    return [*team_routes.routes(), *inbox_routes.routes(), *satisfaction_routes.routes(),
            *autoclose_routes.routes()]


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    from forum.support_queue.team_notify import definitions

    return definitions()


@hookimpl
def forum_cron() -> list[CronDefinition]:
    """Digests are due at each supporter's own hour in their own zone: look every 5
    minutes (a half-hour zone's hour starts at :30)."""
    from forum.support_queue.autoclose import AUTOCLOSE_JOB
    from forum.support_queue.digest import DIGEST_JOB

    return [CronDefinition(DIGEST_JOB, minute=set(range(0, 60, 5))),
            CronDefinition(AUTOCLOSE_JOB, minute={17})]


@hookimpl
async def on_ticket_assigned(event: events.TicketAssigned, platform: Platform) -> None:
    from forum.support_queue.team_notify import ASSIGNED_JOB

    if event.assignee_id is not None and event.assignee_id != event.actor_id:
        await platform.enqueue(ASSIGNED_JOB, ticket_id=event.ticket_id,
                               assignee_id=event.assignee_id, actor_id=event.actor_id)


@hookimpl
async def on_ticket_responded(event: events.TicketResponded, platform: Platform) -> None:
    from forum.support_queue.team_notify import MESSAGE_JOB

    await platform.enqueue(MESSAGE_JOB, ticket_id=event.ticket_id, post_id=event.post_id)


@hookimpl
async def on_ticket_state_changed(event: events.TicketStateChanged, platform: Platform
                                  ) -> None:
    from forum.support_queue.team_notify import RATE_JOB, STATE_JOB

    await platform.enqueue(STATE_JOB, ticket_id=event.ticket_id, actor_id=event.actor_id,
                           old=event.old, new=event.new)
    if event.new == "solved":
        await platform.enqueue(RATE_JOB, ticket_id=event.ticket_id)


@hookimpl
async def on_topic_created(event: events.TopicCreated, platform: Platform) -> None:
    if event.kind == "ticket" and event.mentioned_user_ids:
        await _mentions(platform, event.topic_id, event.post_id, event.author_id,
                        list(event.mentioned_user_ids))


@hookimpl
async def on_post_created(event: events.PostCreated, platform: Platform) -> None:
    from forum.support_queue.models import Ticket

    if event.mentioned_user_ids and await Ticket.exists(topic_id=event.topic_id):
        await _mentions(platform, event.topic_id, event.post_id, event.author_id,
                        list(event.mentioned_user_ids))


async def _mentions(platform: Platform, topic_id: int, post_id: int, author_id: int,
                    mentioned: list[int]) -> None:
    from forum.support_queue.team_notify import MENTION_JOB

    await platform.enqueue(MENTION_JOB, topic_id=topic_id, post_id=post_id,
                           author_id=author_id, mentioned_user_ids=mentioned)


@hookimpl(tryfirst=True)
async def forum_mail_reply(target_kind: str, target_id: int, user_id: int, text: str,
                           platform: Platform) -> MailHandled | None:
    """The requester answering a closed ticket's email: reopen it within the grace period,
    else open a follow-up (before the topics domain refuses the closed topic)."""
    from forum.support_queue.autoclose import mail_reply_after_close

    return await mail_reply_after_close(platform, target_kind, target_id, user_id, text)


@hookimpl
async def forum_email_allowed(user_id: int, topic_id: int, kind: str) -> bool | None:
    """A supporter's notification level on a ticket decides what reaches their mail."""
    from forum.support_queue.levels import email_allowed

    return await email_allowed(user_id, topic_id, kind)
