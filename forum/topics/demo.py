"""Demo content for ``forum demo``: a forum about "tidepool", a fictional Python library for
scheduling and retrying background tasks.

Questions with answers, votes, accepted answers and tags, a few ideas and bug reports and
one announcement, written through the service verbs (so counts, revisions and events are
real), then spread over the past weeks so the lists look lived in. Seeding is skipped when
the demo project already has topics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from forum.accounts.models import User
from forum.accounts.service import do_create_user
from forum.projects.members import do_add_member
from forum.projects.models import Membership, Project, Role
from forum.topics.accept import accept
from forum.topics.access import load_viewer
from forum.topics.categories import ensure_default_categories
from forum.topics.create import create_topic
from forum.topics.models import Category, Post, Topic
from forum.topics.permissions import Viewer
from forum.topics.reply import reply
from forum.topics.schemas import ReplyIn, TopicIn
from forum.topics.votes import vote

if TYPE_CHECKING:
    from forum.platform import Platform

# Extra demo accounts (members of the demo project), beside admin, alice and bob.
EXTRA_USERS = ("carol", "dmitri", "emeka", "fatima")
EVERYONE = ("alice", "bob", "admin", *EXTRA_USERS)


@dataclass(frozen=True)
class Answer:
    author: str
    text: str
    score: int = 0  # net votes it gets from other demo users


@dataclass(frozen=True)
class Thread:
    author: str
    title: str
    text: str
    tags: tuple[str, ...] = ()
    category: str = "questions"
    answers: tuple[Answer, ...] = ()
    accepted: int | None = None  # index into answers
    score: int = 0
    days_ago: int = 1


def _q(author: str, title: str, text: str, tags: tuple[str, ...], answers: tuple[Answer, ...],
       accepted: int | None = None, score: int = 0, days_ago: int = 1) -> Thread:
    return Thread(author, title, text, tags, "questions", answers, accepted, score, days_ago)


THREADS: tuple[Thread, ...] = (
    Thread("alice", "tidepool 2.0 is out: async workers and a new retry API",
           "We just released **tidepool 2.0**. Highlights:\n\n"
           "- `AsyncWorker` runs coroutine tasks natively\n"
           "- `retry=Backoff(...)` replaces the old `max_retries`/`delay` pair\n"
           "- Python 3.9 support is dropped\n\n"
           "The [migration guide](https://example.org/tidepool/2.0) lists every change. "
           "Questions about upgrading go in *Questions*, tagged `upgrading`.",
           ("release",), "announcements", days_ago=20),
    _q("bob", "How do I retry a task only on network errors?",
       "My task calls an HTTP API. I want it retried when the connection fails, but not "
       "when the API answers 400. Right now every exception triggers a retry:\n\n"
       "```python\n@pool.task(retry=Backoff(attempts=5))\ndef sync_orders():\n    ...\n```",
       ("retries", "http"), (
           Answer("alice", "Pass the exceptions to retry on:\n\n```python\n"
                  "@pool.task(retry=Backoff(attempts=5, on=(ConnectionError, TimeoutError)))\n"
                  "def sync_orders():\n    ...\n```\n\nAnything else fails the task at once.",
                  4),
           Answer("carol", "You can also raise `tidepool.Abort` inside the task for errors "
                  "you know are permanent.", 2)), accepted=0, score=3, days_ago=19),
    _q("carol", "Worker stops picking up tasks after Redis restarts",
       "When our Redis container restarts, the workers stay alive but never take another "
       "task until I restart them too. Is there a reconnect setting?",
       ("redis", "workers"), (
           Answer("dmitri", "Set `reconnect=True` on the broker (off by default before "
                  "2.0):\n\n```python\nbroker = RedisBroker(url, reconnect=True)\n```", 5),
           Answer("bob", "Same problem here; the setting above fixed it.", 1)),
       accepted=0, score=4, days_ago=18),
    _q("emeka", "Can a task return a value to the caller?",
       "I enqueue with `sync_orders.delay()`. Is there a way to wait for the result?",
       ("results",), (
           Answer("alice", "`delay()` returns a `TaskHandle`; `await handle.result(timeout=30)` "
                  "waits for it. Results are kept for `result_ttl` seconds (one hour by "
                  "default).", 3),), accepted=0, score=2, days_ago=17),
    _q("fatima", "Scheduling a task every weekday at 9:00 in a given time zone",
       "The cron syntax works, but it runs at 9:00 UTC. How do I get 9:00 Europe/Berlin, "
       "including summer time?",
       ("scheduling", "timezones"), (
           Answer("dmitri", "`@pool.cron(\"0 9 * * 1-5\", tz=\"Europe/Berlin\")` - the "
                  "`tz` argument takes an IANA name and follows daylight saving.", 6),
           Answer("emeka", "Make sure `tzdata` is installed on slim images, or the name "
                  "will not resolve.", 3)), accepted=0, score=5, days_ago=16),
    _q("bob", "What is the difference between `max_concurrency` and `prefetch`?",
       "Both seem to limit how many tasks a worker handles. When do I change which?",
       ("workers", "performance"), (
           Answer("carol", "`max_concurrency` is how many tasks run at once in one worker; "
                  "`prefetch` is how many it reserves from the broker ahead of time. Keep "
                  "`prefetch` low for long tasks so others can take them.", 4),),
       accepted=0, score=2, days_ago=15),
    _q("dmitri", "Testing tasks without a broker",
       "In unit tests I'd like tasks to run inline, without Redis. Is there a test mode?",
       ("testing",), (
           Answer("alice", "Use `Pool(broker=InlineBroker())` in tests: `delay()` then runs "
                  "the task immediately and returns a finished handle.", 5),
           Answer("fatima", "And `pytest-tidepool` gives you a `pool` fixture that does "
                  "exactly that.", 2)), accepted=0, score=3, days_ago=15),
    _q("emeka", "Upgrading from 1.x: `max_retries` is gone?",
       "After upgrading to 2.0 I get `TypeError: unexpected keyword 'max_retries'`.",
       ("upgrading", "retries"), (
           Answer("bob", "It became `retry=Backoff(attempts=...)`; see the announcement.", 2),
           Answer("alice", "Right. `max_retries=3, delay=10` maps to "
                  "`retry=Backoff(attempts=3, base=10, factor=1)`.", 3)),
       accepted=1, score=2, days_ago=14),
    _q("carol", "How do I see which tasks are stuck?", "Some tasks seem to never finish. "
       "Is there a way to list running tasks and how long they have been running?",
       ("monitoring",), (
           Answer("dmitri", "`tidepool inspect --running` lists them with their start "
                  "time; `--older-than 10m` filters.", 3),), score=1, days_ago=13),
    _q("fatima", "Passing a database connection into tasks",
       "Tasks need a database connection. Opening one per task is slow. What's the "
       "recommended pattern?",
       ("workers", "database"), (
           Answer("alice", "Open it once per worker in an `on_worker_start` hook and store "
                  "it on the context: `ctx.db`. Tasks receive `ctx` as the first argument "
                  "when declared with `@pool.task(context=True)`.", 4),
           Answer("emeka", "With an async driver use a pool, not a single connection, "
                  "since tasks run concurrently.", 3)), accepted=0, score=3, days_ago=12),
    _q("bob", "Task arguments must be JSON?",
       "I tried to pass a `datetime` and got a serialisation error.",
       ("serialization",), (
           Answer("carol", "The default serializer is JSON. Pass ISO strings, or switch to "
                  "`serializer=\"msgpack\"` which handles datetimes.", 2),),
       accepted=0, days_ago=12),
    _q("dmitri", "Priority queues: can urgent tasks jump the line?", "We have thousands of "
       "low-priority report tasks and a few urgent emails. Emails wait behind reports.",
       ("queues", "performance"), (
           Answer("alice", "Put them on separate queues and give the email queue its own "
                  "worker, or list it first: `tidepool worker -q emails -q reports`. "
                  "Workers drain queues in the order given.", 5),), accepted=0, score=4,
       days_ago=11),
    _q("emeka", "Is there a dead-letter queue for tasks that failed every retry?", "",
       ("retries", "queues"), (
           Answer("bob", "Yes: `Pool(dead_letter=\"failed\")` moves them there with the "
                  "last traceback.", 3),), accepted=0, score=2, days_ago=10),
    _q("carol", "Graceful shutdown on Kubernetes",
       "When a pod is terminated, running tasks are killed halfway. How do I let them "
       "finish?", ("workers", "deployment"), (
           Answer("dmitri", "Workers finish running tasks on SIGTERM for up to "
                  "`shutdown_timeout` (30 s default). Set `terminationGracePeriodSeconds` "
                  "above that.", 4),
           Answer("fatima", "And make tasks idempotent: a node can still die hard.", 3)),
       accepted=0, score=3, days_ago=10),
    _q("fatima", "Rate limiting calls to an external API across workers",
       "Our provider allows 10 requests per second in total, and we run 6 workers.",
       ("http", "rate-limits"), (
           Answer("alice", "`@pool.task(rate_limit=\"10/s\", rate_key=\"provider\")` "
                  "shares the limit through the broker across all workers.", 5),),
       accepted=0, score=4, days_ago=9),
    _q("bob", "Chaining tasks: run B after A succeeds",
       "Is there something like a pipeline where the result of A is passed to B?",
       ("workflows",), (
           Answer("carol", "`chain(fetch.s(url), parse.s(), store.s()).delay()`; each "
                  "result becomes the next task's first argument.", 3),
           Answer("emeka", "For fan-out/fan-in look at `group` and `chord`.", 2)),
       accepted=0, score=2, days_ago=8),
    _q("emeka", "Memory keeps growing in long-running workers",
       "RSS grows by ~50 MB per hour until the container is OOM-killed.",
       ("workers", "performance"), (
           Answer("dmitri", "Try `max_tasks_per_worker=1000` to recycle the process; then "
                  "look for caches in your own code.", 3),
           Answer("admin", "We saw this with a module-level list used as a cache. "
                  "`tracemalloc` snapshots an hour apart found it quickly.", 2)),
       score=2, days_ago=7),
    _q("dmitri", "Cancelling a task that has not started yet", "",
       ("results",), (
           Answer("alice", "`await handle.cancel()`; a queued task is removed, a running "
                  "one gets `CancelledError` if it is async.", 2),), accepted=0, days_ago=7),
    _q("carol", "Unique tasks: avoid enqueueing the same job twice",
       "A webhook may fire twice and enqueue the same sync twice.",
       ("queues", "workflows"), (
           Answer("bob", "`delay(..., unique_key=f\"sync:{order_id}\", unique_for=300)` "
                  "drops duplicates for five minutes.", 4),), accepted=0, score=3,
       days_ago=6),
    _q("fatima", "Using tidepool with Django", "Any gotchas when tasks use the ORM?",
       ("django", "database"), (
           Answer("emeka", "Call `django.setup()` in `on_worker_start` and close old "
                  "connections after each task (`close_old_connections`).", 3),
           Answer("carol", "Enqueue after the transaction commits: "
                  "`transaction.on_commit(lambda: task.delay(pk))`.", 4)),
       accepted=1, score=4, days_ago=5),
    _q("bob", "Where do task logs go?", "print() output from tasks disappears.",
       ("monitoring", "logging"), (
           Answer("dmitri", "Workers capture stdout per task; use `logging` and the "
                  "`tidepool.task` logger, which adds the task id.", 2),), accepted=0,
       days_ago=5),
    _q("emeka", "Backoff with jitter?", "Do retries spread out, or do they all hit the API "
       "at the same moment?", ("retries",), (
           Answer("alice", "`Backoff(jitter=True)` adds up to 20% random jitter; it is on "
                  "by default since 2.0.", 3),), accepted=0, score=2, days_ago=4),
    _q("carol", "Can one worker process listen on two brokers?", "", ("workers", "redis"), (
        Answer("bob", "No, one pool per broker. Run two worker processes.", 1),),
       days_ago=4),
    _q("dmitri", "Exporting metrics to Prometheus", "Is there a built-in exporter?",
       ("monitoring",), (
           Answer("fatima", "`tidepool worker --metrics-port 9100` exposes queue depth, "
                  "task durations and failures.", 4),), accepted=0, score=3, days_ago=3),
    _q("fatima", "Task timeouts: soft vs hard", "What happens when a task exceeds "
       "`timeout`?", ("workers",), (
           Answer("alice", "At `soft_timeout` the task gets `SoftTimeout` raised inside it "
                  "and may clean up; at `timeout` the worker kills it and retries per its "
                  "policy.", 3),), accepted=0, score=1, days_ago=3),
    _q("bob", "Running tidepool on Windows", "Is Windows supported for workers?",
       ("deployment",), (
           Answer("emeka", "Async workers work; process-based ones need "
                  "`start_method=\"spawn\"`.", 1),), days_ago=2),
    _q("emeka", "Type hints for task handles", "mypy says `delay()` returns `Any`.",
       ("typing",), (
           Answer("carol", "2.1 adds generics: `TaskHandle[int]` when the task is annotated "
                  "`-> int`.", 2),), days_ago=2),
    _q("carol", "How many tasks per second can one worker handle?",
       "Ballpark figures for trivial tasks?", ("performance",), (
           Answer("dmitri", "About 3,000/s for no-op async tasks on a laptop with Redis "
                  "local; your tasks' own work will dominate.", 2),), score=1, days_ago=1),
    _q("admin", "Storing results in PostgreSQL instead of Redis",
       "Our ops team prefers not to run Redis for results.", ("results", "database"), (),
       days_ago=1),
    _q("dmitri", "Retry only the failed items of a batch task",
       "A task processes 100 records; 3 fail. Retrying reprocesses all 100.",
       ("retries", "workflows"), (), score=1, days_ago=0),
    Thread("carol", "Idea: a web dashboard for queues",
           "A small read-only dashboard (queue depth, failures, slowest tasks) would help "
           "teams that do not run Prometheus.", ("monitoring",), "ideas",
           (Answer("alice", "We'd welcome this as a separate package first.", 3),
            Answer("fatima", "+1, even a single page would do.", 2)), score=5, days_ago=9),
    Thread("emeka", "Idea: task deadlines in addition to timeouts",
           "A deadline (`must finish by 18:00`) would drop tasks that can no longer be "
           "useful.", ("scheduling",), "ideas", (Answer("bob", "Nice for report jobs.", 1),),
           score=2, days_ago=6),
    Thread("fatima", "Cron tasks run twice after a daylight-saving change",
           "On the night clocks went back, our 02:30 job ran twice.\n\n"
           "Steps: schedule `30 2 * * *` with `tz=\"Europe/Berlin\"`, run across the "
           "switch.\n\nExpected: one run. Actual: two.", ("scheduling", "timezones"),
           "bug-reports", (Answer("alice", "Confirmed; the fix is in 2.0.2.", 4),),
           score=3, days_ago=8),
    Thread("bob", "`tidepool inspect` crashes with an empty queue",
           "`tidepool inspect --running` prints a traceback (`IndexError`) when nothing "
           "is running.", ("monitoring",), "bug-reports", (), score=1, days_ago=2),
)


async def _demo_users(platform: Platform, project: Project, user_ids: dict[str, int]
                      ) -> tuple[dict[str, User], list[str]]:
    created: list[str] = []
    users = {u.username_lower: u for u in await User.filter(id__in=list(user_ids.values()))}
    for name in EXTRA_USERS:
        user = await User.get_or_none(username_lower=name)
        if user is None:
            user = await do_create_user(platform, username=name, email=f"{name}@example.org",
                                        password=f"{name}-demo-pass", verified=True)
            created.append(f"user {name}")
        users[name] = user
        if not await Membership.exists(project_id=project.id, user_id=user.id):
            await do_add_member(platform, project, user, Role.MEMBER)
    return users, created


async def seed_topics(platform: Platform, project_id: int, user_ids: dict[str, int]
                      ) -> list[str]:
    """Fill the demo project with topics unless it has some; returns what it created."""
    project = await Project.get(id=project_id)
    if await Topic.exists(project_id=project.id):
        return []
    users, created = await _demo_users(platform, project, user_ids)
    categories = {c.slug: c for c in await ensure_default_categories(project)}
    viewers = {name: await load_viewer(user, project) for name, user in users.items()}
    now = datetime.now(UTC)
    for index, thread in enumerate(THREADS):
        await _seed_thread(platform, project, categories[thread.category], viewers, thread,
                           now - timedelta(days=thread.days_ago, hours=index % 7))
    created.append(f"{len(THREADS)} demo topics")
    return created


async def _seed_thread(platform: Platform, project: Project, category: Category,
                       viewers: dict[str, Viewer], thread: Thread, at: datetime) -> None:
    viewer = viewers.__getitem__
    text = thread.text or thread.title
    topic = await create_topic(platform, viewer(thread.author), project, TopicIn(
        title=thread.title, source=text, category_id=category.id, tags=list(thread.tags)))
    opening = await Post.get(topic_id=topic.id, number=1)
    await _votes(platform, viewers, opening, thread.author, thread.score)
    posts: list[Post] = []
    for answer in thread.answers:
        post = await reply(platform, viewer(answer.author), topic, ReplyIn(source=answer.text))
        await _votes(platform, viewers, post, answer.author, answer.score)
        posts.append(post)
    if thread.accepted is not None:
        await accept(platform, viewer(thread.author), topic, posts[thread.accepted].id)
    # Spread the history over the past weeks: the opening post at ``at``, replies after it.
    await Post.filter(id=opening.id).update(created_at=at)
    last = at
    for number, post in enumerate(posts, start=1):
        last = at + timedelta(hours=3 * number)
        await Post.filter(id=post.id).update(created_at=last)
    await Topic.filter(id=topic.id).update(created_at=at, last_posted_at=last,
                                           view_count=7 + 13 * len(posts) + 5 * thread.score)


async def _votes(platform: Platform, viewers: dict[str, Viewer], post: Post, author: str,
                 score: int) -> None:
    """Give ``post`` a net ``score`` from demo users other than its author."""
    voters = [name for name in EVERYONE if name != author]
    for name in voters[:abs(score)]:
        await vote(platform, viewers[name], post, 1 if score > 0 else -1)
