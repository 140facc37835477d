"""Reading GitHub's answers, and picking a username."""

from __future__ import annotations

import pytest

from forum.accounts.github import profile_from, unique_username
from forum.web.errors import UserError
from tests.accounts.github_fake import github_email, github_user
from tests.factories import make_user


def test_primary_verified_email_is_used() -> None:
    profile = profile_from(github_user(1, "octocat", name="Mona", email="public@example.org"),
                           [github_email("second@example.org", primary=False),
                            github_email("Primary@Example.org")])
    assert (profile.id, profile.login, profile.name) == ("1", "octocat", "Mona")
    assert profile.email == "primary@example.org"
    assert profile.email_verified


def test_without_the_email_list_the_public_email_is_unverified() -> None:
    profile = profile_from(github_user(1, "octocat", email="public@example.org"),
                           {"message": "Not Found"})
    assert profile.email == "public@example.org"
    assert not profile.email_verified
    assert profile_from(github_user(1, "octocat"), []).email is None


@pytest.mark.parametrize("user", [None, [], {"id": "1", "login": "x"}, {"id": 1},
                                  {"login": "x"}])
def test_unreadable_user_answer_is_502(user: object) -> None:
    with pytest.raises(UserError) as refused:
        profile_from(user, [])
    assert refused.value.status == 502


async def test_unique_username(db: None) -> None:
    assert await unique_username("octocat") == "octocat"
    await make_user("octocat", email="a@example.org")
    await make_user("octocat-2", email="b@example.org")
    assert await unique_username("OctoCat") == "OctoCat-3"
    assert await unique_username("ab") == "ab-gh"
    assert await unique_username("a" * 39) == "a" * 30
    await make_user("a" * 30, email="c@example.org")
    assert await unique_username("a" * 39) == "a" * 28 + "-2"
