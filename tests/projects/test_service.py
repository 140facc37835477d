from __future__ import annotations

import pytest

from forum.platform import Platform
from forum.projects import service
from forum.projects.models import Project, Visibility
from forum.projects.schemas import ProjectIn
from forum.web.errors import Conflict
from tests.factories import add_member, make_project, make_user

pytestmark = pytest.mark.usefixtures("db")


async def test_lost_race_for_a_slug_is_a_conflict(platform: Platform) -> None:
    """The check passed, then another request took the slug before the insert."""
    await make_project("acme")
    with pytest.raises(Conflict):
        await service.do_create_project(platform, await make_user("ada"),
                                        ProjectIn(slug="acme", name="Acme"))
    assert await Project.all().count() == 1


async def test_visible_projects_with_counts_and_roles() -> None:
    ada, bob = await make_user("ada"), await make_user("bob")
    root = await make_user("root", admin=True)
    open_ = await make_project("open", name="B open", owner=ada)
    await add_member(open_, bob)
    await make_project("closed", name="A closed", owner=ada,
                       default_visibility=Visibility.MEMBERS)

    def summary(views: list[service.ProjectView]) -> list[tuple[str, int, str | None]]:
        return [(v.project.slug, v.members_count, v.role) for v in views]

    assert summary(await service.visible_projects(None)) == [("open", 2, None)]
    assert summary(await service.visible_projects(bob)) == [("open", 2, "member")]
    assert summary(await service.visible_projects(ada)) == [("closed", 1, "owner"),
                                                           ("open", 2, "owner")]
    assert summary(await service.visible_projects(root)) == [("closed", 1, None),
                                                            ("open", 2, None)]
    assert [p.slug for p in await service.projects_for_switcher(bob)] == ["open"]
