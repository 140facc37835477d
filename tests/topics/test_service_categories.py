"""Category management by leads: create, sub-categories, edit, reorder, delete if empty."""

from __future__ import annotations

import pytest

from forum.platform import Platform
from forum.topics import service
from forum.topics.models import Access, Category
from forum.topics.schemas import CategoryIn, CategoryOrder, CategoryPatch
from forum.web.errors import UserError
from tests.topics.conftest import World, start_topic


async def test_leads_create_edit_reorder_and_delete(world: World) -> None:
    owner = await world.viewer(world.owner)
    help_ = await service.check_create_category(owner, world.project, CategoryIn(
        name="Help & Support", read_access=Access.MEMBERS))
    assert help_.slug == "help-support" and help_.position == 5
    child = await service.check_create_category(owner, world.project, CategoryIn(
        name="Install", parent_id=help_.id))
    assert child.parent_id == help_.id  # type: ignore[attr-defined]
    with pytest.raises(UserError) as deep:
        await service.check_create_category(owner, world.project, CategoryIn(
            name="Too deep", parent_id=child.id))
    assert deep.value.status == 422
    with pytest.raises(UserError) as taken:
        await service.check_create_category(owner, world.project, CategoryIn(name="Questions"))
    assert taken.value.status == 409
    edited = await service.check_update_category(owner, world.project, help_.id,
                                                 CategoryPatch(color="#ABCDEF"))
    assert edited.color == "#abcdef"
    ids = [c.id for c in await service.project_categories(world.project.id)]
    reordered = await service.check_reorder_categories(owner, world.project,
                                                       CategoryOrder(ids=ids[::-1]))
    assert [c.id for c in reordered] == ids[::-1]
    with pytest.raises(UserError) as has_children:
        await service.check_delete_category(owner, world.project, help_.id)
    assert has_children.value.status == 409
    await service.check_delete_category(owner, world.project, child.id)
    await service.check_delete_category(owner, world.project, help_.id)
    assert not await Category.exists(id=help_.id)


async def test_a_category_with_topics_is_not_deleted(platform: Platform, world: World) -> None:
    topic = await start_topic(platform, world)
    owner = await world.viewer(world.owner)
    await service.delete_topic(platform, owner, topic)  # even deleted topics count
    with pytest.raises(UserError) as refused:
        await service.check_delete_category(owner, world.project, world.questions.id)
    assert refused.value.status == 409
    assert await Category.exists(id=world.questions.id)


async def test_only_leads_manage_categories(world: World) -> None:
    from tests.topics.conftest import make_world

    other = await make_world()
    for user in (world.maintainer, world.moderator, world.member, world.outsider):
        viewer = await world.viewer(user)
        with pytest.raises(UserError) as refused:
            await service.check_create_category(viewer, world.project, CategoryIn(name="X"))
        assert refused.value.status == 403
        with pytest.raises(UserError) as refused:
            await service.check_delete_category(viewer, world.project, world.questions.id)
        assert refused.value.status == 403
    owner = await world.viewer(world.owner)
    with pytest.raises(UserError) as foreign:  # another project's category
        await service.check_delete_category(owner, world.project, other.questions.id)
    assert foreign.value.status == 404
    with pytest.raises(UserError) as unknown:
        await service.check_reorder_categories(owner, world.project,
                                               CategoryOrder(ids=[other.questions.id]))
    assert unknown.value.status == 422
    assert await Category.filter(project_id=world.project.id).count() == 5


@pytest.mark.parametrize("body", [{"name": "   "}, {"name": "!!!"}, {"name": "x" * 61},
                                  {"name": "Ok", "color": "blue"},
                                  {"name": "Ok", "read_access": "nobody"}])
def test_bad_category_input_is_refused(body: dict[str, object]) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        CategoryIn.model_validate(body)
