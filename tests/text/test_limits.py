"""Markdown built to be slow is cooked within a bounded time or refused with CookError."""

from __future__ import annotations

import time

import pytest

from forum.text import CookContext, cook
from forum.text.cooker import CookError
from forum.text.limits import (
    MAX_NESTING,
    MAX_SOURCE_CHARS,
    MAX_TABLE_CELLS,
    MAX_TABLE_COLUMNS,
    Budget,
)

CONTEXT = CookContext("demo", users={"alice": "Alice"}, topics={12: ("Title", "title")})
BOUND_SECONDS = 2.0
N = 10_000


def fit(unit: str, limit: int = MAX_SOURCE_CHARS) -> str:
    """As many repetitions of unit as the length limit allows."""
    return unit * (limit // len(unit))


HOSTILE = {
    "10k nested quotes": ">" * N + " x",
    "10k nested quotes, one per line": "\n".join(">" * i + " x" for i in range(1, 200)),
    "10k nested lists on one line": "- " * N + "x",
    "10k nested ordered lists": "1. " * N + "x",
    "nested lists by indentation": "\n".join(" " * (2 * i) + "- x" for i in range(150)),
    "10k open brackets": "[" * N + "x" + "]" * N,
    "open brackets up to the limit": fit("["),
    "image openers up to the limit": fit("!["),
    "nested links": "[" * N + "x](https://a.example)",
    "10k table columns": "|" + "a|" * N + "\n|" + "-|" * N + "\n",
    "table columns under the length limit": "|" + "a|" * 7000 + "\n|" + "-|" * 7000,
    "autocompleted table cells": "|" + "a|" * 3000 + "\n|" + "-|" * 3000 + "\n" + "x\n" * 3000,
    "padded rows after a widest table": "|" + "a|" * 64 + "\n|" + "-|" * 64 + "\n"
    + "x\n" * 15_000,
    "many small tables": "|a|b|\n|-|-|\n|c|d|\n\n" * 1_500,
    "nested quote blocks": "[quote]\n" * 3_000 + "x\n" + "[/quote]\n" * 3_000,
    "unclosed quote blocks": fit("[quote]\n"),
    "unclosed quote blocks in a list": "- " + fit("[quote]\n  ", 30_000),
    "quote blocks closed at the end": fit("[quote]\nx\n", 30_000) + "[/quote]",
    "empty quote blocks": fit("[quote]\n[/quote]\n"),
    "1 MB of delimiter runs": "*a**" * 250_000,
    "delimiter runs up to the limit": fit("*a**"),
    "underscore runs up to the limit": fit("_a__"),
    "strikethrough runs up to the limit": fit("~~a~"),
    "emphasis nesting": "*" * 15_000 + "a" + "*" * 15_000,
    "backtick runs": "".join("`" * i + "a" for i in range(1, 240)),
    "unclosed backticks": "`" * 15_000 + "a" + "``" * 8_000,
    "reference definitions": "\n".join(f"[{i}]: /u{i}" for i in range(1500)) + "\n" + "[1]" * 1500,
    "mentions up to the limit": fit("@alice "),
    "topic refs up to the limit": fit("#12 "),
    "autolink openers": fit("<http://a"),
    "linkify candidates": fit("www.a.com "),
    "one long url": "http://" + "a." * 15_000,
    "entities": fit("&#106;"),
    "setext headings": fit("a\n=\n"),
    "code fence for the highlighter": "```python\n" + fit("x = ['a', \"b\"] # c\n", 30_000)
    + "```",
    "unterminated strings for the highlighter": "```python\n" + fit('"""\'', 30_000) + "\n```",
    "10 MB": "a" * 10_000_000,
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_markdown_is_bounded(name: str) -> None:
    source = HOSTILE[name]
    started = time.perf_counter()
    try:
        cooked = cook(source, CONTEXT)
    except CookError as error:
        assert str(error)
    else:
        assert cooked.html
    elapsed = time.perf_counter() - started
    assert elapsed < BOUND_SECONDS, f"{name}: {elapsed:.2f}s"


def test_cook_error_is_a_value_error_with_a_reason() -> None:
    with pytest.raises(ValueError, match="too long"):
        cook("a" * (MAX_SOURCE_CHARS + 1), CONTEXT)
    assert issubclass(CookError, ValueError)


def test_the_length_limit_is_an_argument() -> None:
    assert cook("a" * MAX_SOURCE_CHARS, CONTEXT).html.startswith("<p>a")
    with pytest.raises(CookError, match="at most 10"):
        cook("a" * 11, CONTEXT, max_chars=10)
    assert cook("a" * 10, CONTEXT, max_chars=10).html == "<p>aaaaaaaaaa</p>\n"


def test_deep_nesting_is_refused_not_cut() -> None:
    deepest_quotes = "> " * (MAX_NESTING - 1) + "kept"
    assert "kept" in cook(deepest_quotes, CONTEXT).html
    with pytest.raises(CookError, match="nested too deeply"):
        cook("> " * MAX_NESTING + "lost", CONTEXT)
    deepest_lists = "- " * ((MAX_NESTING - 1) // 2) + "kept"
    assert "kept" in cook(deepest_lists, CONTEXT).html
    with pytest.raises(CookError, match="nested too deeply"):
        cook("- " * ((MAX_NESTING - 1) // 2 + 1) + "lost", CONTEXT)
    with pytest.raises(CookError, match="nested too deeply"):
        cook(HOSTILE["10k nested quotes"], CONTEXT)


def test_tables_are_bounded_in_columns_and_cells() -> None:
    columns = MAX_TABLE_COLUMNS
    row = "|" + "a|" * columns
    header = row + "\n|" + "-|" * columns
    assert cook(header + "\n" + row, CONTEXT).html.count("<td>") == columns
    with pytest.raises(CookError, match="too many columns"):
        cook("|" + "a|" * (columns + 1) + "\n|" + "-|" * (columns + 1), CONTEXT)
    rows = MAX_TABLE_CELLS // columns
    assert cook(header + ("\n" + row) * (rows - 1), CONTEXT).html.count("<tr>") == rows
    with pytest.raises(CookError, match="tables are too large"):
        cook(header + ("\n" + row) * rows, CONTEXT)
    # Lines right after a table are rows (GFM), padded with empty cells: counted too.
    with pytest.raises(CookError, match="tables are too large"):
        cook(header + "\nx" * rows, CONTEXT)
    # A blank line ends the table; the text after it costs no cells.
    assert "<p>x" in cook(header + "\n\n" + "x\n" * rows, CONTEXT).html


def test_the_cell_budget_spans_every_table_of_a_post() -> None:
    columns = MAX_TABLE_COLUMNS
    table = "|" + "a|" * columns + "\n|" + "-|" * columns + ("\n|" + "b|" * columns) * 9
    per_post = MAX_TABLE_CELLS // (10 * columns)
    assert cook("\n\n".join([table] * per_post), CONTEXT).html.count("<table>") == per_post
    with pytest.raises(CookError, match="tables are too large"):
        cook("\n\n".join([table] * (per_post + 1)), CONTEXT)


def test_a_deadline_stops_whatever_else_is_slow(monkeypatch: pytest.MonkeyPatch) -> None:
    source = "word *emphasis* [link](https://example.org) " * 200
    assert cook(source, CONTEXT).html
    monkeypatch.setattr("forum.text.limits.MAX_PARSE_SECONDS", -1.0)
    assert Budget().deadline < time.perf_counter()
    with pytest.raises(CookError, match="takes too long"):
        cook(source, CONTEXT)


def test_one_megabyte_is_refused_before_parsing() -> None:
    started = time.perf_counter()
    with pytest.raises(CookError, match="too long"):
        cook(HOSTILE["1 MB of delimiter runs"], CONTEXT)
    assert time.perf_counter() - started < 0.1
