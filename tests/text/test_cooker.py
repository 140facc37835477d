"""Rendering: the markdown features posts use, references, links and images."""

from __future__ import annotations

from html.parser import HTMLParser

from forum.text import CookContext, Cooked, References, cook, extract_references

CONTEXT = CookContext(
    "demo",
    users={"alice": "Alice", "bob.smith": "bob.smith"},
    topics={12: ("How do I install it?", "how-do-i-install-it"), 7: ("Old", "old")},
)


def html(source: str) -> str:
    return cook(source, CONTEXT).html


def test_paragraphs_emphasis_and_headings_demoted_by_two() -> None:
    assert html("# Top\n\n## Sub\n\n#### Deep\n\n*a* **b**") == (
        "<h3>Top</h3>\n<h4>Sub</h4>\n<h6>Deep</h6>\n<p><em>a</em> <strong>b</strong></p>\n")


def test_tables_align_through_classes_not_styles() -> None:
    out = html("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |")
    assert '<th class="align-left">a</th>' in out
    assert '<th class="align-center">b</th>' in out
    assert '<td class="align-right">3</td>' in out
    assert "style" not in out


def test_strikethrough() -> None:
    assert html("~~gone~~ kept") == "<p><s>gone</s> kept</p>\n"


class Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            self.found.append(dict(attrs))


def test_task_lists_are_disabled_checkboxes() -> None:
    out = html("- [x] done\n- [ ] todo")
    assert out.startswith('<ul class="contains-task-list">\n<li class="task-list-item">')
    assert out.count('<li class="task-list-item">') == 2
    parser = Inputs()
    parser.feed(out)
    box = {"class": "task-list-item-checkbox", "type": "checkbox", "disabled": "disabled"}
    assert parser.found == [{**box, "checked": "checked"}, box]


def test_linkify_turns_bare_urls_and_emails_into_links() -> None:
    out = html("see https://example.org/docs and www.example.com or mail me@example.org")
    assert '<a href="https://example.org/docs" rel="nofollow ugc noopener">' in out
    assert '<a href="http://www.example.com" rel="nofollow ugc noopener">' in out
    assert '<a href="mailto:me@example.org" rel="nofollow ugc noopener">' in out


def test_every_link_gets_rel_nofollow_and_no_target() -> None:
    out = html("[docs](https://example.org) and <https://example.net>")
    assert out.count('rel="nofollow ugc noopener"') == 2
    assert "target" not in out


def test_code_fences_are_highlighted_with_classes() -> None:
    out = html('```python\ndef f():\n    return "x"\n```')
    assert out.startswith('<pre class="highlight"><code><span class="k">def</span>')
    assert '<span class="nf">f</span>' in out
    assert '<span class="s2">"x"</span>' in out
    assert "style" not in out


def test_unknown_languages_are_plain_escaped_code() -> None:
    out = html("```no-such-language\n<b>&</b>\n```")
    assert out == "<pre><code>&lt;b&gt;&amp;&lt;/b&gt;\n</code></pre>\n"
    assert html("```\nplain\n```") == "<pre><code>plain\n</code></pre>\n"


def test_known_mentions_and_topic_refs_become_links() -> None:
    cooked = cook("Thanks @alice and @Bob.Smith. See #12.", CONTEXT)
    assert cooked.html == (
        '<p>Thanks <a class="mention" href="/p/demo/u/Alice" rel="nofollow ugc noopener">'
        '@Alice</a> and <a class="mention" href="/p/demo/u/bob.smith" '
        'rel="nofollow ugc noopener">@bob.smith</a>. See <a class="topic-ref" '
        'href="/p/demo/t/12-how-do-i-install-it" title="How do I install it?" '
        'rel="nofollow ugc noopener">#12</a>.</p>\n')
    assert cooked == Cooked(cooked.html, frozenset({"alice", "bob.smith"}), frozenset({12}))


def test_unknown_users_and_topics_stay_text() -> None:
    cooked = cook("@nobody and #99 and @alice", CONTEXT)
    assert cooked.html.startswith("<p>@nobody and #99 and <a class=\"mention\"")
    assert cooked.mentioned == frozenset({"alice"})
    assert cooked.topic_ids == frozenset()


def test_no_references_inside_code_links_emails_or_entities() -> None:
    source = ("`@alice #12`\n\n    @alice #12\n\n```\n@alice #12\n```\n\n"
              "[@alice #12](https://example.org) alice@example.org &#12; a#12 x/@alice")
    cooked = cook(source, CONTEXT)
    assert cooked.mentioned == frozenset()
    assert cooked.topic_ids == frozenset()
    assert 'class="mention"' not in cooked.html
    assert 'class="topic-ref"' not in cooked.html
    assert '<a href="https://example.org" rel="nofollow ugc noopener">@alice #12</a>' in (
        cooked.html)


def test_references_in_emphasis_quotes_and_lists_still_link() -> None:
    cooked = cook("> @alice wrote:\n> see #7\n\n- **@alice**", CONTEXT)
    assert cooked.html.startswith(
        '<blockquote>\n<p><a class="mention" href="/p/demo/u/Alice" '
        'rel="nofollow ugc noopener">@Alice</a> wrote:')
    assert cooked.topic_ids == frozenset({7})
    assert "<strong><a class=\"mention\"" in cooked.html


def test_a_project_slug_and_username_are_url_quoted() -> None:
    cooked = cook("@alice", CookContext("a b", users={"alice": "al ice"}))
    assert 'href="/p/a%20b/u/al%20ice"' in cooked.html


def test_images_load_only_over_https() -> None:
    out = html('![logo](https://example.org/logo.png "Logo")')
    assert out == ('<p><img src="https://example.org/logo.png" alt="logo" title="Logo" '
                   'loading="lazy"></p>\n')
    insecure = html("![logo](http://example.org/logo.png) ![rel](/static/x.png)")
    assert "<img" not in insecure
    assert '<a href="http://example.org/logo.png" rel="nofollow ugc noopener">logo</a>' in (
        insecure)
    assert '<a href="/static/x.png" rel="nofollow ugc noopener">rel</a>' in insecure


def test_links_to_other_schemes_stay_text() -> None:
    assert html("[x](ftp://example.org/f)") == "<p>[x](ftp://example.org/f)</p>\n"
    assert html("[x](/relative/path)") == (
        '<p><a href="/relative/path" rel="nofollow ugc noopener">x</a></p>\n')


def test_extract_references_finds_candidates_for_the_caller() -> None:
    refs = extract_references("hi @Alice, @bob.smith. and #12 #7; not a@b.c or &#12; or x#3")
    assert refs == References(frozenset({"alice", "bob.smith"}), frozenset({12, 7}))


def test_cooking_without_context_links_nothing() -> None:
    cooked = cook("@alice #12", CookContext("demo"))
    assert cooked == Cooked("<p>@alice #12</p>\n", frozenset(), frozenset())
