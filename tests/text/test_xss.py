"""A corpus of known XSS payloads through the cooker and through the sanitiser alone."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from forum.text import CookContext, cook
from forum.text.cooker import CookError
from forum.text.sanitize import TAGS, sanitize_html

CORPUS = Path(__file__).with_name("xss_payloads.txt")
FORBIDDEN = {"script", "style", "iframe", "object", "embed", "form", "meta", "link", "svg",
             "math", "base", "frame", "frameset", "applet", "body", "button", "select",
             "textarea", "template", "area", "map", "param", "video", "audio", "source"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "srcset", "background",
                  "dynsrc", "lowsrc", "xlink:href", "poster"}
CONTEXT = CookContext("demo", users={"alice": "Alice", "admin": "admin"},
                      topics={1: ('"><script>alert(1)</script>', "x"),
                              12: ("<img src=x onerror=alert(1)>", "y")})


def _decode(line: str) -> str:
    line = line.replace("\\n", "\n")
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), line)


def load_payloads() -> list[str]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return [_decode(line) for line in lines if line and not line.startswith("# ")]


PAYLOADS = load_payloads()


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


def _squash(value: str) -> str:
    # Browsers ignore ASCII whitespace and control characters inside a URL scheme.
    return re.sub(r"[\x00-\x20\x7f]+", "", html.unescape(value)).lower()


def assert_safe(output: str, payload: str) -> None:
    collector = Collector()
    collector.feed(output)
    collector.close()
    where = f"payload {payload!r} gave {output!r}"
    for tag, attrs in collector.elements:
        assert tag not in FORBIDDEN, where
        assert tag in TAGS, where
        for name, raw in attrs:
            value = raw or ""
            assert not name.startswith("on"), where
            assert name != "style", where
            assert name not in {"srcset", "action", "formaction", "background", "target"}, where
            assert "javascript:" not in _squash(value), where
            assert "vbscript:" not in _squash(value), where
            if name in URL_ATTRIBUTES:
                scheme = urlsplit(_squash(value)).scheme
                assert scheme in {"", "http", "https", "mailto"}, where
                if tag == "img":
                    assert value.startswith("https://"), where
                if scheme == "":
                    assert ":" not in _squash(value).split("/")[0], where
        if tag == "input":
            assert dict(attrs).get("type") == "checkbox", where
            assert "disabled" in dict(attrs), where
        if tag == "a":
            assert dict(attrs).get("rel") == "nofollow ugc noopener", where


def test_the_corpus_has_at_least_a_hundred_payloads() -> None:
    assert len(PAYLOADS) >= 100
    assert len(set(PAYLOADS)) == len(PAYLOADS)


PLACEMENTS = {
    "alone": "{}",
    "paragraph": "Before the payload {} and after it.",
    "link text": "[{}](https://ok.example/page)",
    "table cell": "| head | other |\n|---|---|\n| {} | cell |",
    "quote": "> @alice wrote:\n> {}",
}


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_cooked_payloads_carry_no_script(placement: str) -> None:
    for payload in PAYLOADS:
        source = PLACEMENTS[placement].format(payload)
        try:
            cooked = cook(source, CONTEXT)
        except CookError:
            continue
        assert_safe(cooked.html, source)


def test_the_sanitiser_alone_strips_every_payload() -> None:
    # Raw HTML in posts is never passed through by the renderer; the allow-list must hold
    # on its own anyway, as the last line of defence.
    for payload in PAYLOADS:
        assert_safe(sanitize_html(payload), payload)


def test_dangerous_links_are_not_links() -> None:
    for source in ("[x](javascript:alert(1))", "[x](&#106;avascript:alert(1))",
                   "[x](jav&#x09;ascript:alert(1))", "<javascript:alert(1)>",
                   "[x](data:text/html;base64,PHNjcmlwdD4=)", "[x](vbscript:msgbox(1))"):
        assert "href" not in cook(source, CONTEXT).html, source


def test_raw_html_is_shown_as_text() -> None:
    cooked = cook('<img src=x onerror="alert(1)"> and <b>bold</b>', CONTEXT)
    assert cooked.html == ('<p>&lt;img src=x onerror="alert(1)"&gt; and '
                           "&lt;b&gt;bold&lt;/b&gt;</p>\n")


def test_topic_titles_are_escaped_in_titles() -> None:
    cooked = cook("see #1", CONTEXT)
    assert 'title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in cooked.html
    assert_safe(cooked.html, "see #1")


def test_the_corpus_covers_the_checks() -> None:
    # The checks above must be able to fail: unsanitised HTML from the corpus trips them.
    tripped = 0
    for payload in PAYLOADS:
        try:
            assert_safe(payload, payload)
        except AssertionError:
            tripped += 1
    assert tripped >= 100
