"""The notifications domain's verbs: watch levels, reading and marking notifications,
preferences, and the rules that turn one piece of activity into notifications.

Recipients are decided here, in jobs (``forum.notifications.jobs``), never in a request.
A user is notified only about a topic they may read now (``can_read_topic``), never about
their own action, at most once per post (the strongest kind wins), and never when the
topic, or its category, is muted for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from forum.accounts.models import User
from forum.notifications.models import (
    POST_KINDS,
    CategoryWatch,
    Notification,
    NotificationKind,
    NotificationPreference,
    TopicWatch,
    WatchLevel,
)
from forum.projects.models import Membership, Project, Role
from forum.projects.permissions import can_see
from forum.settings import Settings
from forum.topics.models import Category, Post, Topic
from forum.topics.permissions import Viewer, can_read_category, can_read_topic
from forum.web.errors import NotFound, UserError

PAGE_SIZE = 30


async def ids_of(query: QuerySet[Any], column: str) -> list[int]:
    """One integer column of a query's rows."""
    values: list[Any] = list(await query.values_list(column, flat=True))
    return [int(value) for value in values]


def utcnow() -> datetime:
    return datetime.now(UTC)


# Who may read what


async def viewer_in(user: User, project: Project) -> Viewer | None:
    """``user`` as seen from ``project``; None when the project is hidden from them."""
    membership = await Membership.get_or_none(project_id=project.id, user_id=user.id)
    role = Role(membership.role) if membership is not None else None
    if not can_see(project, role, user):
        return None
    return Viewer(user, role, user.is_platform_admin)


async def may_read(user: User, project: Project, topic: Topic, category: Category) -> bool:
    if not user.is_active:
        return False
    viewer = await viewer_in(user, project)
    return viewer is not None and can_read_topic(viewer, topic, category)


async def access_topic(user: User, topic_id: int, project_slug: str | None = None
                       ) -> tuple[Project, Topic, Category]:
    """A topic the user may read (in project ``project_slug`` when given), or NotFound."""
    topic = await Topic.get_or_none(id=topic_id)
    if topic is None:
        raise NotFound("No such topic.")
    project = await Project.get(id=topic.project_id)  # type: ignore[attr-defined]
    category = await Category.get(id=topic.category_id)  # type: ignore[attr-defined]
    if project_slug is not None and project.slug != project_slug:
        raise NotFound("No such topic.")
    if not await may_read(user, project, topic, category):
        raise NotFound("No such topic.")
    return project, topic, category


async def access_category(user: User, project_slug: str, category_slug: str
                          ) -> tuple[Project, Category]:
    project = await Project.get_or_none(slug=project_slug)
    category = None if project is None else await Category.get_or_none(
        project_id=project.id, slug=category_slug)
    if project is None or category is None:
        raise NotFound("No such category.")
    viewer = await viewer_in(user, project)
    if viewer is None or not can_read_category(viewer, category):
        raise NotFound("No such category.")
    return project, category


# Watch levels


async def effective_levels(user_ids: Iterable[int], topic: Topic) -> dict[int, WatchLevel]:
    """Each user's level for ``topic``: their own setting for it, else their category's,
    else the parent category's, else NORMAL."""
    ids = set(user_ids)
    levels = {uid: WatchLevel.NORMAL for uid in ids}
    if not ids:
        return levels
    category = await Category.get(id=topic.category_id)  # type: ignore[attr-defined]
    chain = [category.id]
    if category.parent_id is not None:  # type: ignore[attr-defined]
        chain.append(category.parent_id)  # type: ignore[attr-defined]
    decided: set[int] = set()
    for row in await TopicWatch.filter(topic_id=topic.id, user_id__in=ids):
        levels[row.user_id] = WatchLevel(row.level)  # type: ignore[attr-defined]
        decided.add(row.user_id)  # type: ignore[attr-defined]
    for category_id in chain:
        rows = await CategoryWatch.filter(category_id=category_id, user_id__in=ids - decided)
        for crow in rows:
            levels[crow.user_id] = WatchLevel(crow.level)  # type: ignore[attr-defined]
            decided.add(crow.user_id)  # type: ignore[attr-defined]
    return levels


async def topic_level(user: User, topic: Topic) -> WatchLevel:
    return (await effective_levels([user.id], topic))[user.id]


async def category_level(user: User, category: Category) -> WatchLevel:
    row = await CategoryWatch.get_or_none(user_id=user.id, category_id=category.id)
    return WatchLevel(row.level) if row is not None else WatchLevel.NORMAL


async def watchers(topic: Topic, *, of_category_only: bool = False) -> set[int]:
    """Users whose level for ``topic`` is WATCHING (directly or through its category);
    ``of_category_only``: those watching through the category (told of new topics)."""
    category = await Category.get(id=topic.category_id)  # type: ignore[attr-defined]
    chain = [category.id]
    if category.parent_id is not None:  # type: ignore[attr-defined]
        chain.append(category.parent_id)  # type: ignore[attr-defined]
    found: set[int] = set()
    if not of_category_only:
        found |= set(await ids_of(
            TopicWatch.filter(topic_id=topic.id, level=WatchLevel.WATCHING), "user_id"))
    found |= set(await ids_of(CategoryWatch.filter(category_id__in=chain,
                                                   level=WatchLevel.WATCHING), "user_id"))
    levels = await effective_levels(found, topic)
    return {uid for uid in found if levels[uid] == WatchLevel.WATCHING}


async def do_watch_topic(user: User, topic: Topic, level: WatchLevel) -> None:
    await TopicWatch.update_or_create(
        defaults={"level": level, "explicit": True}, user_id=user.id, topic_id=topic.id)


async def do_watch_category(user: User, category: Category, level: WatchLevel) -> None:
    if level == WatchLevel.NORMAL:
        await CategoryWatch.filter(user_id=user.id, category_id=category.id).delete()
        return
    await CategoryWatch.update_or_create(
        defaults={"level": level}, user_id=user.id, category_id=category.id)


async def do_track_by_default(user_id: int, topic: Topic) -> None:
    """Creating or replying tracks a topic, unless the user chose a level for it (or its
    category already says more: watching, or muted)."""
    levels = await effective_levels([user_id], topic)
    if levels[user_id] != WatchLevel.NORMAL:
        return
    if await TopicWatch.exists(user_id=user_id, topic_id=topic.id):
        return
    await TopicWatch.create(user_id=user_id, topic_id=topic.id, level=WatchLevel.TRACKING,
                            explicit=False)


# Creating notifications (called from jobs)


@dataclass(frozen=True)
class Activity:
    """One new thing in a topic that may notify people."""

    project: Project
    topic: Topic
    category: Category
    post: Post | None
    actor_id: int | None


async def load_activity(post_id: int, actor_id: int | None) -> Activity | None:
    """The post's topic and surroundings; None when the post or topic is gone or deleted."""
    post = await Post.get_or_none(id=post_id)
    if post is None or post.deleted_at is not None:
        return None
    topic = await Topic.get(id=post.topic_id)  # type: ignore[attr-defined]
    if topic.deleted_at is not None:
        return None
    project = await Project.get(id=topic.project_id)  # type: ignore[attr-defined]
    category = await Category.get(id=topic.category_id)  # type: ignore[attr-defined]
    return Activity(project, topic, category, post, actor_id)


def strength(kind: NotificationKind) -> int:
    return POST_KINDS.index(kind) if kind in POST_KINDS else len(POST_KINDS)


async def notification_data(activity: Activity) -> dict[str, Any]:
    actor = None if activity.actor_id is None else await User.get_or_none(id=activity.actor_id)
    post = activity.post
    return {
        "project_slug": activity.project.slug,
        "project_name": activity.project.name,
        "topic_title": activity.topic.title,
        "topic_slug": activity.topic.slug,
        "category_name": activity.category.name,
        "post_number": post.number if post is not None else 1,
        "actor": actor.username if actor is not None else "",
    }


async def do_notify_post(activity: Activity,
                         candidates: Iterable[tuple[int, NotificationKind]]) -> list[int]:
    """Notify each candidate once about ``activity.post`` with their strongest kind.

    Returns the ids of the notifications created (to be emailed).
    """
    assert activity.post is not None
    best: dict[int, NotificationKind] = {}
    for user_id, kind in candidates:
        if user_id == activity.actor_id:
            continue
        if user_id not in best or strength(kind) < strength(best[user_id]):
            best[user_id] = kind
    if not best:
        return []
    levels = await effective_levels(best, activity.topic)
    users = {u.id: u for u in await User.filter(id__in=list(best))}
    existing = {n.user_id: n for n in await Notification.filter(  # type: ignore[attr-defined]
        post_id=activity.post.id, user_id__in=list(best), kind__in=list(POST_KINDS))}
    data = await notification_data(activity)
    created: list[int] = []
    for user_id, kind in sorted(best.items()):
        level = levels[user_id]
        user = users.get(user_id)
        if user is None or level == WatchLevel.MUTED:
            continue
        if kind in (NotificationKind.WATCHING_ACTIVITY, NotificationKind.NEW_TOPIC) and (
                level != WatchLevel.WATCHING):
            continue
        if not await may_read(user, activity.project, activity.topic, activity.category):
            continue
        previous = existing.get(user_id)
        if previous is not None:
            if previous.read_at is None and strength(kind) < strength(
                    NotificationKind(previous.kind)):
                await Notification.filter(id=previous.id).update(kind=kind,
                                                                 actor_id=activity.actor_id)
            continue
        notification = await Notification.create(
            user_id=user_id, project_id=activity.project.id, kind=kind,
            topic_id=activity.topic.id, post_id=activity.post.id,
            actor_id=activity.actor_id, data=data)
        created.append(notification.id)
    return created


async def do_notify_one(activity: Activity, user_id: int, kind: NotificationKind
                        ) -> int | None:
    """Notify ``user_id`` of an accepted answer; the id if a notification was created."""
    assert activity.post is not None
    if user_id == activity.actor_id:
        return None
    user = await User.get_or_none(id=user_id)
    if user is None:
        return None
    if (await effective_levels([user_id], activity.topic))[user_id] == WatchLevel.MUTED:
        return None
    if not await may_read(user, activity.project, activity.topic, activity.category):
        return None
    if await Notification.exists(user_id=user_id, post_id=activity.post.id, kind=kind,
                                 read_at=None):
        return None
    notification = await Notification.create(
        user_id=user_id, project_id=activity.project.id, kind=kind,
        topic_id=activity.topic.id, post_id=activity.post.id, actor_id=activity.actor_id,
        data=await notification_data(activity))
    return notification.id


async def do_notify_vote(activity: Activity, author_id: int) -> int | None:
    """One unread "voted" notification per post, counting the votes since it was read.

    Returns the id when a new notification was created (an updated one is not mailed again).
    """
    assert activity.post is not None
    if author_id == activity.actor_id:
        return None
    user = await User.get_or_none(id=author_id)
    if user is None:
        return None
    if (await effective_levels([author_id], activity.topic))[author_id] == WatchLevel.MUTED:
        return None
    if not await may_read(user, activity.project, activity.topic, activity.category):
        return None
    async with in_transaction():
        unread = await Notification.filter(
            user_id=author_id, post_id=activity.post.id, kind=NotificationKind.VOTED,
            read_at=None).select_for_update().first()
        data = await notification_data(activity)
        if unread is not None:
            data["votes"] = int(unread.data.get("votes", 1)) + 1
            await Notification.filter(id=unread.id).update(
                data=data, actor_id=activity.actor_id, created_at=utcnow())
            return None
        data["votes"] = 1
        notification = await Notification.create(
            user_id=author_id, project_id=activity.project.id, kind=NotificationKind.VOTED,
            topic_id=activity.topic.id, post_id=activity.post.id,
            actor_id=activity.actor_id, data=data)
        return notification.id


async def do_notify_badge(user_id: int, project_id: int, badge: str, badge_name: str,
                          level: str, award_id: int) -> int | None:
    """Tell ``user_id`` they earned a badge, once per award; the id when created."""
    user = await User.get_or_none(id=user_id, is_active=True)
    project = await Project.get_or_none(id=project_id)
    if user is None or project is None:
        return None
    earlier: list[Any] = list(await Notification.filter(
        user_id=user_id, project_id=project_id, kind=NotificationKind.BADGE_AWARDED
    ).values_list("data", flat=True))
    if any(isinstance(d, dict) and d.get("award_id") == award_id for d in earlier):
        return None  # the job ran again
    notification = await Notification.create(
        user_id=user_id, project_id=project_id, kind=NotificationKind.BADGE_AWARDED,
        data={"project_slug": project.slug, "project_name": project.name, "badge": badge,
              "badge_name": badge_name, "level": level, "award_id": award_id})
    return notification.id


async def do_notify_recognition(user_id: int, project_id: int, kind: NotificationKind,
                                key: str, summary: str) -> int | None:
    """Tell ``user_id`` of a recognition (``key`` names it: once per key), linking their
    recognition page; the id when created."""
    user = await User.get_or_none(id=user_id, is_active=True)
    project = await Project.get_or_none(id=project_id)
    if user is None or project is None:
        return None
    earlier: list[Any] = list(await Notification.filter(
        user_id=user_id, project_id=project_id, kind=kind).values_list("data", flat=True))
    if any(isinstance(d, dict) and d.get("key") == key for d in earlier):
        return None  # the job ran again
    notification = await Notification.create(
        user_id=user_id, project_id=project_id, kind=kind,
        data={"project_slug": project.slug, "project_name": project.name, "key": key,
              "summary": summary,
              "url": f"/p/{project.slug}/u/{user.username}/recognition"})
    return notification.id


async def do_notify_topic_event(topic_id: int, event_id: int) -> list[int]:
    """Tell the topic's watchers (not the event's actor) of a line in its timeline, once
    per event and user; the ids created (to be emailed)."""
    from forum.topics.models import TopicEvent

    event = await TopicEvent.get_or_none(id=event_id, topic_id=topic_id)
    topic = await Topic.get_or_none(id=topic_id)
    if event is None or topic is None or topic.deleted_at is not None:
        return []
    actor_id: int | None = event.actor_id  # type: ignore[attr-defined]
    candidates = await watchers(topic) - {actor_id}
    if not candidates:
        return []
    project = await Project.get(id=topic.project_id)  # type: ignore[attr-defined]
    category = await Category.get(id=topic.category_id)  # type: ignore[attr-defined]
    told = set(await ids_of(Notification.filter(
        topic_id=topic_id, kind=NotificationKind.TOPIC_EVENT, user_id__in=list(candidates),
        created_at__gte=event.created_at), "user_id"))
    data = await notification_data(Activity(project, topic, category, None, actor_id))
    data.update(event_id=event.id, text=event.text, url=event.url)
    created: list[int] = []
    for user in await User.filter(id__in=sorted(candidates - told), is_active=True):
        if not await may_read(user, project, topic, category):
            continue
        notification = await Notification.create(
            user_id=user.id, project_id=project.id, kind=NotificationKind.TOPIC_EVENT,
            topic_id=topic.id, actor_id=actor_id, data=data)
        created.append(notification.id)
    return created


async def do_notify_ticket_submitted(user_id: int, project_id: int, topic_id: int
                                     ) -> int | None:
    """Tell a requester their ticket is in the queue, once per ticket topic."""
    topic = await Topic.get_or_none(id=topic_id, project_id=project_id)
    project = await Project.get_or_none(id=project_id)
    if topic is None or project is None or not await User.exists(id=user_id, is_active=True):
        return None
    if await Notification.exists(user_id=user_id, topic_id=topic_id,
                                 kind=NotificationKind.TICKET_SUBMITTED):
        return None
    notification = await Notification.create(
        user_id=user_id, project_id=project_id, kind=NotificationKind.TICKET_SUBMITTED,
        topic_id=topic_id, data={"project_slug": project.slug, "topic_title": topic.title,
                                 "topic_slug": topic.slug, "post_number": 1})
    return notification.id


async def do_forget_unreadable(topic_id: int) -> int:
    """Delete the topic's notifications whose user may not read it now; how many went."""
    topic = await Topic.get_or_none(id=topic_id)
    if topic is None:
        return 0
    project = await Project.get(id=topic.project_id)  # type: ignore[attr-defined]
    category = await Category.get(id=topic.category_id)  # type: ignore[attr-defined]
    user_ids = set(await ids_of(Notification.filter(topic_id=topic_id), "user_id"))
    gone = [u.id for u in await User.filter(id__in=list(user_ids))
            if not await may_read(u, project, topic, category)]
    if not gone:
        return 0
    return await Notification.filter(topic_id=topic_id, user_id__in=gone).delete()


# Reading, marking and describing


async def list_notifications(user: User, *, unread_only: bool = False,
                             before: int | None = None, limit: int = PAGE_SIZE
                             ) -> list[Notification]:
    """Newest first, keyset-paginated by id (``before``: the last id of the previous page)."""
    query = Notification.filter(user_id=user.id)
    if unread_only:
        query = query.filter(read_at=None)
    if before is not None:
        query = query.filter(id__lt=before)
    return await query.order_by("-id").limit(limit)


async def unread_count(user: User) -> int:
    return await Notification.filter(user_id=user.id, read_at=None).count()


async def access_notification(user: User, notification_id: int) -> Notification:
    """The user's own notification; someone else's is reported as not found."""
    notification = await Notification.get_or_none(id=notification_id, user_id=user.id)
    if notification is None:
        raise NotFound("No such notification.")
    return notification


async def check_mark_read(user: User, ids: list[int]) -> int:
    """Mark the user's notifications ``ids`` read: all of them must be theirs (else 404,
    nothing changed). Returns how many were unread."""
    wanted = set(ids)
    own = set(await ids_of(Notification.filter(id__in=list(wanted), user_id=user.id), "id"))
    if own != wanted:
        raise NotFound("No such notification.")
    return await do_mark_read(user, list(own))


async def do_mark_read(user: User, ids: list[int] | None = None) -> int:
    """Mark ``ids`` (None: all) of the user's notifications read."""
    query = Notification.filter(user_id=user.id, read_at=None)
    if ids is not None:
        query = query.filter(id__in=ids)
    return await query.update(read_at=utcnow())


def post_url(notification: Notification) -> str:
    data = notification.data
    if notification.kind == NotificationKind.BADGE_AWARDED:
        return f"/p/{data.get('project_slug', '')}/badges/{data.get('badge', '')}"
    if notification.kind in (NotificationKind.HELP_EARNED, NotificationKind.THANKED):
        return str(data.get("url", ""))
    topic_id = notification.topic_id  # type: ignore[attr-defined]
    return (f"/p/{data.get('project_slug', '')}/t/{topic_id}-{data.get('topic_slug', '')}"
            f"#post-{data.get('post_number', 1)}")


def describe(notification: Notification) -> str:
    """One line saying what happened, for the list and the mail's subject."""
    data = notification.data
    actor = data.get("actor") or "Someone"
    title = f"“{data.get('topic_title', '')}”"
    kind = NotificationKind(notification.kind)
    if kind == NotificationKind.BADGE_AWARDED:
        return f"You earned the {data.get('badge_name') or data.get('badge', '')} badge"
    if kind in (NotificationKind.HELP_EARNED, NotificationKind.THANKED):
        return str(data.get("summary", ""))
    if kind == NotificationKind.TICKET_SUBMITTED:
        return f"Your ticket {title} is in the support queue"
    if kind == NotificationKind.TOPIC_EVENT:
        return f"{data.get('text', '')} in {title}"
    if kind == NotificationKind.VOTED:
        votes = int(data.get("votes", 1))
        if votes > 1:
            return f"{votes} people voted on your post in {title}"
        return f"{actor} voted on your post in {title}"
    verbs = {
        NotificationKind.MENTIONED: f"{actor} mentioned you in {title}",
        NotificationKind.REPLIED: f"{actor} replied to you in {title}",
        NotificationKind.QUOTED: f"{actor} quoted you in {title}",
        NotificationKind.ANSWER_ACCEPTED: f"{actor} accepted your answer in {title}",
        NotificationKind.WATCHING_ACTIVITY: f"{actor} posted in {title}",
        NotificationKind.NEW_TOPIC:
            f"{actor} started {title} in {data.get('category_name', '')}",
    }
    return verbs[kind]


# Preferences


async def preferences(user: User) -> NotificationPreference:
    """The user's preferences (the defaults, unsaved, when they never changed them)."""
    found = await NotificationPreference.get_or_none(user_id=user.id)
    return found if found is not None else NotificationPreference(user_id=user.id)


UNSUBSCRIBE_SALT = "forum.notifications.unsubscribe"


def unsubscribe_token(settings: Settings, user_id: int) -> str:
    """A link token that stops one user's notification emails; it does not expire, as
    the emails carrying it do not."""
    return str(URLSafeSerializer(settings.secret(), salt=UNSUBSCRIBE_SALT).dumps({"u": user_id}))


async def access_unsubscribe(settings: Settings, token: str) -> User:
    try:
        payload = URLSafeSerializer(settings.secret(), salt=UNSUBSCRIBE_SALT).loads(token)
    except BadSignature:
        payload = None
    user = None
    if isinstance(payload, dict) and isinstance(payload.get("u"), int):
        user = await User.get_or_none(id=payload["u"])
    if user is None:
        raise UserError(400, "This unsubscribe link is not valid. Check that you copied all "
                        "of it, or change your email preferences after logging in.",
                        code="link_invalid")
    return user


async def do_save_preferences(user: User, values: dict[str, Any]) -> NotificationPreference:
    pref, _ = await NotificationPreference.get_or_create(user_id=user.id)
    for name, value in values.items():
        setattr(pref, name, value)
    await pref.save()
    return pref
