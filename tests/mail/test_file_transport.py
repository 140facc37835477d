"""With no SMTP host, outgoing mail is written as .eml files under data_dir/mail/."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email import policy
from email.parser import BytesParser
from typing import Any

from forum.mail.outgoing import build_message, deliver
from forum.platform import Platform
from forum.settings import Settings


async def test_mail_is_written_as_parseable_eml(
    db: None, mail_platform: Platform, run_jobs: Callable[[], Awaitable[int]],
    mailbox: Callable[[], list[Any]], settings: Settings
) -> None:
    assert settings.smtp_host == ""
    await mail_platform.send_mail("ada@example.org", "test_notice",
                                  {"name": "Ada", "thing": "Report", "thing_id": 7},
                                  subject="Report ready")
    await run_jobs()

    files = sorted(settings.mail_dir.iterdir())
    assert [f.suffix for f in files] == [".eml"]  # no partial file left behind
    [message] = mailbox()
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Report ready"
    assert message["From"] == "Forum <forum@localhost>"
    assert message["Message-ID"].endswith("@localhost>")
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert 'Your thing "Report" is ready: http://testserver/things/7' in text


async def test_each_message_gets_its_own_file(mail_platform: Platform,
                                              settings: Settings) -> None:
    paths = []
    for n in range(3):
        message = build_message(settings, mail_platform.templates, to=f"u{n}@example.org",
                                subject=f"n{n}", template="test_plain", context={"name": n})
        path = await deliver(settings, message)
        assert path is not None
        paths.append(path)
    assert len(set(paths)) == 3
    parser = BytesParser(policy=policy.default)
    assert sorted(parser.parsebytes(p.read_bytes())["Subject"] for p in paths) == [
        "n0", "n1", "n2"]
