"""Quote blocks: [quote="name, post:N, topic:T"] ... [/quote], and markdown blockquotes."""

from __future__ import annotations

import pytest

from forum.text import CookContext, CookError, cook

CONTEXT = CookContext("demo", users={"alice": "Alice"})


def html(source: str) -> str:
    return cook(source, CONTEXT).html


def test_a_quote_block_links_to_the_quoted_post_of_another_topic() -> None:
    assert html('[quote="alice, post:3, topic:12"]\nHello **there**\n[/quote]\nafter') == (
        '<blockquote class="quote">\n<p class="quote-source"><a href="/p/demo/t/12#post-3" '
        'rel="nofollow ugc noopener">alice wrote</a>:</p>\n<p>Hello <strong>there</strong>'
        "</p>\n</blockquote>\n<p>after</p>\n")


def test_a_quote_of_the_same_topic_links_to_the_post_anchor() -> None:
    out = html('Before\n[quote="bob, post:2"]\nquoted\n[/quote]')
    assert out.startswith("<p>Before</p>\n<blockquote class=\"quote\">")
    assert '<a href="#post-2" rel="nofollow ugc noopener">bob wrote</a>:' in out


def test_quote_blocks_nest_and_without_attribution_have_no_heading() -> None:
    out = html("[quote]\n[quote=carol]\ninner\n[/quote]\nouter\n[/quote]")
    assert out == ('<blockquote class="quote">\n<blockquote class="quote">\n'
                   '<p class="quote-source">carol wrote:</p>\n<p>inner</p>\n</blockquote>\n'
                   "<p>outer</p>\n</blockquote>\n")


def test_tags_are_case_insensitive_and_a_missing_name_is_someone() -> None:
    assert '<a href="#post-4" rel="nofollow ugc noopener">Someone wrote</a>' in html(
        '[QUOTE="post:4"]\nx\n[/QUOTE]')


def test_an_unclosed_quote_or_one_in_code_stays_text() -> None:
    assert html("[quote]\nunclosed") == "<p>[quote]\nunclosed</p>\n"
    assert html("    [quote]\n    x\n    [/quote]") == (
        "<pre><code>[quote]\nx\n[/quote]\n</code></pre>\n")
    assert html("```\n[quote]\nx\n[/quote]\n```") == (
        "<pre><code>[quote]\nx\n[/quote]\n</code></pre>\n")


def test_quote_blocks_inside_lists_and_blockquotes() -> None:
    out = html('- item\n  [quote="a, post:1"]\n  x\n  [/quote]\n- next')
    assert out.startswith('<ul>\n<li>item\n<blockquote class="quote">')
    assert "<li>next</li>" in out
    assert html('> [quote="a, post:1"]\n> in\n> [/quote]').startswith(
        '<blockquote>\n<blockquote class="quote">')


def test_the_attribution_is_escaped() -> None:
    out = html('[quote="<img src=x onerror=alert(1)>, post:1"]\nx\n[/quote]')
    assert "&lt;img src=x onerror=alert(1)&gt; wrote" in out
    assert "<img" not in out


def test_quote_blocks_count_towards_the_nesting_limit() -> None:
    assert "deep" in html("[quote]\n" * 19 + "deep\n" + "[/quote]\n" * 19)
    with pytest.raises(CookError, match="nested too deeply"):
        cook("[quote]\n" * 20 + "deep\n" + "[/quote]\n" * 20, CONTEXT)


def test_markdown_blockquotes_with_a_mention_line() -> None:
    cooked = cook("> @alice wrote:\n> quoted", CONTEXT)
    assert cooked.html == (
        '<blockquote>\n<p><a class="mention" href="/p/demo/u/Alice" '
        'rel="nofollow ugc noopener">@Alice</a> wrote:\nquoted</p>\n</blockquote>\n')
    assert cooked.mentioned == frozenset({"alice"})
