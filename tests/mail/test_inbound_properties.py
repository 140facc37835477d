"""Property tests: whatever bytes arrive, parsing refuses cleanly or reads them; loop
detection and text extraction never raise."""

from __future__ import annotations

from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forum.mail.inbound import (
    MalformedMail,
    body_text,
    html_to_text,
    loop_reason,
    parse_message,
    strip_reply,
)

HEADER_NAMES = ["From", "To", "Subject", "Content-Type", "Content-Transfer-Encoding",
                "Auto-Submitted", "Precedence", "Return-Path", "Message-ID", "MIME-Version"]


def read(raw: bytes) -> None:
    try:
        message = parse_message(raw)
    except MalformedMail:
        return
    assert isinstance(message, EmailMessage)
    loop_reason(message, None, "forum@example.org", "example.org")
    try:
        text = body_text(message)
    except MalformedMail:
        return
    assert isinstance(strip_reply(text), str)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash_the_reader(raw: bytes) -> None:
    read(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(HEADER_NAMES),
                          st.text(alphabet=st.characters(blacklist_categories=("Cs",)),
                                  max_size=60)),
                max_size=8),
       st.text(max_size=500))
def test_mail_shaped_input_never_crashes_the_reader(headers: list[tuple[str, str]],
                                                    body: str) -> None:
    lines = [f"{name}: {value}".replace("\r", " ").replace("\n", " ")
             for name, value in headers]
    raw = ("\n".join(["From: someone@example.org", *lines]) + "\n\n" + body).encode(
        "utf-8", "surrogateescape")
    read(raw)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_html_to_text_takes_any_text(html: str) -> None:
    assert isinstance(html_to_text(html), str)
