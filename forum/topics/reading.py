"""How far each user has read each topic: the highest post number they have seen.

The topic page moves a reader's position forward (``mark_read``); the notifications
domain turns positions into unread counts for the topics a user tracks or watches. A
position never moves back, so reading an old link to post 3 keeps post 40 read.

A reader reloading a page costs no query: ``ReadMemo`` remembers the positions this
process last wrote. It is bounded, and only an optimisation: the database keeps the
position forward-only whatever the memo says.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from starlette.requests import Request

    from forum.accounts.models import User
    from forum.hookspecs import UnreadPosts
    from forum.platform import Platform
    from forum.topics.models import Topic
    from forum.topics.permissions import Viewer
    from forum.topics.queries import TopicList

READ_MEMORY = 50_000


class TopicRead(Model):
    """A user's read position in a topic: every post numbered up to it has been seen."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    topic: fields.ForeignKeyRelation[Topic] = fields.ForeignKeyField(
        "forum.Topic", related_name=False, on_delete=fields.CASCADE)
    last_read_number = fields.IntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "topic_reads"
        unique_together = (("user", "topic"),)


class ReadMemo:
    """The (user, topic) positions this process last wrote, least recently used first."""

    def __init__(self, max_entries: int = READ_MEMORY) -> None:
        self.max_entries = max_entries
        self.positions: OrderedDict[tuple[int, int], int] = OrderedDict()

    def get(self, user_id: int, topic_id: int) -> int:
        return self.positions.get((user_id, topic_id), 0)

    def put(self, user_id: int, topic_id: int, number: int) -> None:
        key = (user_id, topic_id)
        self.positions[key] = max(number, self.positions.get(key, 0))
        self.positions.move_to_end(key)
        while len(self.positions) > self.max_entries:
            self.positions.popitem(last=False)


def read_memo(state: Any) -> ReadMemo:
    """The process's memo, kept on ``app.state``."""
    memo: ReadMemo | None = getattr(state, "read_positions", None)
    if memo is None:
        memo = state.read_positions = ReadMemo()
    return memo


async def mark_read(user_id: int, topic_id: int, number: int, *,
                    memo: ReadMemo | None = None) -> None:
    """Move ``user_id``'s position in ``topic_id`` forward to ``number`` (never back).

    One statement (an insert that, on conflict, updates only a position that is behind);
    none at all when ``memo`` says this process already wrote ``number`` or more.
    """
    if number <= 0:
        return
    if memo is not None:
        if memo.get(user_id, topic_id) >= number:
            return
        memo.put(user_id, topic_id, number)
    db = TopicRead._meta.db
    marks = ["?"] * 4 if db.capabilities.dialect == "sqlite" else [f"${i}" for i in range(1, 5)]
    await db.execute_query(
        "INSERT INTO topic_reads (user_id, topic_id, last_read_number, updated_at)"
        f" VALUES ({', '.join(marks)}) ON CONFLICT (user_id, topic_id) DO UPDATE"
        " SET last_read_number = excluded.last_read_number, updated_at = excluded.updated_at"
        " WHERE topic_reads.last_read_number < excluded.last_read_number",
        [user_id, topic_id, number, datetime.now(UTC)])


async def read_positions(user_id: int, topic_ids: list[int]) -> dict[int, int]:
    """``user_id``'s positions in these topics (topics never opened are left out)."""
    if not topic_ids:
        return {}
    rows: list[Any] = await TopicRead.filter(user_id=user_id, topic_id__in=topic_ids
                                             ).values_list("topic_id", "last_read_number")
    return {int(topic_id): int(number) for topic_id, number in rows}


async def listed_unread(request: Request, viewer: Viewer, *listings: TopicList
                        ) -> dict[int, UnreadPosts]:
    """Unread posts per listed topic that the signed-in viewer tracks or watches (one
    ``forum_topic_unread`` call per page); nothing for visitors."""
    if viewer.user is None:
        return {}
    ids = [t.id for listing in listings for t in (*listing.pinned, *listing.topics)]
    platform: Platform = request.app.state.platform
    return await platform.unread(viewer.user.id, ids)
