"""HTML as plain text: for mail that came only as HTML, and for excerpts of pages a bridge
brings in (a Stack Overflow question's body). Plugins may use it (a service, not a model).

``html_to_text`` keeps the visible text: tags dropped, entities decoded, script and style
left out, a line break at each block element, list items as "- " lines; with
``quotes=False`` quoted blocks (a mail's quoted history) are left out too.
``one_line`` is the same text on a single line, for excerpts.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
                    "table", "ul", "ol", "blockquote", "hr"})


class _Text(HTMLParser):
    def __init__(self, *, quotes: bool, bullets: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = {"script", "style", "head", "title"} | (set() if quotes else {"blockquote"})
        self.bullets = bullets
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.skip:
            self.skipping += 1
        elif tag in BLOCKS:
            self.parts.append("\n")
        if tag == "li" and self.bullets and not self.skipping:
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.skip:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _parts(html: str, *, quotes: bool, bullets: bool) -> str:
    parser = _Text(quotes=quotes, bullets=bullets)
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def html_to_text(html: str, *, quotes: bool = True) -> str:
    """The visible text of ``html``, a line per block, at most one empty line in a row."""
    text = _parts(html, quotes=quotes, bullets=True)
    lines = "\n".join(line.strip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", lines).strip()


def one_line(html: str) -> str:
    """The visible text of ``html`` on one line, runs of white space as one space."""
    return " ".join(_parts(html, quotes=True, bullets=False).split())
