"""Retrying Bot API calls: flood waits, backoff, giving up without raising."""

from __future__ import annotations

import logging

from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.sending import deliver


class Flaky:
    """A call failing with the given errors in turn, then returning "sent"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "sent"


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def test_waits_as_long_as_telegram_asks_then_backs_off_exponentially():
    call, sleep = Flaky(RetryAfter(3), NetworkError("Bad Gateway"), TimedOut(), NetworkError("x")), Sleeps()
    assert await deliver(call, what="test", sleep=sleep, base_delay=0.5) == "sent"
    assert call.calls == 5
    assert sleep.delays == [3.0, 1.0, 2.0, 4.0]  # retry_after, then 0.5·2^(attempt-1)


async def test_gives_up_after_the_attempts_and_logs_without_raising(caplog):
    call, sleep = Flaky(*[NetworkError("down")] * 10), Sleeps()
    with caplog.at_level(logging.ERROR, logger="bot.sending"):
        assert await deliver(call, what="sendMessage to chat 5", attempts=3, sleep=sleep) is None
    assert call.calls == 3
    assert "sendMessage to chat 5 failed after 3 attempts" in caplog.text


async def test_bad_request_is_not_retried():
    call, sleep = Flaky(BadRequest("Can't parse entities")), Sleeps()
    assert await deliver(call, what="test", sleep=sleep) is None
    assert call.calls == 1 and sleep.delays == []
