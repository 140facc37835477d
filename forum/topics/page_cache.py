"""The posts of a topic page, rendered once per version and per kind of viewer.

A topic page with a hundred posts is mostly the same for everyone: the cooked posts, their
authors and scores. What differs per viewer is small: their own votes, bookmarks, which
posts they may edit or vote on, and the CSRF token. So the posts are rendered once into a
``Fragment`` in which those per-viewer parts are *slots* (markers the template leaves with
``slot(kind, post_id)``), and each request fills the slots from two small queries and
joins the pieces. A slot's HTML is rendered once per state (e.g. "post 7, voted up") and
kept with the fragment.

A fragment is keyed by the topic's shown fields, a fingerprint of its posts (count,
highest id, edits, deletions, vote counters weighted by post id and number) and of its
tags, and by the kind of viewer (anonymous, signed in, moderator; may reply; may accept).
Any reply, edit, deletion, restore, vote or retag changes the fingerprint, so a stale
fragment is never served; it ages out of the bounded LRU. Fragments also expire after
``MAX_AGE`` so what they show of other domains (authors' reputation) stays fresh. Each
web process builds its own: nothing here is needed for correctness.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from tortoise import connections

from forum.topics.models import Category, Post, Topic

MAX_ENTRIES = 256
MAX_AGE = 30.0  # seconds

# Slot markers: private-use characters around a per-process nonce, so text in a post can
# never forge one.
_NONCE = secrets.token_hex(6)
_SLOT = re.compile("\ue000" + _NONCE + r"(\w+):(\d+)\ue001")


def slot(kind: str, post_id: int = 0) -> Markup:
    """The marker a template leaves where per-viewer HTML goes."""
    return Markup(f"\ue000{_NONCE}{kind}:{post_id}\ue001")


CSRF = slot("csrf")


@dataclass
class Fragment:
    parts: list[str | tuple[str, int]]
    posts: dict[int, Post]  # by id, without their text: what deciding controls needs
    json_ld: Markup | None
    tags: list[Any]
    built_at: float = field(default_factory=time.monotonic)
    # The whole page for anonymous visitors, with the view count it shows.
    anonymous_page: tuple[int, bytes] | None = None
    rendered: dict[tuple[Any, ...], str] = field(default_factory=dict)

    @classmethod
    def split(cls, html: str, posts: dict[int, Post], json_ld: Markup | None,
              tags: list[Any]) -> Fragment:
        parts: list[str | tuple[str, int]] = []
        last = 0
        for match in _SLOT.finditer(html):
            parts.append(html[last:match.start()])
            parts.append((match.group(1), int(match.group(2))))
            last = match.end()
        parts.append(html[last:])
        return cls(parts, posts, json_ld, tags)

    def fill(self, render_slot: Callable[[str, int], tuple[tuple[Any, ...], Callable[[], str]]],
             csrf_token: str) -> Markup:
        """The posts' HTML for one viewer. ``render_slot(kind, post_id)`` answers with the
        slot's state key and a function rendering it (called once per state)."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            kind, post_id = part
            if kind == "csrf":
                out.append(csrf_token)
                continue
            key, build = render_slot(kind, post_id)
            html = self.rendered.get(key)
            if html is None:
                html = self.rendered[key] = build()
            out.append(html)
        text = "".join(out)
        if CSRF in text:  # inside slot HTML, rendered once for every viewer
            text = text.replace(CSRF, csrf_token)
        return Markup(text)


class FragmentCache:
    def __init__(self, max_entries: int = MAX_ENTRIES, max_age: float = MAX_AGE) -> None:
        self.max_entries = max_entries
        self.max_age = max_age
        self.entries: OrderedDict[tuple[Any, ...], Fragment] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Fragment | None:
        found = self.entries.get(key)
        if found is None:
            return None
        if time.monotonic() - found.built_at > self.max_age:
            del self.entries[key]
            return None
        self.entries.move_to_end(key)
        return found

    def put(self, key: tuple[Any, ...], value: Fragment) -> None:
        self.entries[key] = value
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)


def has_hidden_posts(version: tuple[Any, ...]) -> bool:
    fingerprint = version[-1]
    return bool(fingerprint) and bool(fingerprint[HIDDEN])


HIDDEN = 5  # where the hidden posts' sum sits in the fingerprint


# One statement for the fingerprint (built once: the ORM's query building cost more than
# the query). ``{p}`` marks the topic id parameter.
VERSION_SQL = (
    "SELECT COUNT(id), MAX(id), SUM(edit_count), MAX(edited_at),"
    " SUM(CASE WHEN deleted_at IS NULL THEN 0 ELSE id END),"
    " SUM(CASE WHEN hidden_at IS NULL THEN 0 ELSE id END),"
    " SUM(score * number), SUM(upvotes * id), SUM(downvotes * id),"
    # The tags as a sum of squares and a sum.
    " (SELECT COALESCE(SUM(tag_id * tag_id), 0) * 100003 + COALESCE(SUM(tag_id), 0)"
    "  FROM topic_tags WHERE topics_id = {p})"
    " FROM posts WHERE topic_id = {p}")


async def topic_version(project_slug: str, topic: Topic, category: Category
                        ) -> tuple[Any, ...]:
    """What every viewer's view of the posts depends on (one aggregate query)."""
    db = connections.get("default")
    marker = "?" if db.capabilities.dialect == "sqlite" else "$1"
    params = [topic.id, topic.id] if marker == "?" else [topic.id]
    _, rows = await db.execute_query(VERSION_SQL.format(p=marker), params)
    fingerprint = tuple(rows[0]) if rows else ()
    return (project_slug, topic.id, topic.slug, topic.title, topic.kind, topic.state,
            topic.locked, topic.accepted_post_id, topic.created_at, topic.score,
            topic.deleted_at, topic.hidden_at, topic.is_private, topic.updated_at,
            topic.close_reason, topic.close_detail, topic.duplicate_of_id,
            topic.merged_into_id, category.id, category.slug, category.name, fingerprint)
