"""The forum's HTML pages: project home, topic lists, the topic page, the composer, post
editing, profiles and the user directory, and the form handlers behind their buttons.

Pages read through ``forum.topics.queries`` (filtered by the viewer's ``ReadScope``); forms
call the write verbs of ``forum.topics.service`` and redirect (303) to the canonical URL.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.accounts.models import User
from forum.accounts.permissions import current_user
from forum.projects.models import Project
from forum.projects.permissions import Action, ProjectAccess, access_project
from forum.projects.service import project_view
from forum.text import CookContext, cook
from forum.topics import queries
from forum.topics.access import access_topic
from forum.topics.models import Category, Post, Tag, Topic, TopicKind
from forum.topics.page_cache import CachedPosts, PostsCache, anonymous_key
from forum.topics.permissions import ReadScope, Viewer, read_scope
from forum.topics.queries import ListName, Period, TopicFilter
from forum.topics.views import record_view
from forum.web.errors import Invalid, NotFound
from forum.web.templating import render

TOPIC_REF = re.compile(r"^(\d{1,10})(?:-(.*))?$")
PREVIEW_MAX = 64_000
LIST_TITLES = {
    ListName.LATEST: "Latest",
    ListName.TOP: "Top",
    ListName.UNANSWERED: "Unanswered",
    ListName.SOLVED: "Solved",
    ListName.UNSOLVED: "Unsolved",
}


@dataclass(frozen=True)
class Here:
    """The project a page is about, as the viewer sees it."""

    access: ProjectAccess
    viewer: Viewer
    scope: ReadScope

    @property
    def project(self) -> Project:
        return self.access.project


async def here(request: Request) -> Here:
    user = current_user(request)
    access = await access_project(user, request.path_params["slug"], Action.VIEW)
    viewer = Viewer.of(access, user)
    return Here(access, viewer, await read_scope(viewer, access.project.id))


def topic_url(project_slug: str, topic: Topic) -> str:
    tail = f"-{topic.slug}" if topic.slug else ""
    return f"/p/{project_slug}/t/{topic.id}{tail}"


def absolute(request: Request, path: str) -> str:
    return request.app.state.platform.settings.public_url + path


def page_url(request: Request, cursor: str | None) -> str | None:
    """This page's URL with ``before`` set to ``cursor`` (None: no next page)."""
    if cursor is None:
        return None
    params = {**request.query_params, "before": cursor}
    return f"{request.url.path}?{urlencode(params)}"


def _enum(kind: type[Any], value: str | None, default: Any, name: str) -> Any:
    if not value:
        return default
    try:
        return kind(value)
    except ValueError:
        raise Invalid(f"Unknown {name}.", fields={name: "is not valid"}) from None


def _ctx(request: Request, h: Here, **values: Any) -> dict[str, Any]:
    return {"current_project": h.project, "viewer": h.viewer, "topic_url": topic_url,
            "canonical": absolute(request, request.url.path), **values}


# Project home and lists


async def project_home(request: Request) -> Response:
    h = await here(request)
    categories = await queries.category_tree(h.viewer, h.scope)
    latest = await queries.list_topics(h.scope, TopicFilter(exclude_pinned=True), limit=20)
    view = await project_view(h.access)
    return await render(request, "topics/project_home.html", _ctx(
        request, h, view=view, access=h.access, categories=categories, latest=latest,
        can_manage=h.access.can(Action.MANAGE_SETTINGS),
        feed_url=f"/p/{h.project.slug}/feed.atom"))


async def topic_list(request: Request) -> Response:
    h = await here(request)
    name = ListName(request.url.path.rsplit("/", 1)[1])
    period = _enum(Period, request.query_params.get("period"), Period.ALL, "period")
    listing = await queries.list_topics(h.scope, TopicFilter(list=name, period=period),
                                        request.query_params.get("before"))
    return await render(request, "topics/list.html", _ctx(
        request, h, title=LIST_TITLES[name], list_name=name.value, listing=listing,
        period=period.value, periods=[p.value for p in Period],
        next_url=page_url(request, listing.next_cursor), heading_extra=None))


async def readable_category(h: Here, category_slug: str) -> Category:
    category = await Category.get_or_none(project_id=h.project.id, slug=category_slug)
    if category is None or category.id not in h.scope.category_ids:
        raise NotFound("No such category.")
    return category


async def category_page(request: Request) -> Response:
    h = await here(request)
    category = await readable_category(h, request.path_params["category"])
    children = [c for c in await queries.readable_categories(h.scope)
                if c.parent_id == category.id]  # type: ignore[attr-defined]
    ids = (category.id, *(c.id for c in children))
    listing = await queries.list_topics(
        h.scope, TopicFilter(category_ids=ids, exclude_pinned=True),
        request.query_params.get("before"))
    from forum.topics.permissions import can_post_in_category

    return await render(request, "topics/category.html", _ctx(
        request, h, category=category, children=children, listing=listing,
        may_post=can_post_in_category(h.viewer, category),
        feed_url=f"/p/{h.project.slug}/c/{category.slug}/feed.atom",
        next_url=page_url(request, listing.next_cursor)))


async def tag_page(request: Request) -> Response:
    h = await here(request)
    tag = await Tag.get_or_none(project_id=h.project.id, name=request.path_params["name"].lower())
    if tag is None:
        raise NotFound("No such tag.")
    listing = await queries.list_topics(h.scope, TopicFilter(tag_id=tag.id),
                                        request.query_params.get("before"))
    return await render(request, "topics/tag.html", _ctx(
        request, h, tag=tag, listing=listing, next_url=page_url(request, listing.next_cursor)))


# The topic page


def parse_topic_ref(ref: str) -> tuple[int, str | None]:
    match = TOPIC_REF.match(ref)
    if match is None:
        raise NotFound("No such topic.")
    return int(match.group(1)), match.group(2)


async def topic_page(request: Request) -> Response:
    h = await here(request)
    topic_id, _ = parse_topic_ref(request.path_params["ref"])
    topic, category = await access_topic(h.viewer, h.project, topic_id)
    canonical = topic_url(h.project.slug, topic)
    if request.url.path != canonical:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(canonical + query, status_code=301)
    await record_view(topic, viewer_key(request))
    reply_to = _int_param(request.query_params.get("reply_to") or
                          request.query_params.get("quote"))
    return await render_topic(request, h, topic, category, reply_to=reply_to,
                              quote=bool(request.query_params.get("quote")))


def _int_param(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


async def render_topic(request: Request, h: Here, topic: Topic, category: Category, *,
                       reply_to: int | None = None, quote: bool = False, draft: str = "",
                       errors: dict[str, str] | None = None, message: str = "",
                       status_code: int = 200) -> Response:
    """The topic page; with a half-written reply and its errors after a refused post."""
    if h.viewer.user is None:
        return await render_topic_anonymous(request, h, topic, category)
    page = await queries.topic_page(h.viewer, h.project, topic, category)
    target = next((v.post for v in page.posts if v.post.id == reply_to), None)
    if target is None:
        reply_to = None
    elif quote and not draft:
        quoted = "\n".join(f"> {line}" for line in target.source.splitlines())
        draft = f"@{target.author.username} wrote:\n{quoted}\n\n"
    json_ld = (qa_page_json_ld(request, h.project, page)
               if topic.kind == TopicKind.QUESTION else None)
    return await render(request, "topics/topic.html", _ctx(
        request, h, page=page, topic=topic, category=category, json_ld=json_ld,
        canonical=absolute(request, topic_url(h.project.slug, topic)), reply_to=reply_to,
        draft=draft, errors=errors or {}, message=message, posts_html=None),
        status_code=status_code)


def posts_cache(request: Request) -> PostsCache:
    cache: PostsCache | None = getattr(request.app.state, "topic_posts_cache", None)
    if cache is None:
        cache = request.app.state.topic_posts_cache = PostsCache()
    return cache


async def render_topic_anonymous(request: Request, h: Here, topic: Topic,
                                 category: Category) -> Response:
    """The same page for a visitor who is not signed in, its posts from the cache."""
    key = await anonymous_key(h.project.slug, topic, category)
    cache = posts_cache(request)
    cached = cache.get(key)
    tags = await topic.tags.all().order_by("name")
    page = queries.TopicPage(topic, category, [], tags, False, False, None)
    ctx = _ctx(request, h, topic=topic, category=category, reply_to=None, draft="",
               errors={}, message="", canonical=absolute(request, topic_url(h.project.slug,
                                                                            topic)))
    if cached is None:
        full = await queries.topic_page(h.viewer, h.project, topic, category)
        fragment = request.app.state.templates.get_template("topics/_posts.html")
        cached = CachedPosts(
            Markup(fragment.render({**ctx, "page": full, "csrf_token": ""})),
            qa_page_json_ld(request, h.project, full)
            if topic.kind == TopicKind.QUESTION else None)
        cache.put(key, cached)
    return await render(request, "topics/topic.html", {
        **ctx, "page": page, "posts_html": cached.posts_html, "json_ld": cached.json_ld})


def viewer_key(request: Request) -> str:
    """Who counts as one viewer: the user, or a hash of an anonymous visitor's address."""
    user = current_user(request)
    if user is not None:
        return f"u:{user.id}"
    address = request.client.host if request.client else "-"
    return "a:" + hashlib.sha256(address.encode()).hexdigest()[:40]


def json_for_script(data: Any) -> Markup:
    """JSON safe inside <script type="application/ld+json">: no "<", ">" or "&" left."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def qa_page_json_ld(request: Request, project: Project, page: queries.TopicPage) -> Markup:
    """schema.org QAPage for a question: the question, its accepted and suggested answers."""
    topic = page.topic
    url = absolute(request, topic_url(project.slug, topic))
    opening = next((v.post for v in page.posts if v.post.number == 1), None)
    answers = [v for v in page.posts if v.post.number != 1 and v.post.deleted_at is None]

    def person(user: User) -> dict[str, str]:
        return {"@type": "Person", "name": user.username,
                "url": absolute(request, f"/p/{project.slug}/u/{user.username}")}

    def answer(view: queries.PostView) -> dict[str, Any]:
        post = view.post
        return {"@type": "Answer", "text": post.source, "upvoteCount": post.score,
                "dateCreated": post.created_at.isoformat(), "url": f"{url}#post-{post.number}",
                "author": person(post.author)}

    question: dict[str, Any] = {
        "@type": "Question", "name": topic.title,
        "text": opening.source if opening else topic.title,
        "answerCount": len(answers), "upvoteCount": topic.score,
        "dateCreated": topic.created_at.isoformat(),
        "author": person(opening.author if opening else topic.author),
    }
    accepted = [answer(v) for v in answers if v.accepted]
    if accepted:
        question["acceptedAnswer"] = accepted[0]
    suggested = [answer(v) for v in answers if not v.accepted]
    if suggested:
        question["suggestedAnswer"] = suggested
    return json_for_script({"@context": "https://schema.org", "@type": "QAPage",
                            "mainEntity": question})


# People


async def profile_page(request: Request) -> Response:
    h = await here(request)
    username = request.path_params["username"]
    user = await User.get_or_none(username_lower=username.lower(), is_active=True)
    if user is None:
        raise NotFound("No such user.")
    if user.username != username:
        return RedirectResponse(f"/p/{h.project.slug}/u/{user.username}", status_code=301)
    tab = _enum(queries.ProfileTab, request.query_params.get("tab"), queries.ProfileTab.TOPICS,
                "tab")
    stats = await queries.profile_stats(h.scope, user)
    cursor = request.query_params.get("before")
    listing: queries.TopicList | None = None
    posts: queries.PostList | None = None
    if tab == queries.ProfileTab.TOPICS:
        listing = await queries.list_topics(h.scope, TopicFilter(author_id=user.id), cursor)
        next_cursor = listing.next_cursor
    else:
        posts = await queries.profile_posts(h.scope, user, tab, cursor)
        next_cursor = posts.next_cursor
    return await render(request, "topics/profile.html", _ctx(
        request, h, person=user, stats=stats, tab=tab.value, listing=listing, posts=posts,
        tabs=[t.value for t in queries.ProfileTab], next_url=page_url(request, next_cursor)))


async def users_page(request: Request) -> Response:
    h = await here(request)
    order = _enum(queries.DirectoryOrder, request.query_params.get("order"),
                  queries.DirectoryOrder.ANSWERS, "order")
    directory = await queries.user_directory(h.scope, order, request.query_params.get("before"))
    return await render(request, "topics/users.html", _ctx(
        request, h, directory=directory, order=order.value,
        orders=[o.value for o in queries.DirectoryOrder],
        next_url=page_url(request, directory.next_cursor)))


# Composer preview


async def preview(request: Request) -> Response:
    """The cooked HTML of the composer's text (htmx fragment)."""
    h = await here(request)
    form = await request.form()
    source = form.get("source", "")
    if not isinstance(source, str) or len(source) > PREVIEW_MAX:
        raise Invalid("The text is too long to preview.", fields={"source": "is too long"})
    try:
        cooked = cook(source, CookContext(h.project.slug))
    except ValueError as exc:  # CookError: markdown the cooker refuses (too deep, too big)
        raise Invalid(str(exc), fields={"source": str(exc)}) from None
    return HTMLResponse(cooked.html)


def post_anchor(post: Post) -> str:
    return f"#post-{post.number}"


def routes() -> list[BaseRoute]:
    lists = [Route(f"/p/{{slug}}/{name.value}", topic_list, name=f"topics_{name.value}")
             for name in ListName]
    return [
        Route("/p/{slug}", project_home, name="project"),
        *lists,
        Route("/p/{slug}/c/{category}", category_page, name="topics_category"),
        Route("/p/{slug}/tag/{name}", tag_page, name="topics_tag"),
        Route("/p/{slug}/t/{ref}", topic_page, name="topic"),
        Route("/p/{slug}/u/{username}", profile_page, name="topics_profile"),
        Route("/p/{slug}/users", users_page, name="topics_users"),
        Route("/p/{slug}/preview", preview, methods=["POST"], name="topics_preview"),
    ]
