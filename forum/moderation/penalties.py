"""Silencing, suspending and banning users, in one project or on the whole platform.

Project moderators (and the rest of the project's moderating team) penalise inside their
project; platform-wide penalties are for platform admins only. Nobody penalises
themselves, a platform admin, or a team member ranked at or above them. Every penalty and
every early lift goes to the audit log. The gates in ``refusal_for`` turn active penalties
into the reasons users see when an action is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from forum import events
from forum.accounts.models import User
from forum.gates import Act, Attempt
from forum.moderation.audit import record
from forum.moderation.penalty_models import Penalty, PenaltyKind
from forum.projects.models import Project, Role
from forum.projects.permissions import Action, ProjectAccess, rank, role_in
from forum.web.errors import Forbidden, NotFound, UserError

if TYPE_CHECKING:
    from forum.platform import Platform

# What a silenced user may not do: everything that writes text others read, and flagging.
SILENCED_ACTS = frozenset({Act.CREATE_TOPIC, Act.REPLY, Act.EDIT_OWN_POST,
                           Act.EDIT_OTHERS_POST, Act.CREATE_TAG, Act.FLAG, Act.OPEN_TICKET})
MAX_DAYS = 3650
VERBS = {PenaltyKind.SILENCE: "silenced", PenaltyKind.SUSPEND: "suspended",
         PenaltyKind.BAN: "banned"}


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PenaltyDraft:
    kind: PenaltyKind
    reason: str
    days: int | None  # None: permanent


def describe_until(penalty: Penalty) -> str:
    if penalty.ends_at is None:
        return "permanently"
    return "until " + penalty.ends_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def is_active(penalty: Penalty, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return penalty.lifted_at is None and (penalty.ends_at is None or penalty.ends_at > now)


def _active(now: datetime) -> Q:
    return Q(lifted_at=None) & (Q(ends_at=None) | Q(ends_at__gt=now))


async def active_penalties(user_id: int, project_id: int | None) -> list[Penalty]:
    """The user's penalties in force now: platform-wide ones, and the project's if given."""
    scope = Q(project_id=None)
    if project_id is not None:
        scope = scope | Q(project_id=project_id)
    return await Penalty.filter(_active(utcnow()), scope, user_id=user_id).order_by("id")


def _refuses(penalty: Penalty, act: Act) -> bool:
    if penalty.project_id is None and penalty.kind != PenaltyKind.SILENCE:
        return True  # suspended or banned from the platform: nothing at all
    if act == Act.LOG_IN:
        return False  # a project's penalty never stops a log-in
    return penalty.kind != PenaltyKind.SILENCE or act in SILENCED_ACTS


def explain(penalty: Penalty) -> str:
    where = "on this platform" if penalty.project_id is None else "in this project"
    return (f"You are {VERBS[penalty.kind]} {where} {describe_until(penalty)}. "
            f"Reason: {penalty.reason}")


async def refusal_for(attempt: Attempt) -> str | None:
    """Why an active penalty forbids this attempt, or None."""
    for penalty in await active_penalties(attempt.user_id, attempt.project_id):
        if _refuses(penalty, attempt.act):
            return explain(penalty)
    return None


# Who may penalise whom


async def check_target(actor: User, target: User, project: Project | None,
                       actor_role: Role | None) -> None:
    if target.id == actor.id:
        raise Forbidden("You cannot penalise yourself.")
    if target.is_platform_admin:
        raise Forbidden("Platform admins cannot be penalised.")
    if project is None or actor.is_platform_admin:
        return
    target_role = await role_in(project.id, target)
    if target_role is None or target_role == Role.MEMBER:
        return
    if actor_role is None or rank(target_role) >= rank(actor_role):
        raise Forbidden(f"Only someone ranked above a project {target_role.value} may "
                        "penalise them.")


async def require_moderator(actor: User, access: ProjectAccess) -> None:
    if not access.can(Action.MODERATE):
        raise Forbidden("Only the project's moderators may penalise users here.")
    # A moderator suspended or banned here has no moderator tools either.
    reason = await refusal_for(Attempt(Act.MODERATE, actor.id, access.project.id))
    if reason:
        raise Forbidden(reason)


def require_admin(user: User) -> None:
    if not user.is_platform_admin:
        raise Forbidden("Only platform admins may penalise users on the whole platform.")


async def access_user(username: str) -> User:
    user = await User.get_or_none(username_lower=username.strip().lower()[:30])
    if user is None:
        raise NotFound("No such user.")
    return user


async def access_penalty(penalty_id: int, *, project: Project | None,
                         user: User | None = None) -> Penalty:
    """A penalty of this scope (project, or the platform when None), optionally of a user."""
    if not 0 < penalty_id < 2**31:
        raise NotFound("No such penalty.")
    penalty = await Penalty.get_or_none(id=penalty_id,
                                        project_id=project.id if project else None)
    if penalty is None or (user is not None and penalty.user_id != user.id):
        raise NotFound("No such penalty.")
    return penalty


# Verbs


async def check_penalise(platform: Platform, actor: User, target: User,
                         access: ProjectAccess | None, draft: PenaltyDraft) -> Penalty:
    """Penalise ``target`` in ``access``'s project, or platform-wide when it is None."""
    if access is None:
        require_admin(actor)
        await check_target(actor, target, None, None)
    else:
        await require_moderator(actor, access)
        await check_target(actor, target, access.project, access.role)
    return await do_penalise(platform, actor, target, access.project if access else None,
                             draft)


async def do_penalise(platform: Platform, actor: User | None, target: User,
                      project: Project | None, draft: PenaltyDraft) -> Penalty:
    now = utcnow()
    ends_at = None if draft.days is None else now + timedelta(days=draft.days)
    project_id = project.id if project else None
    async with in_transaction():
        penalty = await Penalty.create(user_id=target.id, project_id=project_id,
                                       kind=draft.kind, reason=draft.reason,
                                       created_by_id=actor.id if actor else None,
                                       ends_at=ends_at)
        if project is None and draft.kind != PenaltyKind.SILENCE:
            # Live sessions end now; the log-in gate keeps new ones out.
            await User.filter(id=target.id).update(session_version=F("session_version") + 1)
        await record(project_id, actor.id if actor else None, f"penalty.{draft.kind.value}",
                     "user", target.id,
                     {"penalty_id": penalty.id, "username": target.username,
                      "reason": draft.reason, "days": draft.days,
                      "ends_at": ends_at.isoformat() if ends_at else None})
    await platform.emit(events.UserPenalised(
        project=project_id, user_id=target.id, kind=draft.kind.value, penalty_id=penalty.id,
        actor_id=actor.id if actor else None))
    return penalty


async def check_lift(platform: Platform, actor: User, penalty: Penalty,
                     access: ProjectAccess | None, note: str) -> Penalty:
    if access is None:
        require_admin(actor)
    else:
        await require_moderator(actor, access)
        target = await User.get(id=penalty.user_id)
        await check_target(actor, target, access.project, access.role)
    if not is_active(penalty):
        raise UserError(409, "That penalty is no longer in force.", code="not_active")
    return await do_lift(platform, actor, penalty, note)


async def do_lift(platform: Platform, actor: User, penalty: Penalty, note: str) -> Penalty:
    async with in_transaction():
        penalty.lifted_at = utcnow()
        penalty.lifted_by_id = actor.id
        penalty.lift_reason = note
        await penalty.save(update_fields=["lifted_at", "lifted_by_id", "lift_reason"])
        await record(penalty.project_id, actor.id, "penalty.lifted", "user",
                     penalty.user_id,
                     {"penalty_id": penalty.id, "kind": penalty.kind.value, "note": note})
    return penalty


# Reading


async def penalties_of(user_id: int, project_id: int | None, *,
                       include_platform: bool = True) -> list[Penalty]:
    """A user's penalties (newest first) in a project, plus the platform-wide ones."""
    if project_id is None:
        scope = Q(project_id=None)
    elif include_platform:
        scope = Q(project_id=project_id) | Q(project_id=None)
    else:
        scope = Q(project_id=project_id)
    return await Penalty.filter(scope, user_id=user_id).order_by("-id").limit(200)


async def platform_penalties(*, active_only: bool, limit: int = 200) -> list[Penalty]:
    query = Penalty.filter(project_id=None)
    if active_only:
        query = query.filter(_active(utcnow()))
    return await query.order_by("-id").limit(limit).prefetch_related("user")
