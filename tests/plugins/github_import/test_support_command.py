"""Recognising "+support" in a comment (the whole flow is in test_webhook.py)."""

from __future__ import annotations

import pytest

from plugins.github_import.commands import has_support_command, is_bot


@pytest.mark.parametrize("body", [
    "@forum-bot +support",
    "@Forum-Bot /SUPPORT",
    "Thanks!\n\n@forum-bot +support please",
    "@forum-bot[bot] +support",
    "  @forum-bot   /support",
])
def test_recognised(body: str) -> None:
    assert has_support_command(body, "forum-bot")


@pytest.mark.parametrize("body", [
    "",
    "+support",
    "@forum-bot support",
    "@other-bot +support",
    "@forum-botty +support",
    "email@forum-bot +support",
    "> @forum-bot +support",
    "```\n@forum-bot +support\n```",
    "~~~md\n@forum-bot +support\n~~~",
    "text\n\n    @forum-bot +support",
    "@forum-bot +supportive",
])
def test_not_recognised(body: str) -> None:
    assert not has_support_command(body, "forum-bot")


def test_text_after_a_closed_fence_counts() -> None:
    assert has_support_command("```\ncode\n```\n@forum-bot +support", "forum-bot")


def test_bots() -> None:
    assert is_bot({"login": "dependabot[bot]", "type": "Bot"})
    assert is_bot({"login": "renovate[bot]", "type": "User"})
    assert is_bot({"login": "app", "type": "Bot"})
    assert not is_bot({"login": "Codertocat", "type": "User"})
    assert is_bot(None)
