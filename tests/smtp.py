"""A real SMTP server (aiosmtpd) on 127.0.0.1 for tests, catching every message it gets.

It runs in its own thread and event loop, so sync tests, async tests and browser tests
can all use it::

    with SMTPServer() as smtp:
        settings = base_settings(..., smtp_host=smtp.host, smtp_port=smtp.port)
        ...
        [mail] = smtp.wait_for(1)
        assert mail.message["To"] == "ada@example.org"

``delay`` makes the server wait that many seconds before it accepts each message (to
keep deliveries in flight); ``in_data`` is set while it waits. ``hold=n`` keeps the n-th
message unanswered (the sender stays mid-delivery, ``holding`` is set) until
``release()``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ReceivedMail:
    """One SMTP transaction: the envelope and the message as sent."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    received_at: float = field(default_factory=time.monotonic)

    @property
    def message(self) -> EmailMessage:
        """The message parsed, with the wire's CRLF line ends turned into ``\\n``."""
        data = self.data.replace(b"\r\n", b"\n")
        return BytesParser(policy=policy.default).parsebytes(data)


class RecordingHandler:
    def __init__(self, delay: float = 0.0, hold: int | None = None) -> None:
        self.delay = delay
        self.hold = hold
        self.received: list[ReceivedMail] = []
        self.in_data = threading.Event()
        self.holding = threading.Event()
        self.released = threading.Event()
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = ReceivedMail(mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos),
                            data=bytes(envelope.original_content or envelope.content))
        with self._lock:
            self.received.append(mail)
            number = len(self.received)
        if number == self.hold:
            self.holding.set()
            # ``release()`` comes from another thread: wait for it off the server's loop.
            await asyncio.get_running_loop().run_in_executor(None, self.released.wait)
        if self.delay:
            self.in_data.set()
            try:
                await asyncio.sleep(self.delay)
            finally:
                self.in_data.clear()
        return "250 Message accepted for delivery"


class SMTPServer:
    def __init__(self, *, delay: float = 0.0, hold: int | None = None,
                 host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port()
        self.handler = RecordingHandler(delay, hold)
        self._controller = Controller(self.handler, hostname=host, port=self.port)

    @property
    def received(self) -> list[ReceivedMail]:
        """Every message so far, in arrival order (a copy)."""
        with self.handler._lock:
            return list(self.handler.received)

    @property
    def in_data(self) -> threading.Event:
        return self.handler.in_data

    @property
    def holding(self) -> threading.Event:
        """Set once the message numbered ``hold`` arrived and is being held."""
        return self.handler.holding

    def release(self) -> None:
        """Answer the held message (and every later one) at once."""
        self.handler.released.set()

    def start(self) -> SMTPServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self.release()
        self._controller.stop()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        """Block until ``count`` messages arrived (AssertionError after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = self.received
            if len(received) >= count:
                return received
            time.sleep(0.02)
        raise AssertionError(f"expected {count} messages within {timeout}s, "
                             f"got {len(self.received)}")

    async def await_for(self, count: int, within: float = 10.0) -> list[ReceivedMail]:
        """``wait_for`` for async tests (does not block the test's event loop)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            received = self.received
            if len(received) >= count:
                return received
            await asyncio.sleep(0.02)
        raise AssertionError(f"expected {count} messages within {within}s, "
                             f"got {len(self.received)}")

    def __enter__(self) -> SMTPServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
