"""Markdown to safe HTML ("cooking"), done once when a post is written.

``extract_references(source)`` finds the ``@names`` and ``#123`` topic references first, so
the caller (which knows users and topics) can resolve them; ``cook(source, context)`` then
renders markdown with those links and sanitises the HTML last with an allow-list (nh3).
Input over the limits of forum.text.limits raises ``CookError`` (a ValueError): answer 422.
"""

from __future__ import annotations

from forum.text.cooker import (
    CookContext,
    Cooked,
    CookError,
    References,
    cook,
    extract_references,
)

__all__ = ["CookContext", "CookError", "Cooked", "References", "cook", "extract_references"]
