"""The cooker: markdown-it-py renders, nh3 sanitises last.

Markdown: CommonMark with tables, strikethrough, task lists and linkify; raw HTML in the
source is shown as text, never passed through. Code fences name a Pygments language to be
highlighted (CSS classes only); an unknown language is plain escaped code. ``@name`` and
``#123`` become links when the context knows the user or the topic (forum.text.references).
Headings are demoted by two levels (``#`` renders ``<h3>``) so a post never competes with
the page's own ``<h1>``/``<h2>``. Quotes are markdown blockquotes (a first line
``> @name wrote:`` is ordinary text whose mention links to the person) or Discourse's
``[quote="name, post:N, topic:T"]`` blocks (forum.text.quotes).

Limits (forum.text.limits) are checked before and while parsing, and a source over them
raises ``CookError`` (a ValueError; callers answer 422) rather than being cut silently:
length, depth of quotes and lists, table size, and a deadline on the parse. Inline nesting
(links, emphasis) past ``MAX_NESTING`` stays plain text, as markdown-it does it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.tasklists import tasklists_plugin

from forum.text.highlight import highlight_fence
from forum.text.limits import ENV_KEY as BUDGET
from forum.text.limits import (
    MAX_NESTING,
    MAX_SOURCE_CHARS,
    Budget,
    CookError,
    check_length,
    limits_plugin,
)
from forum.text.quotes import quotes_plugin
from forum.text.references import ENV_KEY as REFERENCES
from forum.text.references import (
    MENTION_RE,
    TOPIC_REF_RE,
    ReferenceTargets,
    mention_name,
    references_plugin,
)
from forum.text.sanitize import is_safe_url, sanitize_html

__all__ = ["CookContext", "CookError", "Cooked", "References", "cook", "extract_references"]

HEADING_SHIFT = 2
_ALIGN = {"text-align:left": "align-left", "text-align:center": "align-center",
          "text-align:right": "align-right"}


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
    """Every ``@name`` and ``#123`` in the source, for the caller to resolve before cooking.

    A superset of what ``cook`` links: names in code or link text are included here and
    then simply not linked.
    """
    return References(
        frozenset(mention_name(m.group(1)).lower() for m in MENTION_RE.finditer(source)),
        frozenset(int(m.group(1)) for m in TOPIC_REF_RE.finditer(source)),
    )


def _forum_blocks(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(6, int(token.tag[1]) + HEADING_SHIFT)
            token.tag = f"h{level}"
        elif token.type in ("th_open", "td_open"):
            style = token.attrs.pop("style", None)
            if isinstance(style, str) and style in _ALIGN:
                token.attrs["class"] = _ALIGN[style]


def _render_image(self: RendererHTML, tokens: Sequence[Token], idx: int,
                  options: OptionsDict, env: EnvType) -> str:
    # Images load without a click, so only over https (no mixed content, no requests to
    # the forum's own routes); any other image is shown as a link to it instead.
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    if src.lower().startswith("https://"):
        return self.image(tokens, idx, options, env)
    label = escapeHtml(self.renderInlineAsText(token.children or [], options, env))
    return f'<a href="{escapeHtml(src)}">{label or escapeHtml(src)}</a>'


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {
        "html": False,
        "linkify": True,
        "maxNesting": MAX_NESTING,
        "highlight": highlight_fence,
    })
    md.enable(["table", "strikethrough", "linkify"])
    # Stricter than markdown-it's own deny-list: only http, https, mailto or relative.
    md.validateLink = is_safe_url  # type: ignore[method-assign]
    md.add_render_rule("image", _render_image)
    md.use(tasklists_plugin)
    md.use(references_plugin)
    md.use(quotes_plugin)
    md.use(limits_plugin)
    md.core.ruler.after("forum_check_nesting", "forum_blocks", _forum_blocks)
    return md


def cook(source: str, context: CookContext, *, max_chars: int = MAX_SOURCE_CHARS) -> Cooked:
    """Markdown to sanitised HTML; raises CookError for input over the limits."""
    check_length(source, max_chars)
    targets = ReferenceTargets(context.project_slug, context.users, context.topics)
    html = _parser().render(source, {REFERENCES: targets, BUDGET: Budget()})
    return Cooked(sanitize_html(html), frozenset(targets.mentioned),
                  frozenset(targets.topic_ids))
