"""What the topics API and the service verbs take and give: pydantic models, validated once.

The text rules live here so the API (422 with per-field messages), the page forms and the
service verbs apply the same ones: a title is 5 to 200 characters with at least one letter
or digit; a post body is 1 to 32,000 characters with at least one letter, digit or symbol
that is not punctuation (an image or a code block counts).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from forum.topics.models import Access, CloseReason, TopicKind, TopicState

TITLE_MIN = 5
TITLE_MAX = 200
BODY_MAX = 32_000
MAX_TAGS = 5
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9.+#-]{0,39}$")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


def _meaningful(text: str) -> bool:
    """Whether the text holds more than punctuation and whitespace."""
    return any(not unicodedata.category(ch).startswith(("P", "Z", "C")) for ch in text)


def clean_title(value: str) -> str:
    title = " ".join(value.split())
    if not title:
        raise ValueError("Please give a title.")
    if len(title) < TITLE_MIN:
        raise ValueError(f"A title needs at least {TITLE_MIN} characters.")
    if len(title) > TITLE_MAX:
        raise ValueError(f"A title has at most {TITLE_MAX} characters.")
    if not any(ch.isalnum() for ch in title):
        raise ValueError("A title needs letters or digits, not only punctuation.")
    return title


def clean_body(value: str) -> str:
    body = value.replace("\r\n", "\n").strip()
    if not body:
        raise ValueError("Please write something.")
    if len(body) > BODY_MAX:
        raise ValueError(f"A post has at most {BODY_MAX:,} characters.")
    if not _meaningful(body):
        raise ValueError("A post needs more than punctuation.")
    return body


def clean_tag(value: str) -> str:
    name = value.strip().lower()
    if not TAG_RE.match(name):
        raise ValueError(f'"{value.strip()[:40]}" is not a tag name: use up to 40 letters, '
                         "digits, '-', '.', '+' or '#', starting with a letter or digit.")
    return name


def clean_tags(values: list[str]) -> list[str]:
    names: list[str] = []
    for value in values:
        if value.strip():
            name = clean_tag(value)
            if name not in names:
                names.append(name)
    if len(names) > MAX_TAGS:
        raise ValueError(f"A topic has at most {MAX_TAGS} tags.")
    return names


def clean_category_name(value: str) -> str:
    name = " ".join(value.split())
    if not any(ch.isalnum() for ch in name):
        raise ValueError("A category name needs letters or digits.")
    return name


def clean_color(value: str) -> str:
    if not COLOR_RE.match(value):
        raise ValueError("A colour is written #rrggbb.")
    return value.lower()


Title = Annotated[str, Field(max_length=2 * TITLE_MAX), AfterValidator(clean_title)]
Body = Annotated[str, Field(max_length=4 * BODY_MAX), AfterValidator(clean_body)]
Tags = Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=50),
                 AfterValidator(clean_tags)]
Color = Annotated[str, AfterValidator(clean_color)]
CategoryName = Annotated[str, Field(min_length=1, max_length=60),
                         AfterValidator(clean_category_name)]
# A row id: the database's 32-bit integer, so a huge number is a 422, not a database error.
MAX_ID = 2_147_483_647
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Topics and posts


class TopicIn(_In):
    """A new topic with its opening post. ``kind`` defaults to the category's kind."""

    title: Title
    source: Body
    category_id: RowId
    kind: TopicKind | None = None
    tags: Tags = []


class ReplyIn(_In):
    source: Body
    reply_to: RowId | None = Field(default=None, description="The id of a post of this topic")


class PostEditIn(_In):
    """A new text for a post; ``title`` renames the topic (opening post only)."""

    source: Body
    title: Title | None = None
    reason: Annotated[str, Field(max_length=200)] = ""


class TopicPatch(_In):
    """Change a topic: the title by its author (in the edit window) or a moderator; the rest
    by moderators, except tags, which the author may also change."""

    title: Title | None = None
    category_id: RowId | None = None
    tags: Tags | None = None
    state: TopicState | None = None
    pinned: bool | None = None
    locked: bool | None = None


class VoteIn(_In):
    value: int = Field(ge=-1, le=1, strict=True, description="1 up, -1 down, 0 withdraws")


class AcceptIn(_In):
    post_id: RowId | None = Field(description="The answer to accept; null withdraws")


# Triage (moderators and leads)


class MoveIn(_In):
    category_id: RowId


class KindIn(_In):
    kind: TopicKind = Field(description="security_report makes the topic private")


class MergeIn(_In):
    target_id: RowId = Field(description="The topic the posts move to; this one redirects "
                                         "there")


class SplitIn(_In):
    post_ids: Annotated[list[RowId], Field(min_length=1, max_length=200)] = Field(
        description="Replies of this topic; the earliest opens the new topic")
    title: Title
    category_id: RowId | None = Field(default=None,
                                      description="Default: the topic's category")


class CloseIn(_In):
    reason: CloseReason
    duplicate_of: RowId | None = Field(default=None,
                                       description="reason duplicate: the original topic")
    url: Annotated[str, Field(max_length=500)] = Field(
        default="", description="reason resolved_elsewhere: where")
    note: Annotated[str, Field(max_length=500)] = Field(
        default="", description="reason other: why (optional for the others)")


class PostOut(BaseModel):
    id: int
    topic_id: int
    number: int
    author: str
    reply_to: int | None
    source: str
    cooked: str
    score: int
    upvotes: int
    downvotes: int
    edit_count: int
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    waiting_for_review: bool = Field(default=False,
                                     description="Hidden until a moderator approves it")


class TopicOut(BaseModel):
    id: int
    project: str
    category_id: int
    author: str
    kind: TopicKind
    title: str
    slug: str
    url: str
    state: TopicState
    pinned: bool
    locked: bool
    is_private: bool
    accepted_post_id: int | None
    score: int
    reply_count: int
    view_count: int
    tags: list[str]
    created_at: datetime
    last_posted_at: datetime
    deleted: bool
    waiting_for_review: bool = Field(default=False,
                                     description="Hidden until a moderator approves it")
    merged_into_id: int | None = None
    close_reason: CloseReason | None = None
    close_detail: str = Field(default="", description="The URL or note of the close reason")
    duplicate_of_id: int | None = None


class TopicCreatedOut(TopicOut):
    post: PostOut


class VoteOut(BaseModel):
    post_id: int
    value: int
    score: int
    upvotes: int
    downvotes: int


class BookmarkOut(BaseModel):
    post_id: int
    bookmarked: bool


class RevisionOut(BaseModel):
    number: int
    title: str | None
    source: str
    editor: str | None
    reason: str
    created_at: datetime
    diff_html: str = Field(description="Word diff to the next version, <ins>/<del> marked")


class RevisionList(BaseModel):
    post_id: int
    current_source: str
    revisions: list[RevisionOut]


# Categories


class CategoryIn(_In):
    name: CategoryName
    slug: Annotated[str, Field(max_length=60)] | None = None
    description: Annotated[str, Field(max_length=2000)] = ""
    color: Color = "#2756d6"
    parent_id: RowId | None = None
    read_access: Access = Access.EVERYONE
    post_access: Access = Access.EVERYONE
    private_topics: bool = False
    default_kind: TopicKind = TopicKind.QUESTION


class CategoryPatch(_In):
    name: CategoryName | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None
    color: Color | None = None
    read_access: Access | None = None
    post_access: Access | None = None
    private_topics: bool | None = None
    default_kind: TopicKind | None = None


class CategoryOrder(_In):
    """Category ids in their new order (positions 0, 1, 2 ...)."""

    ids: Annotated[list[RowId], Field(min_length=1, max_length=200)]


class CategoryOut(BaseModel):
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
    default_kind: TopicKind
    topic_count: int


class CategoryList(BaseModel):
    categories: list[CategoryOut]
