"""Billing fixtures: a fake Stripe served over HTTP for the whole session, reset per test,
and settings that point the app at it (a module overriding ``settings_overrides`` adds
``stripe_settings(fake_stripe)`` to its own)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.billing.fake_stripe import FakeStripe, ServedFake, stripe_settings


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[FakeStripe]:
    fake = FakeStripe()
    with ServedFake(fake):
        yield fake


@pytest.fixture
def fake_stripe(stripe_server: FakeStripe) -> FakeStripe:
    """The fake Stripe, emptied for this test."""
    stripe_server.reset()
    return stripe_server


@pytest.fixture
def settings_overrides(fake_stripe: FakeStripe) -> dict[str, Any]:
    return stripe_settings(fake_stripe)
