"""The read side of the topics API: lists with filters and a cursor, a topic with its
posts, categories, tags and profiles. Everything goes through the viewer's ``ReadScope``;
what the caller may not read is not found. Hidden topics and posts (waiting for review) are
shown only to their authors and moderators, flagged ``waiting_for_review``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute

from forum.accounts.models import User
from forum.accounts.permissions import current_user
from forum.projects.models import Project
from forum.projects.permissions import role_in
from forum.topics import queries
from forum.topics.access import locate_topic
from forum.topics.models import Category, Post, Tag, Topic, TopicKind, TopicState
from forum.topics.permissions import ReadScope, can_post_in_category
from forum.topics.queries import ListName, Period, TopicFilter
from forum.topics.read_schemas import (
    CategoriesOut,
    CategoryRead,
    PostRead,
    ProfileOut,
    TagRead,
    TagsOut,
    TopicDetail,
    TopicPageOut,
    TopicSummary,
)
from forum.topics.routes import Here, here, topic_url
from forum.web.api import api_route
from forum.web.errors import Invalid, NotFound

TAG = "topics"
MAX_LIMIT = 100


def summary(project: Project, topic: Topic) -> TopicSummary:
    return TopicSummary(
        id=topic.id, title=topic.title, slug=topic.slug, url=topic_url(project.slug, topic),
        kind=topic.kind, state=topic.state, category=topic.category.slug,
        author=topic.author.username, tags=sorted(t.name for t in topic.tags),
        pinned=topic.pinned, locked=topic.locked, is_private=topic.is_private,
        score=topic.score, reply_count=topic.reply_count, view_count=topic.view_count,
        accepted_post_id=topic.accepted_post_id, created_at=topic.created_at,
        last_posted_at=topic.last_posted_at, deleted=topic.deleted_at is not None,
        waiting_for_review=topic.hidden_at is not None, merged_into_id=topic.merged_into_id,
        close_reason=topic.close_reason or None, close_detail=topic.close_detail,
        duplicate_of_id=topic.duplicate_of_id)


def _visible(scope: ReadScope, topic: Topic) -> bool:
    """Whether a listed topic is not hidden from ``scope`` (the lists' queries filter this
    too, through ``hidden_q``; checked again here so the API never leaks one)."""
    return (topic.hidden_at is None or scope.see_hidden
            or topic.author_id == scope.user_id)  # type: ignore[attr-defined]


def _choice(kind: type, request: Request, name: str) -> object | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise Invalid(f"Unknown {name}.", fields={name: "is not valid"}) from None


async def _filter(h: Here, request: Request) -> TopicFilter:
    params = request.query_params
    category_ids: tuple[int, ...] | None = None
    if params.get("category"):
        category = await Category.get_or_none(project_id=h.project.id, slug=params["category"])
        if category is None or category.id not in h.scope.category_ids:
            raise NotFound("No such category.")
        children = [c.id for c in await queries.readable_categories(h.scope)
                    if c.parent_id == category.id]  # type: ignore[attr-defined]
        category_ids = (category.id, *children)
    tag_id: int | None = None
    if params.get("tag"):
        tag = await Tag.get_or_none(project_id=h.project.id, name=params["tag"].lower())
        if tag is None:
            raise NotFound("No such tag.")
        tag_id = tag.id
    author_id: int | None = None
    if params.get("author"):
        author = await User.get_or_none(username_lower=params["author"].lower())
        if author is None:
            raise NotFound("No such user.")
        author_id = author.id
    return TopicFilter(
        list=_choice(ListName, request, "list") or ListName.LATEST,  # type: ignore[arg-type]
        period=_choice(Period, request, "period") or Period.ALL,  # type: ignore[arg-type]
        category_ids=category_ids, tag_id=tag_id,
        state=_choice(TopicState, request, "state"),  # type: ignore[arg-type]
        kind=_choice(TopicKind, request, "kind"),  # type: ignore[arg-type]
        author_id=author_id)


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", str(queries.PAGE_SIZE))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise Invalid(f"limit is a number from 1 to {MAX_LIMIT}.",
                      fields={"limit": "is not valid"})
    return int(raw)


@api_route("GET", "/api/v1/projects/{slug}/topics", response=TopicPageOut, auth=False,
           errors=(404, 422), tag=TAG)
async def list_topics(request: Request) -> TopicPageOut:
    """Topics the caller may read: ?list=latest|top|unanswered|solved|unsolved, ?period=,
    ?category=, ?tag=, ?state=, ?kind=, ?author=, ?limit=, ?cursor=."""
    h = await here(request)
    spec = await _filter(h, request)
    listing = await queries.list_topics(h.scope, spec, request.query_params.get("cursor"),
                                        _limit(request))
    return TopicPageOut(items=[summary(h.project, t) for t in listing.topics
                               if _visible(h.scope, t)],
                        next_cursor=listing.next_cursor)


@api_route("GET", "/api/v1/topics/{id:int}", response=TopicDetail, auth=False,
           errors=(404,), tag=TAG)
async def get_topic(request: Request) -> TopicDetail:
    """A topic with its posts (questions: accepted answer first, then by score)."""
    found = await locate_topic(current_user(request), request.path_params["id"])
    topic = await Topic.get(id=found.topic.id).select_related(
        "category", "author").prefetch_related("tags")
    page = await queries.topic_page(found.viewer, found.project, topic, found.category)
    signed_in = found.viewer.user is not None
    # Hidden posts (waiting for review): one narrow query, whatever the page query loaded.
    hidden = {int(pid): int(author) for pid, author in await Post.filter(
        topic_id=topic.id, hidden_at__isnull=False).values_list("id", "author_id")}
    shown = [v for v in page.posts if v.post.id not in hidden or found.viewer.is_moderator
             or hidden[v.post.id] == found.viewer.user_id]
    posts = [PostRead(
        id=v.post.id, number=v.post.number, author=v.post.author.username,
        reply_to=v.post.reply_to_id,  # type: ignore[attr-defined]
        cooked=v.post.cooked, source=v.post.source, score=v.post.score,
        upvotes=v.post.upvotes, downvotes=v.post.downvotes, accepted=v.accepted,
        created_at=v.post.created_at, edited_at=v.post.edited_at,
        deleted=v.post.deleted_at is not None, my_vote=v.my_vote if signed_in else None,
        bookmarked=v.bookmarked, waiting_for_review=v.post.id in hidden) for v in shown]
    return TopicDetail(**summary(found.project, topic).model_dump(),
                       project=found.project.slug, posts=posts)


@api_route("GET", "/api/v1/projects/{slug}/categories", response=CategoriesOut, auth=False,
           errors=(404,), tag=TAG)
async def list_categories(request: Request) -> CategoriesOut:
    """The categories the caller may read, in their order, and where they may post."""
    h = await here(request)
    return CategoriesOut(categories=[CategoryRead(
        id=c.id, parent_id=c.parent_id,  # type: ignore[attr-defined]
        name=c.name, slug=c.slug, description=c.description, color=c.color,
        position=c.position, read_access=c.read_access, post_access=c.post_access,
        private_topics=c.private_topics, topic_count=c.topic_count,
        may_post=can_post_in_category(h.viewer, c))
        for c in await queries.readable_categories(h.scope)])


@api_route("GET", "/api/v1/projects/{slug}/tags", response=TagsOut, auth=False,
           errors=(404,), tag=TAG)
async def list_tags(request: Request) -> TagsOut:
    """The project's tags, most used first."""
    h = await here(request)
    return TagsOut(tags=[TagRead(name=t.name, description=t.description,
                                 topic_count=t.topic_count)
                         for t in await queries.tags_of(h.project.id)])


@api_route("GET", "/api/v1/projects/{slug}/users/{username}", response=ProfileOut,
           auth=False, errors=(404,), tag=TAG)
async def get_profile(request: Request) -> ProfileOut:
    """A person in a project: counts over what the caller may read, and recent topics."""
    h = await here(request)
    user = await User.get_or_none(username_lower=request.path_params["username"].lower(),
                                  is_active=True)
    if user is None:
        raise NotFound("No such user.")
    stats = await queries.profile_stats(h.scope, user)
    recent = await queries.list_topics(h.scope, TopicFilter(author_id=user.id), limit=10)
    role = await role_in(h.project.id, user)
    return ProfileOut(username=user.username, display_name=user.display_name,
                      role=role.value if role else None, topics=stats.topics,
                      answers=stats.answers, accepted=stats.accepted, upvotes=stats.upvotes,
                      downvotes=stats.downvotes,
                      recent_topics=[summary(h.project, t) for t in recent.topics])


def routes() -> list[BaseRoute]:
    # The profile API (with reputation and badges) is served by forum.reputation.badge_routes.
    return [list_topics, get_topic, list_categories, list_tags]
