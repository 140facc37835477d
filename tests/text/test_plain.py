"""HTML as plain text, for HTML-only mail and for excerpts of imported pages."""

from __future__ import annotations

from forum.text.plain import html_to_text, one_line

PAGE = ("<h2>Steps</h2><p>Run it &amp; wait&nbsp;a&nbsp;bit:</p><ul><li>first</li>"
        "<li>second</li></ul><blockquote>On Monday, Ann wrote: old text</blockquote>"
        "<script>alert(1)</script><style>p{}</style><p>Thanks<br>Bo</p>")


def test_blocks_become_lines_and_quotes_may_be_left_out() -> None:
    assert html_to_text(PAGE) == (
        "Steps\n\nRun it & wait\xa0a\xa0bit:\n\n- first\n\n- second\n\n"
        "On Monday, Ann wrote: old text\n\nThanks\nBo")
    assert "old text" not in html_to_text(PAGE, quotes=False)
    assert "alert" not in html_to_text(PAGE) and "p{}" not in html_to_text(PAGE)


def test_one_line_for_excerpts() -> None:
    assert one_line(PAGE) == ("Steps Run it & wait a bit: first second "
                              "On Monday, Ann wrote: old text Thanks Bo")
    assert one_line("<p>unclosed <b>bold") == "unclosed bold"
    assert one_line("") == ""
