"""A topic's timeline: events beside its posts (see ``TopicEvent``).

Recording an event touches the topic's ``updated_at``, which is part of the topic page's
cache version, so every viewer sees the new line at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from forum import events
from forum.topics.models import Topic, TopicEvent

if TYPE_CHECKING:
    from forum.platform import Platform

MAX_TEXT = 500


async def record_topic_event(platform: Platform, topic_id: int, kind: str, text: str,
                             url: str = "", actor_id: int | None = None) -> TopicEvent:
    """Add a line to the topic's timeline and tell the topic's listeners it changed."""
    async with in_transaction():
        event = await TopicEvent.create(topic_id=topic_id, kind=kind[:60],
                                        text=text[:MAX_TEXT], url=url[:500],
                                        actor_id=actor_id)
        await Topic.filter(id=topic_id).update(updated_at=datetime.now(UTC))
    row = await Topic.get(id=topic_id).values("project_id")
    project_id: int = row["project_id"]
    await platform.emit(events.TopicChanged(
        project=project_id, topic_id=topic_id, actor_id=actor_id, change="timeline"))
    return event


async def topic_timeline(topic_id: int) -> list[TopicEvent]:
    """The topic's events, oldest first."""
    return await TopicEvent.filter(topic_id=topic_id).order_by("created_at", "id")
