"""Questions the core asks before it acts, answered by whichever domains care.

``topics`` may not import ``reputation`` or ``moderation`` (the dependency rule), yet a vote
down needs a privilege, a silenced user may not post and a new user's first post with
links waits for review. So the verbs that write ask through hooks, with these types:

- ``Attempt`` + ``forum_refuse``: "may this user do this now?" Every implementation may
  answer with a reason to refuse; the first reason wins and becomes a 403 (or a refused
  log-in). ``reputation`` answers for privileges and new-user limits, ``moderation`` for
  penalties, terms acceptance and posting rate limits.
- ``Draft`` + ``forum_screen_post``: "may this text be posted as it is?" An answer blocks
  it (422 with the reason), holds it for review (stored, hidden from everyone but its author
  and moderators until approved) or rewrites it (watched words replaced).
- ``forum_author_flair``: what to show beside authors' names (reputation, badge counts),
  for many users in one call so a page's query count stays flat.

``Platform.refusal``, ``Platform.screen`` and ``Platform.flair`` make the calls.

Seeding (``forum demo``) acts as the platform itself, inside ``unguarded()``: no gate
refuses and no screener holds what it writes, while the verbs and their events (ledgers,
notifications, badges) run as usual.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum


class Act(StrEnum):
    """Things a user does that some domain may refuse."""

    LOG_IN = "log_in"  # project_id is None
    CREATE_TOPIC = "create_topic"
    REPLY = "reply"  # also: answering
    EDIT_OWN_POST = "edit_own_post"
    EDIT_OTHERS_POST = "edit_others_post"
    VOTE_UP = "vote_up"
    VOTE_DOWN = "vote_down"
    ACCEPT = "accept"
    CREATE_TAG = "create_tag"
    FLAG = "flag"
    CLOSE_REOPEN = "close_reopen"
    REVIEW = "review"  # the review queue
    MODERATE = "moderate"  # moderator tools
    OPEN_TICKET = "open_ticket"
    PAY = "pay"  # buy a ticket upgrade or a plan (the terms must be accepted first)


@dataclass(frozen=True)
class Attempt:
    """One user about to do ``act`` in a project (``project_id`` None: platform-wide).

    ``is_staff``: the user is on the project's team or a platform admin; staff hold every
    reputation privilege but may still be penalised.
    """

    act: Act
    user_id: int
    project_id: int | None
    is_staff: bool = False
    topic_id: int | None = None
    post_id: int | None = None
    target_user_id: int | None = None  # whose post is voted on, edited or flagged


class Verdict(StrEnum):
    ALLOW = "allow"
    HOLD = "hold"  # store it hidden, pending review
    BLOCK = "block"  # refuse it


@dataclass(frozen=True)
class Draft:
    """A post about to be stored: a new topic's opening post (``topic_id`` None), a reply,
    or an edit (``post_id`` set). ``ip`` is the client's address when known."""

    project_id: int
    user_id: int
    is_staff: bool
    source: str
    title: str | None = None
    topic_id: int | None = None
    post_id: int | None = None
    ip: str | None = None


@dataclass(frozen=True)
class Screening:
    """One screener's answer. ``source`` set: post this text instead (e.g. words replaced)."""

    verdict: Verdict = Verdict.ALLOW
    reason: str = ""
    source: str | None = None


@dataclass(frozen=True)
class Flair:
    """Shown beside a user's name in a project."""

    reputation: int = 1
    gold: int = 0
    silver: int = 0
    bronze: int = 0
    # (currency, minor units) the user's posts earned the project on paid tickets, net of
    # refunds (recognition adds it; empty when nothing was earned).
    earned: tuple[tuple[str, int], ...] = ()


_UNGUARDED: ContextVar[bool] = ContextVar("forum_gates_unguarded", default=False)


@contextmanager
def unguarded() -> Iterator[None]:
    """Within this block (and the tasks it starts) ``Platform.refusal`` and
    ``Platform.screen`` let everything through: for seeding demo content only."""
    token = _UNGUARDED.set(True)
    try:
        yield
    finally:
        _UNGUARDED.reset(token)


def is_unguarded() -> bool:
    return _UNGUARDED.get()
