"""Categories: the defaults every project starts with, and management by its leads.

Categories nest one level: a sub-category's parent is a top-level category of the same
project. A category is deleted only when empty (no topics, even deleted ones, and no
sub-categories).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from forum.projects.models import Project
from forum.topics.models import Access, Category, Topic, TopicKind
from forum.topics.permissions import Viewer, can_manage_categories
from forum.topics.schemas import MAX_ID, CategoryIn, CategoryOrder, CategoryPatch
from forum.topics.writing import slugify
from forum.web.errors import Conflict, Forbidden, Invalid, NotFound


@dataclass(frozen=True)
class DefaultCategory:
    name: str
    slug: str
    description: str
    color: str
    post_access: Access
    default_kind: TopicKind
    private_topics: bool = False


log = logging.getLogger(__name__)

DEFAULT_CATEGORIES = (
    DefaultCategory("Questions", "questions", "Ask how to do something; accept the answer "
                    "that solved it.", "#2756d6", Access.EVERYONE, TopicKind.QUESTION),
    DefaultCategory("Announcements", "announcements", "News from the project team.",
                    "#b8860b", Access.TEAM, TopicKind.ANNOUNCEMENT),
    DefaultCategory("Ideas", "ideas", "Suggest and discuss improvements.", "#2e8b57",
                    Access.EVERYONE, TopicKind.DISCUSSION),
    DefaultCategory("Bug reports", "bug-reports", "Something does not work as documented.",
                    "#c0392b", Access.EVERYONE, TopicKind.BUG_REPORT),
    DefaultCategory("Security", "security", "Report a vulnerability privately: only the team "
                    "and you see your report.", "#6c3483", Access.EVERYONE,
                    TopicKind.SECURITY_REPORT, private_topics=True),
)


async def ensure_default_categories(project: Project) -> list[Category]:
    """Give a project without categories the defaults; idempotent. Returns the project's
    categories in order."""
    if not await Category.exists(project_id=project.id):
        try:
            async with in_transaction():
                for position, default in enumerate(DEFAULT_CATEGORIES):
                    await Category.create(
                        project_id=project.id, name=default.name, slug=default.slug,
                        description=default.description, color=default.color,
                        position=position, post_access=default.post_access,
                        default_kind=default.default_kind,
                        private_topics=default.private_topics)
        except IntegrityError:
            log.info("default categories of %s were created by a concurrent request", project.slug)
    return await project_categories(project.id)


async def project_categories(project_id: int) -> list[Category]:
    return await Category.filter(project_id=project_id).order_by("position", "id")


def _require_manager(viewer: Viewer) -> None:
    if not can_manage_categories(viewer):
        raise Forbidden("Only a project owner or lead may manage categories.")


async def _category_of(project: Project, category_id: int) -> Category:
    category = (await Category.get_or_none(id=category_id, project_id=project.id)
                if 0 < category_id <= MAX_ID else None)
    if category is None:
        raise NotFound("No such category.")
    return category


async def check_create_category(viewer: Viewer, project: Project, data: CategoryIn
                                ) -> Category:
    _require_manager(viewer)
    slug = slugify(data.slug or data.name)[:60]
    if await Category.exists(project_id=project.id, slug=slug):
        raise Conflict(f'A category "{slug}" exists already.', fields={"slug": "is taken"})
    if data.parent_id is not None:
        parent = await _category_of(project, data.parent_id)
        if parent.parent_id is not None:  # type: ignore[attr-defined]
            raise Invalid("Sub-categories go one level deep.",
                          fields={"parent_id": "is itself a sub-category"})
    return await do_create_category(project, data, slug)


async def do_create_category(project: Project, data: CategoryIn, slug: str) -> Category:
    last = await Category.filter(project_id=project.id).order_by("-position").first()
    try:
        return await Category.create(
            project_id=project.id, parent_id=data.parent_id, name=data.name.strip(),
            slug=slug, description=data.description, color=data.color,
            position=(last.position + 1) if last is not None else 0,
            read_access=data.read_access, post_access=data.post_access,
            private_topics=data.private_topics, default_kind=data.default_kind)
    except IntegrityError:
        raise Conflict(f'A category "{slug}" exists already.',
                       fields={"slug": "is taken"}) from None


async def check_update_category(viewer: Viewer, project: Project, category_id: int,
                                data: CategoryPatch) -> Category:
    _require_manager(viewer)
    category = await _category_of(project, category_id)
    changes = data.model_dump(exclude_none=True)
    if changes:
        await Category.filter(id=category.id).update(**changes)
        await category.refresh_from_db()
    return category


async def check_reorder_categories(viewer: Viewer, project: Project, data: CategoryOrder
                                   ) -> list[Category]:
    """Put the given categories first, in that order, and the others after them in their
    current order; every id must be one of the project's."""
    _require_manager(viewer)
    ids = list(dict.fromkeys(data.ids))
    current = [c.id for c in await project_categories(project.id)]
    unknown = [i for i in ids if i not in current]
    if unknown:
        raise Invalid("Unknown category ids.", fields={"ids": f"unknown: {unknown[:10]}"})
    ids += [i for i in current if i not in ids]
    async with in_transaction():
        for position, category_id in enumerate(ids):
            await Category.filter(id=category_id).update(position=position)
    return await project_categories(project.id)


async def check_delete_category(viewer: Viewer, project: Project, category_id: int) -> None:
    _require_manager(viewer)
    category = await _category_of(project, category_id)
    if await Topic.exists(category_id=category.id):
        raise Conflict("Only an empty category can be deleted; move its topics first.")
    if await Category.exists(parent_id=category.id):
        raise Conflict("Delete or move its sub-categories first.")
    await category.delete()
