from __future__ import annotations

import pytest

from forum.projects.models import Role, Visibility
from forum.projects.permissions import (
    ALLOWED,
    Action,
    access_project,
    can,
    may_assign,
    rank,
)
from forum.web.errors import Forbidden, NotFound, Unauthenticated
from tests.factories import add_member, make_project, make_user


def test_owner_and_lead_manage_and_nobody_else() -> None:
    for action in (Action.MANAGE_SETTINGS, Action.MANAGE_MEMBERS, Action.INVITE,
                   Action.MANAGE_PLUGINS):
        assert {r for r in Role if can(r, action)} == {Role.OWNER, Role.LEAD}
    assert not can(None, Action.VIEW_MEMBERS)
    assert can("member", Action.VIEW_MEMBERS)


def test_team_roles_have_their_own_work() -> None:
    assert can(Role.SUPPORTER, Action.WORK_SUPPORT_QUEUE)
    assert not can(Role.SUPPORTER, Action.MODERATE)
    assert can(Role.MODERATOR, Action.MODERATE)
    assert not can(Role.MODERATOR, Action.WORK_SUPPORT_QUEUE)
    assert can(Role.MAINTAINER, Action.TRIAGE)
    assert not can(Role.MEMBER, Action.TRIAGE)
    assert set(ALLOWED) == set(Action)


def test_nobody_assigns_above_themselves() -> None:
    assert rank(Role.OWNER) > rank(Role.LEAD) > rank(Role.MEMBER)
    assert may_assign(Role.OWNER, is_admin=False, target_role=Role.OWNER)
    assert may_assign(Role.LEAD, is_admin=False, target_role=Role.LEAD)
    assert not may_assign(Role.LEAD, is_admin=False, target_role=Role.OWNER)
    assert not may_assign(Role.LEAD, is_admin=False, target_role=Role.MEMBER,
                          current_role=Role.OWNER)
    assert may_assign(None, is_admin=True, target_role=Role.OWNER, current_role=Role.OWNER)
    assert not may_assign(None, is_admin=False, target_role=Role.MEMBER)


@pytest.mark.usefixtures("db")
async def test_access_project_boundaries() -> None:
    ada, bob, root = await make_user("ada"), await make_user("bob"), await make_user(
        "root", admin=True)
    public = await make_project("open", owner=ada)
    hidden = await make_project("closed", owner=ada, default_visibility=Visibility.MEMBERS)
    await add_member(public, bob)

    with pytest.raises(NotFound):
        await access_project(ada, "nothing")
    for outsider in (None, bob):
        with pytest.raises(NotFound):
            await access_project(outsider, "closed")
    assert (await access_project(None, "open")).role is None
    with pytest.raises(Unauthenticated):
        await access_project(None, "open", Action.MANAGE_SETTINGS)
    with pytest.raises(Forbidden):
        await access_project(bob, "open", Action.MANAGE_SETTINGS)
    assert (await access_project(bob, "open", Action.VIEW_MEMBERS)).role == Role.MEMBER
    assert (await access_project(ada, "closed", Action.MANAGE_PLUGINS)).project.id == hidden.id
    admin_access = await access_project(root, "closed", Action.MANAGE_MEMBERS)
    assert admin_access.is_admin and admin_access.role is None
