"""Jobs that turn events into notifications, and the job that emails them.

Event hooks (``forum.notifications.plugin``) only queue these; recipients are computed here,
after the change committed, so a request never waits for them.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from forum.accounts.models import User
from forum.hookspecs import JobDefinition
from forum.jobs import JobContext
from forum.mail.outgoing import mail_domain
from forum.mail.reply_tokens import reply_address
from forum.notifications import service
from forum.notifications.models import (
    Notification,
    NotificationKind,
    NotificationPreference,
)
from forum.topics.models import Post

if TYPE_CHECKING:
    from forum.platform import Platform

EMAIL_JOB = "notifications.email"


async def _email_later(ctx: JobContext, ids: list[int]) -> None:
    if ids:
        await ctx.platform.enqueue(EMAIL_JOB, notification_ids=ids)


async def topic_created(ctx: JobContext, *, post_id: int, author_id: int,
                        mentioned_user_ids: list[int] | None = None,
                        quoted_post_ids: list[int] | None = None) -> None:
    """Mentioned and quoted people, and those watching the category; the author tracks."""
    activity = await service.load_activity(post_id, author_id)
    if activity is None:
        return
    await service.do_track_by_default(author_id, activity.topic)
    candidates = [(uid, NotificationKind.MENTIONED) for uid in mentioned_user_ids or ()]
    candidates += await quoted_authors(quoted_post_ids)
    candidates += [(uid, NotificationKind.NEW_TOPIC)
                   for uid in await service.watchers(activity.topic, of_category_only=True)]
    await _email_later(ctx, await service.do_notify_post(activity, candidates))


async def quoted_authors(post_ids: list[int] | None) -> list[tuple[int, NotificationKind]]:
    if not post_ids:
        return []
    authors = await service.ids_of(Post.filter(id__in=list(post_ids)), "author_id")
    return [(uid, NotificationKind.QUOTED) for uid in authors]


async def post_created(ctx: JobContext, *, post_id: int, author_id: int,
                       reply_to_post_id: int | None = None,
                       mentioned_user_ids: list[int] | None = None,
                       quoted_post_ids: list[int] | None = None) -> None:
    """Mentioned, replied-to and quoted people, and the topic's watchers; the author tracks."""
    activity = await service.load_activity(post_id, author_id)
    if activity is None:
        return
    assert activity.post is not None
    candidates = [(uid, NotificationKind.MENTIONED) for uid in mentioned_user_ids or ()]
    if reply_to_post_id is not None:
        target = await Post.get_or_none(id=reply_to_post_id)
        if target is not None:
            candidates.append((target.author_id,  # type: ignore[attr-defined]
                               NotificationKind.REPLIED))
    elif activity.post.number > 1:
        # An answer or reply to the topic itself answers its author.
        candidates.append((activity.topic.author_id,  # type: ignore[attr-defined]
                           NotificationKind.REPLIED))
    candidates += await quoted_authors(quoted_post_ids)
    candidates += [(uid, NotificationKind.WATCHING_ACTIVITY)
                   for uid in await service.watchers(activity.topic)]
    created = await service.do_notify_post(activity, candidates)
    await service.do_track_by_default(author_id, activity.topic)
    await _email_later(ctx, created)


async def post_edited(ctx: JobContext, *, post_id: int, editor_id: int,
                      newly_mentioned_user_ids: list[int]) -> None:
    """People newly mentioned by an edit (once: a post notifies a user at most once)."""
    activity = await service.load_activity(post_id, editor_id)
    if activity is None:
        return
    candidates = [(uid, NotificationKind.MENTIONED) for uid in newly_mentioned_user_ids]
    await _email_later(ctx, await service.do_notify_post(activity, candidates))


async def vote_cast(ctx: JobContext, *, post_id: int, post_author_id: int,
                    voter_id: int) -> None:
    """A vote for a post: counted into the author's one unread "voted" notification."""
    activity = await service.load_activity(post_id, voter_id)
    if activity is None:
        return
    created = await service.do_notify_vote(activity, post_author_id)
    await _email_later(ctx, [created] if created is not None else [])


async def answer_accepted(ctx: JobContext, *, post_id: int, answer_author_id: int,
                          accepter_id: int) -> None:
    activity = await service.load_activity(post_id, accepter_id)
    if activity is None:
        return
    created = await service.do_notify_one(activity, answer_author_id,
                                          NotificationKind.ANSWER_ACCEPTED)
    await _email_later(ctx, [created] if created is not None else [])


async def badge_awarded(ctx: JobContext, *, user_id: int, project_id: int, badge: str,
                        badge_name: str, level: str, award_id: int) -> None:
    created = await service.do_notify_badge(user_id, project_id, badge, badge_name, level,
                                            award_id)
    await _email_later(ctx, [created] if created is not None else [])


async def recognition(ctx: JobContext, *, user_id: int, project_id: int, kind: str,
                      key: str, summary: str) -> None:
    created = await service.do_notify_recognition(user_id, project_id, NotificationKind(kind),
                                                  key, summary)
    await _email_later(ctx, [created] if created is not None else [])


async def post_deleted(ctx: JobContext, *, post_id: int) -> None:
    """A deleted post's unread notifications go: the bell should not point at nothing."""
    await Notification.filter(post_id=post_id, read_at=None).delete()


async def topic_changed(ctx: JobContext, *, topic_id: int) -> None:
    """After a move, a privacy change or a deletion, drop the notifications about the topic
    held by people who may no longer read it (they would show its title)."""
    await service.do_forget_unreadable(topic_id)


async def topic_event(ctx: JobContext, *, topic_id: int) -> None:
    """A line in a topic's timeline (forum/topics/timeline.py): its watchers hear of it."""
    from forum.topics.models import TopicEvent

    latest = await TopicEvent.filter(topic_id=topic_id).order_by("-id").first()
    if latest is not None:
        await _email_later(ctx, await service.do_notify_topic_event(topic_id, latest.id))


async def email(ctx: JobContext, *, notification_ids: list[int]) -> None:
    """Mail each notification its user wants by email and has not read yet, once."""
    platform = ctx.platform
    settings = platform.settings
    notifications = await Notification.filter(id__in=notification_ids, emailed_at=None,
                                              read_at=None)
    for notification in notifications:
        user = await User.get_or_none(id=notification.user_id,  # type: ignore[attr-defined]
                                      is_active=True)
        if user is None or not user.is_verified:
            continue
        pref = await NotificationPreference.get_or_none(user_id=user.id)
        if pref is None:
            pref = NotificationPreference(user_id=user.id)
        if not pref.wants_email(notification.kind):
            continue
        topic_id = notification.topic_id  # type: ignore[attr-defined]
        if topic_id is not None and not await email_allowed(platform, user.id, topic_id,
                                                            str(notification.kind)):
            continue
        post_id = notification.post_id  # type: ignore[attr-defined]
        post = None if post_id is None else await Post.get_or_none(id=post_id)
        excerpt = "" if post is None else post.source[:500]
        summary = service.describe(notification)
        project = notification.data.get("project_name", "")
        unsubscribe_url = (settings.public_url + "/notifications/unsubscribe?"
                           + urlencode({"token": service.unsubscribe_token(settings, user.id)}))
        context: dict[str, Any] = {
            "username": user.username,
            "summary": summary,
            "excerpt": excerpt,
            "post_url": settings.public_url + service.post_url(notification),
            "preferences_url": settings.public_url + "/notifications/preferences",
            "unsubscribe_url": unsubscribe_url,
        }
        headers = {"List-Unsubscribe": f"<{unsubscribe_url}>"}
        context["reply_by_email"] = False
        topic_id = notification.topic_id  # type: ignore[attr-defined]
        if topic_id is not None:
            thread = f"<topic-{topic_id}@{mail_domain(settings)}>"
            headers["References"] = headers["In-Reply-To"] = thread
            # Answering the email posts a reply as this user (forum/mail/inbound.py).
            reply_to = await reply_address(settings, kind="topic", target_id=topic_id,
                                           user_id=user.id)
            if reply_to is not None:
                headers["Reply-To"] = reply_to
                context["reply_by_email"] = True
        await platform.send_mail(user.email, "notification", context,
                                 subject=f"[{project}] {summary}", headers=headers)
        await Notification.filter(id=notification.id).update(emailed_at=service.utcnow())


async def email_allowed(platform: Platform, user_id: int, topic_id: int, kind: str) -> bool:
    """Whether no domain keeps this notification out of the user's mail (hook
    ``forum_email_allowed``; e.g. a supporter's level on a ticket)."""
    allowed = True
    for result in platform.plugins.pm.hook.forum_email_allowed(
            user_id=user_id, topic_id=topic_id, kind=kind, platform=platform):
        # Await every answer (an unawaited coroutine would warn), keep the first False.
        answer = await result if inspect.isawaitable(result) else result
        allowed = allowed and answer is not False
    return allowed


def definitions() -> list[JobDefinition]:
    return [
        JobDefinition("notifications.topic_created", topic_created),
        JobDefinition("notifications.post_created", post_created),
        JobDefinition("notifications.post_edited", post_edited),
        JobDefinition("notifications.vote_cast", vote_cast),
        JobDefinition("notifications.answer_accepted", answer_accepted),
        JobDefinition("notifications.badge_awarded", badge_awarded),
        JobDefinition("notifications.recognition", recognition),
        JobDefinition("notifications.post_deleted", post_deleted),
        JobDefinition("notifications.topic_changed", topic_changed),
        JobDefinition("notifications.topic_event", topic_event),
        JobDefinition(EMAIL_JOB, email),
    ]
