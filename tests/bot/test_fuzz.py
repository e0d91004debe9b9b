"""Fuzzing the Telegram side: whatever users send, the bot never fails and only sends valid messages.

Updates go through the real ``Application.process_update`` and every reply over
HTTP to the fake Bot API. Retrieval is a fast keyword stand-in: this test is about
Telegram robustness (parsing, escaping, splitting, buttons), not about answers.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update

from bot.state import Context
from bot.telegram_app import build_application, running
from bot.testing.fake_bot_api import BOT_USERNAME, FakeBotApi, callback_update, text_update
from bot.testing.harness import FakeRuntime, KeywordSearcher, bot_settings, query_text
from bot.testing.html_check import html_problems
from index.query import Query

USERS = (301, 302, 303)
GROUP = -3000
_update_ids = itertools.count(1)

INJECTIONS = (
    "<b>",
    "</b>",
    "<script>alert(1)</script>",
    "</a>",
    '<a href="javascript:x">',
    "&",
    "&amp;",
    "&#0;",
    "*_[",
    "]",
    "`",
    "```",
    "](http://x.y)",
    "~~",
    "||",
    "\\",
    "<",
    ">",
    "\"'",
    f"@{BOT_USERNAME}",
    "@inny_bot",
    "zasiłek stały",
    "art. 37 ust. 1",
    "kryterium dochodowe",
    "?",
    "👍",
    "🇵🇱",
    "👨‍👩‍👧",
    "\u200b",
    "\u202e",
    "\ufeff",
    "ﷺ",
    "𝔷𝔞𝔰𝔦ł𝔢𝔨",
    "\n",
    "\t",
    " ",
)
COMMANDS = (
    "/",
    "/start",
    "/help",
    "/zrodla",
    "/zmiany",
    "/szukaj",
    "/zmiany@otherbot",
    f"/help@{BOT_USERNAME}",
    "/reindex",
    "/stats",
    "/zapomnij",
    "/subskrybuj",
    "/odsubskrybuj",
    "/nieznane",
    "/szukaj@otherbot",
    "//",
    "/_",
)

pieces = st.lists(st.sampled_from(INJECTIONS) | st.text(max_size=20), max_size=30).map("".join)
texts = st.one_of(
    st.text(max_size=200),
    pieces,
    st.builds(lambda c, junk: f"{c} {junk}", st.sampled_from(COMMANDS), pieces | st.text(max_size=50)),
    st.sampled_from(COMMANDS),
    st.just(""),
    st.builds(lambda piece, n: piece * n, pieces.filter(bool), st.integers(50, 400)),  # huge
    st.text(min_size=900, max_size=1100),  # around the question limit
)
callback_data = st.one_of(
    st.binary(min_size=1, max_size=64).map(lambda raw: raw.decode("utf-8", "replace")),
    st.text(min_size=1, max_size=64),
    st.from_regex(r"[pf]:[0-9+-]{0,4}:[0-9a-f]{0,9}", fullmatch=True),
)
message_update = st.builds(
    lambda text, user_id, group, reply, key: _message(text, user_id, group, reply, key),
    texts,
    st.sampled_from(USERS),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["message", "message", "message", "edited_message", "channel_post"]),
)
button_update = st.builds(
    lambda data, issued, user_id, group: ("button", data, issued, user_id, group),
    callback_data,
    st.none() | st.integers(0, 10_000),
    st.sampled_from(USERS),
    st.booleans(),
)


def _message(text: str, user_id: int, group: bool, reply: bool, key: str) -> dict[str, Any]:
    update = text_update(
        text,
        user_id,
        chat_id=GROUP if group else None,
        kind="supergroup" if group else "private",
        reply_to_bot=reply,
    )
    message = update.pop("message")
    if key == "channel_post":
        message.pop("from")
        message["chat"] = {"id": -4000, "type": "channel", "title": "Kanał"}
    return {key: message}


class FastSearcher(KeywordSearcher):
    """The keyword stand-in without its test switch ("BOOM" raises there)."""

    def search(self, query: str | Query, k: int = 5, kinds=None, statuses=None, on=None):
        return super().search(query_text(query).replace("BOOM", ""), k, kinds, statuses, on)


@pytest.fixture
def errors() -> list[BaseException | None]:
    """What the error handlers saw (the bot's own handler logs; this one records)."""
    return []


@pytest.fixture
async def app(api, tmp_path, errors):
    settings = bot_settings(
        api.base_url,
        tmp_path,
        questions_per_minute=1_000_000,
        index_check_seconds=0,
        admin_ids=frozenset({1}),
    )
    application = build_application(settings, runtime_factory=lambda _: FakeRuntime(FastSearcher()))

    async def record(update: object, context: Context) -> None:
        errors.append(context.error)

    application.add_error_handler(record)
    async with running(application, settings, poll_timeout=0.2) as started:
        yield started


def _issued(api: FakeBotApi) -> list[tuple[int, str]]:
    """(chat id, callback data) of every button the bot has sent so far."""
    found = []
    for call in api.calls_of("sendMessage"):
        for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []):
            found.extend((call.params["chat_id"], button["callback_data"]) for button in row)
    return found


@pytest.mark.slow  # 1,000 updates through the real Application and the fake Bot API
@settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=st.one_of(message_update, button_update))
async def test_any_update_is_handled_and_every_reply_is_valid(app, api, errors, caplog, raw):
    if isinstance(raw, tuple):  # a button press: never issued, or a real one from an earlier reply
        _, data, pick, user_id, group = raw
        issued = _issued(api)
        chat_id = GROUP if group else user_id
        if pick is not None and issued:
            chat_id, data = issued[pick % len(issued)]
        raw = callback_update(data, user_id, chat_id=chat_id)
    before = len(api.calls)
    update = Update.de_json({"update_id": next(_update_ids), **raw}, app.bot)

    with caplog.at_level(logging.ERROR):
        await app.process_update(update)

    assert errors == [], repr(raw)[:300]
    # aiohttp.server is the fake API: it logs a reset when a cancelled "typing…" request hangs up.
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR and not r.name.startswith("aiohttp")]
    assert [r.getMessage() for r in logged] == []
    new = api.calls[before:]
    for call in new:
        if call.method == "sendMessage":
            assert call.params["parse_mode"] == "HTML"
            assert html_problems(call.params["text"]) == [], call.params["text"][:300]
            for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    assert 1 <= len(button["callback_data"].encode()) <= 64
    if update.callback_query:
        answered = [c for c in new if c.method == "answerCallbackQuery"]
        assert [c.params["callback_query_id"] for c in answered] == [update.callback_query.id]
