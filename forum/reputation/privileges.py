"""Privileges unlocked by reputation, and the limits on new users: the one place every
check lives. The core asks through ``forum_refuse`` and ``forum_screen_post``
(forum/gates.py), so the web forms and the API are refused alike.

- ``privilege_refusal(project_id, user_id, privilege, is_staff)``: why the user does not
  hold ``privilege`` yet, or None. Staff hold every privilege.
- New users (reputation below the lowest threshold above 1, account younger than
  ``new_user_hours``) start few topics and replies a day and put few links and mentions in
  a post, like Discourse's trust level 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from forum.accounts.models import User
from forum.gates import Act, Attempt, Draft, Screening, Verdict
from forum.reputation.config import load_rules
from forum.reputation.schemas import (
    DEFAULT_THRESHOLDS,
    PRIVILEGE_LABELS,
    Privilege,
    ReputationSettings,
)
from forum.reputation.service import reputation_of
from forum.text.cooker import extract_references
from forum.topics.models import Post, Topic

ACT_PRIVILEGE: dict[Act, Privilege] = {
    Act.REPLY: Privilege.REPLY,
    Act.VOTE_UP: Privilege.VOTE_UP,
    Act.VOTE_DOWN: Privilege.VOTE_DOWN,
    Act.CREATE_TAG: Privilege.CREATE_TAG,
    Act.EDIT_OTHERS_POST: Privilege.EDIT_OTHERS_POST,
    Act.FLAG: Privilege.FLAG,
    Act.CLOSE_REOPEN: Privilege.CLOSE_REOPEN,
    Act.REVIEW: Privilege.REVIEW,
    Act.MODERATE: Privilege.MODERATE,
}

LINK_RE = re.compile(r"(?i)(?:\bhttps?://|\bwww\.)[^\s<>()\[\]]+")


async def privilege_refusal(project_id: int, user_id: int, privilege: Privilege,
                            is_staff: bool, *, rules: ReputationSettings | None = None
                            ) -> str | None:
    """Why the user may not use ``privilege`` in the project yet, or None."""
    if is_staff:
        return None
    rules = rules or await load_rules(project_id)
    return _refusal(rules, privilege, await reputation_of(project_id, user_id), is_staff)


def _refusal(rules: ReputationSettings, privilege: Privilege, have: int, is_staff: bool
             ) -> str | None:
    """The rule itself, for a reputation already known."""
    needed = rules.thresholds.get(privilege, DEFAULT_THRESHOLDS[privilege])
    if is_staff or have >= needed:
        return None
    return (f"{PRIVILEGE_LABELS[privilege]} needs {needed} reputation in this project; "
            f"you have {have}.")


@dataclass(frozen=True)
class PrivilegeState:
    privilege: Privilege
    label: str
    threshold: int
    held: bool


async def privilege_table(project_id: int, user_id: int | None, is_staff: bool
                          ) -> tuple[int | None, list[PrivilegeState]]:
    """(the user's reputation, every privilege with its threshold and whether they hold
    it); anonymous visitors hold none."""
    rules = await load_rules(project_id)
    have = await reputation_of(project_id, user_id) if user_id is not None else None
    rows = sorted(((p, rules.thresholds[p]) for p in Privilege), key=lambda r: r[1])
    return have, [PrivilegeState(p, PRIVILEGE_LABELS[p], t, have is not None and _refusal(
        rules, p, have, is_staff) is None) for p, t in rows]


async def is_new_user(project_id: int, user_id: int, rules: ReputationSettings,
                      now: datetime | None = None) -> bool:
    user = await User.filter(id=user_id).only("id", "created_at").first()
    if user is None:
        return False
    now = now or datetime.now(UTC)
    if now - user.created_at >= timedelta(hours=rules.new_user_hours):
        return False
    return await reputation_of(project_id, user_id) < rules.new_user_reputation


async def _new_user_posting_refusal(attempt: Attempt, rules: ReputationSettings) -> str | None:
    assert attempt.project_id is not None
    if not await is_new_user(attempt.project_id, attempt.user_id, rules):
        return None
    since = datetime.now(UTC) - timedelta(hours=24)
    if attempt.act == Act.CREATE_TOPIC:
        started = await Topic.filter(project_id=attempt.project_id, author_id=attempt.user_id,
                                     created_at__gte=since).count()
        if started >= rules.new_user_max_topics:
            return (f"New members may start {rules.new_user_max_topics} topics on their "
                    "first day; please come back tomorrow.")
        return None
    replies = await Post.filter(topic__project_id=attempt.project_id, author_id=attempt.user_id,
                                number__gt=1, created_at__gte=since).count()
    if replies >= rules.new_user_max_replies:
        return (f"New members may post {rules.new_user_max_replies} replies on their first "
                "day; please come back tomorrow.")
    return None


async def _reply_target(attempt: Attempt) -> int | None:
    if attempt.target_user_id is not None:
        return attempt.target_user_id
    if attempt.topic_id is None:
        return None
    topic = await Topic.filter(id=attempt.topic_id).only("id", "author_id").first()
    return topic.author_id if topic is not None else None  # type: ignore[attr-defined]


async def privileges_refusal(attempt: Attempt, rules: ReputationSettings) -> str | None:
    """The privilege and new-user checks of one attempt (vote fraud is ``fraud``'s)."""
    if attempt.project_id is None or attempt.is_staff:
        return None
    privilege = ACT_PRIVILEGE.get(attempt.act)
    if privilege == Privilege.REPLY and await _reply_target(attempt) == attempt.user_id:
        privilege = None  # replying in your own topic needs nothing
    if privilege is not None:
        reason = await privilege_refusal(attempt.project_id, attempt.user_id, privilege,
                                         False, rules=rules)
        if reason:
            return reason
    if attempt.act in (Act.CREATE_TOPIC, Act.REPLY):
        return await _new_user_posting_refusal(attempt, rules)
    return None


def count_links(source: str) -> int:
    return len(LINK_RE.findall(source))


def count_mentions(source: str) -> int:
    return len(extract_references(source).usernames)


async def screen_new_user_post(draft: Draft) -> Screening | None:
    """Block a new user's post with more links or mentions than the project allows."""
    if draft.is_staff:
        return None
    rules = await load_rules(draft.project_id)
    links, mentions = count_links(draft.source), count_mentions(draft.source)
    if links <= rules.new_user_max_links and mentions <= rules.new_user_max_mentions:
        return None
    if not await is_new_user(draft.project_id, draft.user_id, rules):
        return None
    if links > rules.new_user_max_links:
        return Screening(Verdict.BLOCK, (
            f"New members may put at most {rules.new_user_max_links} links in a post "
            f"(this one has {links})."))
    return Screening(Verdict.BLOCK, (
        f"New members may mention at most {rules.new_user_max_mentions} people in a post "
        f"(this one mentions {mentions})."))


__all__ = ["ACT_PRIVILEGE", "Privilege", "PrivilegeState", "count_links", "count_mentions",
           "is_new_user", "privilege_refusal", "privilege_table", "privileges_refusal",
           "screen_new_user_post"]
