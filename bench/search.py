"""Search on the embedded backend: SQLite FTS5 with 100,000 posts.

Builds a corpus of random posts (a Zipf-distributed vocabulary, lengths like forum posts:
titles of 4-10 words, bodies of ~10-400 words), indexes it into a temporary SQLite database
through ``SqliteSearch.index()`` in batches, and reports indexing throughput. Then runs a
mix of one-word, two-word and phrase queries with permission filters (readable categories,
private topics, deleted posts) and reports p50/p99 latency, beside a trivial ``SELECT 1``
round trip through the same connection in the same run (and the ratio). Prints JSON lines;
figures only, compare runs on one machine.

    .venv/bin/python bench/search.py --posts 100000 --queries 300
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

from forum.db import close_db, init_db
from forum.plugins import PluginManager
from forum.search import SearchDocument, SearchQuery
from forum.search.query import STOP_WORDS
from forum.search.sqlite_fts import SqliteSearch
from forum.settings import Settings

PROJECTS = 5
CATEGORIES_PER_PROJECT = 6
POSTS_PER_TOPIC = 4
BATCH = 1000
_TECH_TEXT = ("install upgrade error python database query timeout config server client "
              "docker proxy upload login password token cache memory crash build deploy "
              "windows linux macos version release plugin search index thread socket")
TECH_WORDS = _TECH_TEXT.split()


def vocabulary(rng: random.Random, size: int) -> list[str]:
    """Most frequent first, as in real text: function words, then the forum's topic words,
    then made-up words."""
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "po", "si", "de", "ba", "vo", "zu",
                 "ri", "fa", "go", "he", "ju", "ly", "wo", "xe", "qu", "an", "el", "or"]
    words = sorted(STOP_WORDS) + list(TECH_WORDS)
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(1, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def corpus(rng: random.Random, words: list[str], posts: int) -> list[SearchDocument]:
    weights = list(accumulate(1 / (rank + 1) for rank in range(len(words))))  # Zipf
    start = datetime(2024, 1, 1, tzinfo=UTC)
    documents = []
    topic_id = 0
    title = ""
    for post_id in range(1, posts + 1):
        number = (post_id - 1) % POSTS_PER_TOPIC + 1
        if number == 1:
            topic_id += 1
            project = rng.randrange(PROJECTS) + 1
            category = project * 100 + rng.randrange(CATEGORIES_PER_PROJECT)
            private = rng.random() < 0.05
            topic_author = rng.randrange(1, 5000)
            title = " ".join(rng.choices(words, cum_weights=weights, k=rng.randint(4, 10)))
            tags = tuple(rng.sample(TECH_WORDS, rng.randint(0, 3)))
            kind = rng.choice(["question", "question", "discussion", "bug_report"])
        length = max(10, min(400, int(rng.lognormvariate(3.8, 0.7))))
        body = " ".join(rng.choices(words, cum_weights=weights, k=length))
        documents.append(SearchDocument(
            post_id=post_id, topic_id=topic_id, project_id=project, category_id=category,
            number=number, title=title.capitalize(), body=body, tags=tags, kind=kind,
            state=rng.choice(["open", "solved", "closed"]),
            author_id=topic_author if number == 1 else rng.randrange(1, 5000),
            created_at=start + timedelta(minutes=post_id), is_private=private,
            topic_author_id=topic_author, deleted=rng.random() < 0.02))
    return documents


def queries(rng: random.Random, words: list[str], documents: list[SearchDocument],
            count: int) -> list[SearchQuery]:
    """People search for content words (frequent ones most often), not for "the"."""
    content = [w for w in words if w not in STOP_WORDS]
    weights = list(accumulate(1 / (rank + 1) for rank in range(len(content))))
    result = []
    for i in range(count):
        kind = i % 3
        if kind == 0:
            text = rng.choices(content, cum_weights=weights, k=1)[0]
        elif kind == 1:
            text = " ".join(rng.choices(content, cum_weights=weights, k=2))
        else:  # two neighbouring words of a post, at least one of them a content word
            while True:
                body = rng.choice(documents).body.split()
                at = rng.randrange(len(body) - 1)
                if body[at] not in STOP_WORDS or body[at + 1] not in STOP_WORDS:
                    break
            text = f'"{body[at]} {body[at + 1]}"'
        project = rng.randrange(PROJECTS) + 1
        readable = rng.sample(range(CATEGORIES_PER_PROJECT), CATEGORIES_PER_PROJECT - 1)
        result.append(SearchQuery(
            project_id=project, text=text,
            allowed_category_ids=frozenset(project * 100 + c for c in readable),
            see_private=False, see_deleted=False, user_id=rng.randrange(1, 5000)))
    return result


async def run(posts: int, query_count: int, seed: int) -> None:
    rng = random.Random(seed)
    words = vocabulary(rng, 20_000)
    made = time.perf_counter()
    documents = corpus(rng, words, posts)
    generated = time.perf_counter() - made
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.model_validate({
            "data_dir": Path(tmp), "database_url": f"sqlite://{tmp}/bench.sqlite3",
            "secret_key": "bench-secret", "run_embedded_worker": False})
        await init_db(settings, PluginManager(load_entry_points=False))
        try:
            search = SqliteSearch()
            await search.setup()
            started = time.perf_counter()
            for at in range(0, len(documents), BATCH):
                await search.index(documents[at:at + BATCH])
            indexing = time.perf_counter() - started
            size = (Path(tmp) / "bench.sqlite3").stat().st_size
            print(json.dumps({
                "search_indexing": {"backend": "sqlite-fts5", "posts": posts,
                                    "batch": BATCH, "seconds": round(indexing, 2),
                                    "posts_per_s": round(posts / indexing),
                                    "corpus_generation_s": round(generated, 2),
                                    "database_mb": round(size / 1e6, 1)}}), flush=True)

            planned = queries(rng, words, documents, query_count)
            for query in planned[:10]:  # warm the page cache
                await search.search(query)
            latencies: dict[str, list[float]] = {"one_word": [], "two_words": [], "phrase": []}
            totals = []
            for i, query in enumerate(planned):
                t0 = time.perf_counter()
                result = await search.search(query)
                latencies[["one_word", "two_words", "phrase"][i % 3]].append(
                    time.perf_counter() - t0)
                totals.append(result.total)
            baseline = []
            for _ in range(query_count):
                t0 = time.perf_counter()
                await search.db.execute_query("SELECT 1")
                baseline.append(time.perf_counter() - t0)
            every = [v for values in latencies.values() for v in values]
            trivial_p50, trivial_p99 = percentile(baseline, 50), percentile(baseline, 99)
            print(json.dumps({
                "search_queries": {
                    "backend": "sqlite-fts5", "queries": len(every),
                    "p50_ms": ms(percentile(every, 50)), "p99_ms": ms(percentile(every, 99)),
                    "target_p99_ms": 50, "mean_matches": round(statistics.mean(totals)),
                    "max_matches": max(totals),
                    **{f"{kind}_p50_ms": ms(percentile(values, 50))
                       for kind, values in latencies.items()},
                    **{f"{kind}_p99_ms": ms(percentile(values, 99))
                       for kind, values in latencies.items()},
                },
                "trivial": {"query": "SELECT 1", "p50_ms": ms(trivial_p50),
                            "p99_ms": ms(trivial_p99)},
                "ratio": {"p50": round(percentile(every, 50) / trivial_p50, 1),
                          "p99": round(percentile(every, 99) / trivial_p99, 1)},
                "load_avg_1m": round(os.getloadavg()[0], 2),  # a busy machine widens p99
            }), flush=True)
        finally:
            await close_db()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(run(args.posts, args.queries, args.seed))


if __name__ == "__main__":
    main()
