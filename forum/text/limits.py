"""Bounds on what one post may cost to cook; what is over them raises ``CookError``.

Checked before parsing: the length. While parsing: the depth of quotes and lists (markdown-it
would silently drop the rest of a document nested past its ``maxNesting``), the size of
tables (GFM turns every line after a table into a row, and markdown-it pads each row with
empty cells), and a deadline on the whole parse, the backstop for any input that is slow in
a way nobody listed yet.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.table import table
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

# Discourse's default max_post_length; Stack Overflow allows 30,000.
MAX_SOURCE_CHARS = 32_000
# markdown-it's maxNesting: how deep blocks (a quote is one level, a list two: list and
# item) and inline links or emphasis may nest. The worst inline cost grows with it.
MAX_NESTING = 20
MAX_TABLE_COLUMNS = 64
MAX_TABLE_CELLS = 5_000
# A real post cooks in milliseconds; only hostile input gets near this.
MAX_PARSE_SECONDS = 1.0

ENV_KEY = "forum_budget"
_OPEN = frozenset({"blockquote_open", "bullet_list_open", "ordered_list_open",
                   "list_item_open"})
_CLOSE = frozenset({"blockquote_close", "bullet_list_close", "ordered_list_close",
                    "list_item_close"})


class CookError(ValueError):
    """Markdown the cooker refuses (too long, too deep, too big, too slow): a 422."""


@dataclass
class Budget:
    """What one cooking may still spend; lives in markdown-it's env for one render."""

    deadline: float = field(default_factory=lambda: time.perf_counter() + MAX_PARSE_SECONDS)
    table_cells: int = 0
    ticks: int = 0

    def tick(self) -> None:
        self.ticks += 1
        if self.ticks & 1023 == 0 and time.perf_counter() > self.deadline:
            raise CookError("The text takes too long to format; simplify its markup.")


def check_length(source: str, max_chars: int) -> None:
    if len(source) > max_chars:
        raise CookError(f"The text is too long ({len(source):,} characters; at most "
                        f"{max_chars:,}).")


def _budget(env: object) -> Budget | None:
    return env.get(ENV_KEY) if isinstance(env, dict) else None


def _container_depth(tokens: Sequence[Token]) -> int:
    depth = deepest = 0
    for token in tokens:
        if token.type in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif token.type in _CLOSE:
            depth -= 1
    return deepest


def check_nesting(state: StateCore) -> None:
    """After block parsing: refuse what markdown-it had to cut at maxNesting."""
    if _container_depth(state.tokens) >= MAX_NESTING:
        raise CookError(f"The quotes and lists are nested too deeply (at most "
                        f"{MAX_NESTING - 1} levels of quotes, or {(MAX_NESTING - 1) // 2} "
                        "of lists).")


def bounded_table(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    """markdown-it's table rule, refusing a table that may grow too big before it is built.

    A table ends at the latest at the next blank line, so its lines up to there bound its
    rows (the count stops as soon as the bound is over the budget).
    """
    if not table(state, startLine, endLine, True):
        return False
    budget = _budget(state.env)
    delimiter = state.src[state.bMarks[startLine + 1] + state.tShift[startLine + 1]:
                          state.eMarks[startLine + 1]]
    columns = len(delimiter.strip().strip("|").split("|"))
    if columns > MAX_TABLE_COLUMNS:
        raise CookError(f"A table has too many columns ({columns:,}; at most "
                        f"{MAX_TABLE_COLUMNS}).")
    spent = budget.table_cells if budget else 0
    line, cells = startLine + 2, columns
    while line < endLine and not state.isEmpty(line) and spent + cells <= MAX_TABLE_CELLS:
        cells += columns
        line += 1
    if spent + cells > MAX_TABLE_CELLS:
        raise CookError(f"The tables are too large (at most {MAX_TABLE_CELLS:,} cells; "
                        "separate a table from the text after it by a blank line).")
    if silent:
        return True
    first = len(state.tokens)
    found = table(state, startLine, endLine, False)
    if budget is not None:
        budget.table_cells += sum(1 for token in state.tokens[first:]
                                  if token.type in ("th_open", "td_open"))
    return found


def _deadline_inline(state: StateInline, silent: bool) -> bool:
    budget = _budget(state.env)
    if budget is not None:
        budget.tick()
    return False


def _deadline_block(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    budget = _budget(state.env)
    if budget is not None:
        budget.tick()
    return False


def limits_plugin(md: MarkdownIt) -> None:
    md.block.ruler.at("table", bounded_table, {"alt": ["paragraph", "reference"]})
    md.block.ruler.before("table", "forum_deadline", _deadline_block)
    md.inline.ruler.before("text", "forum_deadline", _deadline_inline)
    md.core.ruler.after("block", "forum_check_nesting", check_nesting)
