"""The forum's forms: the composer, replies, votes, accepting, bookmarks and post editing.

Each handler parses the form, calls one write verb of ``forum.topics.service`` and
redirects (303) to the canonical topic URL at the post; a refused text form is shown again
with the field errors and the refusal's status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.accounts.permissions import current_user
from forum.platform import Platform
from forum.topics import queries, service
from forum.topics.models import Category, Post, Topic, TopicKind
from forum.topics.routes import Here, here, render_topic, topic_url
from forum.topics.schemas import PostEditIn, ReplyIn, TopicIn
from forum.web.errors import UserError, invalid_from_pydantic
from forum.web.templating import flash, render

M = TypeVar("M", bound=BaseModel)
# The form's field names where they differ from the schema's.
FORM_FIELD = {"category_id": "category"}


def platform_of(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def parse(model: type[M], data: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = invalid_from_pydantic(exc)
        error.fields = {FORM_FIELD.get(k.split(".")[0], k.split(".")[0]): v
                        for k, v in error.fields.items()}
        raise error from None


def see_post(project_slug: str, topic: Topic, post: Post | None = None) -> RedirectResponse:
    anchor = f"#post-{post.number}" if post is not None else ""
    return RedirectResponse(topic_url(project_slug, topic) + anchor, status_code=303)


def login_redirect(path: str) -> RedirectResponse:
    from urllib.parse import urlencode

    return RedirectResponse(f"/login?{urlencode({'next': path})}", status_code=303)


# The composer


async def composer(request: Request) -> Response:
    h = await here(request)
    if h.viewer.user is None:
        return login_redirect(request.url.path)
    values = {"title": "", "source": "", "tags": "", "kind": "",
              "category": request.query_params.get("category", "")}
    errors: dict[str, str] = {}
    message = ""
    status = 200
    if request.method == "POST":
        values = {**values, **await form_data(request)}
        try:
            data = parse(TopicIn, await topic_input(h, values))
            topic = await service.create_topic(platform_of(request), h.viewer, h.project, data)
        except UserError as exc:
            errors, message, status = dict(exc.fields), exc.message, exc.status
            errors = {FORM_FIELD.get(k, k): v for k, v in errors.items()}
        else:
            return see_post(h.project.slug, topic)
    categories = await queries.postable_categories(h.viewer, h.scope)
    return await render(request, "topics/composer.html", {
        "current_project": h.project, "values": values, "errors": errors, "message": message,
        "categories": categories, "kinds": [k.value for k in TopicKind],
    }, status_code=status)


async def topic_input(h: Here, values: dict[str, str]) -> dict[str, Any]:
    """The form's fields as ``TopicIn`` takes them: the category by slug, tags split."""
    category = await Category.get_or_none(project_id=h.project.id, slug=values["category"])
    return {
        "title": values["title"], "source": values["source"],
        "category_id": category.id if category is not None else 0,
        "kind": values["kind"] or None,
        "tags": [t for t in values["tags"].replace(" ", ",").split(",") if t.strip()],
    }


# Replies, votes, accepting and bookmarks


async def reply(request: Request) -> Response:
    h = await here(request)
    topic, category = await service.access_topic(h.viewer, h.project,
                                                 request.path_params["id"])
    if h.viewer.user is None:
        return login_redirect(topic_url(h.project.slug, topic))
    form = await form_data(request)
    reply_to = form.get("reply_to", "")
    try:
        data = parse(ReplyIn, {"source": form.get("source", ""),
                               "reply_to": int(reply_to) if reply_to.isdigit() else None})
        post = await service.reply(platform_of(request), h.viewer, topic, data)
    except UserError as exc:
        return await render_topic(
            request, h, topic, category, draft=form.get("source", ""),
            reply_to=int(reply_to) if reply_to.isdigit() else None, errors=exc.fields,
            message=exc.message, status_code=exc.status)
    return see_post(h.project.slug, topic, post)


async def vote(request: Request) -> Response:
    found = await service.locate_post(current_user(request), request.path_params["id"])
    if found.viewer.user is None:
        return login_redirect(topic_url(found.project.slug, found.topic))
    raw = (await form_data(request)).get("value", "")
    try:
        value = int(raw)
    except ValueError:
        value = 2  # refused by the verb with its own message
    try:
        await service.vote(platform_of(request), found.viewer, found.post, value)
    except UserError as exc:
        flash(request, exc.message, "error")
    return see_post(found.project.slug, found.topic, found.post)


async def accept(request: Request) -> Response:
    h = await here(request)
    topic, _ = await service.access_topic(h.viewer, h.project, request.path_params["id"])
    if h.viewer.user is None:
        return login_redirect(topic_url(h.project.slug, topic))
    raw = (await form_data(request)).get("post_id", "").strip()
    post_id = int(raw) if raw.isdigit() and len(raw) < 10 else None
    if raw and post_id is None:
        flash(request, "No such answer.", "error")
        return see_post(h.project.slug, topic)
    try:
        topic = await service.accept(platform_of(request), h.viewer, topic, post_id)
    except UserError as exc:
        flash(request, exc.message, "error")
        return see_post(h.project.slug, topic)
    flash(request, "Answer accepted." if post_id else "Acceptance withdrawn.", "success")
    post = await Post.get_or_none(id=post_id) if post_id else None
    return see_post(h.project.slug, topic, post)


async def bookmark(request: Request) -> Response:
    found = await service.locate_post(current_user(request), request.path_params["id"])
    if found.viewer.user is None:
        return login_redirect(topic_url(found.project.slug, found.topic))
    wanted = (await form_data(request)).get("bookmarked", "1") != "0"
    if wanted:
        await service.bookmark(found.viewer, found.post)
    else:
        await service.unbookmark(found.viewer, found.post)
    return see_post(found.project.slug, found.topic, found.post)


# Editing a post


async def edit(request: Request) -> Response:
    h = await here(request)
    found = await service.locate_post(h.viewer.user, request.path_params["id"])
    if found.project.id != h.project.id:
        return RedirectResponse(f"/p/{found.project.slug}/posts/{found.post.id}/edit",
                                status_code=301)
    post, topic = found.post, found.topic
    if h.viewer.user is None:
        return login_redirect(request.url.path)
    values = {"source": post.source, "title": topic.title if post.number == 1 else "",
              "reason": ""}
    errors: dict[str, str] = {}
    message = ""
    status = 200
    if request.method == "POST":
        values = {**values, **await form_data(request)}
        try:
            data = parse(PostEditIn, {
                "source": values["source"], "reason": values["reason"],
                "title": values["title"] if post.number == 1 else None})
            post = await service.edit_post(platform_of(request), h.viewer, post, data)
        except UserError as exc:
            errors, message, status = dict(exc.fields), exc.message, exc.status
        else:
            flash(request, "Post updated.", "success")
            return see_post(h.project.slug, topic, post)
    history = []
    for revision in reversed(await service.revisions(post)):
        history.append((revision, await service.revision_diff(post, revision.number)))
    return await render(request, "topics/edit_post.html", {
        "current_project": h.project, "post": post, "topic": topic, "values": values,
        "errors": errors, "message": message, "history": history,
        "topic_href": topic_url(h.project.slug, topic) + f"#post-{post.number}",
    }, status_code=status)


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/new", composer, methods=["GET", "POST"], name="topics_new"),
        Route("/p/{slug}/t/{id:int}/reply", reply, methods=["POST"], name="topics_reply"),
        Route("/p/{slug}/t/{id:int}/accept", accept, methods=["POST"], name="topics_accept"),
        Route("/posts/{id:int}/vote", vote, methods=["POST"], name="posts_vote"),
        Route("/posts/{id:int}/bookmark", bookmark, methods=["POST"], name="posts_bookmark"),
        Route("/p/{slug}/posts/{id:int}/edit", edit, methods=["GET", "POST"],
              name="posts_edit"),
    ]
