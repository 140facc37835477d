"""Opt-in: the bridge's client against GitHub for real, read-only
(``FORUM_GITHUB_TEST_TOKEN``: a token that can read ``FORUM_GITHUB_TEST_REPO``, owner/name;
``FORUM_GITHUB_TEST_API_URL`` for GitHub Enterprise Server)."""

from __future__ import annotations

import os

import pytest

from plugins.github_import.client import DEFAULT_API_URL, GitHubClient


@pytest.mark.live("FORUM_GITHUB_TEST_TOKEN", "FORUM_GITHUB_TEST_REPO")
async def test_reads_the_repository_and_lists_its_issues() -> None:
    repo = os.environ["FORUM_GITHUB_TEST_REPO"]
    api_url = os.environ.get("FORUM_GITHUB_TEST_API_URL", DEFAULT_API_URL)
    async with GitHubClient(api_url, token=os.environ["FORUM_GITHUB_TEST_TOKEN"]) as gh:
        found = await gh.get_repo(repo)
        assert str(found["full_name"]).lower() == repo.lower()
        assert gh.rate is not None and gh.rate.limit > 0
        first_page = None
        async for page in gh.issue_pages(repo, state="all", max_pages=1):
            first_page = page
        assert first_page is not None
        for issue in first_page:
            assert isinstance(issue["number"], int) and issue["html_url"].startswith("http")
        if first_page:
            number = first_page[0]["number"]
            assert (await gh.get_issue(repo, number))["number"] == number
            comments = await gh.list_issue_comments(repo, number)
            assert all("body" in c for c in comments)
