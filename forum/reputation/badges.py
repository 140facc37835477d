"""The badge engine: awards, the rules plugins register, evaluation, and what pages read.

Rules come from the ``forum_badge_rules`` hook (``forum.hookspecs.BadgeRule``); the core's
own set is in ``forum.reputation.badges_plugin``. A rule looks at a project's tables and
says who earns its badge; the engine keeps what is new. Awards are rows with a unique
(project, badge, user, post) key, so evaluating twice, or two workers at once, never gives a
badge twice; a badge is never taken back. ``BadgeAwarded`` is emitted after each award is
stored.

Evaluation runs in jobs: activity asks for one (``request_evaluation``), debounced per
project so a burst of votes costs one run; a nightly cron entry sweeps every project for
the time-based rules.
"""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.functions import Count
from tortoise.models import Model

from forum import events
from forum.gates import Flair
from forum.hookspecs import BadgeContext, BadgeGrant, BadgeRule

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.platform import Platform
    from forum.projects.models import Project

log = logging.getLogger(__name__)

LEVELS: tuple[str, ...] = ("gold", "silver", "bronze")
EVALUATE_JOB = "badges.evaluate"
EVALUATE_ALL_JOB = "badges.evaluate_all"
# Activity waits this long before the evaluation it asked for runs, so that the votes and
# posts of the next seconds share it.
EVALUATION_DELAY = timedelta(seconds=30)
RETAG = "retag"


def utcnow() -> datetime:
    return datetime.now(UTC)


class BadgeAward(Model):
    """A badge earned by a user in a project (for a post, when the badge is per post)."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name=False, on_delete=fields.CASCADE)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    badge = fields.CharField(max_length=60)  # the rule's slug
    level = fields.CharField(max_length=6)  # gold, silver or bronze
    post_id = fields.IntField(null=True)
    # post_id, or 0: the unique key's column (NULLs never collide in a unique index).
    post_key = fields.IntField(default=0)
    awarded_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "badge_awards"
        unique_together = (("project", "badge", "user", "post_key"),)
        indexes = (("project_id", "user_id"), ("project_id", "badge", "awarded_at"))


class BadgeFact(Model):
    """Something a rule needs that leaves no row elsewhere, e.g. who retagged which topic."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "forum.Project", related_name=False, on_delete=fields.CASCADE)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "forum.User", related_name=False, on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=30)
    ref_id = fields.IntField(default=0)  # the topic or post it is about
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "badge_facts"
        unique_together = (("project", "user", "kind", "ref_id"),)


class BadgeSweep(Model):
    """Per project: an evaluation is queued and has not started yet (the debounce)."""

    id = fields.IntField(primary_key=True)
    project: fields.OneToOneRelation[Project] = fields.OneToOneField(
        "forum.Project", related_name=False, on_delete=fields.CASCADE)
    pending = fields.BooleanField(default=False)
    last_run_at = fields.DatetimeField(null=True)

    class Meta:
        table = "badge_sweeps"


# The rules


@dataclass(frozen=True)
class RegisteredRule:
    rule: BadgeRule
    plugin: str  # the plugin that registered it
    core: bool  # core rules apply in every project; a plugin's where it is enabled


def registered_rules(platform: Platform) -> dict[str, RegisteredRule]:
    """Every rule by slug, in the order plugins registered them; a slug taken twice keeps
    the first."""
    found: dict[str, RegisteredRule] = {}
    core = platform.plugins.core
    # get_hookimpls() lists the plugins in registration order: the core's come first.
    for impl in platform.plugins.hook.forum_badge_rules.get_hookimpls():
        for rule in impl.function() or []:
            if rule.slug in found:
                log.warning("badge %r of %s is already registered by %s; ignored",
                            rule.slug, impl.plugin_name, found[rule.slug].plugin)
                continue
            found[rule.slug] = RegisteredRule(rule, impl.plugin_name, impl.plugin_name in core)
    return found


async def project_rules(platform: Platform, project_id: int) -> list[BadgeRule]:
    """The rules that apply in a project: the core's and those of its enabled plugins."""
    from forum.projects.service import enabled_plugin_names

    everything = registered_rules(platform)
    if all(r.core for r in everything.values()):
        return [r.rule for r in everything.values()]
    enabled = await enabled_plugin_names(platform, project_id)
    return [r.rule for r in everything.values() if r.core or r.plugin in enabled]


async def project_rule(platform: Platform, project_id: int, slug: str) -> BadgeRule | None:
    for rule in await project_rules(platform, project_id):
        if rule.slug == slug:
            return rule
    return None


# Evaluation


def _grants(found: object) -> list[BadgeGrant]:
    grants: list[BadgeGrant] = []
    for item in found or ():  # type: ignore[attr-defined]
        if isinstance(item, BadgeGrant):
            grants.append(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            grants.append(BadgeGrant(item))
    return grants


async def _held(project_id: int, slug: str) -> tuple[set[int], set[tuple[int, int]]]:
    rows = await BadgeAward.filter(project_id=project_id, badge=slug).values_list(
        "user_id", "post_key")
    pairs = {(int(u), int(p)) for u, p in rows}
    return {u for u, _ in pairs}, pairs


async def evaluate_rule(platform: Platform, project_id: int, rule: BadgeRule,
                        now: datetime | None = None) -> list[BadgeAward]:
    """Store the awards of ``rule`` that are new in the project; returns them."""
    users, pairs = await _held(project_id, rule.slug)
    ctx = BadgeContext(project_id=project_id, now=now or utcnow(), platform=platform,
                       held_by=frozenset(users),
                       held_posts=frozenset(p for _, p in pairs if p))
    created: list[BadgeAward] = []
    for grant in _grants(await rule.evaluate(ctx)):
        post_key = (grant.post_id or 0) if rule.multiple else 0
        if (grant.user_id, post_key) in pairs or (not rule.multiple and grant.user_id in users):
            continue
        try:
            award = await BadgeAward.create(
                project_id=project_id, user_id=grant.user_id, badge=rule.slug,
                level=rule.level, post_id=grant.post_id, post_key=post_key)
        except IntegrityError:  # another evaluation stored it first, or no such user
            continue
        pairs.add((grant.user_id, post_key))
        users.add(grant.user_id)
        created.append(award)
    return created


async def evaluate_project(platform: Platform, project_id: int,
                           now: datetime | None = None) -> list[BadgeAward]:
    """Evaluate every rule that applies in the project; award what is new and announce it.
    A failing rule (a plugin's bug) is logged and skipped, the others still run."""
    created: list[BadgeAward] = []
    names: dict[str, str] = {}
    for rule in await project_rules(platform, project_id):
        names[rule.slug] = rule.name
        try:
            created += await evaluate_rule(platform, project_id, rule, now)
        except Exception:
            log.exception("badge rule %r failed in project %s", rule.slug, project_id)
    for award in created:
        await platform.emit(events.BadgeAwarded(
            project=project_id, user_id=award.user_id,  # type: ignore[attr-defined]
            badge=award.badge, level=award.level, award_id=award.id,
            badge_name=names[award.badge], post_id=award.post_id))
    return created


async def request_evaluation(platform: Platform, project_id: int) -> bool:
    """Queue an evaluation of the project unless one is already waiting to start.
    Returns whether a job was queued."""
    sweep = await BadgeSweep.get_or_none(project_id=project_id)
    if sweep is None:
        try:
            sweep = await BadgeSweep.create(project_id=project_id)
        except IntegrityError:
            sweep = await BadgeSweep.get(project_id=project_id)
    if not await BadgeSweep.filter(id=sweep.id, pending=False).update(pending=True):
        return False
    try:
        await platform.enqueue(EVALUATE_JOB, _delay=EVALUATION_DELAY, project_id=project_id)
    except Exception:
        await BadgeSweep.filter(id=sweep.id).update(pending=False)
        raise
    return True


async def run_evaluation(platform: Platform, project_id: int) -> list[BadgeAward]:
    """The job's body: activity from now on asks for a new run, then this one runs."""
    from forum.projects.models import Project

    await BadgeSweep.filter(project_id=project_id).update(pending=False, last_run_at=utcnow())
    if not await Project.exists(id=project_id):
        return []
    return await evaluate_project(platform, project_id)


async def do_record_fact(project_id: int, user_id: int, kind: str, ref_id: int = 0) -> None:
    """Remember that ``user_id`` did ``kind`` (to ``ref_id``) once."""
    with contextlib.suppress(IntegrityError):  # the same fact, stored concurrently
        await BadgeFact.get_or_create(project_id=project_id, user_id=user_id, kind=kind,
                                      ref_id=ref_id)


# Reading


async def award_counts(project_id: int) -> dict[str, int]:
    """How many times each badge was awarded in the project."""
    rows = await BadgeAward.filter(project_id=project_id).annotate(n=Count("id")).group_by(
        "badge").values("badge", "n")
    return {str(r["badge"]): int(r["n"]) for r in rows}


async def awards_of_badge(project_id: int, slug: str, *, before: int | None = None,
                          limit: int = 50) -> list[BadgeAward]:
    """Who earned a badge, newest first, keyset-paged by award id."""
    query = BadgeAward.filter(project_id=project_id, badge=slug)
    if before is not None:
        query = query.filter(id__lt=before)
    return await query.select_related("user").order_by("-id").limit(limit)


@dataclass
class HeldBadge:
    """One badge a user holds in a project, with how many times and when."""

    slug: str
    name: str
    description: str
    level: str
    count: int
    first_awarded_at: datetime
    last_awarded_at: datetime
    post_ids: list[int] = field(default_factory=list)


async def badges_of_user(platform: Platform, project_id: int, user_id: int
                         ) -> list[HeldBadge]:
    """A user's badges in the project, gold first, then by name. Badges whose rule is gone
    (a plugin switched off) still show, under their slug."""
    rules = registered_rules(platform)
    held: dict[str, HeldBadge] = {}
    for award in await BadgeAward.filter(project_id=project_id, user_id=user_id).order_by(
            "awarded_at", "id"):
        item = held.get(award.badge)
        if item is None:
            known = rules.get(award.badge)
            item = held[award.badge] = HeldBadge(
                slug=award.badge, name=known.rule.name if known else award.badge,
                description=known.rule.description if known else "",
                level=award.level, count=0, first_awarded_at=award.awarded_at,
                last_awarded_at=award.awarded_at)
        item.count += 1
        item.last_awarded_at = award.awarded_at
        if award.post_id is not None:
            item.post_ids.append(award.post_id)
    return sorted(held.values(), key=lambda b: (level_rank(b.level), b.name.lower()))


def level_rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def level_counts(badges: list[HeldBadge]) -> dict[str, int]:
    counts = dict.fromkeys(LEVELS, 0)
    for badge in badges:
        if badge.level in counts:
            counts[badge.level] += badge.count
    return counts


async def badge_flair(project_id: int, user_ids: list[int]) -> dict[int, dict[str, int]]:
    """Gold, silver and bronze counts of many users, in one query."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(LEVELS, 0))
    rows = await BadgeAward.filter(project_id=project_id, user_id__in=user_ids).annotate(
        n=Count("id")).group_by("user_id", "level").values("user_id", "level", "n")
    for row in rows:
        level = str(row["level"])
        if level in LEVELS:
            counts[int(row["user_id"])][level] = int(row["n"])
    return counts


async def author_flair(project_id: int, user_ids: list[int]) -> dict[int, Flair]:
    """Reputation and badge counts beside many names: two queries whatever their number."""
    from forum.reputation.service import reputations

    ids = sorted(set(user_ids))
    if not ids:
        return {}
    reputation = await reputations(project_id, ids)
    badges = await badge_flair(project_id, ids)
    flair: dict[int, Flair] = {}
    for user_id in ids:
        counts = badges.get(user_id) or dict.fromkeys(LEVELS, 0)
        flair[user_id] = Flair(reputation=reputation.get(user_id, Flair().reputation),
                               gold=counts["gold"], silver=counts["silver"],
                               bronze=counts["bronze"])
    return flair
