"""View counts: one counted view per viewer per topic per day."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, date, datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from forum.topics.models import Topic, TopicView

COUNTED_MEMORY = 50_000


class CountedToday:
    """The (topic, viewer, day) triples this process has already counted, so a reader
    reloading a page costs no query. Bounded; a forgotten triple is checked in the
    database again, where a unique key keeps it counted once across processes."""

    def __init__(self, max_entries: int = COUNTED_MEMORY) -> None:
        self.max_entries = max_entries
        self.seen: OrderedDict[tuple[int, str, date], None] = OrderedDict()

    def __contains__(self, key: tuple[int, str, date]) -> bool:
        return key in self.seen

    def add(self, key: tuple[int, str, date]) -> None:
        self.seen[key] = None
        if len(self.seen) > self.max_entries:
            self.seen.popitem(last=False)


async def record_view(topic: Topic, viewer_key: str, counted: CountedToday | None = None
                      ) -> bool:
    """Count a view of ``topic`` by ``viewer_key`` (a user id, or a hash of the visitor's
    address) unless it was counted today; whether it counted. ``counted`` remembers what
    this process already counted."""
    key = viewer_key[:64]
    today = datetime.now(UTC).date()
    memo = (topic.id, key, today)
    if counted is not None:
        if memo in counted:
            return False
        counted.add(memo)
    if await TopicView.exists(topic_id=topic.id, viewer=key, day=today):
        return False
    try:
        await TopicView.create(topic_id=topic.id, viewer=key, day=today)
    except IntegrityError:
        return False
    await Topic.filter(id=topic.id).update(view_count=F("view_count") + 1)
    return True
