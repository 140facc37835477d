"""The "+support" command in a GitHub comment: ``@<bot> +support`` or ``@<bot> /support``,
any case, on a line of its own text; not inside a quote (``>``), a fenced code block or
an indented code block, where it is someone quoting or showing the command.
"""

from __future__ import annotations

import re

BOTS_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _command_re(bot_name: str) -> re.Pattern[str]:
    bot = re.escape(bot_name.removesuffix("[bot]"))
    return re.compile(rf"(?<![\w@])@{bot}(?:\[bot\])?\s+[+/]support\b", re.IGNORECASE)


def prose_lines(body: str) -> list[str]:
    """The lines of a markdown comment that are neither quoted nor code."""
    lines: list[str] = []
    fence: str | None = None
    previous_blank = True
    for raw in body.replace("\r\n", "\n").split("\n"):
        opened = FENCE_RE.match(raw)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        if raw.lstrip().startswith(">"):
            previous_blank = False
            continue
        indented = raw.startswith(("    ", "\t")) and raw.strip()
        if indented and previous_blank:
            continue  # an indented code block starts after a blank line
        previous_blank = not raw.strip()
        lines.append(raw)
    return lines


def has_support_command(body: str | None, bot_name: str) -> bool:
    if not body or not bot_name:
        return False
    pattern = _command_re(bot_name)
    return any(pattern.search(line) for line in prose_lines(body))


def is_bot(user: object) -> bool:
    """A GitHub App or other bot account (``type`` "Bot", or a login ending in "[bot]")."""
    if not isinstance(user, dict):
        return True  # no author: treat as not a person
    login = str(user.get("login") or "")
    return user.get("type") == "Bot" or login.lower().endswith("[bot]")
