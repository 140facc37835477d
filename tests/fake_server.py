"""Serving an HTTP fake of an outside service (GitHub, Stripe, Stack Exchange, Mastodon ...)
for real: uvicorn on a free loopback port in a background thread, so the code under test
talks to it through its real client library."""

from __future__ import annotations

import socket
import threading
import time
from typing import Protocol

import uvicorn
from starlette.types import ASGIApp


class Fake(Protocol):
    url: str

    def app(self) -> ASGIApp: ...


class Served:
    """``with Served(fake):`` serves ``fake.app()``; ``fake.url`` is set before the app is
    built, so the fake can put its own address in the links it returns."""

    def __init__(self, fake: Fake) -> None:
        self.name = type(fake).__name__
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        port = self.sock.getsockname()[1]
        fake.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(fake.app(), host="127.0.0.1", port=port, lifespan="off",
                                ws="none", http="h11", log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run,
                                       kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
