"""``GET /api/v1/projects/{slug}/users/{username}``: reputation, badges and privileges in
a project, and the flair beside authors' names in a bounded number of queries."""

from __future__ import annotations

import httpx
import pytest

from forum.platform import Platform
from forum.projects.models import Role
from forum.reputation.badges import BadgeAward, author_flair, evaluate_project
from forum.reputation.config import save_rules
from forum.reputation.models import ReputationTotal
from forum.reputation.schemas import ReputationSettings
from tests.factories import add_member, make_project, make_user
from tests.reputation.badge_data import question, set_score
from tests.support import Login
from tests.topics.read_data import make_category
from tests.topics.test_queries_count import count_queries

pytestmark = pytest.mark.usefixtures("db")


async def test_profile_has_reputation_badges_and_privileges(
        client: httpx.AsyncClient, platform: Platform) -> None:
    owner, helper = await make_user("owner"), await make_user("helper")
    project = await make_project(owner=owner)
    await add_member(project, helper)
    await save_rules(project.id, ReputationSettings())  # the default thresholds, stored
    _, posts = await question(project, await make_category(project), owner,
                              answerers=[helper])
    await set_score(posts[1], 10)
    await evaluate_project(platform, project.id)
    await ReputationTotal.create(project=project, user=helper, total=200, points=199)
    data = (await client.get(f"/api/v1/projects/{project.slug}/users/helper")).json()
    assert (data["username"], data["role"], data["reputation"]) == ("helper", "member", 200)
    assert (data["answers"], data["topics"]) == (1, 0)
    assert data["badge_counts"] == {"gold": 0, "silver": 0, "bronze": 2}
    assert sorted(b["slug"] for b in data["badges"]) == ["nice-answer", "teacher"]
    assert {"vote_up", "flag", "vote_down", "create_tag"} <= set(data["privileges"])
    assert "review" not in data["privileges"] and "moderate" not in data["privileges"]
    assert data["joined"]
    # Staff hold every privilege whatever their reputation.
    staff = (await client.get(f"/api/v1/projects/{project.slug}/users/owner")).json()
    assert staff["reputation"] == 1
    assert {"review", "moderate", "edit_others_post"} <= set(staff["privileges"])
    # Reputation and badges are per project.
    other = await make_project(owner=owner)
    await save_rules(other.id, ReputationSettings())
    elsewhere = (await client.get(f"/api/v1/projects/{other.slug}/users/helper")).json()
    assert (elsewhere["reputation"], elsewhere["badges"], elsewhere["role"]) == (1, [], None)
    assert "vote_up" not in elsewhere["privileges"]
    assert (await client.get(f"/api/v1/projects/{project.slug}/users/nobody")).status_code \
        == 404
    assert (await client.get("/api/v1/projects/no-such/users/helper")).status_code == 404


async def test_private_project_profiles_are_hidden_from_outsiders(
        client: httpx.AsyncClient, login: Login) -> None:
    owner, member = await make_user(), await make_user("insider")
    project = await make_project(owner=owner, default_visibility="members")
    await add_member(project, member, Role.MEMBER)
    url = f"/api/v1/projects/{project.slug}/users/insider"
    assert (await client.get(url)).status_code == 404
    await login(await make_user())
    assert (await client.get(url)).status_code == 404
    await login(member)
    response = await client.get(url)
    assert response.status_code == 200
    assert response.json()["username"] == "insider"
    await login(await make_user(admin=True))
    assert (await client.get(url)).status_code == 200


async def test_flair_costs_two_queries_for_any_number_of_users(platform: Platform) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    users = [await make_user() for _ in range(50)]
    for i, user in enumerate(users[:10]):
        await ReputationTotal.create(project=project, user=user, total=10 + i, points=9 + i)
        await BadgeAward.create(project=project, user=user, badge="teacher", level="bronze")
    await BadgeAward.create(project=project, user=users[0], badge="great-answer",
                            level="gold", post_id=7, post_key=7)
    with count_queries() as one:
        single = await author_flair(project.id, [users[0].id])
    with count_queries() as many:
        flair = await author_flair(project.id, [u.id for u in users])
    assert len(one.queries) == len(many.queries) <= 2
    assert single[users[0].id] == flair[users[0].id]
    first = flair[users[0].id]
    assert (first.reputation, first.gold, first.silver, first.bronze) == (10, 1, 0, 1)
    last = flair[users[-1].id]
    assert (last.reputation, last.gold, last.bronze) == (1, 0, 0)
    assert len(flair) == 50
    # Through the platform, as pages ask for it, the count stays flat too.
    with count_queries() as one:
        await platform.flair(project.id, [users[0].id])
    with count_queries() as many:
        through = await platform.flair(project.id, [u.id for u in users])
    assert len(one.queries) == len(many.queries)
    assert through[users[0].id] == first
