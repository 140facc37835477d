"""The write side of the topics JSON API: start topics, reply, edit, vote, accept, moderate,
bookmark, and manage categories. Reading (lists, a topic with its posts, categories) is in
``forum.topics.read_api``.

Topics and posts are addressed by id alone; one the caller may not read is a 404, as if it
did not exist. Triage (move, kind, merge, split, close with a reason) is for the project's
moderators and leads.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute

from forum.accounts.models import User
from forum.accounts.permissions import require_user
from forum.projects.models import Project
from forum.projects.permissions import access_project
from forum.projects.routes import platform_of
from forum.topics import service, triage
from forum.topics.models import Category, CloseReason, Post, Topic
from forum.topics.permissions import Viewer
from forum.topics.schemas import (
    AcceptIn,
    BookmarkOut,
    CategoryIn,
    CategoryList,
    CategoryOrder,
    CategoryOut,
    CategoryPatch,
    CloseIn,
    KindIn,
    MergeIn,
    MoveIn,
    PostEditIn,
    PostOut,
    ReplyIn,
    RevisionList,
    RevisionOut,
    SplitIn,
    TopicCreatedOut,
    TopicIn,
    TopicOut,
    TopicPatch,
    VoteIn,
    VoteOut,
)
from forum.web.api import api_route

TAG = "topics"


async def _username(user_id: int | None) -> str:
    if user_id is None:
        return ""
    user = await User.get_or_none(id=user_id)
    return user.username if user is not None else ""


async def topic_out(project: Project, topic: Topic) -> TopicOut:
    return TopicOut(
        id=topic.id, project=project.slug, category_id=topic.category_id,  # type: ignore[attr-defined]
        author=await _username(topic.author_id),  # type: ignore[attr-defined]
        kind=topic.kind, title=topic.title, slug=topic.slug,
        url=f"/p/{project.slug}/t/{topic.id}-{topic.slug}", state=topic.state,
        pinned=topic.pinned, locked=topic.locked, is_private=topic.is_private,
        accepted_post_id=topic.accepted_post_id, score=topic.score,
        reply_count=topic.reply_count, view_count=topic.view_count,
        tags=await service.topic_tag_names(topic), created_at=topic.created_at,
        last_posted_at=topic.last_posted_at, deleted=topic.deleted_at is not None,
        waiting_for_review=topic.hidden_at is not None, merged_into_id=topic.merged_into_id,
        close_reason=CloseReason(topic.close_reason) if topic.close_reason else None,
        close_detail=topic.close_detail, duplicate_of_id=topic.duplicate_of_id)


async def post_out(post: Post) -> PostOut:
    return PostOut(
        id=post.id, topic_id=post.topic_id, number=post.number,  # type: ignore[attr-defined]
        author=await _username(post.author_id),  # type: ignore[attr-defined]
        reply_to=post.reply_to_id, source=post.source, cooked=post.cooked,  # type: ignore[attr-defined]
        score=post.score, upvotes=post.upvotes, downvotes=post.downvotes,
        edit_count=post.edit_count, created_at=post.created_at, edited_at=post.edited_at,
        deleted=post.deleted_at is not None, waiting_for_review=post.hidden_at is not None)


def category_out(category: Category) -> CategoryOut:
    return CategoryOut(
        id=category.id, parent_id=category.parent_id,  # type: ignore[attr-defined]
        name=category.name, slug=category.slug, description=category.description,
        color=category.color, position=category.position, read_access=category.read_access,
        post_access=category.post_access, private_topics=category.private_topics,
        default_kind=category.default_kind, topic_count=category.topic_count)


def client_ip(request: Request) -> str | None:
    """The client's address, for the screeners (rate limits per address)."""
    return request.client.host if request.client is not None else None


async def _project_viewer(request: Request) -> tuple[Project, Viewer]:
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"])
    return access.project, Viewer.of(access, user)


# Topics and posts


@api_route("POST", "/api/v1/projects/{slug}/topics", body=TopicIn, response=TopicCreatedOut,
           status=201, errors=(403, 404), tag=TAG)
async def create_topic(request: Request, body: TopicIn) -> TopicCreatedOut:
    """Start a topic with its opening post."""
    project, viewer = await _project_viewer(request)
    topic = await service.create_topic(platform_of(request), viewer, project, body,
                                       ip=client_ip(request))
    opening = await Post.get(topic_id=topic.id, number=1)
    out = await topic_out(project, topic)
    return TopicCreatedOut(**out.model_dump(), post=await post_out(opening))


@api_route("PATCH", "/api/v1/topics/{id:int}", body=TopicPatch, response=TopicOut,
           errors=(403, 404, 409), tag=TAG)
async def update_topic(request: Request, body: TopicPatch) -> TopicOut:
    """Change a topic's title, category, tags, state, pin or lock, as permitted."""
    found = await service.locate_topic(require_user(request), request.path_params["id"])
    topic = await service.update_topic(platform_of(request), found.viewer, found.topic, body)
    return await topic_out(found.project, topic)


@api_route("DELETE", "/api/v1/topics/{id:int}", errors=(403, 404), tag=TAG)
async def delete_topic(request: Request) -> None:
    """Delete a topic (soft: moderators can restore it)."""
    found = await service.locate_topic(require_user(request), request.path_params["id"])
    await service.delete_topic(platform_of(request), found.viewer, found.topic)


@api_route("POST", "/api/v1/topics/{id:int}/restore", response=TopicOut, errors=(403, 404),
           tag=TAG)
async def restore_topic(request: Request) -> TopicOut:
    """Restore a deleted topic (moderators)."""
    found = await service.locate_topic(require_user(request), request.path_params["id"])
    topic = await service.restore_topic(platform_of(request), found.viewer, found.topic)
    return await topic_out(found.project, topic)


@api_route("POST", "/api/v1/topics/{id:int}/posts", body=ReplyIn, response=PostOut,
           status=201, errors=(403, 404, 409), tag=TAG)
async def create_post(request: Request, body: ReplyIn) -> PostOut:
    """Reply to a topic (``reply_to``: a post of the same topic)."""
    found = await service.locate_topic(require_user(request), request.path_params["id"])
    post = await service.reply(platform_of(request), found.viewer, found.topic, body,
                               ip=client_ip(request))
    return await post_out(post)


@api_route("POST", "/api/v1/topics/{id:int}/accept", body=AcceptIn, response=TopicOut,
           errors=(403, 404, 409), tag=TAG)
async def accept_answer(request: Request, body: AcceptIn) -> TopicOut:
    """Accept an answer (the asker or a maintainer); null withdraws."""
    found = await service.locate_topic(require_user(request), request.path_params["id"])
    topic = await service.accept(platform_of(request), found.viewer, found.topic, body.post_id)
    return await topic_out(found.project, topic)


@api_route("PATCH", "/api/v1/posts/{id:int}", body=PostEditIn, response=PostOut,
           errors=(403, 404), tag=TAG)
async def edit_post(request: Request, body: PostEditIn) -> PostOut:
    """Edit a post (the author within the edit window, or a moderator)."""
    found = await service.locate_post(require_user(request), request.path_params["id"])
    post = await service.edit_post(platform_of(request), found.viewer, found.post, body,
                                   ip=client_ip(request))
    return await post_out(post)


@api_route("DELETE", "/api/v1/posts/{id:int}", errors=(403, 404), tag=TAG)
async def delete_post(request: Request) -> None:
    """Delete a post (soft): its author or a moderator."""
    found = await service.locate_post(require_user(request), request.path_params["id"])
    await service.delete_post(platform_of(request), found.viewer, found.post)


@api_route("POST", "/api/v1/posts/{id:int}/restore", response=PostOut, errors=(403, 404),
           tag=TAG)
async def restore_post(request: Request) -> PostOut:
    """Restore a deleted post (moderators)."""
    found = await service.locate_post(require_user(request), request.path_params["id"],
                                      deleted_ok=True)
    post = await service.restore_post(platform_of(request), found.viewer, found.post)
    return await post_out(post)


@api_route("POST", "/api/v1/posts/{id:int}/vote", body=VoteIn, response=VoteOut,
           errors=(403, 404, 409), tag=TAG)
async def vote(request: Request, body: VoteIn) -> VoteOut:
    """Vote on a post: 1 up, -1 down, 0 withdraws; never on your own post."""
    found = await service.locate_post(require_user(request), request.path_params["id"])
    result = await service.vote(platform_of(request), found.viewer, found.post, body.value)
    return VoteOut(post_id=result.post_id, value=result.value, score=result.score,
                   upvotes=result.upvotes, downvotes=result.downvotes)


@api_route("POST", "/api/v1/posts/{id:int}/bookmark", response=BookmarkOut, errors=(404,),
           tag=TAG)
async def add_bookmark(request: Request) -> BookmarkOut:
    """Bookmark a post."""
    found = await service.locate_post(require_user(request), request.path_params["id"])
    return BookmarkOut(post_id=found.post.id,
                       bookmarked=await service.bookmark(found.viewer, found.post))


@api_route("DELETE", "/api/v1/posts/{id:int}/bookmark", response=BookmarkOut, errors=(404,),
           tag=TAG)
async def remove_bookmark(request: Request) -> BookmarkOut:
    """Remove a bookmark."""
    found = await service.locate_post(require_user(request), request.path_params["id"])
    return BookmarkOut(post_id=found.post.id,
                       bookmarked=await service.unbookmark(found.viewer, found.post))


@api_route("GET", "/api/v1/posts/{id:int}/revisions", response=RevisionList, auth=False,
           errors=(404,), tag=TAG)
async def post_revisions(request: Request) -> RevisionList:
    """A post's versions, the original first, each with a word diff to the one before."""
    from forum.accounts.permissions import current_user

    found = await service.locate_post(current_user(request), request.path_params["id"])
    rows = await service.revisions(found.post)
    out: list[RevisionOut] = []
    previous = ""
    for row in rows:
        text = service.revision_text(row)
        out.append(RevisionOut(
            number=row.number, title=row.title, source=row.source,
            editor=row.editor.username if row.editor is not None else None,
            reason=row.reason, created_at=row.created_at,
            diff_html=service.word_diff(previous, text)))
        previous = text
    return RevisionList(post_id=found.post.id, current_source=found.post.source,
                        revisions=out)


# Triage (moderators and leads)


@api_route("POST", "/api/v1/topics/{id:int}/move", body=MoveIn, response=TopicOut,
           errors=(403, 404, 409), tag=TAG)
async def move_topic(request: Request, body: MoveIn) -> TopicOut:
    """Move a topic to another category of its project."""
    found = await service.locate_topic(require_user(request), request.path_params["id"])
    topic = await service.move_topic(platform_of(request), found.viewer, found.topic,
                                     body.category_id)
    return await topic_out(found.project, topic)


@api_route("POST", "/api/v1/topics/{id:int}/kind", body=KindIn, response=TopicOut,
           errors=(403, 404, 409), tag=TAG)
async def change_kind(request: Request, body: KindIn) -> TopicOut:
    """Make a topic a question, discussion, bug report or (private) security report."""
    found = await service.locate_topic(require_user(request), request.path_params["id"])
    topic = await triage.change_kind(platform_of(request), found.viewer, found.topic,
                                     body.kind)
    return await topic_out(found.project, topic)


@api_route("POST", "/api/v1/topics/{id:int}/merge", body=MergeIn, response=TopicOut,
           errors=(403, 404, 409), tag=TAG)
async def merge_topic(request: Request, body: MergeIn) -> TopicOut:
    """Merge this topic (a duplicate) into ``target_id``: its posts move there and its URL
    redirects there. Returns the target."""
    found = await service.locate_topic(require_user(request), request.path_params["id"])
    target = await triage.merge_topic(platform_of(request), found.viewer, found.topic,
                                      body.target_id)
    return await topic_out(found.project, target)


@api_route("POST", "/api/v1/topics/{id:int}/split", body=SplitIn, response=TopicOut,
           status=201, errors=(403, 404, 409), tag=TAG)
async def split_topic(request: Request, body: SplitIn) -> TopicOut:
    """Move replies of this topic into a new topic; returns the new topic."""
    found = await service.locate_topic(require_user(request), request.path_params["id"])
    new = await triage.split_topic(platform_of(request), found.viewer, found.topic,
                                   body.post_ids, body.title, body.category_id)
    return await topic_out(found.project, new)


@api_route("POST", "/api/v1/topics/{id:int}/close", body=CloseIn, response=TopicOut,
           errors=(403, 404, 409), tag=TAG)
async def close_topic(request: Request, body: CloseIn) -> TopicOut:
    """Close a topic with a reason: duplicate (``duplicate_of``), off_topic,
    resolved_elsewhere (``url``) or other (``note``)."""
    found = await service.locate_topic(require_user(request), request.path_params["id"])
    topic = await triage.close_topic(platform_of(request), found.viewer, found.topic,
                                     body.reason, duplicate_of=body.duplicate_of,
                                     url=body.url, note=body.note)
    return await topic_out(found.project, topic)


# Categories (project owners and leads)


@api_route("POST", "/api/v1/projects/{slug}/categories", body=CategoryIn,
           response=CategoryOut, status=201, errors=(403, 404, 409), tag=TAG)
async def create_category(request: Request, body: CategoryIn) -> CategoryOut:
    """Create a category or, with ``parent_id``, a sub-category."""
    project, viewer = await _project_viewer(request)
    return category_out(await service.check_create_category(viewer, project, body))


@api_route("PATCH", "/api/v1/projects/{slug}/categories/{id:int}", body=CategoryPatch,
           response=CategoryOut, errors=(403, 404), tag=TAG)
async def update_category(request: Request, body: CategoryPatch) -> CategoryOut:
    """Change a category's name, description, colour, permissions or default kind."""
    project, viewer = await _project_viewer(request)
    category = await service.check_update_category(viewer, project,
                                                   request.path_params["id"], body)
    return category_out(category)


@api_route("PUT", "/api/v1/projects/{slug}/categories/order", body=CategoryOrder,
           response=CategoryList, errors=(403, 404), tag=TAG)
async def reorder_categories(request: Request, body: CategoryOrder) -> CategoryList:
    """Put categories in the order of ``ids``."""
    project, viewer = await _project_viewer(request)
    categories = await service.check_reorder_categories(viewer, project, body)
    return CategoryList(categories=[category_out(c) for c in categories])


@api_route("DELETE", "/api/v1/projects/{slug}/categories/{id:int}", errors=(403, 404, 409),
           tag=TAG)
async def delete_category(request: Request) -> None:
    """Delete an empty category."""
    project, viewer = await _project_viewer(request)
    await service.check_delete_category(viewer, project, request.path_params["id"])


def routes() -> list[BaseRoute]:
    return [create_topic, update_topic, delete_topic, restore_topic, create_post,
            accept_answer, edit_post, delete_post, restore_post, vote, add_bookmark,
            remove_bookmark, post_revisions, move_topic, change_kind, merge_topic,
            split_topic, close_topic, create_category, update_category,
            reorder_categories, delete_category]
