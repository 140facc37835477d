"""Fixtures for the GitHub bridge: the fake GitHub server, signed webhook deliveries, the
real payloads from /work/shared/fixtures/github.

``fake_github`` is one server for the session (starting uvicorn costs time), emptied before
each test; ``fake_github.url`` is the API base URL to link a repository with.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.github_import.fake_github import FakeGitHub, FakeServer

FIXTURES = Path("/work/shared/fixtures/github")


@pytest.fixture(scope="session")
def fake_github_server() -> Iterator[FakeServer]:
    server = FakeServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_github(fake_github_server: FakeServer) -> Iterator[FakeGitHub]:
    fake_github_server.fake.reset()
    yield fake_github_server.fake
    fake_github_server.fake.reset()


@cache
def _fixture_text(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text()


def payload(name: str) -> dict[str, Any]:
    """A fresh copy of a real payload, e.g. ``payload("issue_comment.created")``."""
    data: dict[str, Any] = json.loads(_fixture_text(name))
    return copy.deepcopy(data)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed(event: str, data: dict[str, Any] | bytes, secret: str, *,
           delivery: str | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers GitHub sends for ``data``, signed with ``secret``."""
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return body, {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
                  "X-Hub-Signature-256": signature(secret, body),
                  "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/abc"}
