"""The contract every SearchBackend keeps: one suite, run against each backend.

Ranking, filters, phrase and prefix queries, highlighted snippets, pagination, deletion and
re-indexing, hostile input, and the permission filters: allowed categories, private topics
(team or the topic's author) and deleted posts (moderators).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from forum.search import SearchBackend, SearchDocument, SearchQuery

PROJECT = 1
OTHER_PROJECT = 2
CAT_A, CAT_B, CAT_HIDDEN, CAT_OTHER = 11, 12, 13, 21
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def doc(post_id: int, title: str, body: str, **fields: object) -> SearchDocument:
    values: dict[str, object] = {
        "post_id": post_id, "topic_id": post_id * 10, "project_id": PROJECT,
        "category_id": CAT_A, "number": 1, "title": title, "body": body, "tags": (),
        "kind": "question", "state": "open", "author_id": 100, "created_at": T0,
        "is_private": False, "topic_author_id": 100, "deleted": False,
    }
    values.update(fields)
    return SearchDocument(**values)  # type: ignore[arg-type]


def q(text: str, **fields: object) -> SearchQuery:
    values: dict[str, object] = {"project_id": PROJECT, "text": text,
                                 "allowed_category_ids": frozenset({CAT_A, CAT_B})}
    values.update(fields)
    return SearchQuery(**values)  # type: ignore[arg-type]


async def ids(backend: SearchBackend, query: SearchQuery) -> list[int]:
    return [hit.post_id for hit in (await backend.search(query)).hits]


async def test_title_match_ranks_above_body_match(backend: SearchBackend) -> None:
    await backend.index([
        doc(1, "Gardening tips", "Water the zucchini every morning before work."),
        doc(2, "Zucchini questions", "How deep should seeds go into soil?"),
    ])
    assert await ids(backend, q("zucchini")) == [2, 1]


async def test_hits_carry_topic_number_title_and_score(backend: SearchBackend) -> None:
    await backend.index([doc(5, "Kayak repair", "Patch the hull with epoxy.", number=3,
                             topic_id=77)])
    [hit] = (await backend.search(q("epoxy"))).hits
    assert (hit.post_id, hit.topic_id, hit.number, hit.title) == (5, 77, 3, "Kayak repair")
    assert hit.score > 0


async def test_filters_category_tag_state_kind_author_and_dates(backend: SearchBackend) -> None:
    await backend.index([
        doc(1, "Widget one", "widget text", category_id=CAT_A, tags=("python", "async"),
            state="open", kind="question", author_id=100, created_at=T0),
        doc(2, "Widget two", "widget text", category_id=CAT_B, tags=("python",),
            state="solved", kind="bug_report", author_id=101,
            created_at=T0 + timedelta(days=10)),
        doc(3, "Widget three", "widget text", category_id=CAT_A, tags=("rust",),
            state="closed", kind="discussion", author_id=102,
            created_at=T0 + timedelta(days=20)),
    ])
    assert sorted(await ids(backend, q("widget"))) == [1, 2, 3]
    assert sorted(await ids(backend, q("widget", category_ids=frozenset({CAT_A})))) == [1, 3]
    assert sorted(await ids(backend, q("widget", tags=("python",)))) == [1, 2]
    assert await ids(backend, q("widget", tags=("python", "async"))) == [1]
    assert await ids(backend, q("widget", states=("solved",))) == [2]
    assert sorted(await ids(backend, q("widget", states=("open", "closed")))) == [1, 3]
    assert await ids(backend, q("widget", kinds=("bug_report",))) == [2]
    assert await ids(backend, q("widget", author_id=102)) == [3]
    window = q("widget", created_after=T0 + timedelta(days=5),
               created_before=T0 + timedelta(days=15))
    assert await ids(backend, window) == [2]
    assert sorted(await ids(backend, q("widget", created_after=T0 + timedelta(days=5)))) == [2, 3]
    # A category filter cannot widen what the viewer may read.
    assert await ids(backend, q("widget", category_ids=frozenset({CAT_HIDDEN}))) == []


async def test_phrase_query_needs_the_words_together(backend: SearchBackend) -> None:
    await backend.index([
        doc(1, "Errors", "the connection pool timed out after a minute"),
        doc(2, "Errors", "the pool of workers kept a connection open"),
    ])
    assert await ids(backend, q('"connection pool"')) == [1]
    assert sorted(await ids(backend, q("connection pool"))) == [1, 2]


async def test_prefix_query(backend: SearchBackend) -> None:
    await backend.index([
        doc(1, "Setup", "the configuration file is missing"),
        doc(2, "Setup", "nothing relevant here"),
    ])
    assert await ids(backend, q("config*")) == [1]
    assert await ids(backend, q("missing config*")) == [1]


async def test_snippet_marks_matches_and_escapes_html(backend: SearchBackend) -> None:
    await backend.index([doc(1, "Markup", "use <script> tags carefully with the parser")])
    [hit] = (await backend.search(q("parser"))).hits
    assert "<mark>parser</mark>" in hit.snippet
    assert "<script>" not in hit.snippet
    assert "script" in hit.snippet


async def test_pagination(backend: SearchBackend) -> None:
    await backend.index([doc(i, f"Lantern {i}", "lantern body") for i in range(1, 8)])
    first = await backend.search(q("lantern", limit=3, offset=0))
    second = await backend.search(q("lantern", limit=3, offset=3))
    last = await backend.search(q("lantern", limit=3, offset=6))
    assert first.total == second.total == 7
    assert len(first.hits) == 3 and len(second.hits) == 3 and len(last.hits) == 1
    seen = [h.post_id for h in first.hits + second.hits + last.hits]
    assert sorted(seen) == list(range(1, 8))
    assert (await backend.search(q("lantern", limit=3, offset=30))).hits == []


async def test_delete_and_reindex(backend: SearchBackend) -> None:
    await backend.index([doc(1, "Original title", "alpha"), doc(2, "Other", "alpha")])
    await backend.delete([1, 999])
    assert await ids(backend, q("alpha")) == [2]
    await backend.index([doc(2, "Other", "beta now")])  # replaces, not duplicates
    assert await ids(backend, q("alpha")) == []
    assert await ids(backend, q("beta")) == [2]
    await backend.index([doc(1, "Renamed", "gamma")])
    assert await ids(backend, q("renamed")) == [1]
    assert await ids(backend, q("original")) == []


async def test_clear_one_project_keeps_the_others(backend: SearchBackend) -> None:
    await backend.index([doc(1, "Shared word", "x"),
                         doc(2, "Shared word", "x", project_id=OTHER_PROJECT,
                             category_id=CAT_OTHER)])
    await backend.clear(PROJECT)
    assert await ids(backend, q("shared")) == []
    other = q("shared", project_id=OTHER_PROJECT, allowed_category_ids=frozenset({CAT_OTHER}))
    assert await ids(backend, other) == [2]
    await backend.clear()
    assert await ids(backend, other) == []


async def test_hostile_queries_are_safe(backend: SearchBackend) -> None:
    await backend.index([doc(1, "Robust", 'quotes " and NEAR(x y) OR stuff*')])
    for text in ["AND OR NOT", '"', '()*:^-+"" ', "", "   ", "NEAR(", "*", "title:x",
                 "-x", "a" * 10_000, "robust " * 2000, "\x00\x01", "'; DROP TABLE x; --"]:
        result = await backend.search(q(text))
        assert isinstance(result.hits, list)
    assert (await backend.search(q("AND OR NOT"))).hits == []
    assert (await backend.search(q("()*:^"))).hits == []
    assert await ids(backend, q("robust OR")) == [1]
    assert await ids(backend, q('robust "')) == [1]


async def test_never_returns_categories_outside_the_allowed_ones(backend: SearchBackend) -> None:
    await backend.index([doc(1, "Secret plan", "x", category_id=CAT_HIDDEN),
                         doc(2, "Public plan", "x", category_id=CAT_A)])
    assert await ids(backend, q("plan")) == [2]
    assert await ids(backend, q("plan", allowed_category_ids=frozenset())) == []
    both = q("plan", allowed_category_ids=frozenset({CAT_A, CAT_HIDDEN}))
    assert sorted(await ids(backend, both)) == [1, 2]


async def test_never_returns_another_projects_documents(backend: SearchBackend) -> None:
    await backend.index([doc(1, "Rocket", "x", project_id=OTHER_PROJECT, category_id=CAT_A)])
    assert await ids(backend, q("rocket")) == []


async def test_private_topics_only_for_team_or_their_author(backend: SearchBackend) -> None:
    report = doc(1, "Vulnerability report", "overflow", is_private=True, topic_author_id=500,
                 author_id=500)
    reply = replace(report, post_id=2, number=2, author_id=600)  # a team member's reply
    await backend.index([report, reply, doc(3, "Public overflow", "overflow")])
    assert await ids(backend, q("overflow")) == [3]
    assert await ids(backend, q("overflow", user_id=600)) == [3]  # replied, not the author
    assert sorted(await ids(backend, q("overflow", user_id=500))) == [1, 2, 3]
    assert sorted(await ids(backend, q("overflow", see_private=True))) == [1, 2, 3]


async def test_deleted_only_with_see_deleted(backend: SearchBackend) -> None:
    await backend.index([doc(1, "Removed", "spam", deleted=True), doc(2, "Kept", "spam")])
    assert await ids(backend, q("spam")) == [2]
    assert await ids(backend, q("spam", see_private=True, user_id=100)) == [2]
    assert sorted(await ids(backend, q("spam", see_deleted=True))) == [1, 2]


async def test_match_any_for_duplicate_suggestions(backend: SearchBackend) -> None:
    await backend.index([
        doc(1, "Installing on windows fails", "details"),
        doc(2, "Windows question", "details"),
        doc(3, "Unrelated", "windows mentioned in a reply", number=2),
        doc(4, "Nothing", "here"),
    ])
    found = await ids(backend, q("installing windows", match_any=True,
                                 opening_posts_only=True))
    assert sorted(found) == [1, 2]
    assert await ids(backend, q("installing windows")) == [1]
