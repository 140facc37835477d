"""Search backends for the contract suite: every one runs the same tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from forum.search import SearchBackend
from tests.conftest import BACKEND
from tests.search.meili_fake import FakeMeiliServer

LIVE_MEILI_URL = os.environ.get("FORUM_MEILISEARCH_URL", "")
LIVE_MEILI_KEY = os.environ.get("FORUM_MEILISEARCH_API_KEY") or None
FAKE_KEY = "fake-master-key"


@pytest.fixture(scope="session")
def meili_fake() -> Iterator[FakeMeiliServer]:
    with FakeMeiliServer(api_key=FAKE_KEY) as server:
        yield server


# The database's own backend runs in that database's pass (FTS5 on SQLite, full-text on
# PostgreSQL); Meilisearch runs against the fake always, and live when a server is named.
BACKENDS = [BACKEND, "meili-fake"] + (["meili-live"] if LIVE_MEILI_URL else [])


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, db: None, meili_fake: FakeMeiliServer
                  ) -> AsyncIterator[SearchBackend]:
    name: str = request.param
    search: Any
    if name == "sqlite":
        from forum.search.sqlite_fts import SqliteSearch

        search = SqliteSearch()
    elif name == "postgres":
        from forum.search.postgres import PostgresSearch

        search = PostgresSearch()
    else:
        from forum.search.meili import MeiliSearch

        if name == "meili-live":
            search = MeiliSearch(LIVE_MEILI_URL, LIVE_MEILI_KEY,
                                 index_uid=f"forum_test_{uuid.uuid4().hex[:8]}")
        else:
            search = MeiliSearch(meili_fake.url, FAKE_KEY,
                                 index_uid=f"forum_test_{uuid.uuid4().hex[:8]}")
    await search.setup()
    await search.setup()  # idempotent
    yield search
    if name == "meili-live":
        search.client.delete_index(search.index_uid)
