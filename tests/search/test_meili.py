"""The Meilisearch backend's requests, as the fake (and a real server) checks them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import meilisearch
import pytest

from forum.search import SearchQuery, build_search
from forum.search.meili import MeiliSearch, filter_of, meili_text
from forum.search.postgres import PostgresSearch
from forum.search.query import parse_terms
from forum.search.sqlite_fts import SqliteSearch
from tests.conftest import base_settings
from tests.search.conftest import FAKE_KEY
from tests.search.meili_fake import FakeMeiliServer
from tests.search.test_contract import doc, q


def test_build_search_follows_the_settings(tmp_path: Path) -> None:
    sqlite = base_settings(tmp_path, f"sqlite://{tmp_path}/f.sqlite3")
    postgres = base_settings(tmp_path, "postgres://u@127.0.0.1:5432/forum")
    meili = base_settings(tmp_path, "postgres://u@127.0.0.1:5432/forum",
                          meilisearch_url="http://127.0.0.1:7700")
    assert isinstance(build_search(sqlite), SqliteSearch)
    assert isinstance(build_search(postgres), PostgresSearch)
    assert isinstance(build_search(meili), MeiliSearch)


def test_filter_quotes_strings_and_applies_permissions() -> None:
    query = SearchQuery(project_id=3, text="x", allowed_category_ids=frozenset({2, 1}),
                        user_id=9, tags=('we"ird\\',), states=("open",),
                        created_after=datetime(2025, 1, 1, tzinfo=UTC))
    assert filter_of(query) == (
        'project_id = 3 AND category_id IN [1, 2] AND (is_private = false OR '
        'topic_author_id = 9) AND deleted = false AND tags = "we\\"ird\\\\" AND '
        'state IN ["open"] AND created_at >= 1735689600')
    assert filter_of(q("x", allowed_category_ids=frozenset())) is None


def test_prefix_terms_go_last() -> None:
    assert meili_text(parse_terms('instal* "exact words" plain')) == (
        '"exact words" plain instal')


async def test_fake_refuses_what_meilisearch_refuses(meili_fake: FakeMeiliServer) -> None:
    unset = MeiliSearch(meili_fake.url, FAKE_KEY, index_uid="never_created")
    with pytest.raises(meilisearch.errors.MeilisearchApiError) as missing:
        await unset.search(q("x"))
    assert missing.value.code == "index_not_found"
    with pytest.raises(meilisearch.errors.MeilisearchApiError):
        await MeiliSearch(meili_fake.url, "wrong-key", index_uid="x").setup()
    backend = MeiliSearch(meili_fake.url, FAKE_KEY, index_uid="strict")
    await backend.setup()
    await backend.index([doc(1, "Title", "body words", tags=('odd"tag',))])
    assert [h.post_id for h in (await backend.search(q("body", tags=('odd"tag',)))).hits] == [1]
    index = backend.client.index("strict")
    with pytest.raises(meilisearch.errors.MeilisearchApiError) as bad:
        index.search("body", {"filter": "title = x"})  # title is not filterable
    assert bad.value.code == "invalid_search_filter"
    with pytest.raises(meilisearch.errors.MeilisearchApiError):
        index.search("body", {"filter": "project_id = 1 AND (deleted = false"})
    with pytest.raises(meilisearch.errors.MeilisearchApiError):
        index.search("body", {"limit": "ten"})
    settings = meili_fake.fake.indexes["strict"]["settings"]
    assert settings["searchableAttributes"] == ["title", "body"]
    assert "is_private" in settings["filterableAttributes"]
