"""Watched words: a project's list of words or phrases that block a post, hold it for
review, or are replaced. Matching ignores case and finds whole words; ``*`` in a word
matches any letters (``casino*`` matches "casinos"). Project leads manage the list.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from tortoise.exceptions import IntegrityError

from forum.gates import Screening, Verdict
from forum.moderation import audit
from forum.moderation.models import WatchedWord, WordAction
from forum.moderation.schemas import WatchedWordIn
from forum.projects.models import Project
from forum.topics.schemas import MAX_ID
from forum.web.errors import Conflict, Invalid, NotFound

if TYPE_CHECKING:
    from forum.accounts.models import User

MAX_WORDS = 2000


@lru_cache(maxsize=4096)
def pattern(word: str) -> re.Pattern[str]:
    parts = [re.escape(part).replace(r"\ ", r"\s+") for part in word.split("*")]
    return re.compile(r"(?<!\w)" + r"\w*".join(parts) + r"(?!\w)", re.IGNORECASE)


def judge(words: list[WatchedWord], source: str, title: str | None = None) -> Screening | None:
    """The list's verdict on a text: a block, a hold, a rewrite, or None."""
    text = source
    held: list[str] = []
    for word in words:
        found = pattern(word.word)
        if word.action == WordAction.REPLACE:
            text = found.sub(word.replacement, text)
            continue
        if not (found.search(source) or (title and found.search(title))):
            continue
        if word.action == WordAction.BLOCK:
            return Screening(Verdict.BLOCK, f'Your post contains "{word.word}", which is not '
                                            "allowed here.")
        held.append(word.word)
    rewritten = text if text != source else None
    if held:
        return Screening(Verdict.HOLD, "Held for review: it contains a watched word "
                                       f'("{held[0]}").', rewritten)
    if rewritten is not None:
        return Screening(Verdict.ALLOW, "", rewritten)
    return None


async def project_words(project_id: int) -> list[WatchedWord]:
    return list(await WatchedWord.filter(project_id=project_id).order_by("word"))


async def screen_words(project_id: int, source: str, title: str | None) -> Screening | None:
    words = await project_words(project_id)
    return judge(words, source, title) if words else None


async def add_word(project: Project, actor: User, data: WatchedWordIn) -> WatchedWord:
    """Add a word (the caller checked that ``actor`` manages the project's settings)."""
    replacement = data.replacement.strip() if data.action == WordAction.REPLACE else ""
    if data.action == WordAction.REPLACE and not replacement:
        raise Invalid("Say what to replace the word with.",
                      fields={"replacement": "required when replacing"})
    if await WatchedWord.exists(project_id=project.id, word=data.word):
        raise Conflict(f'"{data.word}" is already watched.', fields={"word": "already watched"})
    if await WatchedWord.filter(project_id=project.id).count() >= MAX_WORDS:
        raise Conflict(f"A project watches at most {MAX_WORDS} words.")
    try:
        word = await WatchedWord.create(project_id=project.id, word=data.word,
                                        action=data.action, replacement=replacement,
                                        created_by_id=actor.id)
    except IntegrityError:
        raise Conflict(f'"{data.word}" is already watched.',
                       fields={"word": "already watched"}) from None
    await audit.record(project.id, actor.id, "watched_words.add", "watched_word", word.id,
                       {"word": word.word, "action": str(word.action),
                        "replacement": word.replacement})
    return word


async def remove_word(project: Project, actor: User, word_id: int) -> None:
    word = (await WatchedWord.get_or_none(id=word_id, project_id=project.id)
            if 0 < word_id <= MAX_ID else None)
    if word is None:
        raise NotFound("No such watched word.")
    await word.delete()
    await audit.record(project.id, actor.id, "watched_words.remove", "watched_word", word_id,
                       {"word": word.word, "action": str(word.action)})
