"""Fixtures of the Telegram tests: the fake Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.testing.fake_bot_api import FakeBotApi
from tests.fake_llm import FakeLlm


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """A fake Telegram Bot API on 127.0.0.1, one per test."""
    async with FakeBotApi() as server:
        yield server


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLlm]:
    """A fake OpenAI-compatible server on 127.0.0.1, one per test module (tests set its reply)."""
    with FakeLlm() as server:
        yield server
