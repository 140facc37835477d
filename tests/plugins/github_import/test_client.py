"""The GitHub REST client against the fake: auth, pagination, rate limits, App tokens."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from plugins.github_import.auth import InstallationTokens, app_jwt
from plugins.github_import.client import GitHubClient, GitHubError, RateLimited, repo_path
from tests.plugins.github_import.fake_github import FakeGitHub

REPO = "Codertocat/Hello-World"


def rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def test_repo_path_refuses_what_is_not_owner_slash_name() -> None:
    assert repo_path("Codertocat/Hello-World") == "/repos/Codertocat/Hello-World"
    for bad in ("nope", "/x", "a/b/c", "a/"):
        with pytest.raises(ValueError):
            repo_path(bad)


async def test_reads_an_issue_with_the_token_and_api_headers(fake_github: FakeGitHub) -> None:
    fake_github.add_token("tok")
    fake_github.add_repo(REPO)
    fake_github.add_issue(REPO, 1, title="Spelling error")
    async with GitHubClient(fake_github.url, token="tok") as gh:
        issue = await gh.get_issue(REPO, 1)
        assert gh.rate is not None and gh.rate.limit == 5000 and gh.rate.remaining == 4999
    assert issue["title"] == "Spelling error" and issue["number"] == 1
    call = fake_github.calls[-1]
    assert (call.method, call.path) == ("GET", f"/repos/{REPO}/issues/1")
    assert call.headers["authorization"] == "Bearer tok"
    assert call.headers["x-github-api-version"] == "2022-11-28"
    assert call.headers["accept"] == "application/vnd.github+json"


async def test_bad_token_and_missing_issue_are_errors(fake_github: FakeGitHub) -> None:
    fake_github.add_token("tok")
    fake_github.add_repo(REPO)
    async with GitHubClient(fake_github.url, token="wrong") as gh:
        with pytest.raises(GitHubError) as bad:
            await gh.get_repo(REPO)
    assert bad.value.status == 401 and bad.value.message == "Bad credentials"
    async with GitHubClient(fake_github.url, token="tok") as gh:
        with pytest.raises(GitHubError) as missing:
            await gh.get_issue(REPO, 99)
    assert missing.value.status == 404


async def test_unreachable_github_is_status_0() -> None:
    async with GitHubClient("http://127.0.0.1:9", token="t", timeout=2) as gh:
        with pytest.raises(GitHubError) as failed:
            await gh.get_repo(REPO)
    assert failed.value.status == 0 and "could not reach" in failed.value.message


async def test_comments_and_issues_follow_the_link_header(fake_github: FakeGitHub) -> None:
    fake_github.add_token("tok")
    fake_github.add_repo(REPO)
    fake_github.add_issue(REPO, 1)
    for n in range(205):
        fake_github.add_comment(REPO, 1, f"comment {n}")
    for n in range(2, 120):
        fake_github.add_issue(REPO, n, labels=["question"] if n % 2 else [])
    async with GitHubClient(fake_github.url, token="tok") as gh:
        comments = await gh.list_issue_comments(REPO, 1)
        questions = await gh.list_issues(REPO, labels=["question"])
    assert [c["body"] for c in comments] == [f"comment {n}" for n in range(205)]
    assert len(fake_github.calls_to("GET", "/issues/1/comments")) == 3
    assert [i["number"] for i in questions] == list(range(3, 120, 2))
    listing = [c for c in fake_github.calls_to("GET") if c.path == f"/repos/{REPO}/issues"]
    assert listing[0].query["labels"] == "question" and listing[0].query["per_page"] == "100"


async def test_writes_send_the_documented_bodies(fake_github: FakeGitHub) -> None:
    fake_github.add_token("tok")
    fake_github.add_repo(REPO)
    fake_github.add_issue(REPO, 1)
    async with GitHubClient(fake_github.url, token="tok") as gh:
        comment = await gh.create_issue_comment(REPO, 1, "hello")
        labels = await gh.add_labels(REPO, 1, ["support"])
        closed = await gh.update_issue(REPO, 1, state="closed", state_reason="not_planned")
        await gh.lock_issue(REPO, 1, "resolved")
        created = await gh.create_issue(REPO, "New", "Body", labels=["bug"])
    assert comment["body"] == "hello" and [x["name"] for x in labels] == ["support"]
    assert closed["state"] == "closed" and closed["state_reason"] == "not_planned"
    assert created["number"] == 2 and created["html_url"].endswith(f"{REPO}/issues/2")
    assert fake_github.writes() == [
        ("POST", f"/repos/{REPO}/issues/1/comments", {"body": "hello"}),
        ("POST", f"/repos/{REPO}/issues/1/labels", {"labels": ["support"]}),
        ("PATCH", f"/repos/{REPO}/issues/1", {"state": "closed", "state_reason": "not_planned"}),
        ("PUT", f"/repos/{REPO}/issues/1/lock", {"lock_reason": "resolved"}),
        ("POST", f"/repos/{REPO}/issues", {"title": "New", "body": "Body", "labels": ["bug"]}),
    ]
    assert fake_github.repo(REPO).issues[1]["locked"] is True


async def test_secondary_limit_carries_retry_after(fake_github: FakeGitHub) -> None:
    fake_github.add_token("tok")
    fake_github.add_repo(REPO)
    fake_github.limit_next(403, retry_after=42)
    async with GitHubClient(fake_github.url, token="tok") as gh:
        with pytest.raises(RateLimited) as limited:
            await gh.get_repo(REPO)
        assert limited.value.wait_seconds == 42 and limited.value.status == 403
        fake_github.limit_next(429, retry_after=7)
        with pytest.raises(RateLimited) as again:
            await gh.get_repo(REPO)
        assert again.value.wait_seconds == 7
        assert (await gh.get_repo(REPO))["full_name"] == REPO  # the limit passed


async def test_spent_primary_limit_waits_until_reset(fake_github: FakeGitHub) -> None:
    fake_github.add_token("tok")
    fake_github.add_repo(REPO)
    fake_github.exhaust(reset_in=120)
    async with GitHubClient(fake_github.url, token="tok") as gh:
        with pytest.raises(RateLimited) as limited:
            await gh.get_repo(REPO)
        assert gh.rate is not None and gh.rate.remaining == 0
    assert 100 <= limited.value.wait_seconds <= 121


def test_app_jwt_is_rs256_with_the_app_id() -> None:
    import jwt

    private, public = rsa_pair()
    now = time.time()
    claims = jwt.decode(app_jwt("1234", private, now), public, algorithms=["RS256"])
    assert claims["iss"] == "1234"
    assert claims["exp"] - claims["iat"] <= 600 and claims["iat"] <= now
    with pytest.raises(GitHubError):
        app_jwt("1234", "not a key")


async def test_installation_token_is_fetched_once_and_cached(fake_github: FakeGitHub) -> None:
    private, public = rsa_pair()
    fake_github.add_app("77", public)
    fake_github.add_repo(REPO)
    tokens = InstallationTokens()

    async def provider() -> str:
        return await tokens.token(fake_github.url, "77", private, "555")

    async with GitHubClient(fake_github.url, token_provider=provider) as gh:
        await gh.get_repo(REPO)
        await gh.get_repo(REPO)
    exchanges = fake_github.calls_to("POST", "/access_tokens")
    assert [c.path for c in exchanges] == ["/app/installations/555/access_tokens"]
    minted = fake_github.installation_tokens[0]
    assert [c.headers["authorization"] for c in fake_github.calls_to("GET")] == [
        f"Bearer {minted}"] * 2
    # An expired token (inside the margin) is replaced.
    key = next(iter(tokens.tokens))
    tokens.tokens[key] = (minted, time.time() + 10)
    assert await provider() != minted
    # A key GitHub does not know is refused.
    other, _ = rsa_pair()
    with pytest.raises(GitHubError) as refused:
        await InstallationTokens().token(fake_github.url, "77", other, "555")
    assert refused.value.status == 401
