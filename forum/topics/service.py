"""The topics domain's verbs in one place, for routes, pages, plugins and the demo.

Each verb lives in a small module (Misago style); this module only gathers them. The
conventions: ``platform`` first, then the acting ``Viewer`` (``load_viewer(user, project)``);
``check_*`` validates and raises a ``UserError`` (4xx) before anything is written; ``do_*``
writes in one transaction and then emits events; the plain verb (``create_topic``,
``reply``, ``edit_post``, ``vote``, ``accept`` ...) does both. ``access_topic`` and
``locate_topic``/``locate_post`` load what a viewer may read, or raise NotFound.

Signatures::

    load_viewer(user, project) -> Viewer
    access_topic(viewer, project, topic_id) -> (Topic, Category)
    locate_topic(user, topic_id) -> TopicContext(project, viewer, topic, category)
    locate_post(user, post_id, *, deleted_ok=False) -> PostContext(..., post)

    ensure_default_categories(project) -> list[Category]
    check_create_category(viewer, project, CategoryIn) -> Category
    check_update_category(viewer, project, category_id, CategoryPatch) -> Category
    check_reorder_categories(viewer, project, CategoryOrder) -> list[Category]
    check_delete_category(viewer, project, category_id) -> None

    create_topic(platform, viewer, project, TopicIn) -> Topic
        (= check_create_topic -> TopicDraft, then do_create_topic)
    reply(platform, viewer, topic, ReplyIn) -> Post
    edit_post(platform, viewer, post, PostEditIn) -> Post     (title: opening post only)
    vote(platform, viewer, post, value: -1|0|1) -> VoteResult
    accept(platform, viewer, topic, post_id | None) -> Topic
    update_topic(platform, viewer, topic, TopicPatch) -> Topic
    set_state / pin / lock / move_topic / retag / rename (platform, viewer, topic, value)
    delete_topic / restore_topic (platform, viewer, topic) -> Topic
    delete_post / restore_post (platform, viewer, post) -> Post
    bookmark / unbookmark / toggle_bookmark (viewer, post) -> bool (bookmarked now)
    record_view(topic, viewer_key) -> bool (counted)
    revisions(post) -> list[PostRevision]; revision_diff(post, number) -> str (HTML)
    vote_of(user_id, post_ids) -> {post_id: value}; bookmarked_post_ids(user_id, post_ids)

    hide_post(platform, post, reason, actor_id | None) -> Post       (idempotent)
    unhide_post(platform, post, actor_id | None) -> Post             (idempotent)
    change_kind(platform, viewer, topic, kind) -> Topic
    merge_topic(platform, viewer, duplicate, target_id) -> Topic (the target)
    merged_target(viewer, project, topic_id) -> Topic | None     (where a merged URL goes)
    split_topic(platform, viewer, topic, post_ids, title, category_id=None) -> Topic (new)
    close_topic(platform, viewer, topic, CloseReason, duplicate_of=, url=, note=) -> Topic
    closed_notice(viewer, project, topic) -> ClosedNotice | None
    record_topic_event(platform, topic_id, kind, text, url="", actor_id=None) -> TopicEvent
    topic_timeline(topic_id) -> list[TopicEvent]                      (oldest first)
    import_topic(platform, project, author, title, source, kind=, ...) -> Topic (no gates)
    import_reply(platform, topic, author, source, created_at=None) -> Post      (no gates)
    import_edit(platform, post, source) -> Post          (the original changed; no gates)
    set_topic_plugin_data(topic_id, plugin_key, value)
    load_posts(viewer, topic) -> list[Post]     (what the viewer sees, in page order)

The write verbs ask the gates (forum/gates.py) through ``forum.topics.gating``: a refusal
is a 403 with its reason, a blocked text a 422, a held text is stored hidden.
"""

from __future__ import annotations

from forum.topics.accept import accept, check_accept, do_accept
from forum.topics.access import (
    PostContext,
    TopicContext,
    access_topic,
    load_viewer,
    locate_post,
    locate_topic,
    require_user,
)
from forum.topics.bookmarks import bookmark, bookmarked_post_ids, toggle_bookmark, unbookmark
from forum.topics.categories import (
    DEFAULT_CATEGORIES,
    check_create_category,
    check_delete_category,
    check_reorder_categories,
    check_update_category,
    ensure_default_categories,
    project_categories,
)
from forum.topics.create import TopicDraft, check_create_topic, create_topic, do_create_topic
from forum.topics.edit import (
    check_edit_post,
    do_edit_post,
    edit_post,
    revision_diff,
    revision_text,
    revisions,
    word_diff,
)
from forum.topics.hide import hide_post, unhide_post
from forum.topics.imports import import_edit, import_reply, import_topic, set_topic_plugin_data
from forum.topics.moderate import (
    delete_post,
    delete_topic,
    lock,
    move_topic,
    pin,
    rename,
    restore_post,
    restore_topic,
    retag,
    set_state,
    update_topic,
)
from forum.topics.queries import load_posts
from forum.topics.reply import check_reply, do_reply, reply
from forum.topics.tags import topic_tag_names
from forum.topics.timeline import record_topic_event, topic_timeline
from forum.topics.triage import (
    ClosedNotice,
    change_kind,
    close_topic,
    closed_notice,
    merge_topic,
    merged_target,
    split_topic,
)
from forum.topics.views import record_view
from forum.topics.votes import VoteResult, check_vote, do_vote, vote, vote_of
from forum.topics.writing import slugify

__all__ = [
    "DEFAULT_CATEGORIES",
    "ClosedNotice",
    "PostContext",
    "TopicContext",
    "TopicDraft",
    "VoteResult",
    "accept",
    "access_topic",
    "bookmark",
    "bookmarked_post_ids",
    "change_kind",
    "check_accept",
    "check_create_category",
    "check_create_topic",
    "check_delete_category",
    "check_edit_post",
    "check_reorder_categories",
    "check_reply",
    "check_update_category",
    "check_vote",
    "close_topic",
    "closed_notice",
    "create_topic",
    "delete_post",
    "delete_topic",
    "do_accept",
    "do_create_topic",
    "do_edit_post",
    "do_reply",
    "do_vote",
    "edit_post",
    "ensure_default_categories",
    "hide_post",
    "import_edit",
    "import_reply",
    "import_topic",
    "load_posts",
    "load_viewer",
    "locate_post",
    "locate_topic",
    "lock",
    "merge_topic",
    "merged_target",
    "move_topic",
    "pin",
    "project_categories",
    "record_topic_event",
    "record_view",
    "rename",
    "reply",
    "require_user",
    "restore_post",
    "restore_topic",
    "retag",
    "revision_diff",
    "revision_text",
    "revisions",
    "set_state",
    "set_topic_plugin_data",
    "slugify",
    "split_topic",
    "toggle_bookmark",
    "topic_tag_names",
    "topic_timeline",
    "unbookmark",
    "unhide_post",
    "update_topic",
    "vote",
    "vote_of",
    "word_diff",
]
