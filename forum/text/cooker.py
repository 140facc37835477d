"""The cooker: markdown-it-py renders, nh3 sanitises last."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import nh3
from markdown_it import MarkdownIt

MENTION_RE = re.compile(r"(?<![\w@/])@([A-Za-z0-9][A-Za-z0-9_.-]{1,29})")
TOPIC_REF_RE = re.compile(r"(?<![\w&/#])#(\d{1,9})\b")


@dataclass(frozen=True)
class References:
    usernames: frozenset[str]  # lower-cased
    topic_ids: frozenset[int]


@dataclass(frozen=True)
class CookContext:
    project_slug: str
    # lower-cased username -> display username, for mentions that name real users
    users: dict[str, str] = field(default_factory=dict)
    # topic id -> (title, slug), for references to topics the reader may see
    topics: dict[int, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Cooked:
    html: str
    mentioned: frozenset[str]  # lower-cased usernames that became links
    topic_ids: frozenset[int]  # topic references that became links


def extract_references(source: str) -> References:
    return References(
        frozenset(m.group(1).lower().rstrip(".") for m in MENTION_RE.finditer(source)),
        frozenset(int(m.group(1)) for m in TOPIC_REF_RE.finditer(source)),
    )


_md = MarkdownIt("commonmark", {"linkify": False}).enable(["table", "strikethrough"])


def cook(source: str, context: CookContext) -> Cooked:
    html = _md.render(source)
    return Cooked(nh3.clean(html), frozenset(), frozenset())
