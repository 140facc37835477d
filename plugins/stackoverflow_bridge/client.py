"""A small client for the Stack Exchange API 2.3: the two question methods the bridge
uses, parsed into typed pages, with the API's throttling fields kept.

Every response is a "wrapper" object: ``items``, ``has_more``, ``quota_max``,
``quota_remaining``, an optional ``backoff`` (seconds to leave the method alone) and, on
errors, ``error_id``, ``error_name`` and ``error_message``. The API always gzips its
answers; httpx asks for and decodes that. Items that do not have the documented shape are
skipped (and counted), so one odd question never spoils a page.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, Field, ValidationError

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # the API's maximum, also for ids per /questions/{ids}
THROTTLE_SECONDS = re.compile(r"available in (\d+) seconds")


class Owner(BaseModel):
    user_id: int | None = None
    display_name: str = ""
    link: str | None = None
    user_type: str = "registered"  # "does_not_exist" for deleted accounts


# Creation dates outside these (epoch seconds: Stack Overflow's launch, 2100) are not
# believed: one such date would move the cursor past every real question.
FIRST_DATE, LAST_DATE = 1_217_000_000, 4_102_444_800


class Question(BaseModel):
    question_id: int = Field(ge=1)
    title: str
    link: str
    creation_date: int = Field(ge=FIRST_DATE, le=LAST_DATE)
    body: str = ""
    tags: list[str] = []
    owner: Owner | None = None
    score: int = 0
    answer_count: int = 0
    is_answered: bool = False
    accepted_answer_id: int | None = None


@dataclass
class QuestionPage:
    items: list[Question]
    has_more: bool
    quota_remaining: int | None
    quota_max: int | None
    backoff: int | None
    skipped: int = 0  # items that did not have the documented shape


@dataclass
class ApiError(Exception):
    """An answer that is not a page: an ``error_id`` wrapper, a body that is not the
    documented JSON, or no answer at all (``status`` 0)."""

    status: int
    error_name: str
    message: str
    backoff: int | None = None  # seconds, from the wrapper or a throttle_violation message
    quota_remaining: int | None = None
    quota_max: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"Stack Exchange API {self.status} {self.error_name}: {self.message}"


class QuestionSource(Protocol):
    """Where questions come from: the real API (``StackExchangeClient``) or a stand-in."""

    async def questions(self, *, tagged: list[str], site: str, fromdate: int | None,
                        page: int) -> QuestionPage: ...

    async def questions_by_id(self, ids: list[int], *, site: str) -> QuestionPage: ...


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_page(status: int, content: bytes) -> QuestionPage:
    """A response body turned into a page, or ``ApiError``."""
    try:
        data = json.loads(content)
    except ValueError:
        raise ApiError(status, "malformed_response",
                       f"not JSON: {content[:80]!r}") from None
    if not isinstance(data, dict):
        raise ApiError(status, "malformed_response", "the answer is not a JSON object")
    quota_remaining = _int_or_none(data.get("quota_remaining"))
    quota_max = _int_or_none(data.get("quota_max"))
    backoff = _int_or_none(data.get("backoff"))
    if "error_id" in data or status >= 400:
        message = str(data.get("error_message", ""))[:300]
        if backoff is None:
            found = THROTTLE_SECONDS.search(message)
            backoff = int(found.group(1)) if found else None
        raise ApiError(status, str(data.get("error_name", "http_error"))[:60], message,
                       backoff, quota_remaining, quota_max,
                       {"error_id": data.get("error_id")})
    raw_items = data.get("items")
    if not isinstance(raw_items, list):
        raise ApiError(status, "malformed_response", "the answer has no list of items",
                       backoff, quota_remaining, quota_max)
    items: list[Question] = []
    skipped = 0
    for raw in raw_items:
        try:
            items.append(Question.model_validate(raw))
        except ValidationError as exc:
            skipped += 1
            log.warning("stackoverflow: skipped an item of an unexpected shape: %s",
                        exc.errors()[0]["msg"] if exc.errors() else exc)
    return QuestionPage(items=items, has_more=data.get("has_more") is True,
                        quota_remaining=quota_remaining, quota_max=quota_max,
                        backoff=backoff, skipped=skipped)


class StackExchangeClient:
    """The real API over HTTP. ``key`` is a Stack Apps key (raises the daily quota from
    300 per IP to 10,000); ``transport`` lets a test or a proxy stand in for the network."""

    def __init__(self, base_url: str, *, key: str = "", timeout: float = 20.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport,
                                       headers={"Accept-Encoding": "gzip",
                                                "User-Agent": "forum-stackoverflow-bridge"})

    async def __aenter__(self) -> StackExchangeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, params: dict[str, str]) -> QuestionPage:
        if self.key:
            params["key"] = self.key
        try:
            response = await self._http.get(f"{self.base_url}{path}", params=params)
        except httpx.DecodingError as exc:  # a body that says gzip and is not
            raise ApiError(0, "malformed_response", str(exc)[:300]) from None
        except httpx.HTTPError as exc:
            raise ApiError(0, "unreachable", f"{type(exc).__name__}: {exc}"[:300]) from None
        return parse_page(response.status_code, response.content)  # gunzipped by httpx

    async def questions(self, *, tagged: list[str], site: str, fromdate: int | None,
                        page: int) -> QuestionPage:
        """``GET /questions``: questions with all of ``tagged``, oldest first from
        ``fromdate`` (inclusive), with their bodies."""
        params = {"tagged": ";".join(tagged), "site": site, "filter": "withbody",
                  "sort": "creation", "order": "asc", "page": str(page),
                  "pagesize": str(PAGE_SIZE)}
        if fromdate is not None:
            params["fromdate"] = str(fromdate)
        return await self._get("/questions", params)

    async def questions_by_id(self, ids: list[int], *, site: str) -> QuestionPage:
        """``GET /questions/{ids}``: the current state of up to 100 questions; deleted
        ones are simply absent."""
        if not 0 < len(ids) <= PAGE_SIZE:
            raise ValueError("between 1 and 100 ids")
        path = "/questions/" + ";".join(str(i) for i in ids)
        return await self._get(path, {"site": site, "filter": "withbody",
                                      "pagesize": str(PAGE_SIZE)})
