"""The forum's forms: the composer, replies, votes, accepting, bookmarks, post editing,
closing and reopening, and the triage tools (topics/_triage.html).

Each handler parses the form, calls one write verb of ``forum.topics.service`` (or
``forum.topics.triage``) and redirects (303) to the canonical topic URL at the post; a
refused text form is shown again with the field errors and the refusal's status, a refused
button or triage form flashes the reason and goes back to the topic.
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
from forum.topics import queries, service, triage
from forum.topics.api_routes import client_ip
from forum.topics.models import Category, CloseReason, Post, Topic, TopicKind, TopicState
from forum.topics.permissions import can_triage
from forum.topics.routes import Here, here, render_topic, topic_url
from forum.topics.schemas import MAX_ID, PostEditIn, ReplyIn, TopicIn, clean_title
from forum.web.errors import Forbidden, Invalid, UserError, invalid_from_pydantic
from forum.web.templating import flash, render

M = TypeVar("M", bound=BaseModel)
WAITING = "Your post is waiting for a moderator's review; until then only you can see it."
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
            topic = await service.create_topic(platform_of(request), h.viewer, h.project, data,
                                               ip=client_ip(request))
        except UserError as exc:
            errors, message, status = dict(exc.fields), exc.message, exc.status
            errors = {FORM_FIELD.get(k, k): v for k, v in errors.items()}
        else:
            if topic.hidden_at is not None:
                flash(request, WAITING, "info")
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
        post = await service.reply(platform_of(request), h.viewer, topic, data,
                                   ip=client_ip(request))
    except UserError as exc:
        return await render_topic(
            request, h, topic, category, draft=form.get("source", ""),
            reply_to=int(reply_to) if reply_to.isdigit() else None, errors=exc.fields,
            message=exc.message, status_code=exc.status)
    if post.hidden_at is not None:
        flash(request, WAITING, "info")
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
            post = await service.edit_post(platform_of(request), h.viewer, post, data,
                                           ip=client_ip(request))
        except UserError as exc:
            errors, message, status = dict(exc.fields), exc.message, exc.status
        else:
            flash(request, WAITING if post.hidden_at is not None else "Post updated.",
                  "info" if post.hidden_at is not None else "success")
            return see_post(h.project.slug, topic, post)
    history = []
    for revision in reversed(await service.revisions(post)):
        history.append((revision, await service.revision_diff(post, revision.number)))
    return await render(request, "topics/edit_post.html", {
        "current_project": h.project, "post": post, "topic": topic, "values": values,
        "errors": errors, "message": message, "history": history,
        "topic_href": topic_url(h.project.slug, topic) + f"#post-{post.number}",
    }, status_code=status)


# Closing and reopening; triage (moderators and leads)


async def _triaged_topic(request: Request) -> tuple[Here, Topic] | Response:
    h = await here(request)
    topic, _ = await service.access_topic(h.viewer, h.project, request.path_params["id"])
    if h.viewer.user is None:
        return login_redirect(topic_url(h.project.slug, topic))
    return h, topic


def topic_ref(value: str) -> int | None:
    """A topic given as its id, "#id" or its URL (``/p/<slug>/t/<id>-...``)."""
    text = value.strip()
    if "/t/" in text:
        text = text.split("/t/", 1)[1]
    digits = text.lstrip("#").split("-", 1)[0].split("/", 1)[0].split("?", 1)[0]
    if digits.isdigit() and 0 < int(digits) <= MAX_ID:
        return int(digits)
    return None


def post_numbers(value: str) -> list[int]:
    """Post numbers written as "3, 5, 7-9" (at most 200); UserError when unreadable."""
    numbers: list[int] = []
    for part in value.replace(" ", "").split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()) or len(low) > 6 or len(high) > 6:
            raise Invalid("Write post numbers like 3, 5, 7-9.", fields={"posts": "unreadable"})
        first, last = int(low), int(high or low)
        if last < first or last - first > 200:
            raise Invalid("Write post numbers like 3, 5, 7-9.", fields={"posts": "unreadable"})
        numbers.extend(range(first, last + 1))
    if not numbers or len(numbers) > 200:
        raise Invalid("Choose between 1 and 200 replies.", fields={"posts": "how many"})
    return numbers


async def set_state(request: Request) -> Response:
    """Close or reopen (moderators, and users with the close/reopen privilege)."""
    found = await _triaged_topic(request)
    if isinstance(found, Response):
        return found
    h, topic = found
    raw = (await form_data(request)).get("state", "")
    try:
        state = TopicState(raw)
        await service.set_state(platform_of(request), h.viewer, topic, state)
    except ValueError:
        flash(request, "Unknown state.", "error")
    except UserError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, "Topic closed." if state == TopicState.CLOSED else "Topic reopened.",
              "success")
    return see_post(h.project.slug, topic)


TRIAGE_ACTIONS = ("move", "kind", "merge", "split", "close")


async def triage_action(request: Request) -> Response:
    """One of the triage forms of topics/_triage.html: move, kind, merge, split, close."""
    found = await _triaged_topic(request)
    if isinstance(found, Response):
        return found
    h, topic = found
    form = await form_data(request)
    action = request.url.path.rsplit("/", 1)[1]
    platform = platform_of(request)
    try:
        if action == "move":
            category = await Category.get_or_none(project_id=h.project.id,
                                                  slug=form.get("category", ""))
            if category is None:
                raise Invalid("No such category.", fields={"category": "unknown"})
            result = await service.move_topic(platform, h.viewer, topic, category.id)
            message = f'Moved to "{category.name}".'
        elif action == "kind":
            try:
                kind = TopicKind(form.get("kind", ""))
            except ValueError:
                raise Invalid("Unknown kind.", fields={"kind": "unknown"}) from None
            result = await triage.change_kind(platform, h.viewer, topic, kind)
            message = "Kind changed."
        elif action == "merge":
            target_id = topic_ref(form.get("target", ""))
            if target_id is None:
                raise Invalid("Give the target topic's number or address.",
                              fields={"target": "unknown topic"})
            result = await triage.merge_topic(platform, h.viewer, topic, target_id)
            message = "Topics merged."
        elif action == "split":
            result = await _split(h, topic, form, platform)
            message = "Replies split into a new topic."
        else:
            result = await _close(h, topic, form, platform)
            message = "Topic closed."
    except UserError as exc:
        flash(request, exc.message, "error")
        return see_post(h.project.slug, topic)
    flash(request, message, "success")
    return see_post(h.project.slug, result)


async def _split(h: Here, topic: Topic, form: dict[str, str], platform: Platform) -> Topic:
    if not can_triage(h.viewer):
        raise Forbidden("Only the project's moderators and leads may do that.")
    numbers = post_numbers(form.get("posts", ""))
    try:
        title = clean_title(form.get("title", "")[:400])
    except ValueError as exc:
        raise Invalid(str(exc), fields={"title": str(exc)}) from None
    ids = [int(str(i)) for i in await Post.filter(
        topic_id=topic.id, number__in=numbers).values_list("id", flat=True)]
    if len(ids) != len(set(numbers)):
        raise Invalid("Some of those posts are not in this topic.",
                      fields={"posts": "not in this topic"})
    category_id: int | None = None
    if form.get("category"):
        category = await Category.get_or_none(project_id=h.project.id, slug=form["category"])
        if category is None:
            raise Invalid("No such category.", fields={"category": "unknown"})
        category_id = category.id
    return await triage.split_topic(platform, h.viewer, topic, ids, title, category_id)


async def _close(h: Here, topic: Topic, form: dict[str, str], platform: Platform) -> Topic:
    try:
        reason = CloseReason(form.get("reason", ""))
    except ValueError:
        raise Invalid("Choose why the topic is closed.", fields={"reason": "unknown"}) from None
    duplicate_of = topic_ref(form.get("duplicate_of", ""))
    return await triage.close_topic(platform, h.viewer, topic, reason,
                                    duplicate_of=duplicate_of, url=form.get("url", "")[:600],
                                    note=form.get("note", "")[:600])


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/t/{id:int}/state", set_state, methods=["POST"], name="topics_state"),
        *[Route(f"/p/{{slug}}/t/{{id:int}}/{action}", triage_action, methods=["POST"],
                name=f"topics_{action}") for action in TRIAGE_ACTIONS],
        Route("/p/{slug}/new", composer, methods=["GET", "POST"], name="topics_new"),
        Route("/p/{slug}/t/{id:int}/reply", reply, methods=["POST"], name="topics_reply"),
        Route("/p/{slug}/t/{id:int}/accept", accept, methods=["POST"], name="topics_accept"),
        Route("/posts/{id:int}/vote", vote, methods=["POST"], name="posts_vote"),
        Route("/posts/{id:int}/bookmark", bookmark, methods=["POST"], name="posts_bookmark"),
        Route("/p/{slug}/posts/{id:int}/edit", edit, methods=["GET", "POST"],
              name="posts_edit"),
    ]
