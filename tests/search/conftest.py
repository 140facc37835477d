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


@pytest.fixture(params=["sqlite", "postgres", "meili-fake", "meili-live"])
async def backend(request: pytest.FixtureRequest, db: None, meili_fake: FakeMeiliServer
                  ) -> AsyncIterator[SearchBackend]:
    name: str = request.param
    search: Any
    if name == "sqlite":
        if BACKEND != "sqlite":
            pytest.skip("the FTS5 backend runs in the SQLite pass")
        from forum.search.sqlite_fts import SqliteSearch

        search = SqliteSearch()
    elif name == "postgres":
        if BACKEND != "postgres":
            pytest.skip("the PostgreSQL backend runs in the pass with FORUM_TEST_DATABASE=postgres")
        from forum.search.postgres import PostgresSearch

        search = PostgresSearch()
    else:
        from forum.search.meili import MeiliSearch

        if name == "meili-live":
            if not LIVE_MEILI_URL:
                pytest.skip("live Meilisearch: set FORUM_MEILISEARCH_URL to run against a server")
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
