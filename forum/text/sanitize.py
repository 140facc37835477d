"""The last step of cooking: an allow-list sanitiser (nh3, i.e. ammonia).

Whatever the renderer produced, only these tags, attributes and classes survive; URLs
keep only the http, https and mailto schemes (or are relative), images only https;
every link gets ``rel="nofollow ugc noopener"``. No style attribute or event handler is
on the list, so none can pass.
"""

from __future__ import annotations

import re

import nh3

from forum.text.highlight import CSS_CLASS, TOKEN_CLASSES

LINK_REL = "nofollow ugc noopener"
URL_SCHEMES = frozenset({"http", "https", "mailto"})
ALIGN_CLASSES = frozenset({"align-left", "align-center", "align-right"})
REFERENCE_CLASSES = frozenset({"mention", "topic-ref"})

TAGS = frozenset({
    "p", "br", "hr", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th",
    "td", "span", "input",
})
# "class" is never listed here: nh3 checks classes one by one through ALLOWED_CLASSES.
ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
ALLOWED_CLASSES: dict[str, set[str]] = {
    "a": set(REFERENCE_CLASSES),
    "span": set(TOKEN_CLASSES),
    "pre": {CSS_CLASS},
    "blockquote": {"quote"},
    "p": {"quote-source"},
    "th": set(ALIGN_CLASSES),
    "td": set(ALIGN_CLASSES),
    "ul": {"contains-task-list"},
    "ol": {"contains-task-list"},
    "li": {"task-list-item"},
    "input": {"task-list-item-checkbox"},
}
# Task list boxes: always a disabled checkbox, "checked" the only choice left.
TAG_ATTRIBUTE_VALUES: dict[str, dict[str, set[str]]] = {
    "input": {"checked": {"checked", ""}},
}
SET_TAG_ATTRIBUTE_VALUES: dict[str, dict[str, str]] = {
    "input": {"type": "checkbox", "disabled": "disabled"},
    "img": {"loading": "lazy"},
}


_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f]+")
_PATH_START = re.compile(r"[/?#]")


def is_safe_url(url: str) -> bool:
    """Relative, or http/https/mailto; whatever browsers would skip inside a scheme
    (whitespace, control characters) is skipped here too, so "jav\tascript:" is refused.
    A colon before the first "/", "?" or "#" is a scheme: an unknown one is refused even
    where a URL parser would call the whole thing a relative path."""
    head = _PATH_START.split(_IGNORED_IN_SCHEME.sub("", url), maxsplit=1)[0].lower()
    if ":" not in head:
        return True
    return head.split(":", 1)[0] in URL_SCHEMES


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute in ("href", "src") and not is_safe_url(value):
        return None
    # Images load without a click: only over https (no mixed content, no relative
    # paths into the forum's own routes).
    if tag == "img" and attribute == "src" and not value.lower().startswith("https://"):
        return None
    return value


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(TAGS),
        clean_content_tags={"script", "style"},
        attributes=ATTRIBUTES,
        attribute_filter=_filter_attribute,
        strip_comments=True,
        link_rel=LINK_REL,
        tag_attribute_values=TAG_ATTRIBUTE_VALUES,
        set_tag_attribute_values=SET_TAG_ATTRIBUTE_VALUES,
        url_schemes=set(URL_SCHEMES),
        allowed_classes=ALLOWED_CLASSES,
        filter_style_properties=set(),
    )
