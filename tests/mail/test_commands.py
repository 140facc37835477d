"""``forum mail-test ADDRESS`` sends one message now and says how it went."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from forum.cli import cli
from tests.smtp import SMTPServer, free_port


@pytest.fixture
def forum(tmp_path: Path) -> Callable[..., Result]:
    env = {"FORUM_DATA_DIR": str(tmp_path), "FORUM_SECRET_KEY": "test-secret-key-not-for-prod",
           "FORUM_CONFIG_FILE": str(tmp_path / "absent.toml"), "FORUM_SMTP_HOST": "",
           "FORUM_PLATFORM_NAME": "Acme Forum"}

    def run(*args: str, **extra_env: str) -> Result:
        return CliRunner().invoke(cli, list(args), env={**env, **extra_env},
                                  catch_exceptions=False)

    return run


def test_sends_a_test_message_through_smtp(forum: Callable[..., Result],
                                           smtp_server: SMTPServer) -> None:
    result = forum("mail-test", "ops@example.org", FORUM_SMTP_HOST=smtp_server.host,
                   FORUM_SMTP_PORT=str(smtp_server.port))
    assert result.exit_code == 0, result.output
    assert result.output == (f"sent to ops@example.org through {smtp_server.host}:"
                             f"{smtp_server.port}\n")
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["ops@example.org"]
    assert mail.message["Subject"] == "Test message from Acme Forum"
    text = mail.message.get_body(preferencelist=("plain",)).get_content()
    assert "This is a test message from Acme Forum" in text


def test_reports_an_unreachable_server(forum: Callable[..., Result]) -> None:
    port = free_port()
    result = forum("mail-test", "ops@example.org", FORUM_SMTP_HOST="127.0.0.1",
                   FORUM_SMTP_PORT=str(port))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"forum: sending through 127.0.0.1:{port} failed: ")


def test_without_smtp_host_writes_a_file(forum: Callable[..., Result], tmp_path: Path) -> None:
    result = forum("mail-test", "ops@example.org")
    assert result.exit_code == 0, result.output
    [written] = (tmp_path / "mail").glob("*.eml")
    assert result.output == f"no FORUM_SMTP_HOST set: the message was written to {written}\n"
    assert b"Subject: Test message from Acme Forum" in written.read_bytes()
