"""Faults never stop answering: Bot API outages, rejected HTML, a damaged, locked or full store.

Each case runs the real PTB ``Application`` over HTTP against the fake Bot API
(``bot.testing.fake_bot_api``), with outages shortened through the settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from telegram.ext import Application

from bot import sending
from bot.telegram_app import build_application, running
from bot.testing.fake_bot_api import FakeBotApi, text_update
from bot.testing.harness import FakeRuntime, KeywordSearcher, bot_settings
from bot.testing.html_check import visible_text

QUESTION = "Komu przysługuje zasiłek stały?"
OFF_TOPIC = "Jaka jest stolica Australii?"  # not answered: recorded as unanswered
ADMIN = 1
# Short delivery times, so an outage of a few seconds exercises the whole path.
FAST = {
    "delivery_inline_seconds": 0.5,
    "delivery_max_backoff_seconds": 0.5,
    "telegram_timeout_seconds": 2.0,
    "questions_per_minute": 1000,
    "index_check_seconds": 0,
    "admin_ids": frozenset({ADMIN}),
}


@contextlib.asynccontextmanager
async def bot(
    api: FakeBotApi, data_dir: Path, searcher: KeywordSearcher | None = None, **changes: object
) -> AsyncIterator[Application]:
    """The real Application on the fake API, with state (the SQLite store) in ``data_dir``."""
    settings = bot_settings(api.base_url, data_dir, **{**FAST, **changes})
    searcher = searcher or KeywordSearcher()
    application = build_application(settings, runtime_factory=lambda _: FakeRuntime(searcher))
    async with running(application, settings, poll_timeout=0.2) as started:
        yield started


def delivered_to(api: FakeBotApi, chat_id: int) -> list[str]:
    return [visible_text(call.params["text"]) for call in api.delivered(chat_id)]


async def settle(api: FakeBotApi, seconds: float = 1.0) -> int:
    """Wait a little and return the sendMessage count: nothing more may arrive after it."""
    await asyncio.sleep(seconds)
    return len(api.calls_of("sendMessage"))


async def stats_text(api: FakeBotApi) -> str:
    before = len(api.delivered(ADMIN))
    await api.push(text_update("/stats", ADMIN))
    return visible_text((await api.wait_messages(ADMIN, count=before + 1))[-1].params["text"])


# --- one owner of retries ----------------------------------------------------------------


@pytest.mark.parametrize(("status", "failures"), [(429, 3), (500, 2), (502, 4)])
async def test_each_failed_send_is_retried_by_one_layer_only(api, tmp_path, status, failures):
    """n failures cost exactly n + 1 calls: no second layer multiplies the retries."""
    async with bot(api, tmp_path, delivery_inline_seconds=30.0):
        api.fail_next("sendMessage", failures, status=status, retry_after=1)
        started = time.monotonic()
        await api.push(text_update(QUESTION, 101))
        [reply] = await api.wait_messages(101, timeout=20)
        assert len(api.calls_of("sendMessage", 101)) == failures + 1
        if status == 429:
            assert reply.at - started >= failures * 1.0  # waited as long as Telegram asked
        assert await settle(api, 0.5) == failures + 1


async def test_a_flood_wait_holds_back_every_chat(api, tmp_path):
    """Telegram's retry_after is the bot's: the next chat's reply waits it out too."""
    async with bot(api, tmp_path, delivery_inline_seconds=30.0):
        api.fail_next("sendMessage", 1, status=429, retry_after=2)
        await api.push(text_update(QUESTION, 102))
        await api.wait_for(lambda c: c.method == "sendMessage" and c.params.get("_failed") == 429)
        flood = time.monotonic()
        await api.push(text_update(QUESTION, 103))
        [other] = await api.wait_messages(103, timeout=10)
        assert other.at - flood >= 1.5
        await api.wait_messages(102)


# --- BadRequest → plain text → apology ----------------------------------------------------


async def test_rejected_html_is_resent_once_as_plain_text_with_the_same_content(api, tmp_path):
    async with bot(api, tmp_path):
        api.fail_next("sendMessage", 1, status=400)
        await api.push(text_update(QUESTION, 104))
        await api.wait_messages(104)
        first, second = api.calls_of("sendMessage", 104)
        assert first.params["parse_mode"] == "HTML" and first.params.get("_failed") == 400
        assert "parse_mode" not in second.params
        plain = second.params["text"]
        assert plain == sending.plain_text(first.params["text"])  # the same content, as text
        assert "Zasiłek stały przysługuje" in plain and "[1]" in plain and "<tekst jednolity>" in plain
        assert "https://isap.sejm.gov.pl/" in plain  # the link, written out
        assert second.params.get("reply_markup") == first.params.get("reply_markup")  # buttons kept
        assert await settle(api, 0.3) == 2


async def test_a_reply_rejected_twice_gets_an_apology_logged_and_counted(api, tmp_path, caplog):
    async with bot(api, tmp_path) as app:
        api.fail_next("sendMessage", 2, status=400)
        with caplog.at_level(logging.ERROR, logger="bot.sending"):
            update = await api.push(text_update(QUESTION, 105))
            [apology] = await api.wait_messages(105)
        assert apology.params["text"] == sending.APOLOGY and "parse_mode" not in apology.params
        assert f"update {update['update_id']}" in caplog.text
        assert app.bot_data.sender.counters.apologies == 1
        text = await stats_text(api)
        assert "przeprosiny 1" in text and "odrzucone przez Telegram" in text


async def test_html_telegram_cannot_parse_still_reaches_the_user(tmp_path):
    """With strict HTML checking, a malformed reply goes out as plain text."""
    async with FakeBotApi(strict_html=True) as api, bot(api, tmp_path) as app:
        sender = app.bot_data.sender
        await sender.send(106, ["<b>Zasiłek <i>stały</b> — 1229 zł"], update_id=9)
        [reply] = api.delivered(106)
        assert reply.params["text"] == "Zasiłek stały — 1229 zł" and "parse_mode" not in reply.params


# --- Bot API outage ---------------------------------------------------------------------


async def test_polling_outage_every_question_answered_once_afterwards(api, tmp_path):
    """Questions before and during 4 s of 502 for every call are all answered, once each."""
    searcher = KeywordSearcher(delay=0.5)
    async with bot(api, tmp_path, searcher) as app:
        await api.push(text_update(QUESTION, 110))  # arrives before the outage ...
        await api.wait_for(lambda c: c.method == "sendChatAction" and c.params["chat_id"] == 110)
        api.outage(4.0)  # ... and its reply falls into it
        for user in (111, 112, 113):  # users keep writing meanwhile
            await api.push(text_update(QUESTION, user))
            await asyncio.sleep(0.5)
        for user in (110, 111, 112, 113):
            await api.wait_messages(user, timeout=20)
        await settle(api, 1.5)
        for user in (110, 111, 112, 113):
            assert len(api.delivered(user)) == 1, user
        polls = [c for c in api.calls_of("getUpdates") if c.params.get("_failed") == 502]
        assert 2 <= len(polls) <= 8  # backed off (1 s, 1.5 s, 2.25 s …), not hammered
        assert app.running and app.updater.running
        counters = app.bot_data.sender.counters
        assert counters.delivered_late >= 1 and counters.lost == 0
        assert app.bot_data.sender.pending == 0


async def test_a_reply_in_the_outbox_goes_out_as_soon_as_telegram_answers_again(api, tmp_path):
    """Not at the end of its backoff: the first call that gets through wakes the outbox."""
    async with bot(api, tmp_path, delivery_max_backoff_seconds=30.0) as app:
        api.outage(4.0, methods=frozenset({"sendMessage"}))
        await api.push(text_update(QUESTION, 115))
        for _ in range(100):
            if app.bot_data.sender is not None and app.bot_data.sender.pending:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(max(0.0, api.outage_until - time.monotonic()) + 0.5)  # back, mid-backoff
        await api.push(text_update(QUESTION, 116))
        [fresh] = await api.wait_messages(116)
        [late] = await api.wait_messages(115, timeout=5)
        assert late.at - fresh.at < 1.5  # the backoff alone would wait until ~8 s
        failed = [c for c in api.calls_of("sendMessage", 115) if c.params.get("_failed")]
        assert failed and len(api.delivered(115)) == 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_outage_every_question_answered_once_afterwards(api, tmp_path):
    port = free_port()
    secret = "hook-secret_1"
    changes = {
        "webhook_url": "https://pomocnik.example.org/hook",
        "webhook_listen": "127.0.0.1",
        "webhook_port": port,
        "webhook_secret": secret,
    }
    async with bot(api, tmp_path, **changes), aiohttp.ClientSession() as http:

        async def post(user: int) -> None:
            update = {"update_id": 5000 + user, **text_update(QUESTION, user)}
            async with http.post(
                f"http://127.0.0.1:{port}/hook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": secret},
            ) as response:
                assert response.status == 200  # Telegram's delivery of updates is not affected

        api.outage(3.0)
        for user in (120, 121, 122):
            await post(user)
            await asyncio.sleep(0.3)
        for user in (120, 121, 122):
            await api.wait_messages(user, timeout=20)
        await settle(api, 1.0)
        assert all(len(api.delivered(user)) == 1 for user in (120, 121, 122))


async def test_a_reply_kept_in_the_outbox_survives_a_restart(api, tmp_path):
    async with bot(api, tmp_path) as app:
        api.outage(60.0, methods=frozenset({"sendMessage"}))
        await api.push(text_update(QUESTION, 130))
        for _ in range(100):
            if app.bot_data.sender.pending:
                break
            await asyncio.sleep(0.05)
        assert app.bot_data.sender.pending == 1
        kept = app.bot_data.feedback_sink.outbox_rows()
        assert [row.chat_id for row in kept] == [130]
    assert api.delivered(130) == []  # stopped while Telegram was still down
    api.end_outage()
    async with bot(api, tmp_path) as app:
        [reply] = await api.wait_messages(130, timeout=10)
        assert "Zasiłek stały" in visible_text(reply.params["text"])
        assert await settle(api, 0.5) == len(api.calls_of("sendMessage"))
        assert len(api.delivered(130)) == 1
        for _ in range(20):
            if not app.bot_data.feedback_sink.outbox_rows():
                break
            await asyncio.sleep(0.05)
        assert app.bot_data.feedback_sink.outbox_rows() == []


async def test_a_reply_past_its_deadline_is_logged_as_lost_with_the_update_id(api, tmp_path, caplog):
    async with bot(api, tmp_path, delivery_deadline_seconds=1.5) as app:
        sender = app.bot_data.sender
        api.outage(60.0)
        with caplog.at_level(logging.ERROR, logger="bot.sending"):
            await sender.send(140, ["<b>odpowiedź</b>"], update_id=77)
            for _ in range(300):  # 1.5 s deadline; generous for a busy machine
                if sender.counters.lost:
                    break
                await asyncio.sleep(0.1)
        assert sender.counters.lost == 1 and sender.pending == 0
        assert "chat 140 (update 77) lost" in caplog.text
        api.end_outage()
        text = await stats_text(api)
        assert "utracone 1" in text and "odpowiedzi utracone: 1×" in text and "update 77" in text
        assert api.delivered(140) == []  # given up, not sent late


# --- the store degrades, never blocks -------------------------------------------------------


async def test_a_damaged_database_is_moved_aside_and_the_bot_answers(api, tmp_path, caplog):
    db = tmp_path / "pomocnik.sqlite3"
    damaged = b"to nie jest baza SQLite " * 200
    db.write_bytes(damaged)
    with caplog.at_level(logging.ERROR, logger="bot.feedback"):
        async with bot(api, tmp_path):
            await api.push(text_update(QUESTION, 150))
            [reply] = await api.wait_messages(150)
            assert "Zasiłek stały" in visible_text(reply.params["text"])
            text = await stats_text(api)
    [moved] = tmp_path.glob("pomocnik.sqlite3.corrupt-*")
    assert moved.read_bytes() == damaged  # kept, never deleted
    assert len(moved.name) == len("pomocnik.sqlite3.corrupt-20260101T120000")
    [error] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert str(db) in error and str(moved) in error and ".recover" in error
    assert "uszkodzona baza odłożona na bok: 1×" in text and moved.name in text
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


async def test_a_truncated_database_is_quarantined_too(api, tmp_path):
    db = tmp_path / "pomocnik.sqlite3"
    async with bot(api, tmp_path) as app:
        sink = app.bot_data.feedback_sink
        for n in range(300):
            sink.record_unanswered(9, 9, f"pytanie numer {n} " * 20)
    with sqlite3.connect(db) as full:
        full.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    async with bot(api, tmp_path):
        await api.push(text_update(QUESTION, 151))
        await api.wait_messages(151)
    [moved] = [
        p for p in tmp_path.glob("pomocnik.sqlite3.corrupt-*") if not p.name.endswith(("-wal", "-shm"))
    ]
    assert moved.stat().st_size == len(data) // 2


async def test_a_locked_database_drops_the_write_and_never_delays_the_answer(api, tmp_path, caplog):
    async with bot(api, tmp_path, db_busy_timeout_ms=3000) as app:
        sink = app.bot_data.feedback_sink
        other = sqlite3.connect(tmp_path / "pomocnik.sqlite3", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # a backup or export holding the write lock
        try:
            with caplog.at_level(logging.WARNING, logger="bot.feedback"):
                asked = time.monotonic()
                await api.push(text_update(OFF_TOPIC, 160))
                [reply] = await api.wait_messages(160)
                assert reply.at - asked < 3.0  # sent before the write, which waits 3 s
                for _ in range(100):
                    if sink.dropped_writes:
                        break
                    await asyncio.sleep(0.1)
            assert sink.dropped_writes == 1 and time.monotonic() - asked < 8.0  # bounded wait
            assert "unanswered question dropped" in caplog.text and "1 writes dropped" in caplog.text
            await api.push(text_update(QUESTION, 161))  # still answering while locked
            await api.wait_messages(161)
        finally:
            other.execute("ROLLBACK")
            other.close()
        text = await stats_text(api)
        assert "Zapisy pominięte od startu (baza zablokowana lub pełna): 1" in text


async def test_a_full_disk_drops_writes_counts_them_and_answering_goes_on(api, tmp_path, monkeypatch):
    from bot import feedback

    monkeypatch.setattr(feedback, "COOLDOWN_SECONDS", 0.0)  # count every drop, not one per cool-down
    async with bot(api, tmp_path) as app:
        sink = app.bot_data.feedback_sink
        pages = sink._db.execute("PRAGMA page_count").fetchone()[0]
        sink._db.execute(f"PRAGMA max_page_count = {pages}")  # "database or disk is full" from now on
        filler = "długie żółte pytanie bez odpowiedzi " * 40
        users = range(170, 176)
        for user in users:
            await api.push(text_update(OFF_TOPIC + " " + filler[:900], user))
            await api.wait_messages(user)  # every question answered
        for _ in range(40):
            if sink.dropped_writes + sink.stats().unanswered == len(users):
                break
            await asyncio.sleep(0.05)
        # Each write was either kept or dropped and counted; the full file drops most.
        assert sink.dropped_writes + sink.stats().unanswered == len(users)
        assert sink.dropped_writes >= 3


async def test_the_allowlist_refusal_is_sent_once_even_across_a_restart(api, tmp_path):
    for _ in range(2):
        async with bot(api, tmp_path, allowed_ids="1"):
            await api.push(text_update(QUESTION, 180))
            await asyncio.sleep(0.5)
    assert len(api.delivered(180)) == 1


async def test_a_database_that_cannot_be_opened_leaves_the_bot_answering(api, tmp_path, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be", encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="bot.handlers"):
        async with bot(api, tmp_path, db=blocker / "pomocnik.sqlite3") as app:
            assert app.bot_data.feedback_sink is None
            await api.push(text_update(QUESTION, 190))
            await api.wait_messages(190)
            await api.push(text_update(OFF_TOPIC, 191))  # nothing to record it in: still answered
            await api.wait_messages(191)
            assert "brak bazy danych" in await stats_text(api)
    assert "answering without it" in caplog.text
