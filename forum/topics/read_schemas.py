"""What the read API gives: topic lists with a cursor, a topic with its posts, categories,
tags and a person's profile in a project."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from forum.topics.models import Access, TopicKind, TopicState


class TopicSummary(BaseModel):
    id: int
    title: str
    slug: str
    url: str
    kind: TopicKind
    state: TopicState
    category: str = Field(description="The category's slug")
    author: str
    tags: list[str]
    pinned: bool
    locked: bool
    is_private: bool
    score: int
    reply_count: int
    view_count: int
    accepted_post_id: int | None
    created_at: datetime
    last_posted_at: datetime
    deleted: bool
    waiting_for_review: bool = Field(default=False,
                                     description="Hidden until a moderator approves it "
                                                 "(seen by its author and moderators)")
    merged_into_id: int | None = None
    close_reason: str | None = Field(default=None, description="duplicate, off_topic, "
                                     "resolved_elsewhere or other, when closed with one")
    close_detail: str = ""
    duplicate_of_id: int | None = None


class TopicPageOut(BaseModel):
    items: list[TopicSummary]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")


class PostRead(BaseModel):
    id: int
    number: int
    author: str
    reply_to: int | None
    cooked: str
    source: str
    score: int
    upvotes: int
    downvotes: int
    accepted: bool
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    my_vote: int | None = Field(description="The caller's vote (1, -1, 0); null anonymous")
    bookmarked: bool
    waiting_for_review: bool = Field(default=False,
                                     description="Hidden until a moderator approves it "
                                                 "(seen by its author and moderators)")


class TopicDetail(TopicSummary):
    project: str
    posts: list[PostRead] = Field(description="Questions: opening post, accepted answer, "
                                              "then by score; otherwise in order written")


class CategoryRead(BaseModel):
    id: int
    parent_id: int | None
    name: str
    slug: str
    description: str
    color: str
    position: int
    read_access: Access
    post_access: Access
    private_topics: bool
    topic_count: int
    may_post: bool


class CategoriesOut(BaseModel):
    categories: list[CategoryRead]


class TagRead(BaseModel):
    name: str
    description: str
    topic_count: int


class TagsOut(BaseModel):
    tags: list[TagRead]


class ProfileOut(BaseModel):
    username: str
    display_name: str
    role: str | None
    topics: int
    answers: int
    accepted: int
    upvotes: int
    downvotes: int
    recent_topics: list[TopicSummary]
