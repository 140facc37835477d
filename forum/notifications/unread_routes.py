"""The "Unread" list of a project: topics you track or watch with posts you have not read
(a page and its JSON twin). Visitors are sent to log in (page) or get a 401 (API)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.accounts.permissions import current_user, require_user
from forum.notifications.routes import TAG, login_redirect
from forum.notifications.schemas import UnreadTopicList, UnreadTopicOut
from forum.notifications.unread import unread_topics
from forum.projects.permissions import Action, access_project
from forum.topics.permissions import Viewer, read_scope
from forum.topics.queries import TopicList
from forum.topics.routes import absolute, here, page_url, topic_url
from forum.web.api import api_route
from forum.web.templating import render


async def unread_page(request: Request) -> Response:
    if current_user(request) is None:
        return login_redirect(request)
    h = await here(request)
    assert h.viewer.user is not None
    found = await unread_topics(h.viewer.user.id, h.scope, request.query_params.get("before"))
    return await render(request, "topics/list.html", {
        "current_project": h.project, "viewer": h.viewer, "topic_url": topic_url,
        "canonical": absolute(request, request.url.path), "title": "Unread",
        "list_name": "unread", "listing": TopicList(found.topics, found.next_cursor),
        "period": "all", "periods": [], "heading_extra": None, "unread": found.unread,
        "next_url": page_url(request, found.next_cursor)},
        headers={"Cache-Control": "no-store"})


@api_route("GET", "/api/v1/projects/{slug}/unread", response=UnreadTopicList,
           errors=(404, 422), tag=TAG)
async def api_unread(request: Request) -> UnreadTopicList:
    """Topics you track or watch in the project with posts you have not read (?cursor=)."""
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"], Action.VIEW)
    scope = await read_scope(Viewer.of(access, user), access.project.id)
    found = await unread_topics(user.id, scope, request.query_params.get("cursor") or None)
    slug = access.project.slug
    topics = []
    for topic in found.topics:
        url = topic_url(slug, topic)
        posts = found.unread[topic.id]
        topics.append(UnreadTopicOut(
            id=topic.id, title=topic.title, url=url, category=topic.category.slug,
            unread=posts.count, first_unread_number=posts.first_number,
            first_unread_url=f"{url}#post-{posts.first_number}",
            last_posted_at=topic.last_posted_at))
    return UnreadTopicList(topics=topics, next_cursor=found.next_cursor)


def routes() -> list[BaseRoute]:
    return [Route("/p/{slug}/unread", unread_page, name="topics_unread"), api_unread]
