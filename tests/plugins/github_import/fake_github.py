"""A fake of GitHub's REST API: a real HTTP server (Starlette served by uvicorn on
127.0.0.1 in a thread), so the plugin's real client code runs against it.

It keeps repositories, issues, comments and webhooks in memory, answers with the shapes of
GitHub's documented payloads (those in /work/shared/fixtures/github), checks the bearer
token, and records every call (method, path, query, JSON body, headers) in ``calls``.

Rate limits are under the test's control: ``limit_next(status, retry_after=...)`` refuses
the next calls as the secondary limit does, ``exhaust(reset_in=...)`` as a spent primary
limit does (``x-ratelimit-remaining: 0`` and the reset time).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from itertools import count
from typing import Any
from urllib.parse import urlencode

import jwt
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FIXTURES = "/work/shared/fixtures/github"
WEB = "https://github.com"


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    refused: bool = False  # answered with a rate limit


def user_json(login: str, user_id: int, *, kind: str = "User") -> dict[str, Any]:
    return {"login": login, "id": user_id, "node_id": f"U_{user_id}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
            "gravatar_id": "", "url": f"https://api.github.com/users/{login}",
            "html_url": f"{WEB}/{login}", "type": kind, "site_admin": False}


@dataclass
class FakeRepo:
    full_name: str
    id: int
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    hooks: list[dict[str, Any]] = field(default_factory=list)

    def json(self, api: str) -> dict[str, Any]:
        owner, name = self.full_name.split("/")
        return {"id": self.id, "node_id": f"R_{self.id}", "name": name,
                "full_name": self.full_name, "private": False,
                "owner": user_json(owner, self.id + 1, kind="Organization"),
                "html_url": f"{WEB}/{self.full_name}", "url": f"{api}/repos/{self.full_name}",
                "has_issues": True, "open_issues_count": sum(
                    1 for i in self.issues.values() if i["state"] == "open"),
                "permissions": {"admin": False, "maintain": False, "push": True,
                                "triage": True, "pull": True}}


class FakeGitHub:
    """State and control of the fake; ``url`` is its API base URL."""

    def __init__(self) -> None:
        self.url = ""
        self.calls: list[Call] = []
        self.repos: dict[str, FakeRepo] = {}
        self.tokens: set[str] = set()
        self.apps: dict[str, str] = {}  # App id -> public key (PEM), to check App JWTs
        self.installation_tokens: list[str] = []
        self._ids = count(1000)
        self._limited: list[tuple[int, float | None, str, str]] = []
        self._exhausted_until: float | None = None

    # Control (called by tests)

    def reset(self) -> None:
        self.calls.clear()
        self.repos.clear()
        self.tokens.clear()
        self.apps.clear()
        self.installation_tokens.clear()
        self._limited.clear()
        self._exhausted_until = None

    def add_token(self, token: str) -> str:
        self.tokens.add(token)
        return token

    def add_app(self, app_id: str, public_key_pem: str) -> None:
        self.apps[str(app_id)] = public_key_pem

    def add_repo(self, full_name: str) -> FakeRepo:
        repo = FakeRepo(full_name, next(self._ids))
        self.repos[full_name.lower()] = repo
        return repo

    def repo(self, full_name: str) -> FakeRepo:
        return self.repos[full_name.lower()]

    def add_hook(self, full_name: str, url: str, *, events: list[str] | None = None,
                 active: bool = True, content_type: str = "json") -> dict[str, Any]:
        hook_id = next(self._ids)
        hook = {"type": "Repository", "id": hook_id, "name": "web", "active": active,
                "events": events or ["issues", "issue_comment"],
                "config": {"content_type": content_type, "url": url, "insecure_ssl": "0"},
                "url": f"{self.url}/repos/{full_name}/hooks/{hook_id}",
                "last_response": {"code": None, "status": "unused", "message": None}}
        self.repo(full_name).hooks.append(hook)
        return hook

    def add_issue(self, full_name: str, number: int | None = None, *, title: str = "It broke",
                  body: str | None = "Steps to reproduce: ...", author: str = "Codertocat",
                  author_id: int = 21031067, labels: list[str] | None = None,
                  pull_request: bool = False, state: str = "open",
                  author_association: str = "NONE") -> dict[str, Any]:
        repo = self.repo(full_name)
        number = number or (max(repo.issues, default=0) + 1)
        issue_id = next(self._ids)
        base = f"https://api.github.com/repos/{full_name}/issues/{number}"
        issue: dict[str, Any] = {
            "url": base, "repository_url": f"https://api.github.com/repos/{full_name}",
            "comments_url": f"{base}/comments", "html_url": f"{WEB}/{full_name}/issues/{number}",
            "id": issue_id, "node_id": f"I_{issue_id}", "number": number, "title": title,
            "user": user_json(author, author_id), "labels": [self._label(n) for n in labels or []],
            "state": state, "state_reason": None, "locked": False, "assignee": None,
            "assignees": [], "milestone": None, "comments": 0,
            "created_at": "2019-05-15T15:20:18Z", "updated_at": "2019-05-15T15:20:18Z",
            "closed_at": None, "author_association": author_association,
            "active_lock_reason": None, "body": body}
        if pull_request:
            issue["pull_request"] = {"url": base.replace("/issues/", "/pulls/"),
                                     "html_url": f"{WEB}/{full_name}/pull/{number}"}
        repo.issues[number] = issue
        repo.comments[number] = []
        return issue

    def add_comment(self, full_name: str, number: int, body: str, *, author: str = "Codertocat",
                    author_id: int = 21031067, association: str = "OWNER",
                    kind: str = "User") -> dict[str, Any]:
        repo = self.repo(full_name)
        comment_id = next(self._ids)
        comment = {
            "url": f"https://api.github.com/repos/{full_name}/issues/comments/{comment_id}",
            "html_url": f"{WEB}/{full_name}/issues/{number}#issuecomment-{comment_id}",
            "issue_url": f"https://api.github.com/repos/{full_name}/issues/{number}",
            "id": comment_id, "node_id": f"IC_{comment_id}",
            "user": user_json(author, author_id, kind=kind),
            "created_at": "2019-05-15T15:20:21Z", "updated_at": "2019-05-15T15:20:21Z",
            "author_association": association, "body": body}
        repo.comments[number].append(comment)
        repo.issues[number]["comments"] = len(repo.comments[number])
        return comment

    def limit_next(self, status: int = 403, *, retry_after: float | None = 60,
                   times: int = 1, method: str = "", path_part: str = "") -> None:
        """Refuse the next ``times`` calls (with ``method`` and to a path containing
        ``path_part`` only, when given) as GitHub's secondary rate limit does; another
        ``status`` (500) without ``retry_after`` is a plain failure."""
        self._limited.extend([(status, retry_after, method, path_part)] * times)

    def exhaust(self, reset_in: int = 60) -> None:
        """The primary limit is spent until ``reset_in`` seconds from now."""
        self._exhausted_until = time.time() + reset_in

    def calls_to(self, method: str, path_part: str = "") -> list[Call]:
        return [c for c in self.calls if c.method == method and path_part in c.path]

    def writes(self) -> list[tuple[str, str, Any]]:
        """Every call that changed something: (method, path, body)."""
        return [(c.method, c.path, c.json) for c in self.calls
                if c.method != "GET" and not c.refused]

    @staticmethod
    def _label(name: str) -> dict[str, Any]:
        return {"id": abs(hash(name)) % 10**9, "node_id": f"L_{name}", "name": name,
                "color": "ededed", "default": False, "description": None}

    # The HTTP side

    def _rate_headers(self) -> dict[str, str]:
        reset = int(self._exhausted_until or time.time() + 3600)
        remaining = "0" if self._exhausted_until else "4999"
        return {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": remaining,
                "x-ratelimit-used": "1", "x-ratelimit-reset": str(reset),
                "x-ratelimit-resource": "core"}

    def answer(self, data: Any, status: int = 200, headers: dict[str, str] | None = None
               ) -> Response:
        if status == 204:
            return Response(status_code=204, headers={**self._rate_headers(), **(headers or {})})
        return JSONResponse(data, status, headers={**self._rate_headers(), **(headers or {})})

    def error(self, status: int, message: str, headers: dict[str, str] | None = None
              ) -> Response:
        return self.answer({"message": message,
                            "documentation_url": "https://docs.github.com/rest"}, status,
                           headers)

    def page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        per_page = max(1, min(100, int(request.query_params.get("per_page", "30"))))
        number = max(1, int(request.query_params.get("page", "1")))
        chunk = items[(number - 1) * per_page: number * per_page]
        headers: dict[str, str] = {}
        if number * per_page < len(items):
            query = {**request.query_params, "page": str(number + 1)}
            headers["link"] = (f'<{self.url}{request.url.path}?{urlencode(query)}>; '
                               f'rel="next"')
        return self.answer(chunk, headers=headers)


def build_app(fake: FakeGitHub) -> Starlette:
    async def record(request: Request) -> Response | None:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        fake.calls.append(Call(request.method, request.url.path, dict(request.query_params),
                               body, {k.lower(): v for k, v in request.headers.items()}))
        if (fake._limited and fake._limited[0][2] in ("", request.method)
                and fake._limited[0][3] in request.url.path):
            status, retry_after, _, _ = fake._limited.pop(0)
            fake.calls[-1].refused = True
            headers = {"retry-after": str(int(retry_after))} if retry_after is not None else {}
            return fake.error(status, "You have exceeded a secondary rate limit.", headers)
        if fake._exhausted_until is not None:
            if time.time() < fake._exhausted_until:
                fake.calls[-1].refused = True
                return fake.error(403, "API rate limit exceeded for user.")
            fake._exhausted_until = None
        return None

    def authorised(request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").removeprefix("token ").strip()
        return token in fake.tokens or token in fake.installation_tokens

    def repo_of(request: Request) -> FakeRepo | None:
        name = f"{request.path_params['owner']}/{request.path_params['repo']}".lower()
        return fake.repos.get(name)

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            refused = await record(request)
            if refused is not None:
                return refused
            if not authorised(request):
                return fake.error(401, "Bad credentials")
            repo = repo_of(request)
            if repo is None:
                return fake.error(404, "Not Found")
            result: Response = await handler(request, repo)
            return result
        return endpoint

    def issue_of(request: Request, repo: FakeRepo) -> dict[str, Any] | None:
        return repo.issues.get(int(request.path_params["number"]))

    async def get_repo(request: Request, repo: FakeRepo) -> Response:
        return fake.answer(repo.json(fake.url))

    async def list_hooks(request: Request, repo: FakeRepo) -> Response:
        return fake.page(request, repo.hooks)

    async def get_hook(request: Request, repo: FakeRepo) -> Response:
        hook_id = int(request.path_params["hook_id"])
        found = next((h for h in repo.hooks if h["id"] == hook_id), None)
        return fake.answer(found) if found else fake.error(404, "Not Found")

    async def list_issues(request: Request, repo: FakeRepo) -> Response:
        state = request.query_params.get("state", "open")
        wanted = [x for x in request.query_params.get("labels", "").split(",") if x]
        items = [i for _, i in sorted(repo.issues.items())
                 if state == "all" or i["state"] == state]
        if wanted:
            items = [i for i in items
                     if set(wanted) <= {label["name"] for label in i["labels"]}]
        return fake.page(request, items)

    async def create_issue(request: Request, repo: FakeRepo) -> Response:
        body = await request.json()
        if not isinstance(body, dict) or not body.get("title"):
            return fake.error(422, "Validation Failed")
        issue = fake.add_issue(repo.full_name, title=body["title"], body=body.get("body"),
                               author="forum-bot", author_id=9000, labels=body.get("labels"))
        return fake.answer(issue, 201)

    async def get_issue(request: Request, repo: FakeRepo) -> Response:
        issue = issue_of(request, repo)
        return fake.answer(issue) if issue else fake.error(404, "Not Found")

    async def update_issue(request: Request, repo: FakeRepo) -> Response:
        issue = issue_of(request, repo)
        if issue is None:
            return fake.error(404, "Not Found")
        body = await request.json()
        for key in ("title", "body", "state", "state_reason"):
            if key in body:
                issue[key] = body[key]
        if "labels" in body:
            issue["labels"] = [fake._label(n) for n in body["labels"]]
        if body.get("state") == "closed":
            issue["closed_at"] = "2019-05-16T10:00:00Z"
        return fake.answer(issue)

    async def lock_issue(request: Request, repo: FakeRepo) -> Response:
        issue = issue_of(request, repo)
        if issue is None:
            return fake.error(404, "Not Found")
        issue["locked"] = True
        return fake.answer(None, 204)

    async def list_comments(request: Request, repo: FakeRepo) -> Response:
        number = int(request.path_params["number"])
        if number not in repo.issues:
            return fake.error(404, "Not Found")
        return fake.page(request, repo.comments[number])

    async def create_comment(request: Request, repo: FakeRepo) -> Response:
        number = int(request.path_params["number"])
        body = await request.json()
        if number not in repo.issues or not isinstance(body, dict) or not body.get("body"):
            return fake.error(404 if number not in repo.issues else 422, "Not Found")
        comment = fake.add_comment(repo.full_name, number, body["body"], author="forum-bot",
                                   author_id=9000, association="NONE", kind="Bot")
        return fake.answer(comment, 201)

    async def add_labels(request: Request, repo: FakeRepo) -> Response:
        issue = issue_of(request, repo)
        if issue is None:
            return fake.error(404, "Not Found")
        body = await request.json()
        names = body.get("labels", []) if isinstance(body, dict) else body
        have = {label["name"] for label in issue["labels"]}
        issue["labels"] += [fake._label(n) for n in names if n not in have]
        return fake.answer(issue["labels"])

    async def installation_token(request: Request) -> Response:
        refused = await record(request)
        if refused is not None:
            return refused
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
            public = fake.apps[str(claims["iss"])]
            jwt.decode(token, public, algorithms=["RS256"])
        except (jwt.PyJWTError, KeyError):
            return fake.error(401, "A JSON web token could not be decoded")
        minted = f"ghs_fake{next(fake._ids)}"
        fake.installation_tokens.append(minted)
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        return fake.answer({"token": minted, "expires_at": expires,
                            "permissions": {"issues": "write"}}, 201)

    base = "/repos/{owner}/{repo}"
    issue = base + "/issues/{number:int}"
    return Starlette(routes=[
        Route(base, guarded(get_repo)),
        Route(base + "/hooks", guarded(list_hooks)),
        Route(base + "/hooks/{hook_id:int}", guarded(get_hook)),
        Route(base + "/issues", guarded(list_issues), methods=["GET"]),
        Route(base + "/issues", guarded(create_issue), methods=["POST"]),
        Route(issue, guarded(get_issue), methods=["GET"]),
        Route(issue, guarded(update_issue), methods=["PATCH"]),
        Route(issue + "/lock", guarded(lock_issue), methods=["PUT"]),
        Route(issue + "/comments", guarded(list_comments), methods=["GET"]),
        Route(issue + "/comments", guarded(create_comment), methods=["POST"]),
        Route(issue + "/labels", guarded(add_labels), methods=["POST"]),
        Route("/app/installations/{installation}/access_tokens", installation_token,
              methods=["POST"]),
    ])


class FakeServer:
    """The fake served by uvicorn in a daemon thread on a free local port."""

    def __init__(self) -> None:
        self.fake = FakeGitHub()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        port = self._sock.getsockname()[1]
        self.fake.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(build_app(self.fake), log_level="warning", access_log=False,
                                lifespan="off", ws="none")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [self._sock]}, daemon=True,
                                        name="fake-github")

    def start(self) -> FakeGitHub:
        self._thread.start()
        deadline = time.time() + 10
        while not self._server.started:
            if time.time() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake GitHub server did not start")
            time.sleep(0.01)
        return self.fake

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._sock.close()
