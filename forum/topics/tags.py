"""Tags: created on first use by those allowed (signed in, ``can_create_tags``, and not
refused ``Act.CREATE_TAG`` by the gates), counted per topic.

``topic_count`` counts the topics not deleted that carry the tag; the verbs that add or
remove tags, and delete or restore topics, keep it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from forum.gates import Act
from forum.topics.gating import require_allowed
from forum.topics.models import Tag, Topic
from forum.topics.permissions import Viewer, can_create_tags
from forum.web.errors import Forbidden, Invalid

if TYPE_CHECKING:
    from forum.platform import Platform


async def check_tags(platform: Platform, viewer: Viewer, project_id: int, names: list[str]
                     ) -> list[str]:
    """Names of tags that do not exist yet need the right to create tags: 422 for a viewer
    who may not (anonymous), 403 with the gate's reason when a domain refuses it."""
    if not names:
        return names
    existing = {str(n) for n in await Tag.filter(project_id=project_id, name__in=names)
                .values_list("name", flat=True)}
    missing = [n for n in names if n not in existing]
    if not missing:
        return names
    if not can_create_tags(viewer):
        raise Invalid(f"No tag {', '.join(missing)} yet.",
                      fields={"tags": f"unknown: {', '.join(missing)}"})
    try:
        await require_allowed(platform, viewer, project_id, Act.CREATE_TAG)
    except Forbidden as exc:
        raise Forbidden(f"No tag {', '.join(missing)} yet, and you may not create tags: "
                        f"{exc.message}") from None
    return names


async def get_or_create_tags(project_id: int, names: list[str]) -> list[Tag]:
    tags: list[Tag] = []
    for name in names:
        tag = await Tag.get_or_none(project_id=project_id, name=name)
        if tag is None:
            try:
                tag = await Tag.create(project_id=project_id, name=name)
            except IntegrityError:
                tag = await Tag.get(project_id=project_id, name=name)
        tags.append(tag)
    return tags


async def set_topic_tags(topic: Topic, names: list[str]) -> bool:
    """Make ``names`` the topic's tags (inside the caller's transaction); whether changed."""
    current = {t.name: t for t in await topic.tags.all()}
    if set(current) == set(names):
        return False
    tags = await get_or_create_tags(topic.project_id, names)  # type: ignore[attr-defined]
    wanted = {t.name: t for t in tags}
    removed = [t for name, t in current.items() if name not in wanted]
    added = [t for name, t in wanted.items() if name not in current]
    if removed:
        await topic.tags.remove(*removed)
    if added:
        await topic.tags.add(*added)
    if topic.deleted_at is None:
        await adjust_counts([t.id for t in added], 1)
        await adjust_counts([t.id for t in removed], -1)
    return True


async def adjust_counts(tag_ids: list[int], delta: int) -> None:
    if tag_ids:
        await Tag.filter(id__in=tag_ids).update(topic_count=F("topic_count") + delta)


async def topic_tag_names(topic: Topic) -> list[str]:
    return sorted(t.name for t in await topic.tags.all())
