#!/usr/bin/env bash
# The whole suite on both databases at once: SQLite (with the browser tests) in front,
# PostgreSQL beside it with its output kept until the end. The PostgreSQL run spends most
# of its time waiting on its server, so together they take little more than the longer one.
# Extra arguments go to both pytest runs. Exit status: non-zero if either run failed.
set -u
cd "$(dirname "$0")/.."
log="$(mktemp "${TMPDIR:-/tmp}/forum-test-postgres.XXXXXX")"
FORUM_TEST_DATABASE=postgres .venv/bin/pytest -q -m "not browser" -p no:cacheprovider "$@" \
    >"$log" 2>&1 &
postgres_pid=$!
trap 'kill "$postgres_pid" 2>/dev/null' INT TERM
echo "== SQLite (PostgreSQL runs beside it; its output follows)"
FORUM_TEST_DATABASE=sqlite .venv/bin/pytest -q -p no:cacheprovider "$@"
sqlite_status=$?
wait "$postgres_pid"
postgres_status=$?
echo "== PostgreSQL"
cat "$log"
rm -f "$log"
echo "== SQLite exit $sqlite_status, PostgreSQL exit $postgres_status"
[ "$sqlite_status" -eq 0 ] && [ "$postgres_status" -eq 0 ]
