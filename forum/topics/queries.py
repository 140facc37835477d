"""The read side of the forum: topic lists with keyset pagination, a topic with its posts,
and people's profiles, all filtered by what one viewer may read (``ReadScope``).

Lists page with an opaque cursor holding the last row's sort key and id, so a page never
repeats or skips a topic when others are posted meanwhile. A topic page costs the same
number of queries whatever its number of posts: posts with their authors in one query, the
the viewer's votes and bookmarks together in one.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise import connections
from tortoise.expressions import Q, Subquery
from tortoise.functions import Count, Min, Sum

from forum.accounts.models import User
from forum.projects.models import Membership, Project, Role
from forum.topics.models import (
    Category,
    Post,
    Tag,
    Topic,
    TopicKind,
    TopicState,
)
from forum.topics.permissions import (
    ReadScope,
    Viewer,
    can_accept,
    can_edit_post,
    can_post_in_category,
    can_reply,
    can_vote,
    hidden_q,
)
from forum.web.errors import Invalid

PAGE_SIZE = 30


class ListName(StrEnum):
    """The topic lists. ``unanswered``: open questions nobody has replied to yet;
    ``unsolved``: open questions without an accepted answer (replies or not);
    ``solved``: topics in the solved state."""

    LATEST = "latest"
    TOP = "top"
    UNANSWERED = "unanswered"
    SOLVED = "solved"
    UNSOLVED = "unsolved"


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    ALL = "all"


PERIOD_DAYS = {Period.DAY: 1, Period.WEEK: 7, Period.MONTH: 30, Period.YEAR: 365}


# Cursors


def encode_cursor(key: Any, row_id: int) -> str:
    value = key.isoformat() if isinstance(key, datetime) else key
    raw = json.dumps([value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, datetime_key: bool) -> tuple[Any, int]:
    """The (key, id) a cursor holds; a 422 for anything this module did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, row_id = json.loads(raw)
        if not isinstance(row_id, int) or isinstance(row_id, bool):
            raise ValueError("id")
        if datetime_key:
            key: Any = datetime.fromisoformat(value)
            if key.tzinfo is None:
                raise ValueError("naive")
        elif isinstance(value, int) and not isinstance(value, bool):
            key = value
        else:
            raise ValueError("key")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise Invalid("The page cursor is not valid.", fields={"cursor": "is not valid"}) from None
    return key, row_id


def after(field_name: str, key: Any, row_id: int, id_field: str = "id") -> Q:
    """Rows after (key, id) in descending (key, id) order."""
    return _q({f"{field_name}__lt": key}) | _q({field_name: key, f"{id_field}__lt": row_id})


# Read filters


def readable_q(scope: ReadScope, prefix: str = "") -> Q | None:
    """The topics ``scope`` may read (``prefix`` "topic__" filters posts by their topic);
    None when nothing in the project is readable."""
    if not scope.category_ids:
        return None
    q = _q({f"{prefix}project_id": scope.project_id,
            f"{prefix}category_id__in": sorted(scope.category_ids)})
    if not scope.see_deleted:
        q &= _q({f"{prefix}deleted_at__isnull": True})
    if not scope.see_private:
        public = _q({f"{prefix}is_private": False})
        if scope.user_id is not None:
            public |= _q({f"{prefix}author_id": scope.user_id})
        q &= public
    hidden = hidden_q(scope, prefix)
    if hidden is not None:
        q &= hidden
    return q


def _q(filters: dict[str, Any]) -> Q:
    return Q(**filters)


@dataclass(frozen=True)
class TopicFilter:
    list: ListName = ListName.LATEST
    period: Period = Period.ALL
    category_ids: tuple[int, ...] | None = None
    tag_id: int | None = None
    state: TopicState | None = None
    kind: TopicKind | None = None
    author_id: int | None = None
    exclude_pinned: bool = False


@dataclass
class TopicList:
    topics: list[Topic]
    next_cursor: str | None
    pinned: list[Topic] = field(default_factory=list)


def _sort_field(name: ListName) -> str:
    return "score" if name == ListName.TOP else "last_posted_at"


async def list_topics(scope: ReadScope, spec: TopicFilter, cursor: str | None = None,
                      limit: int = PAGE_SIZE) -> TopicList:
    """One page of a topic list, newest activity first (``top``: highest score first)."""
    sort = _sort_field(spec.list)
    position = decode_cursor(cursor, datetime_key=sort == "last_posted_at") if cursor else None
    base = readable_q(scope)
    if base is None:
        return TopicList([], None)
    query = Topic.filter(base)
    if spec.list == ListName.UNANSWERED:
        query = query.filter(kind=TopicKind.QUESTION, state=TopicState.OPEN, reply_count=0)
    elif spec.list == ListName.UNSOLVED:
        query = query.filter(kind=TopicKind.QUESTION, state=TopicState.OPEN,
                             accepted_post_id__isnull=True)
    elif spec.list == ListName.SOLVED:
        query = query.filter(state=TopicState.SOLVED)
    elif spec.list == ListName.TOP and spec.period != Period.ALL:
        since = datetime.now(UTC) - timedelta(days=PERIOD_DAYS[spec.period])
        query = query.filter(created_at__gte=since)
    if spec.category_ids is not None:
        query = query.filter(category_id__in=list(spec.category_ids))
    if spec.tag_id is not None:
        tagged = Topic.filter(tags__id=spec.tag_id).values("id")
        query = query.filter(id__in=Subquery(tagged))
    if spec.state is not None:
        query = query.filter(state=spec.state)
    if spec.kind is not None:
        query = query.filter(kind=spec.kind)
    if spec.author_id is not None:
        query = query.filter(author_id=spec.author_id)
    pinned: list[Topic] = []
    if spec.exclude_pinned:
        if cursor is None:
            pinned = await _with_relations(query.filter(pinned=True)
                                           .order_by("-last_posted_at", "-id").limit(limit))
        query = query.filter(pinned=False)
    if position is not None:
        query = query.filter(after(sort, *position))
    rows = await _with_relations(query.order_by(f"-{sort}", "-id").limit(limit + 1))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, sort), last.id)
    return TopicList(rows, next_cursor, pinned)


async def _with_relations(query: Any) -> list[Topic]:
    """The topics with their category, author, last poster and tags: a few narrow queries
    rather than one join of whole rows (a list shows only names)."""
    topics: list[Topic] = await query.prefetch_related("tags")
    if not topics:
        return topics
    user_ids = {t.author_id for t in topics} | {  # type: ignore[attr-defined]
        t.last_poster_id for t in topics if t.last_poster_id is not None}  # type: ignore[attr-defined]
    users = {u.id: u for u in await User.filter(id__in=sorted(user_ids)).only(
        "id", "username", "display_name")}
    category_ids = sorted({t.category_id for t in topics})  # type: ignore[attr-defined]
    categories = {c.id: c for c in await Category.filter(id__in=category_ids).only(
        "id", "slug", "name", "parent_id")}
    for t in topics:
        t.author = users[t.author_id]  # type: ignore[attr-defined]
        t.category = categories[t.category_id]  # type: ignore[attr-defined]
        t.last_poster = users.get(t.last_poster_id)  # type: ignore[attr-defined]
    return topics


# Categories and tags


@dataclass
class CategoryRow:
    category: Category
    children: list[Category]
    may_post: bool


async def readable_categories(scope: ReadScope) -> list[Category]:
    if not scope.category_ids:
        return []
    return await Category.filter(project_id=scope.project_id,
                                 id__in=sorted(scope.category_ids)).order_by("position", "name")


async def category_tree(viewer: Viewer, scope: ReadScope) -> list[CategoryRow]:
    """Top-level readable categories, each with its readable sub-categories."""
    categories = await readable_categories(scope)
    children: dict[int, list[Category]] = {}
    for c in categories:
        parent_id = c.parent_id  # type: ignore[attr-defined]
        if parent_id is not None:
            children.setdefault(parent_id, []).append(c)
    return [CategoryRow(c, children.get(c.id, []), can_post_in_category(viewer, c))
            for c in categories if c.parent_id is None]  # type: ignore[attr-defined]


async def postable_categories(viewer: Viewer, scope: ReadScope) -> list[Category]:
    return [c for c in await readable_categories(scope) if can_post_in_category(viewer, c)]


async def tags_of(project_id: int, limit: int = 200) -> list[Tag]:
    return await Tag.filter(project_id=project_id).order_by("-topic_count", "name").limit(limit)


# A topic with its posts


@dataclass
class PostView:
    post: Post
    my_vote: int
    bookmarked: bool
    accepted: bool
    can_edit: bool
    can_vote: bool


@dataclass
class TopicPage:
    topic: Topic
    category: Category
    posts: list[PostView]
    tags: list[Tag]
    can_reply: bool
    can_accept: bool
    accepted: PostView | None


def order_posts(topic: Topic, posts: list[Post]) -> list[Post]:
    """Questions: the opening post, the accepted answer, then by score (ties: oldest first).
    Everything else: in the order written."""
    if topic.kind != TopicKind.QUESTION:
        return sorted(posts, key=lambda p: p.number)
    opening = [p for p in posts if p.number == 1]
    answers = [p for p in posts if p.number != 1]
    answers.sort(key=lambda p: (p.id != topic.accepted_post_id, -p.score, p.created_at, p.id))
    return opening + answers


# What a topic page shows of a post (not plugin_data, which would be parsed for nothing).
POST_FIELDS = ("id", "topic_id", "author_id", "number", "reply_to_id", "source", "cooked",
               "score", "upvotes", "downvotes", "edit_count", "created_at", "edited_at",
               "deleted_at", "hidden_at", "hidden_reason")


async def load_posts(viewer: Viewer, topic: Topic) -> list[Post]:
    """The posts of a readable topic that ``viewer`` sees, in page order, with their
    authors' shown fields (two queries whatever the number of posts)."""
    query = Post.filter(topic_id=topic.id)
    if not viewer.is_moderator:
        query = query.filter(deleted_at__isnull=True)
        # Hidden posts (held for review, hidden by flags): moderators and their authors.
        visible = Q(hidden_at__isnull=True)
        if viewer.user_id is not None:
            visible |= Q(author_id=viewer.user_id)
        query = query.filter(visible)
    posts: list[Post] = await query.order_by("number").only(*POST_FIELDS)
    # Authors in one query of their few shown fields (cheaper than a join of whole rows).
    author_ids = sorted({p.author_id for p in posts})  # type: ignore[attr-defined]
    authors = {u.id: u for u in await User.filter(id__in=author_ids).only(
        "id", "username", "display_name")} if author_ids else {}
    for p in posts:
        p.author = authors[p.author_id]  # type: ignore[attr-defined]
    return order_posts(topic, posts)


@dataclass(frozen=True)
class ViewerMarks:
    """The viewer's own votes (post id to +1/-1) and bookmarks in one topic."""

    votes: dict[int, int]
    bookmarks: frozenset[int]


NO_MARKS = ViewerMarks({}, frozenset())


# The viewer's votes (value +1/-1) and bookmarks (value 0) in one topic, in one round trip:
# by topic (a join) rather than a list of a hundred post ids to bind.
MARKS_SQL = (
    "SELECT v.post_id, v.value FROM votes v JOIN posts p ON p.id = v.post_id"
    " WHERE v.user_id = {a} AND p.topic_id = {b}"
    " UNION ALL "
    "SELECT b.post_id, 0 FROM bookmarks b JOIN posts p ON p.id = b.post_id"
    " WHERE b.user_id = {a} AND p.topic_id = {b}")


async def viewer_marks(viewer: Viewer, topic: Topic) -> ViewerMarks:
    if viewer.user is None:
        return NO_MARKS
    db = connections.get("default")
    sqlite = db.capabilities.dialect == "sqlite"
    sql = MARKS_SQL.format(a="?" if sqlite else "$1", b="?" if sqlite else "$2")
    params = [viewer.user.id, topic.id, viewer.user.id, topic.id] if sqlite \
        else [viewer.user.id, topic.id]
    _, rows = await db.execute_query(sql, params)
    votes: dict[int, int] = {}
    bookmarks: set[int] = set()
    for row in rows:
        post_id, value = int(row[0]), int(row[1])
        if value:
            votes[post_id] = value
        else:
            bookmarks.add(post_id)
    return ViewerMarks(votes, frozenset(bookmarks))


def post_view(viewer: Viewer, project: Project, topic: Topic, post: Post, marks: ViewerMarks,
              now: datetime) -> PostView:
    return PostView(post, marks.votes.get(post.id, 0), post.id in marks.bookmarks,
                    post.id == topic.accepted_post_id,
                    can_edit_post(viewer, post, topic, project, now), can_vote(viewer, post))


def may_reply_and_accept(viewer: Viewer, topic: Topic, category: Category) -> tuple[bool, bool]:
    return (can_reply(viewer, topic, category),
            topic.kind == TopicKind.QUESTION and can_accept(viewer, topic))


async def topic_page(viewer: Viewer, project: Project, topic: Topic,
                     category: Category) -> TopicPage:
    """``topic`` must already be readable by ``viewer`` (see routes.access_topic)."""
    posts = await load_posts(viewer, topic)
    marks = await viewer_marks(viewer, topic)
    tags = await topic.tags.all().order_by("name")
    now = datetime.now(UTC)
    views = [post_view(viewer, project, topic, p, marks, now) for p in posts]
    accepted = next((v for v in views if v.accepted), None)
    return TopicPage(topic, category, views, tags, *may_reply_and_accept(viewer, topic, category),
                     accepted)


# People


class ProfileTab(StrEnum):
    TOPICS = "topics"
    ANSWERS = "answers"
    ACCEPTED = "accepted"


@dataclass(frozen=True)
class ProfileStats:
    topics: int
    answers: int
    accepted: int
    upvotes: int
    downvotes: int

    @property
    def score(self) -> int:
        return self.upvotes - self.downvotes


@dataclass
class PostList:
    posts: list[Post]
    next_cursor: str | None


def _answers_q(scope: ReadScope, base: Q) -> Q:
    q = base & Q(number__gt=1)
    if not scope.see_deleted:
        q &= Q(deleted_at__isnull=True)
    hidden = hidden_q(scope)
    if hidden is not None:
        q &= hidden
    return q


def accepted_post_ids(scope: ReadScope) -> Subquery:
    """The accepted answers of the topics ``scope`` reads, as a subquery."""
    base = readable_q(scope)
    assert base is not None
    return Subquery(Topic.filter(base, accepted_post_id__isnull=False).values(
        "accepted_post_id"))


async def profile_stats(scope: ReadScope, user: User) -> ProfileStats:
    base = readable_q(scope)
    post_base = readable_q(scope, "topic__")
    if base is None or post_base is None:
        return ProfileStats(0, 0, 0, 0, 0)
    topics = await Topic.filter(base, author_id=user.id).count()
    answers_q = _answers_q(scope, post_base) & Q(author_id=user.id)
    answers = await Post.filter(answers_q).count()
    accepted = await Post.filter(answers_q, id__in=accepted_post_ids(scope)).count()
    votes_q = post_base & Q(author_id=user.id)
    if not scope.see_deleted:
        votes_q &= Q(deleted_at__isnull=True)
    hidden = hidden_q(scope)
    if hidden is not None:
        votes_q &= hidden
    sums = await Post.filter(votes_q).annotate(up=Sum("upvotes"), down=Sum("downvotes")
                                               ).group_by("author_id").values("up", "down")
    up = int(sums[0]["up"] or 0) if sums else 0
    down = int(sums[0]["down"] or 0) if sums else 0
    return ProfileStats(topics, answers, accepted, up, down)


async def profile_posts(scope: ReadScope, user: User, tab: ProfileTab,
                        cursor: str | None = None, limit: int = PAGE_SIZE) -> PostList:
    """A user's answers (or accepted answers), newest first, with their topics."""
    position = decode_cursor(cursor, datetime_key=True) if cursor else None
    post_base = readable_q(scope, "topic__")
    if post_base is None:
        return PostList([], None)
    query = Post.filter(_answers_q(scope, post_base), author_id=user.id)
    if tab == ProfileTab.ACCEPTED:
        query = query.filter(id__in=accepted_post_ids(scope))
    if position is not None:
        query = query.filter(after("created_at", *position))
    rows: list[Post] = await query.select_related("topic").order_by(
        "-created_at", "-id").limit(limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id)
    return PostList(rows, next_cursor)


class DirectoryOrder(StrEnum):
    ANSWERS = "answers"
    ACCEPTED = "accepted"
    JOINED = "joined"


@dataclass(frozen=True)
class DirectoryRow:
    user: User
    answers: int
    accepted: int
    joined: datetime
    role: Role | None


@dataclass
class Directory:
    rows: list[DirectoryRow]
    next_cursor: str | None


async def user_directory(scope: ReadScope, order: DirectoryOrder, cursor: str | None = None,
                         limit: int = PAGE_SIZE) -> Directory:
    """The project's members and everyone who wrote something the viewer can read.

    ``joined`` is the membership's start, or the first readable post for non-members.
    Sorted by ``order`` (largest or newest first, ties by user id).
    """
    answers: dict[int, int] = {}
    accepted: dict[int, int] = {}
    first_post: dict[int, datetime] = {}
    post_base = readable_q(scope, "topic__")
    if post_base is not None:
        visible = post_base if scope.see_deleted else post_base & Q(deleted_at__isnull=True)
        hidden = hidden_q(scope)
        if hidden is not None:
            visible &= hidden
        for uid, n in await Post.filter(_answers_q(scope, post_base)).annotate(
                n=Count("id")).group_by("author_id").values_list("author_id", "n"):
            answers[int(uid)] = int(n)
        for uid, n in await Post.filter(_answers_q(scope, post_base),
                                        id__in=accepted_post_ids(scope)).annotate(
                n=Count("id")).group_by("author_id").values_list("author_id", "n"):
            accepted[int(uid)] = int(n)
        for uid, first in await Post.filter(visible).annotate(first=Min("created_at")).group_by(
                "author_id").values_list("author_id", "first"):
            first_post[int(uid)] = _aware(first)
    members = {int(uid): (Role(role), _aware(since)) for uid, role, since in
               await Membership.filter(project_id=scope.project_id).values_list(
                   "user_id", "role", "created_at")}
    ids = set(first_post) | set(members)
    users = {u.id: u for u in await User.filter(id__in=sorted(ids), is_active=True)} if ids else {}
    rows = [DirectoryRow(u, answers.get(uid, 0), accepted.get(uid, 0),
                         members[uid][1] if uid in members else first_post[uid],
                         members[uid][0] if uid in members else None)
            for uid, u in users.items()]

    def key(row: DirectoryRow) -> Any:
        if order == DirectoryOrder.JOINED:
            return row.joined.isoformat()
        return row.answers if order == DirectoryOrder.ANSWERS else row.accepted

    rows.sort(key=lambda r: (key(r), r.user.id), reverse=True)
    if cursor:
        value, row_id = decode_cursor(cursor, datetime_key=order == DirectoryOrder.JOINED)
        if isinstance(value, datetime):
            value = value.isoformat()
        rows = [r for r in rows if (key(r), r.user.id) < (value, row_id)]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(last.joined if order == DirectoryOrder.JOINED else key(last),
                                    last.user.id)
    return Directory(rows, next_cursor)


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def anonymous_viewer() -> Viewer:
    return Viewer(None, None, False)


def latest_activity(topics: list[Topic]) -> datetime:
    return max((t.last_posted_at for t in topics), default=datetime.now(UTC))

