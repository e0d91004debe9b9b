"""Retrying Bot API calls: flood waits, backoff, budgets, giving up without raising; plain text."""

from __future__ import annotations

import logging

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.sending import DeliveryPolicy, FloodGate, Undelivered, call_with_retries, deliver, plain_text


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


class Clock:
    """A fake monotonic clock that ``sleep`` moves forward."""

    def __init__(self) -> None:
        self.now = 0.0
        self.delays: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        self.now += delay


async def test_waits_as_long_as_telegram_asks_then_backs_off_exponentially():
    call, clock = Flaky(RetryAfter(3), NetworkError("Bad Gateway"), TimedOut(), NetworkError("x")), Clock()
    result = await call_with_retries(call, what="test", until=100.0, sleep=clock.sleep, clock=clock)
    assert result == "sent" and call.calls == 5
    assert clock.delays == [3.0, 1.0, 2.0, 4.0]  # retry_after, then 0.5·2^(attempt-1)


async def test_backoff_is_capped():
    assert [DeliveryPolicy(max_delay=4.0).backoff(n) for n in range(1, 7)] == [0.5, 1, 2, 4, 4, 4]


async def test_gives_up_when_the_next_try_would_start_after_the_budget():
    call, clock = Flaky(*[NetworkError("down")] * 10), Clock()
    with pytest.raises(Undelivered) as raised:
        await call_with_retries(call, what="test", until=3.0, sleep=clock.sleep, clock=clock)
    assert call.calls == 3 and clock.delays == [0.5, 1.0]  # a 4th try would start at 3.5 s
    assert raised.value.retry_at == 3.5


async def test_a_budget_in_the_past_means_exactly_one_try():
    call, clock = Flaky(NetworkError("down")), Clock()
    with pytest.raises(Undelivered):
        await call_with_retries(call, what="test", until=0.0, sleep=clock.sleep, clock=clock)
    assert call.calls == 1


@pytest.mark.parametrize("error", [BadRequest("Can't parse entities"), Forbidden("bot was blocked")])
async def test_permanent_errors_are_raised_at_once(error):
    call, clock = Flaky(error), Clock()
    with pytest.raises(type(error)):
        await call_with_retries(call, what="test", until=100.0, sleep=clock.sleep, clock=clock)
    assert call.calls == 1 and clock.delays == []


async def test_a_flood_wait_closes_the_gate_for_other_calls():
    clock = Clock()
    gate = FloodGate(clock)
    await call_with_retries(
        Flaky(RetryAfter(5)), what="a", until=100.0, gate=gate, sleep=clock.sleep, clock=clock
    )
    gate.close_for(2.0)  # another 429 while the first waited
    other = Flaky()
    started = clock.now
    await call_with_retries(other, what="b", until=100.0, gate=gate, sleep=clock.sleep, clock=clock)
    assert clock.now - started == pytest.approx(2.0) and other.calls == 1


async def test_deliver_logs_and_returns_none_instead_of_raising(caplog):
    with caplog.at_level(logging.WARNING, logger="bot.sending"):
        assert await deliver(Flaky(BadRequest("x")), what="sendChatAction to chat 5") is None
        assert await deliver(Flaky(NetworkError("down")), what="answerCallbackQuery", within=0.0) is None
    assert "sendChatAction to chat 5 failed, not retried" in caplog.text
    assert "answerCallbackQuery failed, given up" in caplog.text


def test_plain_text_keeps_the_content_and_writes_links_out():
    html = '<b>Zasiłek</b> &lt;stały&gt; [1]\n<a href="https://isap.sejm.gov.pl/x">Ustawa</a> &amp; zmiany'
    assert plain_text(html) == "Zasiłek <stały> [1]\nUstawa (https://isap.sejm.gov.pl/x) & zmiany"
    assert plain_text("<b>niedomknięte <i>tagi</b>") == "niedomknięte tagi"


async def test_send_html_outside_a_handler_uses_the_given_sender(api):
    from telegram import Bot

    from bot.sending import Sender, send_html
    from bot.testing.fake_bot_api import TOKEN

    async with Bot(TOKEN, base_url=api.base_url) as bot:
        sender = Sender(bot)
        [sent] = await send_html(bot, 42, ["<b>Nowa zmiana</b> w ustawie"], sender=sender)
        assert sent.chat.id == 42 and api.delivered(42)[0].params["parse_mode"] == "HTML"
        api.fail_next("sendMessage", 1, status=400)
        await send_html(bot, 42, ["<b>zły HTML"], sender=sender)
        assert sender.counters.plain_fallbacks == 1 and len(api.delivered(42)) == 2
        await sender.stop()
