"""A project's reputation rules: stored values over the defaults in code."""

from __future__ import annotations

from pydantic import ValidationError

from forum.reputation.models import ReputationConfig
from forum.reputation.schemas import ReputationSettings


def default_rules() -> ReputationSettings:
    """The rules of a project that kept none of its own. (The test suite replaces this to
    open every privilege for the tests of other domains.)"""
    return ReputationSettings()


async def load_rules(project_id: int) -> ReputationSettings:
    """The project's rules; a stored value that no longer validates falls back to defaults."""
    row = await ReputationConfig.get_or_none(project_id=project_id)
    if row is None or not row.values:
        return default_rules()
    try:
        return ReputationSettings.model_validate(row.values)
    except ValidationError:
        return default_rules()


async def save_rules(project_id: int, rules: ReputationSettings) -> ReputationSettings:
    values = rules.model_dump(mode="json")
    updated = await ReputationConfig.filter(project_id=project_id).update(values=values)
    if not updated:
        await ReputationConfig.create(project_id=project_id, values=values)
    return rules
