#!/usr/bin/env bash
# Installs (from Debian packages) and starts the throwaway servers the tests use:
# PostgreSQL on 127.0.0.1:55432 and Redis on 127.0.0.1:56379. PostgreSQL's data lives under
# /tmp/forum-test-services (its server runs as the postgres user, which may not be able to
# enter the checkout); Redis keeps nothing on disk.
# Chromium is installed for the browser tests. Safe to run again: what runs is left running.
#   scripts/services.sh start | stop | bench-tools
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="${FORUM_TEST_SERVICES_DIR:-/tmp/forum-test-services}"
PG_PORT=55432
REDIS_PORT=56379
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

apt_updated=0
need() {  # need COMMAND PACKAGE...
  if ! command -v "$1" >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/"$1" >/dev/null 2>&1; then
    if [ "$apt_updated" = 0 ]; then
      $SUDO apt-get update -qq
      apt_updated=1
    fi
    shift
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  fi
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  echo "$dir/$1"
}

start_postgres() {
  need initdb postgresql
  local data="$ROOT/pg" run_as=()
  mkdir -p "$ROOT"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql postgres
    run_as=(runuser -u postgres --)
  fi
  if [ ! -s "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown -R postgres "$ROOT/pg"
    "${run_as[@]}" "$(pg_bin initdb)" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  [ "$(id -u)" = 0 ] && chown -R postgres "$data"
  if ! "$(pg_bin pg_isready)" -h 127.0.0.1 -p "$PG_PORT" -q; then
    "${run_as[@]}" "$(pg_bin pg_ctl)" -D "$data" -l "$data/server.log" -w -t 60 start \
      -o "-h 127.0.0.1 -p $PG_PORT -k /tmp -F -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null
  fi
  echo "postgres: ready on 127.0.0.1:$PG_PORT"
}

start_redis() {
  need redis-server redis-server
  mkdir -p "$ROOT/redis"
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" \
      --appendonly no --dir "$ROOT/redis" --logfile "$ROOT/redis/redis.log"
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  echo "redis: ready on 127.0.0.1:$REDIS_PORT"
}

start_chromium() {
  need chromium chromium
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n 1)"
}

case "${1:-start}" in
  start) start_postgres; start_redis; start_chromium ;;
  bench-tools) need wrk wrk ;;
  stop)
    if [ -s "$ROOT/pg/PG_VERSION" ]; then
      if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$(pg_bin pg_ctl)" -D "$ROOT/pg" stop -m fast || true
      else "$(pg_bin pg_ctl)" -D "$ROOT/pg" stop -m fast || true; fi
    fi
    redis-cli -p "$REDIS_PORT" shutdown nosave 2>/dev/null || true ;;
  *) echo "usage: $0 start|stop|bench-tools" >&2; exit 2 ;;
esac
