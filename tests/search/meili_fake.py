"""A small Meilisearch stand-in: the part of its HTTP API that forum.search.meili calls.

It checks what a real server would refuse (unknown index, bad JSON shapes, filters on
attributes not declared filterable, filter syntax errors) and answers with the documented
shapes: writes return a summarised task (202) that is processed at once, ``GET /tasks/{uid}``
returns the task, search returns ``hits`` with ``_formatted`` and ``estimatedTotalHits``.
Matching is simple: every query word must occur in the title or body (the last word as a
prefix), phrases as consecutive words; title matches rank first.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SEARCH_KEYS = {"q", "offset", "limit", "filter", "attributesToHighlight", "attributesToCrop",
               "cropLength", "highlightPreTag", "highlightPostTag", "showRankingScore", "sort",
               "attributesToRetrieve", "matchingStrategy"}
SETTINGS_KEYS = {"searchableAttributes", "filterableAttributes", "sortableAttributes",
                 "displayedAttributes", "rankingRules"}
_WORD = re.compile(r"[^\W_]+")


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"message": message, "code": code, "type": "invalid_request",
                         "link": f"https://docs.meilisearch.com/errors#{code}"}, status)


class FilterError(ValueError):
    pass


_FILTER_TOKEN = re.compile(r'\s*(\(|\)|\[|\]|,|>=|<=|!=|=|>|<|"(?:[^"\\]|\\.)*"|[\w.-]+)')


def parse_filter(expression: str, filterable: set[str]) -> Any:
    """Parse the filter into a predicate over a document (AND/OR/NOT, =, !=, <, IN [...])."""
    tokens: list[str] = []
    pos = 0
    while pos < len(expression):
        match = _FILTER_TOKEN.match(expression, pos)
        if match is None:
            if expression[pos:].strip() == "":
                break
            raise FilterError(f"unexpected character at {pos}")
        tokens.append(match.group(1))
        pos = match.end()
    index = 0

    def peek() -> str | None:
        return tokens[index] if index < len(tokens) else None

    def take(expected: str | None = None) -> str:
        nonlocal index
        token = peek()
        if token is None or (expected is not None and token != expected):
            raise FilterError(f"expected {expected or 'a value'} at token {index}")
        index += 1
        return token

    def value() -> Any:
        token = take()
        if token.startswith('"'):
            return token[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        if token in {"true", "false"}:
            return token == "true"
        try:
            return float(token)
        except ValueError:
            return token

    def condition() -> Any:
        if peek() == "(":
            take("(")
            inner = disjunction()
            take(")")
            return inner
        if peek() == "NOT":
            take("NOT")
            inner_not = condition()
            return lambda doc: not inner_not(doc)
        attribute = take()
        if attribute not in filterable:
            raise FilterError(f"attribute `{attribute}` is not filterable")
        op = take()
        if op == "IN":
            take("[")
            values = [value()]
            while peek() == ",":
                take(",")
                values.append(value())
            take("]")
            return lambda doc: any(_equal(doc.get(attribute), v) for v in values)
        if op not in {"=", "!=", ">", ">=", "<", "<="}:
            raise FilterError(f"unknown operator {op}")
        expected = value()
        return lambda doc: _compare(doc.get(attribute), op, expected)

    def conjunction() -> Any:
        parts = [condition()]
        while peek() == "AND":
            take("AND")
            parts.append(condition())
        return lambda doc: all(p(doc) for p in parts)

    def disjunction() -> Any:
        parts = [conjunction()]
        while peek() == "OR":
            take("OR")
            parts.append(conjunction())
        return lambda doc: any(p(doc) for p in parts)

    predicate = disjunction()
    if peek() is not None:
        raise FilterError(f"unexpected {peek()!r}")
    return predicate


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, list):
        return any(_equal(a, expected) for a in actual)
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    if isinstance(actual, int | float) and isinstance(expected, float):
        return float(actual) == expected
    return str(actual) == str(expected)


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if op == "=":
        return _equal(actual, expected)
    if op == "!=":
        return not _equal(actual, expected)
    if not isinstance(actual, int | float) or not isinstance(expected, float):
        return False
    return {">": actual > expected, ">=": actual >= expected, "<": actual < expected,
            "<=": actual <= expected}[op]


class FakeMeili:
    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.indexes: dict[str, dict[str, Any]] = {}
        self.tasks: dict[int, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.app = Starlette(routes=[
            Route("/indexes", self.create_index, methods=["POST"]),
            Route("/indexes/{uid}", self.get_index, methods=["GET"]),
            Route("/indexes/{uid}/settings", self.update_settings, methods=["PATCH"]),
            Route("/indexes/{uid}/documents", self.add_documents, methods=["POST"]),
            Route("/indexes/{uid}/documents", self.delete_all, methods=["DELETE"]),
            Route("/indexes/{uid}/documents/delete", self.delete_by_filter, methods=["POST"]),
            Route("/indexes/{uid}/search", self.search, methods=["POST"]),
            Route("/tasks/{task:int}", self.get_task, methods=["GET"]),
        ])

    # Plumbing

    def _authorised(self, request: Request) -> bool:
        self.requests.append((request.method, request.url.path))
        expected = f"Bearer {self.api_key}"
        return self.api_key is None or request.headers.get("authorization") == expected

    def _task(self, uid: str, kind: str, failure: str | None = None) -> JSONResponse:
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        number = len(self.tasks)
        status = "failed" if failure else "succeeded"
        self.tasks[number] = {
            "uid": number, "indexUid": uid, "status": status, "type": kind, "details": {},
            "error": {"message": failure, "code": "invalid_document_filter",
                      "type": "invalid_request", "link": ""} if failure else None,
            "duration": "PT0.001S", "enqueuedAt": now, "startedAt": now, "finishedAt": now,
        }
        return JSONResponse({"taskUid": number, "indexUid": uid, "status": "enqueued",
                             "type": kind, "enqueuedAt": now}, 202)

    async def _json(self, request: Request) -> Any:
        import json

        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            raise FilterError("Content-Type must be application/json")
        return json.loads(await request.body())

    def _index(self, request: Request) -> dict[str, Any] | None:
        return self.indexes.get(request.path_params["uid"])

    # Endpoints

    async def create_index(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return error(403, "invalid_api_key", "The provided API key is invalid.")
        body = await self._json(request)
        if not isinstance(body, dict) or not isinstance(body.get("uid"), str):
            return error(400, "missing_index_uid", "`uid` is missing.")
        if body["uid"] in self.indexes:
            return self._task(body["uid"], "indexCreation", failure="index_already_exists")
        self.indexes[body["uid"]] = {"primaryKey": body.get("primaryKey"), "docs": {},
                                     "settings": {"filterableAttributes": [],
                                                  "searchableAttributes": ["*"]}}
        return self._task(body["uid"], "indexCreation")

    async def get_index(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return error(403, "invalid_api_key", "The provided API key is invalid.")
        index = self._index(request)
        uid = request.path_params["uid"]
        if index is None:
            return error(404, "index_not_found", f"Index `{uid}` not found.")
        now = datetime.now(UTC).isoformat()
        return JSONResponse({"uid": uid, "primaryKey": index["primaryKey"], "createdAt": now,
                             "updatedAt": now})

    async def update_settings(self, request: Request) -> JSONResponse:
        index = self._index(request)
        if not self._authorised(request) or index is None:
            return error(404, "index_not_found", "Index not found.")
        body = await self._json(request)
        unknown = set(body) - SETTINGS_KEYS
        if unknown:
            return error(400, "bad_request", f"Unknown field(s): {sorted(unknown)}")
        for key, value in body.items():
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                return error(400, f"invalid_settings_{key}", f"`{key}` must be a list of strings")
        index["settings"].update(body)
        return self._task(request.path_params["uid"], "settingsUpdate")

    async def add_documents(self, request: Request) -> JSONResponse:
        index = self._index(request)
        if not self._authorised(request) or index is None:
            return error(404, "index_not_found", "Index not found.")
        key = request.query_params.get("primaryKey") or index["primaryKey"]
        documents = await self._json(request)
        if not isinstance(documents, list) or not all(isinstance(d, dict) for d in documents):
            return error(400, "malformed_payload", "The payload must be an array of objects.")
        for document in documents:
            if not isinstance(document.get(key), int | str):
                return error(400, "missing_document_id", f"Document has no `{key}`.")
            index["docs"][document[key]] = document
        return self._task(request.path_params["uid"], "documentAdditionOrUpdate")

    async def delete_all(self, request: Request) -> JSONResponse:
        index = self._index(request)
        if not self._authorised(request) or index is None:
            return error(404, "index_not_found", "Index not found.")
        index["docs"].clear()
        return self._task(request.path_params["uid"], "documentDeletion")

    async def delete_by_filter(self, request: Request) -> JSONResponse:
        index = self._index(request)
        if not self._authorised(request) or index is None:
            return error(404, "index_not_found", "Index not found.")
        body = await self._json(request)
        if not isinstance(body, dict) or not isinstance(body.get("filter"), str):
            return error(400, "invalid_document_filter", "`filter` must be a string.")
        try:
            predicate = parse_filter(body["filter"], set(index["settings"]["filterableAttributes"]))
        except FilterError as exc:
            return self._task(request.path_params["uid"], "documentDeletion", failure=str(exc))
        for key in [k for k, doc in index["docs"].items() if predicate(doc)]:
            del index["docs"][key]
        return self._task(request.path_params["uid"], "documentDeletion")

    async def get_task(self, request: Request) -> JSONResponse:
        task = self.tasks.get(request.path_params["task"])
        if not self._authorised(request) or task is None:
            return error(404, "task_not_found", "Task not found.")
        return JSONResponse(task)

    async def search(self, request: Request) -> JSONResponse:
        started = time.perf_counter()
        index = self._index(request)
        if not self._authorised(request) or index is None:
            return error(404, "index_not_found", "Index not found.")
        body = await self._json(request)
        unknown = set(body) - SEARCH_KEYS
        if unknown:
            return error(400, "bad_request", f"Unknown field(s): {sorted(unknown)}")
        for key in ("offset", "limit", "cropLength"):
            if key in body and not (isinstance(body[key], int) and body[key] >= 0):
                return error(400, f"invalid_search_{key.lower()}", f"`{key}` must be an integer")
        for key in ("attributesToHighlight", "attributesToCrop"):
            if key in body and not (isinstance(body[key], list)
                                    and all(isinstance(v, str) for v in body[key])):
                return error(400, f"invalid_search_{key}", f"`{key}` must be a list of strings")
        predicate: Any = lambda doc: True  # noqa: E731
        if body.get("filter") is not None:
            if not isinstance(body["filter"], str):
                return error(400, "invalid_search_filter", "`filter` must be a string here")
            try:
                predicate = parse_filter(body["filter"],
                                         set(index["settings"]["filterableAttributes"]))
            except FilterError as exc:
                return error(400, "invalid_search_filter", str(exc))
        query = body.get("q") or ""
        if not isinstance(query, str):
            return error(400, "invalid_search_q", "`q` must be a string")
        phrases = re.findall(r'"([^"]*)"', query)
        words = [w.lower() for w in _WORD.findall(re.sub(r'"[^"]*"', " ", query))]
        last_is_prefix = bool(words) and not query.rstrip().endswith('"')
        strategy = body.get("matchingStrategy", "last")
        if strategy not in {"last", "all", "frequency"}:
            return error(400, "invalid_search_matching_strategy", "unknown matchingStrategy")
        scored = []
        for doc in index["docs"].values():
            if not predicate(doc):
                continue
            title = [w.lower() for w in _WORD.findall(str(doc.get("title", "")))]
            text = [w.lower() for w in _WORD.findall(str(doc.get("body", "")))]
            if strategy == "all":
                in_title = _matches(title, words, phrases, last_is_prefix)
                in_any = in_title or _matches(title + text, words, phrases, last_is_prefix)
            else:  # roughly: any word may match, more matched words first
                in_title = any(_matches(title, [w], [], False) for w in words)
                in_any = in_title or any(_matches(text, [w], [], False) for w in words)
            if in_any:
                scored.append((1.0 if in_title else 0.5, doc))
        scored.sort(key=lambda pair: (-pair[0], pair[1].get("post_id", 0)))
        offset, limit = body.get("offset", 0), body.get("limit", 20)
        pre, post = body.get("highlightPreTag", "<em>"), body.get("highlightPostTag", "</em>")
        highlight_words = words + [w for p in phrases for w in _WORD.findall(p.lower())]
        hits = []
        for score, doc in scored[offset:offset + limit]:
            hit = dict(doc)
            formatted = dict(doc)
            for attribute in body.get("attributesToHighlight", []):
                formatted[attribute] = _highlight(str(doc.get(attribute, "")), highlight_words,
                                                  pre, post)
            hit["_formatted"] = formatted
            if body.get("showRankingScore"):
                hit["_rankingScore"] = score
            hits.append(hit)
        return JSONResponse({"hits": hits, "query": query, "offset": offset, "limit": limit,
                             "estimatedTotalHits": len(scored),
                             "processingTimeMs": int((time.perf_counter() - started) * 1000)})


def _matches(tokens: list[str], words: list[str], phrases: list[str], last_prefix: bool) -> bool:
    for i, word in enumerate(words):
        prefix = last_prefix and i == len(words) - 1
        if not any(t == word or (prefix and t.startswith(word)) for t in tokens):
            return False
    for phrase in phrases:
        needle = [w.lower() for w in _WORD.findall(phrase)]
        if needle and not any(tokens[i:i + len(needle)] == needle for i in range(len(tokens))):
            return False
    return True


def _highlight(text: str, words: list[str], pre: str, post: str) -> str:
    def mark(match: re.Match[str]) -> str:
        token = match.group(0)
        hit = any(token.lower().startswith(w) for w in words)
        return f"{pre}{token}{post}" if hit else token

    return _WORD.sub(mark, text)


class FakeMeiliServer:
    """Serve a ``FakeMeili`` with uvicorn on a free 127.0.0.1 port, in a thread."""

    def __init__(self, api_key: str | None = None) -> None:
        self.fake = FakeMeili(api_key)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.fake.app, host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeMeiliServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake Meilisearch did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)
