"""Loading topics and posts for a viewer: the ``access_*`` verbs.

A topic or post the viewer may not read is reported as not found, exactly like one that
does not exist, so private reports and deleted posts do not leak.
"""

from __future__ import annotations

from dataclasses import dataclass

from forum.accounts.models import User
from forum.projects.models import Project
from forum.projects.permissions import can_see, role_in
from forum.topics.models import Category, Post, Topic
from forum.topics.permissions import Viewer, can_read_topic, can_see_post
from forum.topics.schemas import MAX_ID
from forum.web.errors import NotFound, Unauthenticated


async def load_viewer(user: User | None, project: Project) -> Viewer:
    """The user as seen from ``project``: their role there and whether they are an admin."""
    role = await role_in(project.id, user)
    return Viewer(user, role, bool(user is not None and user.is_platform_admin))


def require_user(viewer: Viewer) -> User:
    """The acting user; 401 for an anonymous or disabled one."""
    if viewer.user is None or not viewer.user.is_active:
        raise Unauthenticated()
    return viewer.user


async def access_topic(viewer: Viewer, project: Project, topic_id: int
                       ) -> tuple[Topic, Category]:
    """The topic ``topic_id`` of ``project`` and its category; NotFound when it is in
    another project, or the viewer may not read it."""
    topic = (await Topic.get_or_none(id=topic_id, project_id=project.id)
             .select_related("category") if 0 < topic_id <= MAX_ID else None)
    if topic is None:
        raise NotFound("No such topic.")
    category = topic.category
    if not can_read_topic(viewer, topic, category):
        raise NotFound("No such topic.")
    return topic, category


@dataclass(frozen=True)
class TopicContext:
    """A topic found by id alone (API paths without the project), with what acting on it
    needs."""

    project: Project
    viewer: Viewer
    topic: Topic
    category: Category


@dataclass(frozen=True)
class PostContext:
    project: Project
    viewer: Viewer
    topic: Topic
    category: Category
    post: Post


async def _visible_project(user: User | None, project_id: int) -> tuple[Project, Viewer]:
    project = await Project.get(id=project_id)
    viewer = await load_viewer(user, project)
    if not can_see(project, viewer.role, user):
        raise NotFound("No such topic.")
    return project, viewer


async def locate_topic(user: User | None, topic_id: int) -> TopicContext:
    """The topic ``topic_id`` in whatever project holds it, if ``user`` may read it."""
    topic = await Topic.get_or_none(id=topic_id) if 0 < topic_id <= MAX_ID else None
    if topic is None:
        raise NotFound("No such topic.")
    project, viewer = await _visible_project(user, topic.project_id)  # type: ignore[attr-defined]
    topic, category = await access_topic(viewer, project, topic_id)
    return TopicContext(project, viewer, topic, category)


async def locate_post(user: User | None, post_id: int, *, deleted_ok: bool = False
                      ) -> PostContext:
    """The post ``post_id`` and its topic, if ``user`` may read them. A deleted post is
    found for moderators, and for anyone when ``deleted_ok`` (the verb then refuses)."""
    post = await Post.get_or_none(id=post_id) if 0 < post_id <= MAX_ID else None
    if post is None:
        raise NotFound("No such post.")
    topic = await Topic.get(id=post.topic_id)  # type: ignore[attr-defined]
    project, viewer = await _visible_project(user, topic.project_id)  # type: ignore[attr-defined]
    topic, category = await access_topic(viewer, project, topic.id)
    if post.deleted_at is not None and not (viewer.is_moderator or deleted_ok):
        raise NotFound("No such post.")
    if post.hidden_at is not None and not can_see_post(viewer, post):
        raise NotFound("No such post.")
    return PostContext(project, viewer, topic, category, post)
