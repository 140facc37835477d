"""What every writing verb shares: slugs, cooking a post, keeping a topic's last activity.

A post is cooked once, when written: mentions resolve to any user of the platform, topic
references to topics of the project that the author can read, ``[quote="name, post:N"]``
(optionally ``topic:T``) to the quoted post's id. Markdown the cooker refuses is a 422.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from tortoise.expressions import Q

from forum.accounts.models import User
from forum.projects.models import Project
from forum.text import CookContext, cook, extract_references
from forum.topics.models import Category, Post, Topic
from forum.topics.permissions import Viewer, can_read_topic
from forum.web.errors import Invalid

SLUG_MAX = 80
QUOTE_RE = re.compile(r"\[quote=\"?[^\]\n]*?\bpost:\s*(\d{1,9})(?:[^\]\n]*?\btopic:\s*(\d{1,9}))?")


def slugify(title: str) -> str:
    """ASCII words joined by dashes, at most 80 characters; "topic" when nothing is left."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_title.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > SLUG_MAX:
            break
        slug = candidate
    return slug or "topic"


@dataclass(frozen=True)
class CookedPost:
    html: str
    mentioned_user_ids: tuple[int, ...]
    quoted_post_ids: tuple[int, ...]


async def cook_post(project: Project, author: Viewer, source: str,
                    topic_id: int | None) -> CookedPost:
    """Render ``source`` for a post in ``project`` written by ``author``."""
    refs = extract_references(source)
    users: dict[str, str] = {}
    ids_by_name: dict[str, int] = {}
    if refs.usernames:
        rows = await User.filter(username_lower__in=sorted(refs.usernames),
                                 is_active=True).values_list("id", "username")
        for uid, name in rows:
            users[str(name).lower()] = str(name)
            ids_by_name[str(name).lower()] = int(uid)
    topics: dict[int, tuple[str, str]] = {}
    if refs.topic_ids:
        found = await Topic.filter(project_id=project.id, id__in=sorted(refs.topic_ids))
        categories = {c.id: c for c in await Category.filter(
            id__in={t.category_id for t in found})}  # type: ignore[attr-defined]
        for topic in found:
            if can_read_topic(author, topic, categories[topic.category_id]):  # type: ignore[attr-defined]
                topics[topic.id] = (topic.title, topic.slug)
    try:
        cooked = cook(source, CookContext(project.slug, users=users, topics=topics))
    except ValueError as exc:  # the cooker refuses markdown built to be slow
        message = str(exc) or "This text cannot be formatted."
        raise Invalid(message, fields={"source": message}) from None
    mentioned = tuple(sorted(ids_by_name[n] for n in cooked.mentioned if n in ids_by_name))
    quoted = await _quoted_post_ids(project, author, source, topic_id)
    return CookedPost(cooked.html, mentioned, quoted)


async def _quoted_post_ids(project: Project, author: Viewer, source: str,
                           topic_id: int | None) -> tuple[int, ...]:
    wanted: set[tuple[int, int]] = set()
    for match in QUOTE_RE.finditer(source):
        in_topic = int(match.group(2)) if match.group(2) else topic_id
        if in_topic is not None:
            wanted.add((in_topic, int(match.group(1))))
    if not wanted:
        return ()
    query = Q()
    for tid, number in wanted:
        query |= Q(topic_id=tid, number=number)
    posts = await Post.filter(query, deleted_at=None).filter(
        topic__project_id=project.id).select_related("topic")
    readable: list[int] = []
    categories: dict[int, Category] = {}
    for post in posts:
        cid = post.topic.category_id  # type: ignore[attr-defined]
        if cid not in categories:
            categories[cid] = await Category.get(id=cid)
        if can_read_topic(author, post.topic, categories[cid]):
            readable.append(post.id)
    return tuple(sorted(readable))


async def refresh_last_activity(topic_id: int) -> None:
    """Recount a topic's visible replies and its last visible post (after delete/restore,
    hide/unhide)."""
    visible = Post.filter(topic_id=topic_id, deleted_at=None, hidden_at=None)
    replies = await visible.filter(number__gt=1).count()
    last = await visible.order_by("-number").first()
    changes: dict[str, object] = {"reply_count": replies}
    if last is not None:
        changes["last_posted_at"] = last.created_at
        changes["last_poster_id"] = last.author_id  # type: ignore[attr-defined]
    await Topic.filter(id=topic_id).update(**changes)
