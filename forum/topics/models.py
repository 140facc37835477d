"""The forum itself: categories, tags, topics, posts, revisions, votes and bookmarks."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.projects.models import Project


class Access(StrEnum):
    """Who may read a category, or start topics in it."""

    EVERYONE = "everyone"  # reading: anyone who can see the project; posting: any signed-in user
    MEMBERS = "members"  # members of the project (any role)
    TEAM = "team"  # owner, lead, maintainer, supporter, moderator


class TopicKind(StrEnum):
    QUESTION = "question"
    DISCUSSION = "discussion"
    ANNOUNCEMENT = "announcement"
    BUG_REPORT = "bug_report"
    SECURITY_REPORT = "security_report"
    TICKET = "ticket"  # with a forum.support_queue Ticket record
    EXTERNAL = "external"  # mirrored from elsewhere; plugin_data says where (a bridge plugin)


class TopicState(StrEnum):
    OPEN = "open"
    SOLVED = "solved"
    CLOSED = "closed"
    ARCHIVED = "archived"


class CloseReason(StrEnum):
    """Why a moderator closed a topic (shown on the topic)."""

    DUPLICATE = "duplicate"  # of ``Topic.duplicate_of_id``
    OFF_TOPIC = "off_topic"
    RESOLVED_ELSEWHERE = "resolved_elsewhere"  # at the URL in ``Topic.close_detail``
    OTHER = "other"  # explained in ``Topic.close_detail``


class Category(Model):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="categories", on_delete=fields.CASCADE)
    parent: fields.ForeignKeyNullableRelation[Category] = fields.ForeignKeyField(
        "forum.Category", related_name="children", null=True, on_delete=fields.CASCADE)
    name = fields.CharField(max_length=60)
    slug = fields.CharField(max_length=60)
    description = fields.TextField(default="")
    color = fields.CharField(max_length=7, default="#2756d6")  # "#rrggbb"
    position = fields.IntField(default=0)
    read_access = fields.CharEnumField(Access, default=Access.EVERYONE)
    post_access = fields.CharEnumField(Access, default=Access.EVERYONE)
    # Each topic is seen only by the team and its author (security reports).
    private_topics = fields.BooleanField(default=False)
    default_kind = fields.CharEnumField(TopicKind, default=TopicKind.QUESTION)
    topic_count = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "categories"
        unique_together = (("project", "slug"),)


class Tag(Model):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="tags", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=40)  # lower-case, letters, digits, "-", ".", "+", "#"
    description = fields.TextField(default="")
    topic_count = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tags"
        unique_together = (("project", "name"),)


class Topic(Model):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name="topics", on_delete=fields.CASCADE)
    category: fields.ForeignKeyRelation[Category] = fields.ForeignKeyField(
        "forum.Category", related_name="topics", on_delete=fields.RESTRICT)
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="topics", on_delete=fields.RESTRICT)
    kind = fields.CharEnumField(TopicKind, default=TopicKind.QUESTION)
    title = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=80)  # from the title; the id alone finds the topic
    state = fields.CharEnumField(TopicState, default=TopicState.OPEN)
    pinned = fields.BooleanField(default=False)
    locked = fields.BooleanField(default=False)
    # Seen only by the team and the author (security reports, private tickets later).
    is_private = fields.BooleanField(default=False)
    # The accepted answer's post id. A plain column: a foreign key would make topics and
    # posts reference each other, which the schema builder cannot order.
    accepted_post_id = fields.IntField(null=True)
    tags: fields.ManyToManyRelation[Tag] = fields.ManyToManyField(
        "forum.Tag", related_name="topics", through="topic_tags")
    score = fields.IntField(default=0)  # the opening post's score, for ordering lists
    reply_count = fields.IntField(default=0)  # visible posts after the first
    view_count = fields.IntField(default=0)
    last_posted_at = fields.DatetimeField(db_index=True)
    last_poster: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)
    deleted_at = fields.DatetimeField(null=True)
    deleted_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    # Hidden pending review because its opening post is (held when written, or hidden by
    # flags or a moderator): seen only by its author and moderators.
    hidden_at = fields.DatetimeField(null=True)
    # Merged into another topic (plain ids, like accepted_post_id): its URL redirects there.
    merged_into_id = fields.IntField(null=True)
    close_reason = fields.CharField(max_length=32, default="")  # a CloseReason, or ""
    close_detail = fields.CharField(max_length=500, default="")  # a URL or a note
    duplicate_of_id = fields.IntField(null=True)
    # Plugins keep their own per-topic fields here, keyed by plugin name.
    plugin_data = fields.JSONField[dict[str, object]](default=dict)

    class Meta:
        table = "topics"
        indexes = (("project_id", "last_posted_at"), ("project_id", "created_at"))


class Post(Model):
    id = fields.IntField(primary_key=True)
    topic: fields.ForeignKeyRelation[Topic] = fields.ForeignKeyField(
        "forum.Topic", related_name="posts", on_delete=fields.CASCADE)
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="posts", on_delete=fields.RESTRICT)
    number = fields.IntField()  # 1 is the opening post
    reply_to: fields.ForeignKeyNullableRelation[Post] = fields.ForeignKeyField(
        "forum.Post", related_name="replies", null=True, on_delete=fields.SET_NULL)
    source = fields.TextField()  # markdown as written
    cooked = fields.TextField()  # sanitised HTML, made once when written
    score = fields.IntField(default=0)
    upvotes = fields.IntField(default=0)
    downvotes = fields.IntField(default=0)
    edit_count = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    edited_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)
    deleted_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    # Hidden pending review: seen only by its author (with a "waiting for review" note) and
    # moderators. ``held``: hidden when written, so its creation was never announced.
    hidden_at = fields.DatetimeField(null=True)
    hidden_reason = fields.CharField(max_length=200, default="")
    held = fields.BooleanField(default=False)
    plugin_data = fields.JSONField[dict[str, object]](default=dict)

    class Meta:
        table = "posts"
        unique_together = (("topic", "number"),)


class PostRevision(Model):
    """What a post (and, for the opening post, its topic's title) said before an edit."""

    id = fields.IntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "forum.Post", related_name="revisions", on_delete=fields.CASCADE)
    number = fields.IntField()  # 1 is the original text
    source = fields.TextField()
    title = fields.CharField(max_length=200, null=True)
    editor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    reason = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "post_revisions"
        unique_together = (("post", "number"),)


class Vote(Model):
    id = fields.IntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "forum.Post", related_name="votes", on_delete=fields.CASCADE)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="votes", on_delete=fields.CASCADE)
    value = fields.SmallIntField()  # +1 or -1; withdrawing a vote deletes the row
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "votes"
        unique_together = (("post", "user"),)


class Bookmark(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name="bookmarks", on_delete=fields.CASCADE)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "forum.Post", related_name="bookmarks", on_delete=fields.CASCADE)
    note = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "bookmarks"
        unique_together = (("user", "post"),)


class TopicView(Model):
    """One counted view per viewer (user id, or a hash of the address) per topic per day."""

    id = fields.IntField(primary_key=True)
    topic: fields.ForeignKeyRelation[Topic] = fields.ForeignKeyField(
        "forum.Topic", related_name="views", on_delete=fields.CASCADE)
    viewer = fields.CharField(max_length=64)
    day = fields.DateField()

    class Meta:
        table = "topic_views"
        unique_together = (("topic", "viewer", "day"),)


class TopicEvent(Model):
    """A line in a topic's timeline between its posts: something that happened to it
    outside a post (escalated to a GitHub issue, the issue closed, imported from elsewhere).
    ``kind`` is namespaced by who records it ("github.escalated")."""

    id = fields.IntField(primary_key=True)
    topic: fields.ForeignKeyRelation[Topic] = fields.ForeignKeyField(
        "forum.Topic", related_name="timeline", on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=60)
    text = fields.CharField(max_length=500)  # one plain sentence, escaped when shown
    url = fields.CharField(max_length=500, default="")
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "topic_events"
        indexes = (("topic_id", "created_at"),)
