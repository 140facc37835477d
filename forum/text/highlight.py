"""Code fences highlighted with Pygments: CSS classes only (the CSP forbids style=)."""

from __future__ import annotations

from functools import lru_cache

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

# Longer fences are shown plain: highlighting is a nicety, its cost must stay bounded.
MAX_HIGHLIGHT_CHARS = 20_000
CSS_CLASS = "highlight"
# Every class name the formatter can put on a <span>, for the sanitiser's allow-list.
TOKEN_CLASSES = frozenset(name for name in STANDARD_TYPES.values() if name)

_formatter = HtmlFormatter(nowrap=True)


@lru_cache(maxsize=128)
def _lexer(language: str) -> Lexer | None:
    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def highlight_fence(code: str, language: str, attrs: str) -> str:
    """markdown-it's ``highlight`` option: a whole ``<pre>``, or "" to render plain."""
    name = language.strip().lower()
    lexer = _lexer(name) if name and len(code) <= MAX_HIGHLIGHT_CHARS else None
    if lexer is None:
        return ""
    spans = highlight(code, lexer, _formatter)
    return f'<pre class="{CSS_CLASS}"><code>{spans}</code></pre>\n'


def stylesheet() -> str:
    """The CSS shipped as forum/web/static/highlight.css (token colours only)."""
    rules = str(HtmlFormatter(style="default").get_style_defs(f".{CSS_CLASS}"))
    return "\n".join(line for line in rules.splitlines() if line.startswith(f".{CSS_CLASS}"))
