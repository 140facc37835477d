"""What a mirrored question shows: an excerpt of its text (not a copy), its author linked
to their profile, a link to the question, and the licence of its date.

Stack Overflow's content is licensed CC BY-SA; the version depends on when it was
posted: 2.5 before 2011-04-08, 3.0 before 2018-05-02, 4.0 from then on. Its attribution
rules ask for the author's name linked to their profile, a link to the original, and the
licence.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from forum.text.plain import one_line

EXCERPT_CHARS = 300
LABEL = "on Stack Overflow"


@dataclass(frozen=True)
class Licence:
    name: str
    url: str


CC_BY_SA_25 = Licence("CC BY-SA 2.5", "https://creativecommons.org/licenses/by-sa/2.5/")
CC_BY_SA_30 = Licence("CC BY-SA 3.0", "https://creativecommons.org/licenses/by-sa/3.0/")
CC_BY_SA_40 = Licence("CC BY-SA 4.0", "https://creativecommons.org/licenses/by-sa/4.0/")
LICENCES = {licence.name: licence for licence in (CC_BY_SA_25, CC_BY_SA_30, CC_BY_SA_40)}
TO_30 = datetime(2011, 4, 8, tzinfo=UTC)
TO_40 = datetime(2018, 5, 2, tzinfo=UTC)


def licence_for(created: datetime) -> Licence:
    """The CC BY-SA version content posted at ``created`` is licensed under."""
    if created < TO_30:
        return CC_BY_SA_25
    if created < TO_40:
        return CC_BY_SA_30
    return CC_BY_SA_40


def plain_text(fragment: str) -> str:
    """``fragment`` (HTML) as one line of plain text."""
    return one_line(fragment)


def excerpt(body_html: str, limit: int = EXCERPT_CHARS) -> str:
    """The first ``limit`` characters of the text, cut at a word, with an ellipsis."""
    text = plain_text(body_html)
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(" ,.;:") + "…"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~&])")


def md_escape(text: str) -> str:
    """Plain text that markdown shows as it is (no emphasis, links or HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def safe_url(url: str | None, fallback: str = "") -> str:
    """An http(s) URL fit for a markdown link, or ``fallback``."""
    if not url:
        return fallback
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return fallback
    return quote(url.strip(), safe=":/?#[]@!$&'*+,;=%~-._")


def question_url(site: str, question_id: int) -> str:
    host = "stackoverflow.com" if site == "stackoverflow" else f"{site}.stackexchange.com"
    return f"https://{host}/questions/{question_id}"


def topic_source(*, text: str, author_name: str, author_link: str, link: str,
                 licence: Licence, site_name: str = "Stack Overflow") -> str:
    """The opening post of a mirrored question (markdown)."""
    author = md_escape(author_name) or "a deleted user"
    if author_link:
        author = f"[{author}]({author_link})"
    quoted = md_escape(text) if text else "*(no text)*"
    return (
        f"> {quoted}\n\n"
        f"Asked by {author} on {site_name}. "
        f"**[Read the whole question and answer it on {site_name}]({link})**\n\n"
        f"*An excerpt of the original, licensed under [{licence.name}]({licence.url}). "
        f"Nothing posted here is sent to {site_name}.*"
    )


def decode(text: str) -> str:
    """Titles and names come HTML-encoded from the API (``&quot;``, ``&#39;``)."""
    return html.unescape(text).strip()
