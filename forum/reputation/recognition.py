"""Recognition verbs: the money a helper's posts earned their project (a copy of billing's
attributions kept from ``HelpCredited``), thank-yous from leads, volunteering pledges and the
monthly recap email.

Who sees what: totals are public wherever the project is; the list of tickets (a reference
with its amount tells what a possibly private ticket paid) only to the helper and the team;
a thank-you to everyone once its helper agreed to show it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from forum import events
from forum.accounts.models import User
from forum.projects.models import Project
from forum.reputation.recognition_models import (
    HelpCredit,
    RecapSent,
    ThankYou,
    ThankYouKind,
    VolunteerPledge,
)
from forum.topics.models import Post, Topic, TopicKind
from forum.web.errors import Invalid, NotFound

if TYPE_CHECKING:
    from forum.platform import Platform

RECAP_JOB = "reputation.monthly_recap"
ACTIVITY_WEEKS = 4
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD", "UGX"})


def format_money(amount: int, currency: str) -> str:
    """Minor units as people read them: ``$50.00``, ``-€3.20``, ``1,200 CHF``."""
    currency = currency.upper()
    sign = "-" if amount < 0 else ""
    whole = (f"{abs(amount):,}" if currency in ZERO_DECIMAL
             else f"{abs(amount) // 100:,}.{abs(amount) % 100:02d}")
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{whole}" if symbol else f"{sign}{whole} {currency}"


def format_totals(totals: tuple[tuple[str, int], ...] | list[tuple[str, int]]) -> str:
    return " + ".join(format_money(amount, currency) for currency, amount in totals)


def utcnow() -> datetime:
    return datetime.now(UTC)


# The projection of billing's attributions


async def do_record_credit(event: events.HelpCredited) -> bool:
    """Keep a copy of the attribution; False when it was kept already (a replay)."""
    if await HelpCredit.exists(attribution_id=event.attribution_id):
        return False
    try:
        async with in_transaction():
            await HelpCredit.create(
                attribution_id=event.attribution_id, project_id=event.project,
                user_id=event.user_id, ticket_id=event.ticket_id, topic_id=event.topic_id,
                post_id=event.post_id, amount=event.amount, currency=event.currency.upper(),
                reference=event.reference[:40])
    except IntegrityError:
        return False  # the same event delivered twice at once
    return True


def _totals(rows: list[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    sums: dict[str, int] = defaultdict(int)
    for currency, amount in rows:
        sums[currency] += amount
    return tuple(sorted((c, a) for c, a in sums.items() if a != 0))


async def earned_totals(project_id: int, user_ids: list[int]
                        ) -> dict[int, tuple[tuple[str, int], ...]]:
    """What each user earned the project, net of refunds, per currency (one query)."""
    if not user_ids:
        return {}
    rows: list[Any] = list(await HelpCredit.filter(
        project_id=project_id, user_id__in=list(set(user_ids))).values_list(
        "user_id", "currency", "amount"))
    per_user: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for user_id, currency, amount in rows:
        per_user[int(user_id)].append((str(currency), int(amount)))
    found = {user_id: _totals(pairs) for user_id, pairs in per_user.items()}
    return {user_id: totals for user_id, totals in found.items() if totals}


@dataclass(frozen=True)
class TicketEarning:
    """What a helper earned on one ticket, net of refunds."""

    ticket_id: int
    topic_id: int
    reference: str
    currency: str
    amount: int
    last_at: datetime


async def earnings_by_ticket(project_id: int, user_id: int) -> list[TicketEarning]:
    """Newest first; a ticket whose credit was refunded in full shows 0."""
    credits = await HelpCredit.filter(project_id=project_id, user_id=user_id).order_by(
        "created_at", "id")
    grouped: dict[tuple[int, str], list[HelpCredit]] = defaultdict(list)
    for credit in credits:
        grouped[(credit.ticket_id, credit.currency)].append(credit)
    rows = [TicketEarning(ticket_id=ticket_id, topic_id=items[0].topic_id,
                          reference=items[0].reference, currency=currency,
                          amount=sum(c.amount for c in items), last_at=items[-1].created_at)
            for (ticket_id, currency), items in grouped.items()]
    return sorted(rows, key=lambda r: (r.last_at, r.ticket_id), reverse=True)


@dataclass(frozen=True)
class Earner:
    user_id: int
    username: str
    totals: tuple[tuple[str, int], ...]
    tickets: int


async def project_earners(project_id: int) -> list[Earner]:
    """Everyone credited in the project, largest total first (per their first currency)."""
    rows: list[Any] = list(await HelpCredit.filter(project_id=project_id).values_list(
        "user_id", "currency", "amount", "ticket_id"))
    pairs: dict[int, list[tuple[str, int]]] = defaultdict(list)
    tickets: dict[int, set[int]] = defaultdict(set)
    for user_id, currency, amount, ticket_id in rows:
        pairs[int(user_id)].append((str(currency), int(amount)))
        tickets[int(user_id)].add(int(ticket_id))
    names = dict(await User.filter(id__in=list(pairs)).values_list("id", "username"))
    earners = [Earner(user_id, str(names.get(user_id, "?")), _totals(p), len(tickets[user_id]))
               for user_id, p in pairs.items()]
    return sorted(earners, key=lambda e: (-sum(a for _, a in e.totals), e.username))


# Thank-yous


async def find_helper(username: str) -> User:
    helper = await User.get_or_none(username_lower=username.strip().lower(), is_active=True)
    if helper is None:
        raise Invalid("No such user.", fields={"helper": "No active user has this name."})
    return helper


async def check_record_thank_you(platform: Platform, project: Project, lead: User,
                                 helper_name: str, kind: ThankYouKind, amount: int | None,
                                 currency: str | None, note: str) -> ThankYou:
    """The caller checked that ``lead`` leads ``project``."""
    helper = await find_helper(helper_name)
    if helper.id == lead.id:
        raise Invalid("You cannot thank yourself.",
                      fields={"helper": "Choose someone else."})
    return await do_record_thank_you(platform, project, lead, helper, kind, amount,
                                     currency, note)


async def do_record_thank_you(platform: Platform, project: Project, lead: User, helper: User,
                              kind: ThankYouKind, amount: int | None, currency: str | None,
                              note: str) -> ThankYou:
    thank_you = await ThankYou.create(
        project_id=project.id, helper_id=helper.id, lead_id=lead.id, kind=kind,
        amount=amount, currency=(currency or "").upper(), note=note.strip())
    await platform.emit(events.ThankYouRecorded(
        project=project.id, thank_you_id=thank_you.id, helper_id=helper.id, lead_id=lead.id,
        kind=kind.value, amount=amount, currency=(currency or "").upper()))
    return thank_you


async def thank_yous_for(project_id: int, helper_id: int, *, shown_only: bool
                         ) -> list[ThankYou]:
    query = ThankYou.filter(project_id=project_id, helper_id=helper_id)
    if shown_only:
        query = query.filter(shown=True)
    return await query.order_by("-created_at", "-id").prefetch_related("lead")


async def recent_thank_yous(project_id: int, limit: int = 50) -> list[ThankYou]:
    return await ThankYou.filter(project_id=project_id).order_by(
        "-created_at", "-id").limit(limit).prefetch_related("lead", "helper")


async def access_own_thank_you(user: User, project_id: int, thank_you_id: int) -> ThankYou:
    """A thank-you addressed to ``user`` in the project; anyone else's is not found."""
    thank_you = await ThankYou.get_or_none(id=thank_you_id, project_id=project_id,
                                           helper_id=user.id)
    if thank_you is None:
        raise NotFound("No such thank-you.")
    return thank_you


async def do_set_thank_you_shown(thank_you: ThankYou, shown: bool) -> ThankYou:
    await ThankYou.filter(id=thank_you.id).update(shown=shown)
    thank_you.shown = shown
    return thank_you


# Volunteering


async def pledge_of(project_id: int, user_id: int) -> VolunteerPledge | None:
    return await VolunteerPledge.get_or_none(project_id=project_id, user_id=user_id)


async def do_pledge(project_id: int, user: User, hours_per_week: int, note: str
                    ) -> VolunteerPledge | None:
    """Offer (or change) hours per week; 0 withdraws the pledge (None returned)."""
    if hours_per_week == 0:
        await VolunteerPledge.filter(project_id=project_id, user_id=user.id).delete()
        return None
    pledge, _ = await VolunteerPledge.update_or_create(
        {"hours_per_week": hours_per_week, "note": note.strip()},
        project_id=project_id, user_id=user.id)
    return pledge


@dataclass
class Activity:
    """What a helper actually did in the project over a period: counts, not hours."""

    posts: int = 0
    answers: int = 0
    accepted: int = 0
    ticket_responses: int = 0


async def activity_of(project_id: int, user_ids: list[int], since: datetime
                      ) -> dict[int, Activity]:
    """Posts (any), answers (replies in questions), accepted answers and ticket responses
    (replies in someone else's ticket) since ``since``; deleted posts do not count."""
    found = {user_id: Activity() for user_id in user_ids}
    if not user_ids:
        return found
    rows: list[Any] = list(await Post.filter(
        topic__project_id=project_id, author_id__in=user_ids, created_at__gte=since,
        deleted_at__isnull=True, topic__deleted_at__isnull=True).values_list(
        "id", "author_id", "number", "topic__kind", "topic__author_id"))
    answer_ids: list[int] = []
    author_of: dict[int, int] = {}
    for post_id, author_id, number, kind, topic_author in rows:
        activity = found[int(author_id)]
        activity.posts += 1
        if int(number) > 1 and kind == TopicKind.QUESTION:
            activity.answers += 1
            answer_ids.append(int(post_id))
            author_of[int(post_id)] = int(author_id)
        if int(number) > 1 and kind == TopicKind.TICKET and topic_author != author_id:
            activity.ticket_responses += 1
    if answer_ids:
        accepted: list[Any] = list(await Topic.filter(
            project_id=project_id, accepted_post_id__in=answer_ids).values_list(
            "accepted_post_id", flat=True))
        for post_id in accepted:
            found[author_of[int(post_id)]].accepted += 1
    return found


@dataclass(frozen=True)
class PledgeRow:
    user_id: int
    username: str
    hours_per_week: int
    note: str
    updated_at: datetime
    activity: Activity = field(default_factory=Activity)


async def pledges_with_activity(project_id: int, now: datetime | None = None
                                ) -> list[PledgeRow]:
    """Every pledge in the project beside what its helper did in the last four weeks."""
    since = (now or utcnow()) - timedelta(weeks=ACTIVITY_WEEKS)
    pledges = await VolunteerPledge.filter(project_id=project_id).order_by(
        "-hours_per_week", "id").prefetch_related("user")
    activity = await activity_of(project_id, [p.user.id for p in pledges], since)
    return [PledgeRow(p.user.id, p.user.username, p.hours_per_week, p.note, p.updated_at,
                      activity[p.user.id]) for p in pledges]


# The monthly recap


def previous_month(now: datetime) -> tuple[str, datetime, datetime]:
    """("2026-10", its first instant, the next month's first instant) for the month
    before ``now``'s, in UTC."""
    end = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (end - timedelta(days=1)).replace(day=1)
    return start.strftime("%Y-%m"), start, end


async def send_monthly_recaps(platform: Platform, now: datetime | None = None) -> int:
    """One email per helper credited last month, with their totals per project; each
    helper gets a month's recap once (``RecapSent``). Returns how many were sent."""
    month, start, end = previous_month(now or utcnow())
    rows: list[Any] = list(await HelpCredit.filter(
        created_at__gte=start, created_at__lt=end).values_list(
        "user_id", "project_id", "currency", "amount", "ticket_id"))
    per_user: dict[int, dict[int, list[tuple[str, int, int]]]] = defaultdict(
        lambda: defaultdict(list))
    for user_id, project_id, currency, amount, ticket_id in rows:
        per_user[int(user_id)][int(project_id)].append(
            (str(currency), int(amount), int(ticket_id)))
    if not per_user:
        return 0
    sent_ids: list[Any] = list(await RecapSent.filter(
        month=month, user_id__in=list(per_user)).values_list("user_id", flat=True))
    done = {int(u) for u in sent_ids}
    users = {u.id: u for u in await User.filter(id__in=list(per_user), is_active=True)}
    project_ids = {p for projects in per_user.values() for p in projects}
    projects = {p.id: p for p in await Project.filter(id__in=list(project_ids))}
    sent = 0
    base = platform.settings.public_url
    for user_id, by_project in sorted(per_user.items()):
        user = users.get(user_id)
        if user is None or user_id in done:
            continue
        if not any(a > 0 for items in by_project.values() for _, a, _ in items):
            continue  # only refunds reversed earlier credits: nothing earned to tell
        lines = []
        for project_id, items in sorted(by_project.items()):
            project = projects.get(project_id)
            if project is None:
                continue
            totals = _totals([(c, a) for c, a, _ in items])
            lines.append({
                "project": project.name,
                "total": format_totals(totals) if totals else format_money(0, items[0][0]),
                "tickets": len({t for _, _, t in items}),
                "url": f"{base}/p/{project.slug}/u/{user.username}/recognition",
            })
        try:
            async with in_transaction():
                await RecapSent.create(user_id=user_id, month=month)
                await platform.send_mail(user.email, "recap", {
                    "username": user.username, "month": start.strftime("%B %Y"),
                    "projects": lines,
                }, subject=f"Your help in {start.strftime('%B %Y')}")
        except IntegrityError:
            continue  # another worker sent it
        sent += 1
    return sent
