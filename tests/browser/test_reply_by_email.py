"""Reply by email, for real: ``forum serve`` sends the notification through SMTP with a
``Reply-To`` of the recipient's own, the answer goes through ``forum mail-in`` (a separate
process on the same database), and the asker's browser shows it on the topic page.

This runs on an ordinary topic; a ticket is a topic too (tests/mail/test_mail_in_tickets.py
covers its permissions).
"""

from __future__ import annotations

import os
import re
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import SECRET_KEY, ForumServer, prepare_database, wait_until_ready
from tests.browser.test_qa_flow import create_project, new_page, sign_up
from tests.smtp import ReceivedMail, SMTPServer, free_port

pytestmark = pytest.mark.browser

DOMAIN = "reply.forum.test"


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def mail_forum(tmp_path_factory: pytest.TempPathFactory,
               smtp_server: SMTPServer) -> Iterator[tuple[ForumServer, int]]:
    """``forum serve`` with reply by email on, and ``forum mail-in`` beside it; yields the
    server and the mail-in port."""
    data_dir = tmp_path_factory.mktemp("forum-mail-in")
    database_url = f"sqlite://{data_dir / 'forum.sqlite3'}"
    prepare_database(data_dir, database_url)
    port, mail_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("FORUM_")}
    env.update({
        "FORUM_CONFIG_FILE": str(data_dir / "forum.toml"),
        "FORUM_HOST": "127.0.0.1",
        "FORUM_PORT": str(port),
        "FORUM_DATA_DIR": str(data_dir),
        "FORUM_DATABASE_URL": database_url,
        "FORUM_SECRET_KEY": SECRET_KEY,
        "FORUM_SMTP_HOST": smtp_server.host,
        "FORUM_SMTP_PORT": str(smtp_server.port),
        "FORUM_MAIL_FROM": "Forum <forum@forum.test>",
        "FORUM_MAIL_IN_DOMAIN": DOMAIN,
        "FORUM_MAIL_IN_PORT": str(mail_port),
        "FORUM_RUN_EMBEDDED_WORKER": "1",
        "FORUM_JOB_POLL_SECONDS": "0.2",
        "FORUM_LOG_LEVEL": "WARNING",
    })
    forum = str(Path(sys.executable).parent / "forum")
    log = data_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen([forum, "serve"], cwd=data_dir, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
        mail_in = subprocess.Popen([forum, "mail-in"], cwd=data_dir, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    server = ForumServer(url=f"http://127.0.0.1:{port}", data_dir=data_dir,
                         process=process, log=log, smtp=smtp_server)
    try:
        wait_until_ready(server)
        yield server, mail_port
    finally:
        stop(mail_in)
        stop(process)


def mail_to(smtp: SMTPServer, address: str, containing: str,
            timeout: float = 20.0) -> ReceivedMail:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mail in smtp.received:
            body = mail.message.get_body(preferencelist=("plain",))
            if (mail.rcpt_tos == [address] and body is not None
                    and containing in body.get_content()):
                return mail
        time.sleep(0.1)
    raise AssertionError(f"no mail to {address} containing {containing!r}")


def send_reply(port: int, message: EmailMessage) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.send_message(message)
            return
        except ConnectionRefusedError:
            assert time.monotonic() < deadline, "forum mail-in did not start"
            time.sleep(0.1)


def test_a_reply_by_email_appears_on_the_topic(page: Page, chromium: Browser,
                                               mail_forum: tuple[ForumServer, int]) -> None:
    server, mail_port = mail_forum
    url = server.url
    asker = page
    sign_up(asker, server, "asker_mail")
    create_project(asker, url, "mail-demo", "Mail Demo", "asker_mail@example.org")
    asker.goto(f"{url}/p/mail-demo/new")
    asker.fill("input[name=title]", "Why does the importer skip empty rows?")
    asker.select_option("select[name=category]", "questions")
    asker.fill("textarea[name=source]", "Rows without a name vanish from the import.")
    asker.click("form.composer button[type=submit]")
    expect(asker).to_have_url(re.compile(r"/p/mail-demo/t/\d+-why-does-the-importer"))
    topic_url = asker.url.split("#")[0]

    problems: list[str] = []
    helper = new_page(chromium, problems)
    try:
        sign_up(helper, server, "helper_mail")
        helper.goto(topic_url)
        helper.fill("#composer textarea[name=source]", "Does the row have a trailing comma?")
        helper.click("#composer button[type=submit]")
        expect(helper).to_have_url(re.compile(r"#post-2$"))
    finally:
        helper.context.close()
    assert not problems, problems

    # The asker's notification arrives with a reply address of their own ...
    notification = mail_to(server.smtp, "asker_mail@example.org", "trailing comma").message
    reply_to = parseaddr(str(notification["Reply-To"]))[1]
    assert reply_to.startswith("reply+") and reply_to.endswith(f"@{DOMAIN}")
    text = notification.get_body(preferencelist=("plain",)).get_content()

    # ... and they answer from their mail client, quoting it as clients do.
    answer = EmailMessage()
    answer["From"] = "Asker <asker_mail@example.org>"
    answer["To"] = str(notification["Reply-To"])
    answer["Subject"] = f"Re: {notification['Subject']}"
    answer["In-Reply-To"] = notification["Message-ID"]
    quoted = "\n".join(f"> {line}" for line in text.splitlines())
    answer.set_content("Yes, every skipped row ends with a comma. Thanks!\n\n"
                       f"On Monday, Forum <forum@forum.test> wrote:\n{quoted}\n")
    send_reply(mail_port, answer)

    asker.goto(topic_url)
    expect(asker.locator("#post-3 .cooked")).to_have_text(
        "Yes, every skipped row ends with a comma. Thanks!")
    expect(asker.locator("#post-3")).to_contain_text("asker_mail")
