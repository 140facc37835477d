"""``forum mail-in``: a real aiosmtpd server fed by a real SMTP client (aiosmtplib)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest

from forum.mail.inbound_models import InboundMessage, InboundStatus
from forum.mail.smtp_server import start_mail_in
from forum.platform import Platform
from tests.mail.inbound_support import DOMAIN, INBOUND_SETTINGS, STRIPPED_REPLY, compose, make_scene
from tests.smtp import free_port


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(INBOUND_SETTINGS)


@pytest.fixture
async def mail_in(platform: Platform, db: None) -> AsyncIterator[int]:
    """The mail-in server on a free port in this test's event loop; yields the port."""
    port = free_port()
    server = await start_mail_in(platform, "127.0.0.1", port)
    try:
        yield port
    finally:
        server.close()
        await server.wait_closed()


async def test_a_reply_through_smtp_is_posted(platform: Platform, mail_in: int) -> None:
    scene = await make_scene(platform)
    message = compose(sender=scene.author.email, to=await scene.address())
    errors, answer = await aiosmtplib.send(message, hostname="127.0.0.1", port=mail_in)
    assert errors == {}
    assert answer.startswith("2.0.0 Posted")
    [post] = await scene.replies()
    assert post.source == STRIPPED_REPLY
    [record] = await InboundMessage.all()
    assert record.status == InboundStatus.POSTED
    assert record.raw_message.replace(b"\r\n", b"\n") == bytes(message).replace(b"\r\n", b"\n")


async def test_smtp_answers_refusals_with_5xx(platform: Platform, mail_in: int) -> None:
    scene = await make_scene(platform)
    sender = scene.author.email
    # No relaying: a recipient outside our domain is refused at RCPT.
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await aiosmtplib.send(compose(sender=sender, to="ada@elsewhere.example.com"),
                              hostname="127.0.0.1", port=mail_in)
    assert refused.value.recipients[0].code == 550
    # An address of ours that we never issued: 550 after DATA.
    with pytest.raises(aiosmtplib.SMTPDataError) as unknown:
        await aiosmtplib.send(compose(sender=sender, to=f"nobody@{DOMAIN}"),
                              hostname="127.0.0.1", port=mail_in)
    assert unknown.value.code == 550
    # Too big: 552, recorded.
    limit = platform.settings.mail_in_max_bytes
    with pytest.raises(aiosmtplib.SMTPDataError) as big:
        await aiosmtplib.send(compose(sender=sender, to=await scene.address(),
                                      text="y" * (limit + 100)),
                              hostname="127.0.0.1", port=mail_in)
    assert big.value.code == 552
    # Malformed: 554.
    with pytest.raises(aiosmtplib.SMTPDataError) as broken:
        await aiosmtplib.send(
            b"From: x@example.net\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n",
            sender="x@example.net", recipients=[await scene.address()],
            hostname="127.0.0.1", port=mail_in)
    assert broken.value.code == 554
    # An auto-reply is accepted (so the robot stops) and dropped.
    errors, _ = await aiosmtplib.send(
        compose(sender=sender, to=await scene.address(),
                headers={"Auto-Submitted": "auto-replied"}),
        hostname="127.0.0.1", port=mail_in)
    assert errors == {}
    statuses = [(r.status, r.reason) for r in await InboundMessage.all().order_by("id")]
    assert statuses == [
        (InboundStatus.REJECTED, "no such address"),
        (InboundStatus.REJECTED, f"larger than {limit} bytes"),
        (InboundStatus.REJECTED, "malformed: broken MIME structure "
                                 "(NoBoundaryInMultipartDefect)"),
        (InboundStatus.DROPPED, "Auto-Submitted: auto-replied"),
    ]
    assert await scene.replies() == []


async def test_a_bounce_with_a_null_sender_is_dropped(platform: Platform, mail_in: int) -> None:
    scene = await make_scene(platform)
    address = await scene.address()
    message = compose(sender=scene.author.email, to=address)
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=mail_in) as client:
        assert (await client.execute_command(b"MAIL", b"FROM:<>")).code == 250
        assert (await client.rcpt(address)).code == 250
        assert (await client.data(bytes(message))).code == 250
    [record] = await InboundMessage.all()
    assert (record.status, record.reason) == (InboundStatus.DROPPED,
                                              "null envelope sender (a bounce)")
    assert await scene.replies() == []


def test_forum_mail_in_command_serves_until_stopped(tmp_path: Path,
                                                    database_url: str) -> None:
    """The real command in a subprocess: it answers SMTP and refuses other domains."""
    import smtplib

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    env.update({"FORUM_CONFIG_FILE": str(tmp_path / "absent.toml"),
                "FORUM_DATA_DIR": str(tmp_path), "FORUM_DATABASE_URL": database_url,
                "FORUM_SECRET_KEY": "x" * 32, "FORUM_MAIL_IN_DOMAIN": DOMAIN,
                "FORUM_MAIL_IN_PORT": str(port)})
    forum = Path(sys.executable).parent / "forum"
    log = tmp_path / "mail-in.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(forum), "mail-in"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=5)
                break
            except OSError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "forum mail-in did not start"
                time.sleep(0.1)
        with client:
            assert client.ehlo()[0] == 250
            assert client.mail("someone@example.net")[0] == 250
            assert client.rcpt("someone@elsewhere.example.com")[0] == 550
            assert client.rcpt(f"nobody@{DOMAIN}")[0] == 250
            code, _ = client.data(b"From: someone@example.net\r\nSubject: hi\r\n\r\nhello\r\n")
            assert code == 550
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "receiving mail for @reply.example.org" in log.read_text()


def test_forum_mail_in_needs_a_domain(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    env.update({"FORUM_CONFIG_FILE": str(tmp_path / "absent.toml"),
                "FORUM_DATA_DIR": str(tmp_path)})
    result = subprocess.run([sys.executable, "-m", "forum.cli", "mail-in"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "FORUM_MAIL_IN_DOMAIN" in result.stderr


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, written as PEM files."""
    from datetime import UTC, datetime, timedelta
    from ipaddress import ip_address

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail-in.test")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address(
                "127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


async def test_starttls_is_offered_with_a_certificate(platform: Platform, db: None,
                                                      tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    platform.settings.mail_in_tls_cert = str(cert)
    platform.settings.mail_in_tls_key = str(key)
    scene = await make_scene(platform)
    port = free_port()
    server = await start_mail_in(platform, "127.0.0.1", port)
    try:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False) as client:
            await client.ehlo()
            assert client.supports_extension("starttls")
        errors, answer = await aiosmtplib.send(
            compose(sender=scene.author.email, to=await scene.address()),
            hostname="127.0.0.1", port=port, start_tls=True, cert_bundle=str(cert))
    finally:
        server.close()
        await server.wait_closed()
    assert errors == {}
    assert answer.startswith("2.0.0 Posted")
    assert len(await scene.replies()) == 1


async def test_without_a_certificate_there_is_no_starttls(platform: Platform,
                                                          mail_in: int) -> None:
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=mail_in, start_tls=False) as client:
        await client.ehlo()
        assert not client.supports_extension("starttls")


def test_forum_mail_in_refuses_unreadable_certificates(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    env.update({"FORUM_CONFIG_FILE": str(tmp_path / "absent.toml"),
                "FORUM_DATA_DIR": str(tmp_path), "FORUM_MAIL_IN_DOMAIN": DOMAIN,
                "FORUM_MAIL_IN_TLS_CERT": str(tmp_path / "missing.pem"),
                "FORUM_MAIL_IN_TLS_KEY": str(tmp_path / "missing.key")})
    result = subprocess.run([sys.executable, "-m", "forum.cli", "mail-in"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "FORUM_MAIL_IN_TLS_CERT" in result.stderr


async def test_forum_mail_in_pipe_reads_one_message(platform: Platform, db: None,
                                                    tmp_path: Path, database_url: str) -> None:
    """``forum mail-in --pipe``: an MTA's pipe delivery, answered with sysexits codes."""
    import asyncio

    scene = await make_scene(platform)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    env.update({"FORUM_CONFIG_FILE": str(tmp_path / "absent.toml"),
                "FORUM_DATA_DIR": str(tmp_path), "FORUM_DATABASE_URL": database_url,
                "FORUM_SECRET_KEY": "test-secret-key-not-for-production",
                "FORUM_BASE_URL": "http://testserver",
                "FORUM_MAIL_FROM": "Forum <forum@example.org>",
                "FORUM_MAIL_IN_DOMAIN": DOMAIN})

    def pipe(raw: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "forum.cli", "mail-in", "--pipe", *args],
                              input=raw, env=env, capture_output=True, timeout=60)

    address = await scene.address()
    posted = await asyncio.to_thread(
        pipe, bytes(compose(sender=scene.author.email, to=address)), "--recipient", address,
        "--sender", scene.author.email)
    assert posted.returncode == 0, posted.stderr
    assert b"posted: http://testserver/p/" in posted.stderr
    assert len(await scene.replies()) == 1
    unknown = await asyncio.to_thread(
        pipe, bytes(compose(sender=scene.author.email, to=f"nobody@{DOMAIN}")))
    assert unknown.returncode == 67
    broken = await asyncio.to_thread(
        pipe, b"From: a@example.org\nContent-Type: multipart/mixed\n\nno boundary\n",
        "--recipient", address)
    assert broken.returncode == 65
    bounce = await asyncio.to_thread(
        pipe, bytes(compose(sender=scene.author.email, to=address)), "--sender", "")
    assert bounce.returncode == 0 and b"dropped" in bounce.stderr
    statuses = [r.status for r in await InboundMessage.all().order_by("id")]
    assert statuses == [InboundStatus.POSTED, InboundStatus.REJECTED,
                        InboundStatus.REJECTED, InboundStatus.DROPPED]
