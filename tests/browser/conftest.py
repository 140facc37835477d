"""A real ``forum serve`` process, a real SMTP server and Debian's Chromium under Playwright.

The server runs on SQLite in a temporary folder with the embedded job worker polling
every 0.2 s and mail going to an aiosmtpd server on 127.0.0.1 (``tests/smtp.py``).
Chromium is the Debian package (``bash scripts/services.sh start`` installs it); the
browser Playwright downloads itself is not used. Playwright's sync API is used, so these
tests are plain (not async) functions.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Error,
    Page,
    Response,
    sync_playwright,
)

from tests.smtp import SMTPServer, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SECRET_KEY = "browser-test-secret-key-not-for-production"


@dataclass
class ForumServer:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path
    smtp: SMTPServer

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def prepare_database(data_dir: Path, database_url: str) -> None:
    """The schema the production way: ``forum migrate`` in a subprocess."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("FORUM_")}
    env.update({"FORUM_DATA_DIR": str(data_dir), "FORUM_DATABASE_URL": database_url,
                "FORUM_SECRET_KEY": SECRET_KEY,
                "FORUM_CONFIG_FILE": str(data_dir / "absent.toml")})
    result = subprocess.run([sys.executable, "-m", "forum.cli", "migrate", "--quiet"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def wait_until_ready(server: ForumServer, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"forum serve exited with {server.process.returncode}:\n"
                        f"{server.output()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"forum serve did not answer /healthz within {timeout}s:\n{server.output()}")


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SMTPServer]:
    with SMTPServer() as smtp:
        yield smtp


@pytest.fixture(scope="module")
def forum_server(tmp_path_factory: pytest.TempPathFactory,
                 smtp_server: SMTPServer) -> Iterator[ForumServer]:
    """``forum serve`` on a free port, as a separate process, stopped after the module."""
    data_dir = tmp_path_factory.mktemp("forum-serve")
    database_url = f"sqlite://{data_dir / 'forum.sqlite3'}"
    prepare_database(data_dir, database_url)
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("FORUM_")}
    env.update({
        "FORUM_CONFIG_FILE": str(data_dir / "forum.toml"),  # none: no stray settings
        "FORUM_HOST": "127.0.0.1",
        "FORUM_PORT": str(port),
        "FORUM_DATA_DIR": str(data_dir),
        "FORUM_DATABASE_URL": database_url,
        "FORUM_SECRET_KEY": SECRET_KEY,
        "FORUM_SMTP_HOST": smtp_server.host,
        "FORUM_SMTP_PORT": str(smtp_server.port),
        "FORUM_REQUIRE_EMAIL_VERIFICATION": "1",
        "FORUM_RUN_EMBEDDED_WORKER": "1",
        "FORUM_JOB_POLL_SECONDS": "0.2",
        "FORUM_LOG_LEVEL": "WARNING",
        "FORUM_ALLOW_PRIVATE_OUTBOUND": "1",  # the fakes of outside services are local
    })
    forum = Path(sys.executable).parent / "forum"
    log = data_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(forum), "serve"], cwd=data_dir, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    server = ForumServer(url=f"http://127.0.0.1:{port}", data_dir=data_dir,
                         process=process, log=log, smtp=smtp_server)
    try:
        wait_until_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, with no background networking.

    Module-scoped: while Playwright's sync API is active its event loop runs on the main
    thread, which async tests in later modules must not find.
    """
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/services.sh start`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page; fails the test on page errors."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Failed loads are judged by on_response, which knows the URL.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console: {message.text}")

    def on_response(response: Response) -> None:
        # A page may answer 4xx on purpose (a refused log-in); what it loads may not.
        if (response.status >= 400 and response.request.resource_type != "document"
                and not response.url.endswith("/favicon.ico")):
            problems.append(f"{response.status} for {response.request.resource_type} "
                            f"{response.url}")

    def on_page_error(error: Error) -> None:
        problems.append(f"page error: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.on("response", on_response)
    page.set_default_timeout(15_000)
    try:
        yield page
        # A CSP violation (an inline script or style) shows up as a console error.
        assert not problems, "\n".join(problems)
    finally:
        context.close()
