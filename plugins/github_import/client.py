"""An async client for the parts of GitHub's REST API the bridge uses, on httpx.

One client talks to one API base URL (``https://api.github.com`` or a GitHub Enterprise
Server's ``https://ghe.example.com/api/v3``) with one way of authenticating: a fixed token
(a fine-grained personal access token) or a ``token_provider`` that returns a fresh App
installation token (``plugins.github_import.auth``).

Rate limits: every answer's ``x-ratelimit-*`` headers are kept in ``client.rate``; a 403 or
429 that is a rate limit (a ``retry-after`` header: the secondary limit; or
``x-ratelimit-remaining: 0``: the primary one) raises ``RateLimited`` carrying how long to
wait. Jobs catch it and run again after the wait; nothing here sleeps.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

API_VERSION = "2022-11-28"
USER_AGENT = "forum-github-import"
DEFAULT_API_URL = "https://api.github.com"
PER_PAGE = 100
MAX_PAGES = 50  # 5,000 comments or issues in one listing is plenty for an import

TokenProvider = Callable[[], Awaitable[str]]


class GitHubError(Exception):
    """GitHub answered with an error (or could not be reached: ``status`` 0)."""

    def __init__(self, status: int, message: str, *, method: str = "", path: str = "") -> None:
        super().__init__(f"GitHub {method} {path}: {status} {message}".strip())
        self.status = status
        self.message = message
        self.method = method
        self.path = path


class RateLimited(GitHubError):
    """A primary or secondary rate limit: try again after ``wait_seconds``."""

    def __init__(self, status: int, message: str, wait_seconds: float, *, method: str = "",
                 path: str = "") -> None:
        super().__init__(status, message, method=method, path=path)
        self.wait_seconds = wait_seconds


@dataclass(frozen=True)
class RateLimit:
    """The last ``x-ratelimit-*`` headers seen: ``reset`` is a Unix time."""

    limit: int
    remaining: int
    reset: int
    resource: str = "core"

    def seconds_to_reset(self, now: float | None = None) -> float:
        return max(0.0, self.reset - (time.time() if now is None else now))


def repo_path(repo: str) -> str:
    """``/repos/owner/name`` for ``owner/name`` (each part quoted)."""
    owner, _, name = repo.partition("/")
    if not owner or not name or "/" in name:
        raise ValueError(f"a repository is written owner/name, not {repo!r}")
    return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def read_rate_limit(headers: httpx.Headers) -> RateLimit | None:
    limit, remaining = _int_header(headers, "x-ratelimit-limit"), _int_header(
        headers, "x-ratelimit-remaining")
    reset = _int_header(headers, "x-ratelimit-reset")
    if limit is None or remaining is None or reset is None:
        return None
    return RateLimit(limit, remaining, reset, headers.get("x-ratelimit-resource", "core"))


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return response.reason_phrase or "error"


def rate_limit_wait(response: httpx.Response, now: float | None = None) -> float | None:
    """How long to wait when ``response`` is a rate-limit refusal, else None (GitHub's
    documented order: ``retry-after`` first, then a spent primary limit's reset time)."""
    if response.status_code not in (403, 429):
        return None
    retry_after = response.headers.get("retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return 60.0
    if response.headers.get("x-ratelimit-remaining") == "0":
        reset = _int_header(response.headers, "x-ratelimit-reset")
        if reset is not None:
            return max(0.0, reset - (time.time() if now is None else now))
        return 60.0
    if response.status_code == 429 or "secondary rate limit" in _message(response).lower():
        return 60.0  # GitHub: without headers, wait at least a minute
    return None


class GitHubClient:
    """``async with GitHubClient(url, token=...) as gh: await gh.get_issue("o/r", 1)``."""

    def __init__(self, api_url: str = DEFAULT_API_URL, *, token: str | None = None,
                 token_provider: TokenProvider | None = None, timeout: float = 15.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self._token = token
        self._token_provider = token_provider
        self.rate: RateLimit | None = None
        self._http = httpx.AsyncClient(
            base_url=self.api_url, timeout=timeout, transport=transport,
            headers={"Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": API_VERSION, "User-Agent": USER_AGENT})

    async def __aenter__(self) -> GitHubClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _auth_header(self) -> dict[str, str]:
        token = self._token
        if self._token_provider is not None:
            token = await self._token_provider()
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def request(self, method: str, path: str, *, json: Any = None,
                      params: dict[str, Any] | None = None,
                      headers: dict[str, str] | None = None) -> httpx.Response:
        """One call; raises ``RateLimited`` or ``GitHubError`` for a refusal."""
        sent = {**await self._auth_header(), **(headers or {})}
        try:
            response = await self._http.request(method, path, json=json, params=params,
                                                headers=sent)
        except httpx.HTTPError as exc:
            raise GitHubError(0, f"could not reach GitHub at {self.api_url} ({exc})",
                              method=method, path=path) from exc
        self.rate = read_rate_limit(response.headers) or self.rate
        if response.status_code < 400:
            return response
        wait = rate_limit_wait(response)
        if wait is not None:
            raise RateLimited(response.status_code, _message(response), wait, method=method,
                              path=path)
        raise GitHubError(response.status_code, _message(response), method=method, path=path)

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def pages(self, path: str, params: dict[str, Any] | None = None, *,
                    max_pages: int = MAX_PAGES) -> AsyncIterator[list[dict[str, Any]]]:
        """Each page of a listing, following the ``Link: rel="next"`` header."""
        url: str | None = path
        query: dict[str, Any] | None = {"per_page": PER_PAGE, **(params or {})}
        for _ in range(max_pages):
            if url is None:
                return
            response = await self.request("GET", url, params=query)
            data = response.json()
            yield [item for item in data if isinstance(item, dict)] if isinstance(
                data, list) else []
            url = response.links.get("next", {}).get("url")
            query = None  # the next link carries the query

    async def _all(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        async for page in self.pages(path, params):
            found.extend(page)
        return found

    # Repositories and webhooks

    async def get_repo(self, repo: str) -> dict[str, Any]:
        return dict(await self._json("GET", repo_path(repo)))

    async def list_hooks(self, repo: str) -> list[dict[str, Any]]:
        return await self._all(f"{repo_path(repo)}/hooks")

    async def get_hook(self, repo: str, hook_id: int) -> dict[str, Any]:
        return dict(await self._json("GET", f"{repo_path(repo)}/hooks/{int(hook_id)}"))

    # Issues

    async def get_issue(self, repo: str, number: int) -> dict[str, Any]:
        return dict(await self._json("GET", f"{repo_path(repo)}/issues/{int(number)}"))

    async def list_issue_comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        return await self._all(f"{repo_path(repo)}/issues/{int(number)}/comments")

    def issue_pages(self, repo: str, *, state: str = "open", labels: list[str] | None = None,
                    since: str | None = None, page: int = 1, sort: str = "created",
                    direction: str = "asc", max_pages: int = MAX_PAGES,
                    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Pages of the repository's issues (pull requests included, as GitHub lists
        them: check ``"pull_request" in issue``), from page ``page`` on."""
        params: dict[str, Any] = {"state": state, "sort": sort, "direction": direction,
                                  "page": page}
        if labels:
            params["labels"] = ",".join(labels)
        if since:
            params["since"] = since
        return self.pages(f"{repo_path(repo)}/issues", params, max_pages=max_pages)

    async def list_issues(self, repo: str, *, state: str = "open",
                          labels: list[str] | None = None,
                          since: str | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        async for items in self.issue_pages(repo, state=state, labels=labels, since=since):
            found.extend(items)
        return found

    async def create_issue(self, repo: str, title: str, body: str,
                           labels: list[str] | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"title": title, "body": body}
        if labels:
            payload["labels"] = labels
        return dict(await self._json("POST", f"{repo_path(repo)}/issues", json=payload))

    async def update_issue(self, repo: str, number: int, **fields: Any) -> dict[str, Any]:
        """PATCH the issue: ``state``, ``state_reason``, ``title``, ``body``, ``labels`` ..."""
        return dict(await self._json("PATCH", f"{repo_path(repo)}/issues/{int(number)}",
                                     json=fields))

    async def lock_issue(self, repo: str, number: int, reason: str | None = None) -> None:
        payload = {"lock_reason": reason} if reason else None
        await self.request("PUT", f"{repo_path(repo)}/issues/{int(number)}/lock", json=payload)

    async def create_issue_comment(self, repo: str, number: int, body: str) -> dict[str, Any]:
        return dict(await self._json("POST", f"{repo_path(repo)}/issues/{int(number)}/comments",
                                     json={"body": body}))

    async def add_labels(self, repo: str, number: int, labels: list[str]) -> list[dict[str, Any]]:
        found = await self._json("POST", f"{repo_path(repo)}/issues/{int(number)}/labels",
                                 json={"labels": labels})
        return list(found or [])

    # GitHub Apps

    async def create_installation_token(self, installation_id: int | str,
                                        app_jwt: str) -> dict[str, Any]:
        """Exchange an App JWT for an installation token (``token``, ``expires_at``)."""
        return dict(await self._json(
            "POST", f"/app/installations/{quote(str(installation_id), safe='')}/access_tokens",
            headers={"Authorization": f"Bearer {app_jwt}"}))
