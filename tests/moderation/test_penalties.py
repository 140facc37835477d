"""Penalties as the gates see them, and who may give or lift them (the service verbs)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forum.gates import Act, Attempt
from forum.moderation import penalties
from forum.moderation.audit import AuditEntry
from forum.moderation.penalties import PenaltyDraft
from forum.moderation.penalty_models import Penalty, PenaltyKind
from forum.platform import Platform
from forum.projects.models import Role
from forum.projects.permissions import Action, access_project
from forum.web.errors import Forbidden, UserError
from tests.factories import add_member, make_project, make_user


def draft(kind: PenaltyKind = PenaltyKind.SILENCE, days: int | None = 3,
          reason: str = "Spam links in every reply") -> PenaltyDraft:
    return PenaltyDraft(kind, reason, days)


async def test_silence_in_a_project_refuses_posting_there_only(db: None,
                                                               platform: Platform) -> None:
    moderator, member = await make_user(), await make_user()
    project, other = await make_project(), await make_project()
    await add_member(project, moderator, Role.MODERATOR)
    access = await access_project(moderator, project.slug, Action.MODERATE)
    await penalties.check_penalise(platform, moderator, member, access, draft())

    for act in (Act.CREATE_TOPIC, Act.REPLY, Act.EDIT_OWN_POST, Act.FLAG, Act.OPEN_TICKET):
        reason = await platform.refusal(Attempt(act, member.id, project.id))
        assert reason is not None and reason.startswith("You are silenced in this project until ")
        assert "Reason: Spam links in every reply" in reason
    # Reading-side acts, other projects and logging in are untouched.
    assert await platform.refusal(Attempt(Act.VOTE_UP, member.id, project.id)) is None
    assert await platform.refusal(Attempt(Act.REPLY, member.id, other.id)) is None
    assert await platform.refusal(Attempt(Act.LOG_IN, member.id, None)) is None
    assert await platform.refusal(Attempt(Act.REPLY, moderator.id, project.id)) is None


async def test_project_ban_refuses_every_act_there_but_not_log_in(db: None,
                                                                  platform: Platform) -> None:
    admin, member = await make_user(admin=True), await make_user()
    project = await make_project()
    access = await access_project(admin, project.slug, Action.MODERATE)
    await penalties.check_penalise(platform, admin, member, access,
                                   draft(PenaltyKind.BAN, days=None))
    for act in (Act.VOTE_UP, Act.REPLY, Act.ACCEPT, Act.MODERATE):
        reason = await platform.refusal(Attempt(act, member.id, project.id))
        assert reason is not None and reason.startswith(
            "You are banned in this project permanently.")
    assert await platform.refusal(Attempt(Act.LOG_IN, member.id, None)) is None


async def test_platform_suspension_refuses_log_in_everywhere_and_ends_sessions(
        db: None, platform: Platform) -> None:
    admin, member = await make_user(admin=True), await make_user()
    project = await make_project()
    version = member.session_version
    await penalties.check_penalise(platform, admin, member, None,
                                   draft(PenaltyKind.SUSPEND, days=7))
    reason = await platform.refusal(Attempt(Act.LOG_IN, member.id, None))
    assert reason is not None and reason.startswith("You are suspended on this platform until ")
    assert await platform.refusal(Attempt(Act.VOTE_UP, member.id, project.id)) is not None
    await member.refresh_from_db()
    assert member.session_version == version + 1


async def test_platform_silence_keeps_log_in_and_sessions(db: None, platform: Platform) -> None:
    admin, member = await make_user(admin=True), await make_user()
    project = await make_project()
    await penalties.check_penalise(platform, admin, member, None, draft(days=None))
    assert await platform.refusal(Attempt(Act.LOG_IN, member.id, None)) is None
    assert await platform.refusal(Attempt(Act.REPLY, member.id, project.id)) is not None
    await member.refresh_from_db()
    assert member.session_version == 1


async def test_ended_and_lifted_penalties_refuse_nothing(db: None, platform: Platform) -> None:
    admin, member = await make_user(admin=True), await make_user()
    project = await make_project()
    access = await access_project(admin, project.slug, Action.MODERATE)
    ended = await penalties.check_penalise(platform, admin, member, access, draft(days=1))
    ended.ends_at = ended.created_at - timedelta(seconds=1)
    await ended.save()
    assert await platform.refusal(Attempt(Act.REPLY, member.id, project.id)) is None

    lifted = await penalties.check_penalise(platform, admin, member, access, draft(days=None))
    assert await platform.refusal(Attempt(Act.REPLY, member.id, project.id)) is not None
    await penalties.check_lift(platform, admin, lifted, access, "Apologised")
    assert await platform.refusal(Attempt(Act.REPLY, member.id, project.id)) is None
    with pytest.raises(UserError) as raised:  # lifting twice
        await penalties.check_lift(platform, admin, lifted, access, "")
    assert raised.value.status == 409
    actions = [e.action for e in await AuditEntry.all().order_by("id")]
    assert actions == ["penalty.silence", "penalty.silence", "penalty.lifted"]


async def test_who_may_penalise_whom(db: None, platform: Platform) -> None:
    owner, lead, moderator, member = [await make_user() for _ in range(4)]
    admin = await make_user(admin=True)
    project = await make_project(owner=owner)
    await add_member(project, lead, Role.LEAD)
    await add_member(project, moderator, Role.MODERATOR)
    await add_member(project, member)
    mod_access = await access_project(moderator, project.slug)
    lead_access = await access_project(lead, project.slug)
    member_access = await access_project(member, project.slug)

    refused = [
        (moderator, lead, mod_access),  # ranked above the moderator
        (moderator, moderator, mod_access),  # oneself
        (moderator, admin, mod_access),  # a platform admin
        (member, moderator, member_access),  # no moderating role at all
        (lead, owner, lead_access),
        (moderator, member, None),  # platform-wide needs a platform admin
        (lead, member, None),
    ]
    for actor, target, access in refused:
        with pytest.raises(Forbidden):
            await penalties.check_penalise(platform, actor, target, access, draft())
    assert await Penalty.all().count() == 0
    assert await AuditEntry.all().count() == 0

    await penalties.check_penalise(platform, lead, moderator, lead_access, draft())
    await penalties.check_penalise(platform, owner, lead, await access_project(
        owner, project.slug), draft())
    await penalties.check_penalise(platform, admin, owner, None, draft())
    assert await Penalty.all().count() == 3


async def test_a_moderator_may_not_lift_a_penalty_of_someone_above_them(
        db: None, platform: Platform) -> None:
    owner, lead, moderator = await make_user(), await make_user(), await make_user()
    project = await make_project(owner=owner)
    await add_member(project, lead, Role.LEAD)
    await add_member(project, moderator, Role.MODERATOR)
    penalty = await penalties.check_penalise(
        platform, owner, lead, await access_project(owner, project.slug), draft())
    with pytest.raises(Forbidden):
        await penalties.check_lift(platform, moderator, penalty,
                                   await access_project(moderator, project.slug), "")
    await penalty.refresh_from_db()
    assert penalty.lifted_at is None


async def test_a_suspended_moderator_has_no_moderator_tools(db: None,
                                                            platform: Platform) -> None:
    owner, moderator, member = await make_user(), await make_user(), await make_user()
    project = await make_project(owner=owner)
    await add_member(project, moderator, Role.MODERATOR)
    await penalties.check_penalise(platform, owner, moderator,
                                   await access_project(owner, project.slug),
                                   draft(PenaltyKind.SUSPEND))
    with pytest.raises(Forbidden) as raised:
        await penalties.check_penalise(platform, moderator, member,
                                       await access_project(moderator, project.slug), draft())
    assert "You are suspended in this project" in raised.value.message
    assert await Penalty.filter(user_id=member.id).count() == 0
