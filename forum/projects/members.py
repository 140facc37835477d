"""Who belongs to a project: roles, removal, and invitations by email.

Nobody gives a role above their own or changes someone ranked above them (platform
admins excepted), and a project always keeps at least one owner. Invitation links carry
a random token of which only the SHA-256 is stored; a link works once, until it expires
(14 days) or is revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from tortoise.transactions import in_transaction

from forum import events
from forum.accounts.models import User
from forum.projects.models import Invitation, Membership, Project, Role
from forum.projects.permissions import ROLE_ORDER, Action, ProjectAccess, may_assign, rank
from forum.web.errors import Conflict, Forbidden, Invalid, NotFound, UserError

if TYPE_CHECKING:
    from forum.platform import Platform

INVITATION_DAYS = 14


def utcnow() -> datetime:
    return datetime.now(UTC)


# Members


@dataclass(frozen=True)
class MemberView:
    user_id: int
    username: str
    role: Role
    joined_at: datetime


async def list_members(project: Project) -> list[MemberView]:
    """Members, highest role first, then by name."""
    rows = await Membership.filter(project_id=project.id).values(
        "user_id", "user__username", "role", "created_at")
    members = [MemberView(int(r["user_id"]), str(r["user__username"]), Role(r["role"]),
                          r["created_at"]) for r in rows]
    return sorted(members, key=lambda m: (ROLE_ORDER.index(m.role), m.username.lower()))


async def _membership(project: Project, user_id: int) -> Membership:
    membership = await Membership.get_or_none(project_id=project.id, user_id=user_id)
    if membership is None:
        raise NotFound("That person is not a member of this project.")
    return membership


async def _lock_project(project_id: int) -> None:
    """Serialise membership changes of one project (a row lock on PostgreSQL)."""
    await Project.filter(id=project_id).select_for_update().first()


async def _refuse_if_last_owner(project: Project, membership: Membership) -> None:
    if membership.role != Role.OWNER:
        return
    owners = await Membership.filter(project_id=project.id, role=Role.OWNER).count()
    if owners <= 1:
        raise Invalid(f'This is the last owner of "{project.name}"; a project needs at '
                      "least one. Make someone else an owner first.",
                      fields={"role": "the last owner cannot be removed or demoted"})


async def do_add_member(platform: Platform, project: Project, user: User,
                        role: Role = Role.MEMBER) -> Membership:
    """Make ``user`` a member with ``role``; nothing changes if they already are one."""
    async with in_transaction():
        membership, created = await Membership.get_or_create(
            project_id=project.id, user_id=user.id, defaults={"role": role})
    if created:
        await platform.emit(events.MemberRoleChanged(project=project.id, user_id=user.id,
                                                     role=role.value))
    return membership


async def check_change_role(platform: Platform, access: ProjectAccess, user_id: int,
                            role: Role) -> Membership:
    if not access.can(Action.MANAGE_MEMBERS):
        raise Forbidden("Only a project owner or lead may change roles.")
    membership = await _membership(access.project, user_id)
    if not may_assign(access.role, is_admin=access.is_admin, target_role=role,
                      current_role=Role(membership.role)):
        raise Forbidden("You cannot give a role above your own or change the role of "
                        "someone ranked above you.")
    if role != Role.OWNER:
        await _refuse_if_last_owner(access.project, membership)
    return await do_change_role(platform, access.project, membership, role)


async def do_change_role(platform: Platform, project: Project, membership: Membership,
                         role: Role) -> Membership:
    if membership.role == role:
        return membership
    async with in_transaction():
        await _lock_project(project.id)
        await membership.refresh_from_db()
        if role != Role.OWNER:
            await _refuse_if_last_owner(project, membership)
        await Membership.filter(id=membership.id).update(role=role)
    membership.role = role
    await platform.emit(events.MemberRoleChanged(project=project.id,
                                                 user_id=membership.user_id,  # type: ignore[attr-defined]
                                                 role=role.value))
    return membership


async def check_remove_member(platform: Platform, access: ProjectAccess, actor: User,
                              user_id: int) -> None:
    """Remove a member; anyone may leave, owners and leads may remove those not above them."""
    membership = await _membership(access.project, user_id)
    if actor.id != user_id:
        if not access.can(Action.MANAGE_MEMBERS):
            raise Forbidden("Only a project owner or lead may remove members.")
        if not may_assign(access.role, is_admin=access.is_admin, target_role=Role.MEMBER,
                          current_role=Role(membership.role)):
            raise Forbidden("You cannot remove someone ranked above you.")
    await _refuse_if_last_owner(access.project, membership)
    await do_remove_member(platform, access.project, membership)


async def do_remove_member(platform: Platform, project: Project,
                           membership: Membership) -> None:
    async with in_transaction():
        await _lock_project(project.id)
        await membership.refresh_from_db()
        await _refuse_if_last_owner(project, membership)
        await Membership.filter(id=membership.id).delete()
    await platform.emit(events.MemberRoleChanged(project=project.id,
                                                 user_id=membership.user_id,  # type: ignore[attr-defined]
                                                 role=None))


# Invitations


class InvitationLinkInvalid(UserError):
    """An invitation link that cannot be used (any more): a 400 page, nothing changed."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message, code="invalid_invitation")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def accept_url(platform: Platform, token: str) -> str:
    return f"{platform.settings.public_url}/invitations/accept?{urlencode({'token': token})}"


async def pending_invitations(project: Project) -> list[Invitation]:
    return await Invitation.filter(project_id=project.id, accepted_at=None, revoked_at=None,
                                   expires_at__gt=utcnow()).order_by("-created_at")


async def check_invite(platform: Platform, access: ProjectAccess, inviter: User, email: str,
                       role: Role) -> tuple[Invitation, str]:
    if not access.can(Action.INVITE):
        raise Forbidden("Only a project owner or lead may invite people.")
    if not may_assign(access.role, is_admin=access.is_admin, target_role=role):
        raise Forbidden("You cannot invite someone with a role above your own.")
    email = email.lower()
    if await Membership.exists(project_id=access.project.id, user__email=email):
        raise Conflict(f"{email} is already a member of this project.",
                       fields={"email": "is already a member"})
    return await do_invite(platform, access.project, inviter, email, role)


async def do_invite(platform: Platform, project: Project, inviter: User, email: str,
                    role: Role) -> tuple[Invitation, str]:
    """Store the invitation and queue its mail in one transaction; returns it and its token.

    A new invitation to the same address replaces the pending one.
    """
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires_at = now + timedelta(days=INVITATION_DAYS)
    async with in_transaction():
        await Invitation.filter(project_id=project.id, email=email, accepted_at=None,
                                revoked_at=None).update(revoked_at=now)
        invitation = await Invitation.create(project=project, email=email, role=role,
                                             token_hash=hash_token(token),
                                             invited_by_id=inviter.id, expires_at=expires_at)
        await platform.send_mail(
            email, "project_invitation",
            {"project_name": project.name, "project_slug": project.slug,
             "inviter": inviter.username, "role": role.value,
             "accept_url": accept_url(platform, token),
             "expires_on": expires_at.strftime("%Y-%m-%d")},
            subject=f"You are invited to join {project.name}")
    return invitation, token


async def check_revoke_invitation(platform: Platform, access: ProjectAccess,
                                  invitation_id: int) -> None:
    if not access.can(Action.INVITE):
        raise Forbidden("Only a project owner or lead may revoke invitations.")
    invitation = await Invitation.get_or_none(id=invitation_id, project_id=access.project.id)
    if invitation is None:
        raise NotFound("No such invitation.")
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise Conflict("This invitation is no longer pending.")
    await do_revoke_invitation(platform, invitation)


async def do_revoke_invitation(platform: Platform, invitation: Invitation) -> None:
    await Invitation.filter(id=invitation.id, accepted_at=None).update(revoked_at=utcnow())


async def access_invitation(token: str) -> Invitation:
    """The pending invitation behind a link, its project loaded; or a 400 saying why not."""
    invitation = None
    if token and len(token) <= 100:
        invitation = await Invitation.get_or_none(token_hash=hash_token(token)
                                                  ).select_related("project")
    if invitation is None:
        raise InvitationLinkInvalid("This invitation link is not valid. Check that you "
                                    "copied the whole link from the email.")
    if invitation.revoked_at is not None:
        raise InvitationLinkInvalid("This invitation was withdrawn. Ask the project for a "
                                    "new one.")
    if invitation.accepted_at is not None:
        raise InvitationLinkInvalid("This invitation has already been used.")
    if invitation.expires_at <= utcnow():
        raise InvitationLinkInvalid("This invitation has expired. Ask the project for a "
                                    "new one.")
    return invitation


async def check_accept_invitation(platform: Platform, user: User, token: str) -> Project:
    invitation = await access_invitation(token)
    return await do_accept_invitation(platform, user, invitation)


async def do_accept_invitation(platform: Platform, user: User,
                               invitation: Invitation) -> Project:
    """Make ``user`` a member with the invited role (or keep a higher role they hold)."""
    project = invitation.project
    now = utcnow()
    granted: Role | None = None
    async with in_transaction():
        claimed = await Invitation.filter(
            id=invitation.id, accepted_at=None, revoked_at=None, expires_at__gt=now,
        ).update(accepted_at=now, accepted_by_id=user.id)
        if not claimed:
            raise InvitationLinkInvalid("This invitation has already been used.")
        invited = Role(invitation.role)
        membership = await Membership.get_or_none(project_id=project.id, user_id=user.id)
        if membership is None:
            await Membership.create(project_id=project.id, user_id=user.id, role=invited)
            granted = invited
        elif rank(invited) > rank(Role(membership.role)):
            await Membership.filter(id=membership.id).update(role=invited)
            granted = invited
    if granted is not None:
        await platform.emit(events.MemberRoleChanged(project=project.id, user_id=user.id,
                                                     role=granted.value))
    return project
