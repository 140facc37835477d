"""Mail tests: a real SMTP server on 127.0.0.1 and the test-only mail templates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest

from forum.platform import Platform
from tests.smtp import SMTPServer

TEMPLATES = Path(__file__).parent / "templates"


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """An aiosmtpd server; ``.host``, ``.port`` and ``.received`` (the envelopes)."""
    with SMTPServer() as server:
        yield server


@pytest.fixture
def mail_platform(platform: Platform) -> Platform:
    """The platform, its templates also searched in tests/mail/templates."""
    assert platform.templates.loader is not None
    platform.templates.loader = jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(str(TEMPLATES)), platform.templates.loader])
    return platform
