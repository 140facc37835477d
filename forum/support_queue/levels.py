"""Each supporter's notification level per ticket: every message by email, digest only (the
default) or mute.

``supporter_level`` is what the notification emails ask before mailing a supporter about a
ticket; the daily digest leaves muted tickets out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise.queryset import QuerySet

from forum.support_queue.team_models import DEFAULT_LEVEL, NotifyLevel, TicketNotifyLevel

if TYPE_CHECKING:
    from forum.support_queue.models import Ticket


async def ids_of(query: QuerySet[Any], column: str) -> list[int]:
    """One integer column of a query's rows."""
    values: list[Any] = list(await query.values_list(column, flat=True))
    return [int(value) for value in values]


async def supporter_level(ticket_id: int, user_id: int) -> NotifyLevel:
    """How ``user_id`` wants to hear about ``ticket_id`` (``DEFAULT_LEVEL`` when unset)."""
    row = await TicketNotifyLevel.filter(ticket_id=ticket_id, user_id=user_id).first()
    return DEFAULT_LEVEL if row is None else NotifyLevel(row.level)


async def supporter_levels(ticket_id: int, user_ids: list[int]) -> dict[int, NotifyLevel]:
    """The level of each of ``user_ids`` for one ticket, in one query."""
    found = {user_id: DEFAULT_LEVEL for user_id in user_ids}
    if user_ids:
        for user_id, level in await TicketNotifyLevel.filter(
                ticket_id=ticket_id, user_id__in=list(user_ids)).values_list("user_id", "level"):
            found[user_id] = NotifyLevel(level)
    return found


async def muted_ticket_ids(user_id: int, ticket_ids: list[int]) -> set[int]:
    if not ticket_ids:
        return set()
    return set(await ids_of(TicketNotifyLevel.filter(
        user_id=user_id, ticket_id__in=list(ticket_ids), level=NotifyLevel.MUTE), "ticket_id"))


async def explicit_level(ticket_id: int, user_id: int) -> NotifyLevel | None:
    row = await TicketNotifyLevel.filter(ticket_id=ticket_id, user_id=user_id).first()
    return None if row is None else NotifyLevel(row.level)


async def do_set_level(ticket: Ticket, user_id: int, level: NotifyLevel) -> None:
    """Set (or, for the default, keep as a row all the same: the choice was explicit)."""
    updated = await TicketNotifyLevel.filter(ticket_id=ticket.id, user_id=user_id).update(
        level=level)
    if not updated:
        await TicketNotifyLevel.get_or_create(ticket_id=ticket.id, user_id=user_id,
                                              defaults={"level": level})
        await TicketNotifyLevel.filter(ticket_id=ticket.id, user_id=user_id).update(
            level=level)


# Kinds of notification about one new post (forum.notifications.models.POST_KINDS): the
# support queue cannot import the notifications domain, so the names are repeated here.
POST_KINDS = frozenset({"mentioned", "replied", "quoted", "watching_activity", "new_topic"})


async def email_allowed(user_id: int, topic_id: int, kind: str) -> bool | None:
    """The answer to ``forum_email_allowed`` for a team member's notification about a
    ticket: muted, nothing by email; digest only, mentions alone by email (the rest waits
    for the digest); every message, the support queue mails each message itself, so the
    notification is not mailed a second time. None for anyone else and other topics."""
    from forum.accounts.models import User
    from forum.projects.models import Membership
    from forum.support_queue.models import Ticket
    from forum.topics.permissions import TEAM_ROLES

    ticket = await Ticket.filter(topic_id=topic_id).only("id", "project_id").first()
    if ticket is None:
        return None
    on_team = await Membership.exists(
        project_id=ticket.project_id, user_id=user_id,  # type: ignore[attr-defined]
        role__in=[str(r) for r in TEAM_ROLES]) or await User.exists(
        id=user_id, is_platform_admin=True)
    if not on_team:
        return None
    level = await supporter_level(ticket.id, user_id)
    if level == NotifyLevel.MUTE:
        return False
    if kind not in POST_KINDS:
        return None
    if level == NotifyLevel.DIGEST:
        return kind == "mentioned"
    return False
