"""Quotes: markdown blockquotes, and Discourse's quote block for quoting a post.

    [quote="alice, post:3, topic:12"]
    The quoted text, **markdown** as usual.
    [/quote]

The tags stand on lines of their own; ``topic:`` is left out for a post of the same topic.
The block renders ``<blockquote class="quote">`` headed by "alice wrote:" linking to the
post (``#post-3`` in the same topic, ``/p/{project}/t/12#post-3`` otherwise). An opening
tag without its closing tag is plain text. Quote blocks nest (and count towards the
nesting limit). forum.topics reads the same tags to notify the quoted authors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote

from forum.text.references import ENV_KEY as REFERENCES

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererHTML
    from markdown_it.rules_block import StateBlock
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

OPEN_RE = re.compile(r'\[quote(?:=(?:"([^"\]\n]*)"|([^"\]\n]*)))?\]', re.IGNORECASE)
CLOSE = "[/quote]"
_POST_RE = re.compile(r"\bpost:\s*(\d{1,9})\b")
_TOPIC_RE = re.compile(r"\btopic:\s*(\d{1,9})\b")
_MEMO_KEY = "forum_quote_closes"


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]].rstrip()


def _opens(text: str) -> re.Match[str] | None:
    return OPEN_RE.fullmatch(text) if text[:6].lower() == "[quote" else None


def _closing_line(state: StateBlock, start: int, end: int) -> int:
    """The line closing the quote opened at ``start``, or -1.

    One scan answers for every quote it passes (nested ones included), and answers are
    remembered per line and indentation, so many unclosed tags cost one pass, not one each.
    """
    memo: dict[tuple[int, int], int] = state.env.setdefault(_MEMO_KEY, {})
    key = (start, state.bMarks[start] + state.tShift[start])
    if key in memo:
        return memo[key]
    stack = [key]
    for line in range(start + 1, end):
        if state.sCount[line] < state.blkIndent and not state.isEmpty(line):
            break  # outdented: the container holding the quote ended first
        text = _line(state, line)
        if not text.startswith("["):
            continue
        if _opens(text):
            stack.append((line, state.bMarks[line] + state.tShift[line]))
        elif text.lower() == CLOSE:
            memo[stack.pop()] = line
            if not stack:
                return line
    for open_key in stack:
        memo[open_key] = -1
    return -1


def quote_block(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    if state.is_code_block(startLine):
        return False
    match = _opens(_line(state, startLine))
    if match is None:
        return False
    close = _closing_line(state, startLine, endLine)
    if close < 0:
        return False
    if silent:
        return True
    attribution = match.group(1) if match.group(1) is not None else match.group(2) or ""
    opening = state.push("blockquote_open", "blockquote", 1)
    opening.attrs = {"class": "quote"}
    opening.markup = "[quote]"
    opening.map = [startLine, close + 1]
    if attribution.strip():
        source = state.push("forum_quote_source", "", 0)
        source.content = attribution
    old_parent, old_max = state.parentType, state.lineMax
    state.parentType = "blockquote"
    state.lineMax = close
    state.md.block.tokenize(state, startLine + 1, close)
    state.parentType, state.lineMax = old_parent, old_max
    state.push("blockquote_close", "blockquote", -1).markup = "[/quote]"
    state.line = close + 1
    return True


def render_quote_source(self: RendererHTML, tokens: Sequence[Token], idx: int,
                        options: OptionsDict, env: EnvType) -> str:
    attribution = tokens[idx].content
    name = attribution.split(",", 1)[0].strip()
    if ":" in name:  # no name given, only post:/topic:
        name = ""
    post = _POST_RE.search(attribution)
    topic = _TOPIC_RE.search(attribution)
    who = escape(name) if name else "Someone"
    if post is None:
        return f'<p class="quote-source">{who} wrote:</p>\n'
    href = f"#post-{post.group(1)}"
    targets = env.get(REFERENCES)
    if topic is not None and targets is not None:
        href = f"/p/{quote(targets.project_slug)}/t/{topic.group(1)}{href}"
    return f'<p class="quote-source"><a href="{escape(href)}">{who} wrote</a>:</p>\n'


def quotes_plugin(md: MarkdownIt) -> None:
    md.block.ruler.before("fence", "forum_quote", quote_block,
                          {"alt": ["paragraph", "reference", "blockquote", "list"]})
    md.add_render_rule("forum_quote_source", render_quote_source)
