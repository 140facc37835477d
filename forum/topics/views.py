"""View counts: one counted view per viewer per topic per day."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from forum.topics.models import Topic, TopicView


async def record_view(topic: Topic, viewer_key: str) -> bool:
    """Count a view of ``topic`` by ``viewer_key`` (a user id, or a hash of the visitor's
    address) unless it was counted today; whether it counted."""
    key = viewer_key[:64]
    today = datetime.now(UTC).date()
    if await TopicView.exists(topic_id=topic.id, viewer=key, day=today):
        return False
    try:
        await TopicView.create(topic_id=topic.id, viewer=key, day=today)
    except IntegrityError:
        return False
    await Topic.filter(id=topic.id).update(view_count=F("view_count") + 1)
    return True
