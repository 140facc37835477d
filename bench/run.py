"""Benchmarks: ``forum serve`` on SQLite with seeded data, driven by wrk over loopback.

Prints one JSON line per page: p50 and p99 latency at concurrency 1, requests per second at
concurrency 16, the same figures for a trivial route of the same server in the same run
(``/healthz``) and the ratios page / trivial; then the server's resident memory (VmRSS from
/proc) before and after the load. Figures only, no pass/fail: compare runs on one machine.

    make bench                       # installs wrk (Debian) first
    .venv/bin/python bench/run.py --seconds 2 --pages / /login
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as host
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).with_name("latency.lua")
FORUM = Path(sys.executable).parent / "forum"
PAGES = ["/", "/p/demo", "/login", "/api/v1/projects", "/api/v1/projects/demo", "/healthz"]
TRIVIAL = "/healthz"
SIGNED_IN_PAGES = ["/", "/p/demo"]  # measured again with the demo owner's session
SIGNED_IN_AS = ("alice", "alice-demo-pass")  # a demo login (forum/projects/demo.py)
SEED_USERS = 300
SEED_PROJECTS = 40  # a quarter of them members-only
SEED_MEMBERS_PER_PROJECT = 12


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kb(pid: int) -> dict[str, int]:
    """Resident memory now and at its peak, from /proc/PID/status."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found["rss_kb" if key == "VmRSS" else "rss_peak_kb"] = int(value.split()[0])
    return found


def server_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    env.update({
        "FORUM_CONFIG_FILE": str(data_dir / "forum.toml"),  # absent: defaults only
        "FORUM_DATA_DIR": str(data_dir),
        "FORUM_DATABASE_URL": f"sqlite://{data_dir / 'forum.sqlite3'}",
        "FORUM_HOST": "127.0.0.1",
        "FORUM_PORT": str(port),
        "FORUM_SECRET_KEY": "bench-secret-key-not-for-production",
        # Logging in once per run must not trip the limiter; pages are not limited.
        "FORUM_RATE_LIMIT_LOGIN": "1000/minute",
    })
    return env


def prepare_database(env: dict[str, str]) -> str:
    """The schema through ``forum migrate``, as a deployment builds it."""
    subprocess.run([str(FORUM), "migrate", "--quiet"], env=env, check=True)
    return "forum migrate"


async def _seed_more(env: dict[str, str]) -> dict[str, int]:
    """Users, projects and memberships beside the demo project, straight through the ORM."""
    from datetime import UTC, datetime

    from forum.accounts.models import User
    from forum.accounts.passwords import hash_password
    from forum.db import close_db, init_db
    from forum.plugins import PluginManager
    from forum.projects.models import Membership, Project, Role, Visibility
    from forum.settings import load_settings

    settings = load_settings(data_dir=env["FORUM_DATA_DIR"],
                             database_url=env["FORUM_DATABASE_URL"])
    rng = random.Random(2)
    await init_db(settings, PluginManager())
    try:
        password_hash = hash_password("bench-user-password")
        now = datetime.now(UTC)
        await User.bulk_create([
            User(username=f"bench{n}", username_lower=f"bench{n}",
                 email=f"bench{n}@example.org", password_hash=password_hash,
                 email_verified_at=now)
            for n in range(SEED_USERS)
        ])
        await Project.bulk_create([
            Project(slug=f"bench-{n}", name=f"Bench Project {n:02d}",
                    description="A seeded project for the benchmarks. " * 4,
                    default_visibility=Visibility.MEMBERS if n % 4 == 3 else Visibility.PUBLIC)
            for n in range(SEED_PROJECTS)
        ])
        users = await User.filter(username__startswith="bench").order_by("id")
        projects = await Project.filter(slug__startswith="bench-").order_by("id")
        alice = await User.get(username_lower=SIGNED_IN_AS[0])
        memberships: list[Membership] = []
        for index, project in enumerate(projects):
            members = rng.sample(users, SEED_MEMBERS_PER_PROJECT)
            memberships.append(Membership(project=project, user=members[0], role=Role.OWNER))
            memberships += [Membership(project=project, user=user, role=Role.MEMBER)
                            for user in members[1:]]
            if index % 5 == 0:
                memberships.append(Membership(project=project, user=alice, role=Role.MEMBER))
        await Membership.bulk_create(memberships)
        return {"users": await User.all().count(), "projects": await Project.all().count(),
                "memberships": await Membership.all().count()}
    finally:
        await close_db()


def start_server(env: dict[str, str], data_dir: Path) -> subprocess.Popen[bytes]:
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen([str(FORUM), "serve"], cwd=data_dir, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{env['FORUM_PORT']}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{url}{TRIVIAL}", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    tail = (data_dir / "server.log").read_text(errors="replace")[-3000:]
    raise SystemExit(f"bench: forum serve did not become healthy:\n{tail}")


def session_cookie(url: str) -> str:
    response = httpx.post(f"{url}/api/v1/auth/login",
                          json={"login": SIGNED_IN_AS[0], "password": SIGNED_IN_AS[1]})
    if response.status_code != 200:
        raise SystemExit(f"bench: logging in as {SIGNED_IN_AS[0]} failed: "
                         f"{response.status_code} {response.text[:200]}")
    cookie = response.cookies.get("forum_session")
    if not cookie:
        raise SystemExit("bench: the log-in set no session cookie")
    return f"forum_session={cookie}"


def wrk(url: str, *, connections: int, seconds: int, cookie: str = "") -> dict[str, Any]:
    threads = 1 if connections == 1 else 2
    env = {**os.environ, "BENCH_HEADERS": f"Cookie: {cookie}" if cookie else ""}
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
         "-s", str(LUA), url],
        capture_output=True, text=True, env=env, check=True)
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def measure(url: str, path: str, seconds: int, cookie: str = "") -> dict[str, Any]:
    headers = {"Cookie": cookie} if cookie else {}
    probe = httpx.get(f"{url}{path}", headers=headers)
    wrk(f"{url}{path}", connections=4, seconds=1, cookie=cookie)  # warm up
    one = wrk(f"{url}{path}", connections=1, seconds=seconds, cookie=cookie)
    many = wrk(f"{url}{path}", connections=16, seconds=seconds, cookie=cookie)
    errors = sum(one["errors"].values()) + sum(many["errors"].values())
    return {
        "status": probe.status_code,
        "bytes": len(probe.content),
        "c1_p50_ms": round(one["p50_us"] / 1000, 3),
        "c1_p99_ms": round(one["p99_us"] / 1000, 3),
        "c1_rps": round(one["rps"], 1),
        "c16_rps": round(many["rps"], 1),
        "c16_p50_ms": round(many["p50_us"] / 1000, 3),
        "c16_p99_ms": round(many["p99_us"] / 1000, 3),
        "errors": errors,  # non-2xx/3xx answers, timeouts and socket errors under load
    }


def ratio(page: float, trivial: float) -> float | None:
    return round(page / trivial, 2) if trivial else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--seconds", type=int, default=4, help="per measurement")
    parser.add_argument("--pages", nargs="*", default=PAGES)
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk is missing; run `bash scripts/services.sh bench-tools`")

    data_dir = Path(tempfile.mkdtemp(prefix="forum-bench-"))
    port = free_port()
    env = server_env(data_dir, port)
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    schema = prepare_database(env)
    subprocess.run([str(FORUM), "demo"], env=env, check=True, capture_output=True)
    seeded = asyncio.run(_seed_more(env))
    process = start_server(env, data_dir)
    try:
        print(json.dumps({
            "bench": "forum serve", "database": "sqlite", "schema": schema, "seeded": seeded,
            "seconds_per_measurement": args.seconds, "cpus": os.cpu_count(),
            "python": host.python_version(), "server_pid": process.pid,
        }), flush=True)
        memory_before = rss_kb(process.pid)
        trivial = measure(url, TRIVIAL, args.seconds)
        cookie = session_cookie(url)
        runs = [(path, "") for path in args.pages]
        runs += [(path, cookie) for path in SIGNED_IN_PAGES if path in args.pages]
        for path, session in runs:
            figures = trivial if path == TRIVIAL and not session else measure(
                url, path, args.seconds, session)
            print(json.dumps({
                "page": path,
                "as": SIGNED_IN_AS[0] if session else "anonymous",
                **figures,
                "trivial": {"page": TRIVIAL, "c1_p50_ms": trivial["c1_p50_ms"],
                            "c1_p99_ms": trivial["c1_p99_ms"],
                            "c16_rps": trivial["c16_rps"]},
                "ratio": {"c1_p50": ratio(figures["c1_p50_ms"], trivial["c1_p50_ms"]),
                          "c1_p99": ratio(figures["c1_p99_ms"], trivial["c1_p99_ms"]),
                          "c16_rps": ratio(figures["c16_rps"], trivial["c16_rps"])},
                **rss_kb(process.pid),
            }), flush=True)
        memory_after = rss_kb(process.pid)
        print(json.dumps({
            "server_memory": {"rss_kb_before_load": memory_before["rss_kb"],
                              "rss_kb_after_load": memory_after["rss_kb"],
                              "rss_peak_kb": memory_after["rss_peak_kb"]},
            "total_seconds": round(time.monotonic() - started, 1),
        }), flush=True)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            print(json.dumps({"data_dir": str(data_dir)}), file=sys.stderr)
    subprocess.run([sys.executable, str(Path(__file__).with_name("cooking.py"))], check=True)
    subprocess.run([sys.executable, str(Path(__file__).with_name("search.py"))], check=True)
    subprocess.run([sys.executable, str(Path(__file__).with_name("reputation.py"))], check=True)


if __name__ == "__main__":
    main()
    # The forum's read side (topic page with 100 posts, latest list): bench/topics.py.
    subprocess.run([sys.executable, str(Path(__file__).with_name("topics.py")), *sys.argv[1:]],
                   check=True)
    subprocess.run([sys.executable, str(Path(__file__).with_name("support_queue.py"))], check=True)
