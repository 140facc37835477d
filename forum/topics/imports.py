"""Bringing content in from elsewhere (a GitHub issue, a Stack Overflow question, a
mention on Mastodon) as topics and posts.

Imported text was written somewhere else by someone who never used the forum, so it is
not a user's act: the gates (reputation limits, terms, penalties, spam screening) are not
asked. Everything else is the same as for a post written here: the text is cooked and
sanitised, the events are emitted, so search, notifications and the support queue see it.
The author is usually a staged user (``forum.accounts.service.stage_user``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from forum.gates import unguarded
from forum.text.limits import MAX_SOURCE_CHARS
from forum.topics.categories import ensure_default_categories
from forum.topics.create import check_create_topic, do_create_topic
from forum.topics.models import Category, Post, Tag, Topic, TopicKind
from forum.topics.reply import check_reply, do_reply
from forum.topics.schemas import MAX_TAGS, TAG_RE, ReplyIn, TopicIn
from forum.web.errors import Invalid

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.platform import Platform
    from forum.projects.models import Project
    from forum.topics.permissions import Viewer

MAX_TITLE = 200
# Longer text is cut, with a note, rather than refused (below what cooking accepts).
MAX_SOURCE = MAX_SOURCE_CHARS - 1_000


def fit_title(title: str) -> str:
    title = " ".join(title.split())
    return (title[:MAX_TITLE - 1] + "…") if len(title) > MAX_TITLE else (title or "(untitled)")


def fit_source(source: str) -> str:
    if len(source) <= MAX_SOURCE:
        return source if source.strip() else "*(no text)*"
    return source[:MAX_SOURCE] + "\n\n*(cut here: the original is longer)*"


async def _viewer(author: User, project: Project) -> Viewer:
    from forum.topics.access import load_viewer

    return await load_viewer(author, project)


async def import_category_id(project: Project, kind: TopicKind | str) -> int:
    """The category an imported topic of ``kind`` goes to: the first whose default kind it
    is, else the first public category."""
    categories = await ensure_default_categories(project)
    for category in categories:
        if category.default_kind == TopicKind(kind) and not category.private_topics:
            return category.id
    public = [c for c in categories if not c.private_topics]
    if not public:
        raise Invalid("The project has no public category to import into.")
    return public[0].id


async def existing_tags(project_id: int, names: list[str]) -> list[str]:
    """Of ``names`` (tags from elsewhere), those the project already has, in order."""
    wanted = list(dict.fromkeys(n.strip().lower() for n in names if TAG_RE.match(
        n.strip().lower())))
    if not wanted:
        return []
    have = {str(n) for n in await Tag.filter(project_id=project_id, name__in=wanted)
            .values_list("name", flat=True)}
    return [n for n in wanted if n in have][:MAX_TAGS]


async def import_topic(platform: Platform, project: Project, author: User, title: str,
                       source: str, *, kind: TopicKind | str, category_id: int | None = None,
                       is_private: bool = False, created_at: datetime | None = None,
                       plugin_key: str | None = None,
                       plugin_data: dict[str, Any] | None = None,
                       tags: list[str] | None = None) -> Topic:
    """Start a topic as ``author`` from imported text, without asking the gates.
    ``plugin_data`` is kept under ``plugin_key`` on the topic (where it came from).
    ``tags`` (from elsewhere) are kept where the project has a tag of that name; an
    import never creates tags."""
    if category_id is None:
        category_id = await import_category_id(project, kind)
    viewer = await _viewer(author, project)
    data = TopicIn(title=fit_title(title), source=fit_source(source), category_id=category_id,
                   kind=TopicKind(kind), tags=await existing_tags(project.id, tags or []))
    with unguarded():
        draft = await check_create_topic(platform, viewer, project, data)
        draft = replace(draft, is_private=draft.is_private or is_private)
        topic = await do_create_topic(platform, viewer, project, draft)
    changes: dict[str, Any] = {}
    if plugin_key is not None:
        changes["plugin_data"] = {**topic.plugin_data, plugin_key: plugin_data or {}}
    if created_at is not None:
        changes["created_at"] = created_at
    if changes:
        await Topic.filter(id=topic.id).update(**changes)
        await topic.refresh_from_db()
    return topic


async def import_reply(platform: Platform, topic: Topic, author: User, source: str, *,
                       created_at: datetime | None = None) -> Post:
    """Add an imported post to ``topic`` as ``author``, without asking the gates."""
    from forum.projects.models import Project

    project = await Project.get(id=topic.project_id)  # type: ignore[attr-defined]
    viewer = await _viewer(author, project)
    data = ReplyIn(source=fit_source(source))
    with unguarded():
        draft = await check_reply(platform, viewer, topic, data)
        post = await do_reply(platform, viewer, topic, data, draft)
    if created_at is not None:
        await Post.filter(id=post.id).update(created_at=created_at)
        post.created_at = created_at
    return post


async def import_edit(platform: Platform, post: Post, source: str) -> Post:
    """Replace an imported post's text because the original was edited where it came
    from: a new revision by its author, without asking the gates or the edit window."""
    from forum.accounts.models import User
    from forum.projects.models import Project
    from forum.topics.edit import EditDraft, do_edit_post
    from forum.topics.schemas import PostEditIn
    from forum.topics.writing import cook_post

    topic = await Topic.get(id=post.topic_id)  # type: ignore[attr-defined]
    project = await Project.get(id=topic.project_id)  # type: ignore[attr-defined]
    author = await User.get(id=post.author_id)  # type: ignore[attr-defined]
    viewer = await _viewer(author, project)
    source = fit_source(source)
    cooked = await cook_post(project, viewer, source, topic.id)
    return await do_edit_post(platform, viewer, post, PostEditIn(source=source),
                              EditDraft(source, cooked))


async def set_topic_plugin_data(topic_id: int, plugin_key: str, value: dict[str, Any]) -> None:
    """Replace what ``plugin_key`` keeps on a topic (its answer count from Stack Overflow,
    its linked issue)."""
    topic = await Topic.get(id=topic_id).only("id", "plugin_data")
    await Topic.filter(id=topic_id).update(plugin_data={**topic.plugin_data, plugin_key: value})


__all__ = ["Category", "fit_source", "fit_title", "import_category_id", "import_edit",
           "import_reply", "import_topic", "set_topic_plugin_data"]
