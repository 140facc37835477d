"""``@mentions`` and ``#123`` topic references as markdown-it inline rules.

The rules run inside the inline parser, so code spans, code blocks and the text of links
never produce references (the link rule raises ``state.linkLevel`` while it parses a label).
A reference becomes a link only when the cook context knows the user or the topic;
otherwise it stays text. What became a link is collected in ``state.env``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline

# The account rules (forum/accounts/service.py) allow 3 to 30 of these characters; one
# trailing dot is sentence punctuation ("thanks @alice."), never part of a mention.
MENTION_RE = re.compile(r"(?<![\w@/])@([A-Za-z0-9][A-Za-z0-9_.-]{1,29})")
TOPIC_REF_RE = re.compile(r"(?<![\w&/#])#(\d{1,9})\b")
_MENTION_AT = re.compile(r"@([A-Za-z0-9][A-Za-z0-9_.-]{1,29})")
_TOPIC_AT = re.compile(r"#(\d{1,9})\b")
_NOT_BEFORE_MENTION = frozenset("@/")
_NOT_BEFORE_TOPIC = frozenset("&/#")

ENV_KEY = "forum_references"


@dataclass
class ReferenceTargets:
    """What the cooker may link to, and (filled while rendering) what it linked."""

    project_slug: str
    users: dict[str, str]
    topics: dict[int, tuple[str, str]]
    mentioned: set[str] = field(default_factory=set)
    topic_ids: set[int] = field(default_factory=set)


def mention_name(raw: str) -> str:
    return raw.rstrip(".")


def _preceded_by(state: StateInline, forbidden: frozenset[str]) -> bool:
    if state.pos == 0:
        return False
    before = state.src[state.pos - 1]
    return before in forbidden or before.isalnum() or before == "_"


def _push_link(state: StateInline, href: str, css_class: str, text: str,
               title: str | None = None) -> None:
    link = state.push("link_open", "a", 1)
    link.attrs = {"class": css_class, "href": href}
    if title is not None:
        link.attrs["title"] = title
    link.markup = "forum-reference"
    state.push("text", "", 0).content = text
    state.push("link_close", "a", -1)


def mention_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "@" or state.linkLevel > 0:
        return False
    targets: ReferenceTargets | None = state.env.get(ENV_KEY)
    if targets is None or _preceded_by(state, _NOT_BEFORE_MENTION):
        return False
    match = _MENTION_AT.match(state.src, state.pos, state.posMax)
    if match is None:
        return False
    name = mention_name(match.group(1))
    display = targets.users.get(name.lower())
    if display is None:
        return False
    if not silent:
        href = f"/p/{quote(targets.project_slug)}/u/{quote(display)}"
        _push_link(state, href, "mention", f"@{display}")
        targets.mentioned.add(name.lower())
    state.pos += 1 + len(name)
    return True


def topic_ref_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "#" or state.linkLevel > 0:
        return False
    targets: ReferenceTargets | None = state.env.get(ENV_KEY)
    if targets is None or _preceded_by(state, _NOT_BEFORE_TOPIC):
        return False
    match = _TOPIC_AT.match(state.src, state.pos, state.posMax)
    if match is None:
        return False
    topic_id = int(match.group(1))
    topic = targets.topics.get(topic_id)
    if topic is None:
        return False
    if not silent:
        title, slug = topic
        href = f"/p/{quote(targets.project_slug)}/t/{topic_id}-{quote(slug)}"
        _push_link(state, href, "topic-ref", f"#{topic_id}", title)
        targets.topic_ids.add(topic_id)
    state.pos = match.end()
    return True


def references_plugin(md: MarkdownIt) -> None:
    # Before "link", so "[see #12](https://x)" still parses as a link whose label the
    # rules then skip (linkLevel > 0); "@" and "#" already end a run of plain text.
    md.inline.ruler.before("link", "forum_mention", mention_rule)
    md.inline.ruler.before("link", "forum_topic_ref", topic_ref_rule)
