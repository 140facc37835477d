"""Starting a topic: ``check_create_topic`` validates, ``do_create_topic`` writes and emits.

The kind defaults to the category's; announcements come from the team; a category with
private topics (Security) makes every topic a private security report. The gates are
asked (``Act.CREATE_TOPIC``) and the text screened: a held topic is stored hidden (it and
its opening post), announced by ``PostHidden`` instead of ``TopicCreated`` until approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from forum import events
from forum.gates import Act
from forum.projects.models import Project
from forum.topics.access import require_user
from forum.topics.categories import ensure_default_categories
from forum.topics.gating import require_allowed, screen_text
from forum.topics.models import Category, Post, PostRevision, Topic, TopicKind
from forum.topics.permissions import Viewer, can_post_in_category, can_post_kind
from forum.topics.schemas import TopicIn
from forum.topics.tags import adjust_counts, check_tags, get_or_create_tags
from forum.topics.writing import CookedPost, cook_post, slugify
from forum.web.errors import Forbidden, Invalid

if TYPE_CHECKING:
    from forum.platform import Platform


@dataclass(frozen=True)
class TopicDraft:
    """A new topic that passed every check, ready to be written."""

    category: Category
    kind: TopicKind
    is_private: bool
    title: str
    source: str
    tags: list[str]
    cooked: CookedPost
    hold_reason: str | None = None  # store it hidden, waiting for review


async def check_create_topic(platform: Platform, viewer: Viewer, project: Project,
                             data: TopicIn, *, ip: str | None = None) -> TopicDraft:
    """Validate a new topic: 401 anonymous, 422 unknown category or kind refused, 403
    posting there not allowed or refused by a gate, 422 the text blocked by a screener."""
    require_user(viewer)
    await ensure_default_categories(project)
    category = await Category.get_or_none(id=data.category_id, project_id=project.id)
    if category is None:
        raise Invalid("No such category.", fields={"category_id": "unknown category"})
    if not can_post_in_category(viewer, category):
        raise Forbidden(f'You may not start topics in "{category.name}".')
    kind = TopicKind(data.kind or category.default_kind)
    is_private = category.private_topics or kind == TopicKind.SECURITY_REPORT
    if category.private_topics:
        kind = TopicKind.SECURITY_REPORT
    if not can_post_kind(viewer, kind):
        raise Forbidden("Only the project team posts announcements.")
    await require_allowed(platform, viewer, project.id, Act.CREATE_TOPIC)
    tags = await check_tags(platform, viewer, project.id, data.tags)
    screened = await screen_text(platform, viewer, project.id, data.source, title=data.title,
                                 ip=ip)
    cooked = await cook_post(project, viewer, screened.source, None)
    return TopicDraft(category, kind, is_private, data.title, screened.source, tags, cooked,
                      screened.hold_reason)


async def do_create_topic(platform: Platform, viewer: Viewer, project: Project,
                          draft: TopicDraft) -> Topic:
    """Write the topic, its opening post and first revision, tags and counts; emit
    ``TopicCreated`` (carrying the opening post's mentions and quotes), or ``PostHidden``
    when the screeners held it."""
    author = require_user(viewer)
    now = datetime.now(UTC)
    held = draft.hold_reason is not None
    async with in_transaction():
        topic = await Topic.create(
            project_id=project.id, category_id=draft.category.id, author_id=author.id,
            kind=draft.kind, title=draft.title, slug=slugify(draft.title),
            is_private=draft.is_private, last_posted_at=now, last_poster_id=author.id,
            hidden_at=now if held else None)
        post = await Post.create(topic_id=topic.id, author_id=author.id, number=1,
                                 source=draft.source, cooked=draft.cooked.html,
                                 hidden_at=now if held else None,
                                 hidden_reason=draft.hold_reason or "", held=held)
        await PostRevision.create(post_id=post.id, number=1, source=draft.source,
                                  title=draft.title, editor_id=author.id)
        if draft.tags:
            tags = await get_or_create_tags(project.id, draft.tags)
            await topic.tags.add(*tags)
            await adjust_counts([t.id for t in tags], 1)
        await Category.filter(id=draft.category.id).update(topic_count=F("topic_count") + 1)
    if draft.hold_reason is not None:
        await platform.emit(events.PostHidden(
            project=project.id, topic_id=topic.id, post_id=post.id, author_id=author.id,
            reason=draft.hold_reason, actor_id=None))
        return topic
    await platform.emit(events.TopicCreated(
        project=project.id, topic_id=topic.id, post_id=post.id, author_id=author.id,
        category_id=draft.category.id, kind=draft.kind.value,
        mentioned_user_ids=draft.cooked.mentioned_user_ids,
        quoted_post_ids=draft.cooked.quoted_post_ids))
    return topic


async def create_topic(platform: Platform, viewer: Viewer, project: Project,
                       data: TopicIn, *, ip: str | None = None) -> Topic:
    """Check, then start the topic (``ip``: the client's address, for the screeners)."""
    draft = await check_create_topic(platform, viewer, project, data, ip=ip)
    return await do_create_topic(platform, viewer, project, draft)
