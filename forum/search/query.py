"""The user's search text turned into terms every backend can quote safely.

Backends never pass user text to their query language as it is: FTS5 and tsquery have
operators and syntax errors. ``parse_terms`` keeps what the user can mean (words, quoted
phrases, a trailing ``*`` for a prefix) and drops everything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUERY_CHARS = 500  # longer input is truncated, never an error
MAX_TERMS = 16
_OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})
_TOKEN = re.compile(r'"([^"]*)"?|([^\W_]+)(\*?)', re.UNICODE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or the words of a phrase
    prefix: bool = False  # the last word is a prefix ("instal*")

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


def parse_terms(text: str) -> list[Term]:
    """Words, "quoted phrases" and prefix* terms of ``text``; operators and punctuation dropped."""
    terms: list[Term] = []
    for match in _TOKEN.finditer(text[:MAX_QUERY_CHARS]):
        phrase, word, star = match.groups()
        if phrase is not None:
            words = tuple(w.lower() for w in _WORD.findall(phrase))
            if words:
                terms.append(Term(words))
        elif word and word not in _OPERATORS:
            terms.append(Term((word.lower(),), prefix=bool(star)))
        if len(terms) >= MAX_TERMS:
            break
    return terms


_STOP_WORD_TEXT = (
    "a an and are as at be but by for from has have i if in into is it its of on or that the"
    " their then there these they this to was were will with")
STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())


def without_stop_words(terms: list[Term]) -> list[Term]:
    """Drop single stop words when other terms remain: "the" is in nearly every post, so it
    narrows nothing and makes ranking scan the whole index. Phrases keep theirs."""
    kept = [t for t in terms if t.is_phrase or t.prefix or t.words[0] not in STOP_WORDS]
    return kept or terms


def normalised_text(terms: list[Term]) -> str:
    """The terms written back as plain search text (phrases quoted, prefixes starred)."""
    parts = []
    for term in terms:
        joined = " ".join(term.words)
        parts.append(f'"{joined}"' if term.is_phrase else joined + ("*" if term.prefix else ""))
    return " ".join(parts)


MARK_START = "\x02"
MARK_END = "\x03"


def marked_to_html(text: str) -> str:
    """Escape a snippet whose matches are wrapped in the sentinel characters, then mark them."""
    from markupsafe import escape

    safe = str(escape(text.replace(MARK_START, "\x00s").replace(MARK_END, "\x00e")))
    return safe.replace("\x00s", "<mark>").replace("\x00e", "</mark>")
