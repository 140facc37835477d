"""Opt-in: one real request to the Stack Exchange API through the bridge's client
(``FORUM_STACKEXCHANGE_LIVE=1``; ``FORUM_STACKEXCHANGE_KEY`` is used when set)."""

from __future__ import annotations

import os

import pytest

from plugins.stackoverflow_bridge.client import StackExchangeClient


@pytest.mark.live("FORUM_STACKEXCHANGE_LIVE")
async def test_one_real_questions_request(monkeypatch: pytest.MonkeyPatch) -> None:
    from plugins.stackoverflow_bridge import client as client_module

    monkeypatch.setattr(client_module, "PAGE_SIZE", 1)
    async with StackExchangeClient("https://api.stackexchange.com/2.3",
                                   key=os.environ.get("FORUM_STACKEXCHANGE_KEY", "")) as api:
        page = await api.questions(tagged=["python"], site="stackoverflow", fromdate=None,
                                   page=1)
    assert len(page.items) == 1 and page.skipped == 0
    question = page.items[0]
    assert "python" in question.tags and question.link.startswith("https://stackoverflow.com/")
    assert page.quota_remaining is not None and page.quota_max is not None
