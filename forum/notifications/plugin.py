"""The notifications domain's registrations: models, pages, API, jobs and event hooks.

Each event hook only queues a job that decides who is notified (``forum.notifications.jobs``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from forum.hookspecs import JobDefinition, UnreadPosts, hookimpl

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from forum import events
    from forum.platform import Platform


@hookimpl
def forum_models() -> list[str]:
    return ["forum.notifications.models"]


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.notifications import unread_routes
    from forum.notifications.routes import routes

    return [*routes(), *unread_routes.routes()]


@hookimpl
async def forum_topic_unread(user_id: int, topic_ids: list[int]) -> dict[int, UnreadPosts]:
    from forum.notifications.unread import topic_unread

    return await topic_unread(user_id, topic_ids)


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    from forum.notifications.jobs import definitions

    return definitions()


@hookimpl
async def on_topic_created(event: events.TopicCreated, platform: Platform) -> None:
    await platform.enqueue(
        "notifications.topic_created", post_id=event.post_id, author_id=event.author_id,
        mentioned_user_ids=list(event.mentioned_user_ids),
        quoted_post_ids=list(event.quoted_post_ids))


@hookimpl
async def on_post_created(event: events.PostCreated, platform: Platform) -> None:
    await platform.enqueue(
        "notifications.post_created", post_id=event.post_id, author_id=event.author_id,
        reply_to_post_id=event.reply_to_post_id,
        mentioned_user_ids=list(event.mentioned_user_ids),
        quoted_post_ids=list(event.quoted_post_ids))


@hookimpl
async def on_post_edited(event: events.PostEdited, platform: Platform) -> None:
    if event.newly_mentioned_user_ids:
        await platform.enqueue(
            "notifications.post_edited", post_id=event.post_id, editor_id=event.editor_id,
            newly_mentioned_user_ids=list(event.newly_mentioned_user_ids))


@hookimpl
async def on_vote_cast(event: events.VoteCast, platform: Platform) -> None:
    # Only a new up-vote notifies: withdrawn and down-votes stay silent.
    if event.new_value > 0 and event.old_value <= 0:
        await platform.enqueue("notifications.vote_cast", post_id=event.post_id,
                               post_author_id=event.post_author_id, voter_id=event.voter_id)


@hookimpl
async def on_answer_accepted(event: events.AnswerAccepted, platform: Platform) -> None:
    if event.post_id is not None and event.answer_author_id is not None:
        await platform.enqueue("notifications.answer_accepted", post_id=event.post_id,
                               answer_author_id=event.answer_author_id,
                               accepter_id=event.accepter_id)


@hookimpl
async def on_post_deleted(event: events.PostDeleted, platform: Platform) -> None:
    if not event.restored:
        await platform.enqueue("notifications.post_deleted", post_id=event.post_id)


@hookimpl
async def on_ticket_submitted(event: events.TicketSubmitted) -> None:
    from forum.notifications.service import do_notify_ticket_submitted

    await do_notify_ticket_submitted(event.requester_id, event.project, event.topic_id)


@hookimpl
async def on_badge_awarded(event: events.BadgeAwarded, platform: Platform) -> None:
    await platform.enqueue("notifications.badge_awarded", user_id=event.user_id,
                           project_id=event.project, badge=event.badge,
                           badge_name=event.badge_name, level=event.level,
                           award_id=event.award_id)


def _money(amount: int, currency: str) -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency.upper())
    whole = f"{abs(amount) // 100:,}.{abs(amount) % 100:02d}"
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{whole}" if symbol else f"{sign}{whole} {currency.upper()}"


@hookimpl
async def on_help_credited(event: events.HelpCredited, platform: Platform) -> None:
    # Credits only: a refund's reversal (amount < 0) shows on the recognition page quietly.
    if event.amount <= 0:
        return
    what = "answer" if event.post_id is not None else "help"
    await platform.enqueue(
        "notifications.recognition", user_id=event.user_id, project_id=event.project,
        kind="help_earned", key=f"attribution-{event.attribution_id}",
        summary=(f"Your {what} on {event.reference} earned "
                 f"{_money(event.amount, event.currency)} for the project"))


@hookimpl
async def on_thank_you_recorded(event: events.ThankYouRecorded, platform: Platform) -> None:
    label = {"money_sent": "sent you money", "swag": "sent you swag"}.get(
        event.kind, "left you a note")
    amount = (f" ({_money(event.amount, event.currency)})"
              if event.amount is not None and event.currency else "")
    await platform.enqueue(
        "notifications.recognition", user_id=event.helper_id, project_id=event.project,
        kind="thanked", key=f"thank-you-{event.thank_you_id}",
        summary=f"A project lead thanked you: {label}{amount}")


@hookimpl
async def on_topic_changed(event: events.TopicChanged, platform: Platform) -> None:
    # Who may read the topic can change with these; the rest leave notifications alone.
    if event.change in {"moved", "deleted", "private", "privacy"}:
        await platform.enqueue("notifications.topic_changed", topic_id=event.topic_id)
    elif event.change == "timeline":  # a line in its timeline: watchers hear of it
        await platform.enqueue("notifications.topic_event", topic_id=event.topic_id)
