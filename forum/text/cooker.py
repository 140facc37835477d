"""The cooker: markdown-it-py renders, nh3 sanitises last.

Markdown: CommonMark with tables, strikethrough, task lists and linkify; raw HTML in the
source is shown as text, never passed through. Code fences name a Pygments language to be
highlighted (CSS classes only); an unknown language is plain escaped code. ``@name`` and
``#123`` become links when the context knows the user or the topic (forum.text.references).
Headings are demoted by two levels (``#`` renders ``<h3>``) so a post never competes with
the page's own ``<h1>``/``<h2>``. Quotes are markdown blockquotes; a first line
``> @name wrote:`` is ordinary text whose mention links to the quoted person.

Limits are checked before and while parsing, and a source over them raises ``CookError``
(a ValueError; callers answer 422) rather than being cut silently: at most
``MAX_SOURCE_CHARS`` characters, quotes and lists nested under ``MAX_NESTING`` levels,
``MAX_TABLE_CELLS`` table cells. Inline nesting (links, emphasis) past ``MAX_NESTING``
stays plain text, as markdown-it does it.
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
from forum.text.references import (
    ENV_KEY,
    MENTION_RE,
    TOPIC_REF_RE,
    ReferenceTargets,
    mention_name,
    references_plugin,
)
from forum.text.sanitize import sanitize_html

# Discourse's default max_post_length; Stack Overflow allows 30,000.
MAX_SOURCE_CHARS = 32_000
# markdown-it's maxNesting: how deep blocks (a quote is one level, a list two: list and
# item) and inline links or emphasis may nest. Inline cost grows with it.
MAX_NESTING = 20
MAX_TABLE_CELLS = 5_000
_OPEN = frozenset({"blockquote_open", "bullet_list_open", "ordered_list_open",
                   "list_item_open"})
_CLOSE = frozenset({"blockquote_close", "bullet_list_close", "ordered_list_close",
                    "list_item_close"})
HEADING_SHIFT = 2
_ALIGN = {"text-align:left": "align-left", "text-align:center": "align-center",
          "text-align:right": "align-right"}


class CookError(ValueError):
    """Markdown the cooker refuses (too long, nested too deeply): a 422 for the caller."""


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


def _container_depth(tokens: Sequence[Token]) -> int:
    depth = deepest = 0
    for token in tokens:
        if token.type in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif token.type in _CLOSE:
            depth -= 1
    return deepest


def _check_blocks(state: StateCore) -> None:
    """Refuse, after block parsing and before the costly inline pass, what is too big.

    markdown-it silently drops the rest of a document once containers are open
    maxNesting deep, so any document that reaches that depth is refused here instead.
    """
    if _container_depth(state.tokens) >= MAX_NESTING:
        raise CookError(f"The quotes and lists are nested too deeply (at most "
                        f"{MAX_NESTING - 1} levels of quotes, or {(MAX_NESTING - 1) // 2} "
                        "of lists).")
    cells = sum(1 for token in state.tokens if token.type in ("th_open", "td_open"))
    if cells > MAX_TABLE_CELLS:
        raise CookError(f"The tables are too large ({cells:,} cells; at most "
                        f"{MAX_TABLE_CELLS:,}).")


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
    md.add_render_rule("image", _render_image)
    md.use(tasklists_plugin)
    md.use(references_plugin)
    md.core.ruler.after("block", "forum_check_blocks", _check_blocks)
    md.core.ruler.after("forum_check_blocks", "forum_blocks", _forum_blocks)
    return md


def cook(source: str, context: CookContext, *, max_chars: int = MAX_SOURCE_CHARS) -> Cooked:
    """Markdown to sanitised HTML; raises CookError for input over the limits."""
    if len(source) > max_chars:
        raise CookError(f"The text is too long ({len(source):,} characters; at most "
                        f"{max_chars:,}).")
    targets = ReferenceTargets(context.project_slug, context.users, context.topics)
    html = _parser().render(source, {ENV_KEY: targets})
    return Cooked(sanitize_html(html), frozenset(targets.mentioned),
                  frozenset(targets.topic_ids))
