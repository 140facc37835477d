"""A local fake of the two Stack Exchange API 2.3 methods the bridge calls.

It answers with the documented shapes: every answer is a wrapper object (``items``,
``has_more``, ``quota_max``, ``quota_remaining``, optional ``backoff``), errors are a
wrapper with ``error_id``, ``error_name`` and ``error_message`` and the HTTP status of the
error (502 ``throttle_violation`` ...), and every body is gzip-encoded, as the real API
always does. ``GET /2.3/questions`` filters by ``tagged`` (all tags), ``fromdate``
(inclusive), sorts by creation and pages with ``page``/``pagesize``; ``GET
/2.3/questions/{ids}`` returns the questions that still exist. Every request is recorded
with its query parameters. Served by uvicorn on 127.0.0.1 in a thread, so the bridge's
httpx client talks real HTTP to it.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fake_server import Served

PREFIX = "/2.3"


def so_question(question_id: int, title: str, created: datetime, *,
                tags: list[str] | None = None, body: str = "<p>How do I do this?</p>",
                user_id: int | None = 1001, display_name: str = "Jane Asker",
                score: int = 0, answer_count: int = 0, is_answered: bool = False,
                accepted_answer_id: int | None = None) -> dict[str, Any]:
    """A question as ``/questions?filter=withbody`` returns it."""
    ts = int(created.timestamp())
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if user_id is None:  # a deleted account
        owner: dict[str, Any] = {"user_type": "does_not_exist", "display_name": display_name}
    else:
        owner = {"account_id": user_id + 5000, "reputation": 101, "user_id": user_id,
                 "user_type": "registered",
                 "profile_image": "https://www.gravatar.com/avatar/0?s=256&d=identicon&r=PG",
                 "display_name": display_name,
                 "link": f"https://stackoverflow.com/users/{user_id}/"
                         + re.sub(r"[^a-z0-9]+", "-", display_name.lower()).strip("-")}
    item: dict[str, Any] = {
        "tags": tags or ["python"], "owner": owner, "is_answered": is_answered,
        "view_count": 12, "answer_count": answer_count, "score": score,
        "last_activity_date": ts, "creation_date": ts, "question_id": question_id,
        "content_license": "CC BY-SA 4.0",
        "link": f"https://stackoverflow.com/questions/{question_id}/{slug}",
        "title": title, "body": body,
    }
    if accepted_answer_id is not None:
        item["accepted_answer_id"] = accepted_answer_id
    return item


@dataclass
class Recorded:
    path: str
    params: dict[str, str]
    accept_encoding: str


@dataclass
class FakeStackExchange:
    url: str = ""
    questions: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    quota_max: int = 10_000
    quota_remaining: int = 9_000
    backoff: int | None = None  # added to the next successful answer, then cleared
    corrupt_gzip: bool = False  # the next answer says gzip and is not
    # Answers given instead of the real one, first in first out: (status, body bytes or
    # a wrapper dict).
    scripted: list[tuple[int, bytes | dict[str, Any]]] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return self.url + PREFIX

    def reset(self) -> None:
        self.questions.clear()
        self.requests.clear()
        self.scripted.clear()
        self.quota_max, self.quota_remaining, self.backoff = 10_000, 9_000, None
        self.corrupt_gzip = False

    def add(self, *items: dict[str, Any]) -> None:
        for item in items:
            self.questions[item["question_id"]] = item

    def error(self, status: int, error_id: int, name: str, message: str) -> None:
        self.scripted.append((status, {"error_id": error_id, "error_name": name,
                                       "error_message": message}))

    def _answer(self, status: int, body: bytes | dict[str, Any]) -> Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        encoded = gzip.compress(raw)
        if self.corrupt_gzip:
            encoded, self.corrupt_gzip = raw, False
        return Response(encoded, status_code=status,
                        headers={"Content-Encoding": "gzip",
                                 "Content-Type": "application/json; charset=utf-8"})

    def _wrapper(self, items: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
        self.quota_remaining -= 1
        wrapper: dict[str, Any] = {"items": items, "has_more": has_more,
                                   "quota_max": self.quota_max,
                                   "quota_remaining": self.quota_remaining}
        if self.backoff:
            wrapper["backoff"], self.backoff = self.backoff, None
        return wrapper

    def _record(self, request: Request) -> Response | None:
        self.requests.append(Recorded(request.url.path, dict(request.query_params),
                                      request.headers.get("accept-encoding", "")))
        if self.scripted:
            return self._answer(*self.scripted.pop(0))
        if request.query_params.get("site") != "stackoverflow":
            return self._answer(400, {"error_id": 400, "error_name": "bad_parameter",
                                      "error_message": "site is required"})
        return None

    async def list_questions(self, request: Request) -> Response:
        scripted = self._record(request)
        if scripted is not None:
            return scripted
        q = request.query_params
        tagged = [t for t in q.get("tagged", "").split(";") if t]
        fromdate = int(q.get("fromdate", "0"))
        page, pagesize = int(q.get("page", "1")), int(q.get("pagesize", "30"))
        found = sorted((item for item in self.questions.values()
                        if item["creation_date"] >= fromdate
                        and all(t in item["tags"] for t in tagged)),
                       key=lambda item: (item["creation_date"], item["question_id"]))
        chunk = found[(page - 1) * pagesize: page * pagesize]
        return self._answer(200, self._wrapper(chunk, len(found) > page * pagesize))

    async def questions_by_id(self, request: Request) -> Response:
        scripted = self._record(request)
        if scripted is not None:
            return scripted
        ids = [int(i) for i in request.path_params["ids"].split(";")]
        items = [self.questions[i] for i in ids if i in self.questions]
        return self._answer(200, self._wrapper(items, False))

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route(f"{PREFIX}/questions", self.list_questions),
            Route(f"{PREFIX}/questions/{{ids}}", self.questions_by_id),
        ])


ServedFake = Served  # kept for the tests that name it
