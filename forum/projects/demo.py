"""``forum demo``: a demo project with three verified accounts, seeded idempotently.

Running it again creates nothing and changes nothing: each account and the project are
looked up first and left alone when they exist (a password changed since is kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from forum.accounts.models import User
from forum.accounts.service import do_create_user
from forum.gates import unguarded
from forum.projects.members import do_add_member
from forum.projects.models import Membership, Project, Role
from forum.projects.schemas import ProjectIn
from forum.projects.service import do_create_project

if TYPE_CHECKING:
    from forum.platform import Platform

DEMO_SLUG = "demo"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    email: str
    password: str
    is_platform_admin: bool
    role: Role | None  # in the demo project


DEMO_LOGINS = (
    DemoLogin("admin", "admin@example.org", "admin-demo-pass", True, None),
    DemoLogin("alice", "alice@example.org", "alice-demo-pass", False, Role.OWNER),
    DemoLogin("bob", "bob@example.org", "bob-demo-pass", False, Role.MEMBER),
)

DEMO_PROJECT = ProjectIn(
    slug=DEMO_SLUG,
    name="Demo Project",
    description="A project to try the forum with: ask a question, answer one, and look "
                "around the settings as alice (the owner) or bob (a member).",
    legal_entity="Demo Project Maintainers",
    contact_email="alice@example.org",
    time_zone="UTC",
)


@dataclass
class DemoResult:
    url: str
    logins: tuple[DemoLogin, ...] = DEMO_LOGINS
    created: list[str] = field(default_factory=list)


async def seed_demo(platform: Platform) -> DemoResult:
    result = DemoResult(url=f"{platform.settings.public_url}/p/{DEMO_SLUG}")
    users: dict[str, User] = {}
    for login in DEMO_LOGINS:
        user = await User.get_or_none(username_lower=login.username)
        if user is None:
            user = await do_create_user(platform, username=login.username, email=login.email,
                                        password=login.password, verified=True,
                                        is_platform_admin=login.is_platform_admin)
            result.created.append(f"user {login.username}")
        users[login.username] = user
    owner = next(login for login in DEMO_LOGINS if login.role == Role.OWNER)
    project = await Project.get_or_none(slug=DEMO_SLUG)
    if project is None:
        project = await do_create_project(platform, users[owner.username], DEMO_PROJECT)
        result.created.append(f"project {DEMO_SLUG}")
    for login in DEMO_LOGINS:
        if login.role is not None and login.role != Role.OWNER:
            user = users[login.username]
            if not await Membership.exists(project_id=project.id, user_id=user.id):
                await do_add_member(platform, project, user, login.role)
                result.created.append(f"{login.username} as {login.role.value}")
    # Other domains and plugins fill the project (topics, answers, votes ...); each one
    # keeps its own seeding idempotent and says what it created.
    # Seeding acts as the platform: no privilege, new-user limit or screener applies.
    with unguarded():
        for created in platform.plugins.collect_async_results(
                "forum_demo", platform=platform, project_id=project.id,
                user_ids={name: user.id for name, user in users.items()}):
            result.created.extend(await created)
    return result


def describe(result: DemoResult) -> list[str]:
    """What ``forum demo`` prints: what it created, the URL and the logins."""
    lines = [f"created {', '.join(result.created)}" if result.created
             else "demo data already present; nothing changed",
             f"Demo project: {result.url}", "Demo logins:"]
    for login in result.logins:
        what = "platform admin" if login.is_platform_admin else f"{login.role} of {DEMO_SLUG}"
        lines.append(f"  {login.username:<6} password {login.password:<16} ({what})")
    return lines
