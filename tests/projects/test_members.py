from __future__ import annotations

import pytest

from forum import events
from forum.platform import Platform
from forum.projects import members
from forum.projects.models import Membership, Role
from forum.web.errors import Invalid
from tests.factories import add_member, make_project, make_user

pytestmark = pytest.mark.usefixtures("db")


async def test_do_verbs_recheck_the_last_owner_inside_their_transaction(
        platform: Platform) -> None:
    """``check_*`` refuses first; the ``do_*`` verbs check again under the project lock,
    so two owners demoting each other at once cannot leave the project without one."""
    ada, bob = await make_user("ada"), await make_user("bob")
    project = await make_project("acme", owner=ada)
    second = await add_member(project, bob, Role.OWNER)
    first = await Membership.get(project_id=project.id, user_id=ada.id)
    await members.do_change_role(platform, project, second, Role.MEMBER)
    with pytest.raises(Invalid):
        await members.do_change_role(platform, project, first, Role.LEAD)
    with pytest.raises(Invalid):
        await members.do_remove_member(platform, project, first)
    assert (await Membership.get(id=first.id)).role == Role.OWNER


async def test_add_member_is_idempotent(platform: Platform,
                                        emitted: list[events.Event]) -> None:
    project = await make_project("acme")
    bob = await make_user("bob")
    await members.do_add_member(platform, project, bob, Role.MODERATOR)
    await members.do_add_member(platform, project, bob, Role.MEMBER)
    assert (await Membership.get(project_id=project.id, user_id=bob.id)).role == Role.MODERATOR
    assert emitted == [events.MemberRoleChanged(project=project.id, user_id=bob.id,
                                                role="moderator")]


async def test_members_are_listed_by_rank_then_name() -> None:
    project = await make_project("acme", owner=await make_user("zed"))
    for name, role in [("bob", Role.MEMBER), ("amy", Role.MEMBER), ("lea", Role.LEAD)]:
        await add_member(project, await make_user(name), role)
    listed = [(m.username, m.role) for m in await members.list_members(project)]
    assert listed == [("zed", Role.OWNER), ("lea", Role.LEAD), ("amy", Role.MEMBER),
                      ("bob", Role.MEMBER)]
