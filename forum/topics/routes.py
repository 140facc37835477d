"""The forum's HTML pages: project home, topic lists, the topic page, the composer, post
editing, profiles and the user directory, and the form handlers behind their buttons.

Pages read through ``forum.topics.queries`` (filtered by the viewer's ``ReadScope``); forms
call the write verbs of ``forum.topics.service`` and redirect (303) to the canonical URL.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.accounts.models import User
from forum.accounts.permissions import current_user
from forum.gates import Act
from forum.projects.models import Project
from forum.projects.permissions import Action, ProjectAccess, access_project
from forum.projects.service import enabled_plugin_names, project_view
from forum.text import CookContext, cook
from forum.topics import queries
from forum.topics.access import access_topic
from forum.topics.gating import is_allowed
from forum.topics.models import (
    Category,
    Post,
    Tag,
    Topic,
    TopicEvent,
    TopicKind,
    TopicState,
)
from forum.topics.page_cache import (
    CSRF,
    Fragment,
    FragmentCache,
    has_hidden_posts,
    slot,
    topic_version,
)
from forum.topics.permissions import ReadScope, Viewer, can_edit_post, can_vote, read_scope
from forum.topics.queries import ListName, Period, TopicFilter
from forum.topics.reading import listed_unread, mark_read, read_memo
from forum.topics.timeline import topic_timeline
from forum.topics.triage import closed_notice, merged_target
from forum.topics.views import CountedToday, record_view
from forum.web.errors import Invalid, NotFound
from forum.web.templating import csrf_token, render

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
    loaded_scope: ReadScope | None

    @property
    def project(self) -> Project:
        return self.access.project

    @property
    def scope(self) -> ReadScope:
        """What lists may show; loaded by ``here`` unless the page said it needs none."""
        if self.loaded_scope is None:
            raise RuntimeError("this page was built without a read scope")
        return self.loaded_scope


async def here(request: Request, *, scoped: bool = True) -> Here:
    user = current_user(request)
    access = await access_project(user, request.path_params["slug"], Action.VIEW)
    viewer = Viewer.of(access, user)
    return Here(access, viewer, await read_scope(viewer, access.project.id) if scoped else None)


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
        unread=await listed_unread(request, h.viewer, latest),
        can_manage=h.access.can(Action.MANAGE_SETTINGS),
        # for the "project" outlet: plugins link their pages only where they are on
        enabled_plugins=await enabled_plugin_names(request.app.state.platform, h.project.id),
        feed_url=f"/p/{h.project.slug}/feed.atom"))


async def topic_list(request: Request) -> Response:
    h = await here(request)
    name = ListName(request.url.path.rsplit("/", 1)[1])
    period = _enum(Period, request.query_params.get("period"), Period.ALL, "period")
    listing = await queries.list_topics(h.scope, TopicFilter(list=name, period=period),
                                        request.query_params.get("before"))
    return await render(request, "topics/list.html", _ctx(
        request, h, title=LIST_TITLES[name], list_name=name.value, listing=listing,
        unread=await listed_unread(request, h.viewer, listing),
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
        unread=await listed_unread(request, h.viewer, listing),
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
        request, h, tag=tag, listing=listing, next_url=page_url(request, listing.next_cursor),
        unread=await listed_unread(request, h.viewer, listing)))


# The topic page


def parse_topic_ref(ref: str) -> tuple[int, str | None]:
    match = TOPIC_REF.match(ref)
    if match is None:
        raise NotFound("No such topic.")
    return int(match.group(1)), match.group(2)


async def topic_page(request: Request) -> Response:
    h = await here(request, scoped=False)
    topic_id, _ = parse_topic_ref(request.path_params["ref"])
    try:
        topic, category = await access_topic(h.viewer, h.project, topic_id)
    except NotFound:
        topic = None
    if topic is None or topic.merged_into_id is not None:
        # A duplicate merged into another topic lives on as a redirect to it.
        target = await merged_target(h.viewer, h.project, topic_id)
        if target is None:
            raise NotFound("No such topic.")
        return RedirectResponse(topic_url(h.project.slug, target), status_code=301)
    canonical = topic_url(h.project.slug, topic)
    if request.url.path != canonical:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(canonical + query, status_code=301)
    await record_view(topic, viewer_key(request), counted_views(request))
    reply_to = _int_param(request.query_params.get("reply_to") or
                          request.query_params.get("quote"))
    return await render_topic(request, h, topic, category, reply_to=reply_to,
                              quote=bool(request.query_params.get("quote")))


async def state_control(request: Request) -> Response:
    """The close or reopen button for a signed-in reader who holds the close/reopen
    privilege (htmx, loaded after the page so the page stays the same for everyone);
    empty otherwise. Moderators use the triage forms."""
    h = await here(request, scoped=False)
    topic, _ = await access_topic(h.viewer, h.project, request.path_params["id"])
    allowed = (h.viewer.user is not None and not h.viewer.is_moderator
               and topic.state in (TopicState.OPEN, TopicState.CLOSED)
               and topic.deleted_at is None
               and await is_allowed(request.app.state.platform, h.viewer, h.project.id,
                                    Act.CLOSE_REOPEN, topic_id=topic.id))
    if not allowed:
        return HTMLResponse("")
    return await render(request, "topics/_state_control.html", _ctx(request, h, topic=topic))


def _int_param(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


async def render_topic(request: Request, h: Here, topic: Topic, category: Category, *,
                       reply_to: int | None = None, quote: bool = False, draft: str = "",
                       errors: dict[str, str] | None = None, message: str = "",
                       status_code: int = 200) -> Response:
    """The topic page; with a half-written reply and its errors after a refused post.

    The posts come from a ``Fragment`` rendered once per topic version and kind of viewer;
    this viewer's votes, bookmarks and edit links fill its slots (see page_cache.py).
    """
    viewer = h.viewer
    can_reply_here, can_accept_here = queries.may_reply_and_accept(viewer, topic, category)
    kind = ("anonymous" if viewer.user is None
            else "moderator" if viewer.is_moderator else "signed-in")
    version = await topic_version(h.project.slug, topic, category)
    if kind == "signed-in" and has_hidden_posts(version):
        kind = f"user:{viewer.user_id}"  # hidden posts are shown to their own authors
    key = (version, kind, can_reply_here, can_accept_here)
    cache = fragment_cache(request)
    fragment = cache.get(key)
    if fragment is None:
        fragment = await build_fragment(request, h, topic, category, kind != "anonymous",
                                        can_reply_here, can_accept_here)
        cache.put(key, fragment)
    whole_page = (kind == "anonymous" and status_code == 200 and not (draft or errors or message)
                  and reply_to is None and not request.session.get("flash"))
    if whole_page and fragment.anonymous_page is not None \
            and fragment.anonymous_page[0] == topic.view_count:
        return HTMLResponse(fragment.anonymous_page[1])
    if viewer.user is not None:  # what the page shows is read (forum/topics/reading.py)
        shown = max((p.number for p in fragment.posts.values()), default=0)
        await mark_read(viewer.user.id, topic.id, shown, memo=read_memo(request.app.state))
    marks = await queries.viewer_marks(viewer, topic)
    posts_html = fill_fragment(request, h, topic, fragment, marks)
    if reply_to is not None and reply_to not in fragment.posts:
        reply_to = None
    if reply_to is not None and quote and not draft:
        target = await Post.get(id=reply_to).select_related("author")
        quoted = "\n".join(f"> {line}" for line in target.source.splitlines())
        draft = f"@{target.author.username} wrote:\n{quoted}\n\n"
    page = queries.TopicPage(topic, category, [], fragment.tags, can_reply_here,
                             can_accept_here, None)
    triage = None
    if viewer.is_moderator:
        # Moderators are on the team, so every category of the project is theirs to use.
        triage = {"topic": topic, "project": h.project,
                  "categories": await Category.filter(project_id=h.project.id)
                  .order_by("position", "id")}
    response = await render(request, "topics/topic.html", _ctx(
        request, h, page=page, topic=topic, category=category, json_ld=fragment.json_ld,
        closed=await closed_notice(viewer, h.project, topic), triage=triage,
        canonical=absolute(request, topic_url(h.project.slug, topic)), reply_to=reply_to,
        draft=draft, errors=errors or {}, message=message, posts_html=posts_html),
        status_code=status_code)
    if whole_page:  # every anonymous visitor sees this very page until something changes
        fragment.anonymous_page = (topic.view_count, bytes(response.body))
    return response


def counted_views(request: Request) -> CountedToday:
    counted: CountedToday | None = getattr(request.app.state, "counted_views", None)
    if counted is None:
        counted = request.app.state.counted_views = CountedToday()
    return counted


def fragment_cache(request: Request) -> FragmentCache:
    cache: FragmentCache | None = getattr(request.app.state, "topic_fragments", None)
    if cache is None:
        cache = request.app.state.topic_fragments = FragmentCache()
    return cache


async def build_fragment(request: Request, h: Here, topic: Topic, category: Category,
                         signed_in: bool, can_reply_here: bool, can_accept_here: bool
                         ) -> Fragment:
    """Render the posts for one kind of viewer, leaving slots for what is theirs alone."""
    posts = await queries.load_posts(h.viewer, topic)
    tags = await topic.tags.all().order_by("name")
    views = [queries.PostView(p, 0, False, p.id == topic.accepted_post_id, False, False)
             for p in posts]
    page = queries.TopicPage(topic, category, views, tags, can_reply_here, can_accept_here,
                             next((v for v in views if v.accepted), None))
    platform = request.app.state.platform
    flair = await platform.flair(h.project.id, sorted({p.author_id for p in posts}))  # type: ignore[attr-defined]
    template = request.app.state.templates.get_template("topics/_posts.html")
    before, after = place_events(posts, await topic_timeline(topic.id))
    html = template.render({"current_project": h.project, "page": page, "slot": slot,
                            "signed_in": signed_in, "csrf_token": CSRF, "flair": flair,
                            "events_before": before, "events_after": after})
    json_ld = (qa_page_json_ld(request, h.project, page)
               if topic.kind == TopicKind.QUESTION else None)
    for post in posts:  # kept with the fragment: what deciding controls needs, not the text
        post.source = post.cooked = ""
    return Fragment.split(html, {p.id: p for p in posts}, json_ld, tags)


def place_events(posts: list[Post], timeline: list[TopicEvent]
                 ) -> tuple[dict[int, list[TopicEvent]], list[TopicEvent]]:
    """Where each timeline event goes among the posts, by time: the events shown just
    before each post (by post id), and those after the last post. The timeline changes
    the topic's ``updated_at``, so the fragment holding them is rebuilt when it grows."""
    before: dict[int, list[TopicEvent]] = {}
    pending = list(timeline)
    for index, post in enumerate(posts):
        if index == 0:
            continue  # the opening post comes first: nothing happened before the topic
        while pending and pending[0].created_at < post.created_at:
            before.setdefault(post.id, []).append(pending.pop(0))
    return before, pending


def fill_fragment(request: Request, h: Here, topic: Topic, fragment: Fragment,
                  marks: queries.ViewerMarks) -> Markup:
    controls = request.app.state.templates.get_template("topics/_post_controls.html").module
    viewer, project = h.viewer, h.project
    now = datetime.now(UTC)

    def render_slot(kind: str, post_id: int) -> tuple[tuple[Any, ...], Callable[[], str]]:
        post = fragment.posts[post_id]
        if kind == "vote":
            may, mine = can_vote(viewer, post), marks.votes.get(post_id, 0)
            return (kind, post_id, may, mine), lambda: str(controls.vote(post, may, mine, CSRF))
        if kind == "flag":  # anyone but the author may flag a post
            may = viewer.user_id != post.author_id  # type: ignore[attr-defined]
            return (kind, post_id, may), lambda: str(controls.flag(post, may))
        if kind == "edit":
            may = can_edit_post(viewer, post, topic, project, now)
            return (kind, post_id, may), lambda: str(controls.edit(project.slug, post, may))
        marked = post_id in marks.bookmarks
        return (kind, post_id, marked), lambda: str(controls.bookmark(post, marked, CSRF))

    return fragment.fill(render_slot, str(csrf_token(request)))


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
    flair = (await request.app.state.platform.flair(h.project.id, [user.id])).get(user.id)
    return await render(request, "topics/profile.html", _ctx(
        request, h, person=user, profile_user=user, project=h.project, flair=flair,
        stats=stats, tab=tab.value, listing=listing, posts=posts,
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
        Route("/p/{slug}/t/{id:int}/state-control", state_control, name="topics_state_control"),
        Route("/p/{slug}/u/{username}", profile_page, name="topics_profile"),
        Route("/p/{slug}/users", users_page, name="topics_users"),
        Route("/p/{slug}/preview", preview, methods=["POST"], name="topics_preview"),
    ]
