"""The real PTB Application against a fake Bot API server on 127.0.0.1, over HTTP.

Protocol tests answer with the real ``bot.answer`` over a keyword searcher; the
``slow`` test at the end runs the real model and a real index built from knowledge/.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from pathlib import Path

import pytest

from bot import handlers, sending
from bot.telegram_app import build_application, running
from index.errors import IndexNotBuilt
from tests.bot.fake_bot_api import BOT_USERNAME, Call, FakeBotApi, callback_update, text_update
from tests.bot.html_check import html_problems, visible_text
from tests.bot.telegram_harness import FakeRuntime, KeywordSearcher, bot_settings

QUESTION = "Komu przysługuje zasiłek stały?"


@pytest.fixture
def searcher() -> KeywordSearcher:
    return KeywordSearcher()


@pytest.fixture
def settings_changes() -> dict:
    return {}


@pytest.fixture
async def app(api, searcher, tmp_path, settings_changes):
    settings = bot_settings(api.base_url, tmp_path, **settings_changes)
    application = build_application(settings, runtime_factory=lambda _: FakeRuntime(searcher))
    async with running(application, settings, poll_timeout=0.2) as started:
        yield started


def assert_telegram_html(call: Call) -> None:
    assert call.params["parse_mode"] == "HTML"
    assert html_problems(call.params["text"]) == []


def button_data(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {"inline_keyboard": []}
    return [button["callback_data"] for row in markup["inline_keyboard"] for button in row]


async def ask(api: FakeBotApi, text: str, user_id: int = 101, **kwargs) -> list[Call]:
    update = await api.push(text_update(text, user_id, **kwargs))
    chat_id = update["message"]["chat"]["id"]
    return await api.wait_messages(chat_id)


async def no_reply_to(api: FakeBotApi, chat_id: int, settle: float = 0.5) -> bool:
    await asyncio.sleep(settle)
    return not api.calls_of("sendMessage", chat_id)


async def test_startup_registers_polish_commands(app, api):
    [call] = await api.wait_for(lambda c: c.method == "setMyCommands")
    assert [c["command"] for c in call.params["commands"]] == [
        "start",
        "help",
        "zrodla",
        "zmiany",
        "szukaj",
        "subskrybuj",
        "odsubskrybuj",
        "zapomnij",
    ]
    assert all(c["description"] for c in call.params["commands"])
    assert api.calls_of("getMe") and api.calls_of("deleteWebhook")  # polling, not webhook


# A short delay: a warm answer can finish before the first typing action goes out.
@pytest.mark.parametrize("searcher", [KeywordSearcher(delay=0.3)])
async def test_private_question_gets_cited_html_answer_with_buttons(app, api, searcher):
    [reply] = await ask(api, QUESTION)
    assert_telegram_html(reply)
    text = visible_text(reply.params["text"])
    assert "Zasiłek stały przysługuje pełnoletniej osobie" in text and "[1]" in text
    assert "Źródła:" in text and "<tekst jednolity> & zmiany" in text  # escaped, shown intact
    data = button_data(reply)
    assert data[0].startswith("p:1:") and data[-2].startswith("f:+:") and data[-1].startswith("f:-:")
    assert all(len(d.encode()) <= 64 for d in data)
    typing = api.calls_of("sendChatAction", 101)
    assert typing and typing[0].params["action"] == "typing" and typing[0].at <= reply.at


async def test_passage_and_feedback_buttons(app, api):
    [reply] = await ask(api, QUESTION)
    passage, thumbs_up = button_data(reply)[0], button_data(reply)[-2]

    await api.push(callback_update(passage, 101))
    shown = (await api.wait_messages(101, count=2))[-1]
    assert_telegram_html(shown)
    assert "niezdolnej do pracy" in visible_text(shown.params["text"])
    assert "&lt;art. 37&gt;" in shown.params["text"]
    await api.wait_for(lambda c: c.method == "answerCallbackQuery")

    await api.push(callback_update(thumbs_up, 101))
    answers = await api.wait_for(lambda c: c.method == "answerCallbackQuery", count=2)
    assert answers[-1].params["text"] == "Dziękuję za ocenę."
    stats = app.bot_data.feedback_sink.stats()
    assert (stats.positive, stats.negative) == (1, 0)
    assert stats.worst_sources == []


@pytest.mark.parametrize("data", ["p:1:deadbeef", "f:-:0badc0de", "zupelnie-obce"])
async def test_stale_or_foreign_button_gets_polite_callback_answer(app, api, data):
    await api.push(callback_update(data, 102))
    [answered] = await api.wait_for(lambda c: c.method == "answerCallbackQuery")
    assert answered.params["text"] == handlers.STALE_BUTTON
    assert await no_reply_to(api, 102, settle=0.2)


async def test_group_answers_only_mentions_replies_and_commands(app, api):
    group = -500
    await api.push(text_update(QUESTION, 103, chat_id=group, kind="supergroup"))
    assert await no_reply_to(api, group)

    [reply] = await ask(api, f"@{BOT_USERNAME} {QUESTION}", 103, chat_id=group, kind="supergroup")
    assert_telegram_html(reply)
    assert reply.params["reply_parameters"]["message_id"]  # threaded under the question
    assert "Zasiłek stały" in visible_text(reply.params["text"])
    assert all(f"@{BOT_USERNAME}" not in q for q in app.bot_data.runtime.searcher.queries)

    await api.push(
        text_update("A kryterium dochodowe?", 104, chat_id=group, kind="supergroup", reply_to_bot=True)
    )
    await api.wait_messages(group, count=2)

    await api.push(text_update(f"/help@{BOT_USERNAME}", 104, chat_id=group, kind="supergroup"))
    await api.wait_messages(group, count=3)
    await api.push(text_update("/inny@jakis_inny_bot", 104, chat_id=group, kind="supergroup"))
    await asyncio.sleep(0.3)
    assert len(api.calls_of("sendMessage", group)) == 3  # a command for another bot is ignored


@pytest.mark.parametrize("searcher", [KeywordSearcher(delay=0.3)])  # slow enough for "typing…"
async def test_forum_topic_gets_every_reply_in_that_topic(app, api, searcher):
    forum, topic = -600, 77
    for text in (
        f"@{BOT_USERNAME} {QUESTION}",
        "/szukaj zasiłek stały",
        "/zrodla",
        f"/nieznana@{BOT_USERNAME}",
    ):
        await api.push(text_update(text, 106, chat_id=forum, kind="supergroup", topic=topic))
    replies = await api.wait_messages(forum, count=4)
    assert [call.params.get("message_thread_id") for call in replies] == [str(topic)] * 4  # form-encoded
    actions = api.calls_of("sendChatAction", forum)
    assert actions and all(call.params["message_thread_id"] == str(topic) for call in actions)

    await api.push(text_update("/zrodla", 106, chat_id=-601, kind="supergroup"))  # no topics
    [plain] = await api.wait_messages(-601)
    assert plain.params.get("message_thread_id") is None


async def test_catalog_search_help_and_unknown_commands(app, api):
    [sources] = await ask(api, "/zrodla", 105)
    await api.push(text_update("/zmiany", 105))
    changes = (await api.wait_messages(105, count=2))[-1]
    for call in (sources, changes):
        assert_telegram_html(call)
    assert "Ustawa o pomocy społecznej <tekst jednolity>" in visible_text(sources.params["text"])
    assert "UD315" in visible_text(changes.params["text"])

    await api.push(text_update("/szukaj kryterium dochodowe", 105))
    found = (await api.wait_messages(105, count=3))[-1]
    assert_telegram_html(found)
    assert "1. Ustawa o pomocy społecznej" in visible_text(found.params["text"])
    assert "art. 8 ust. 1 pkt 1" in found.params["text"]

    for command, expected in (
        ("/szukaj", "Podaj frazę"),
        ("/nieznane", "Nie znam tego polecenia"),
        ("/help", "Przykłady:"),
        ("/start", "Jak pytać"),
    ):
        before = len(api.calls_of("sendMessage", 105))
        await api.push(text_update(command, 105))
        reply = (await api.wait_messages(105, count=before + 1))[-1]
        assert expected in visible_text(reply.params["text"]), command


async def test_huge_and_empty_questions_are_refused_without_search(app, api, searcher):
    [reply] = await ask(api, "zasiłek " * 2500, 106)  # 20 000 characters
    assert visible_text(reply.params["text"]) == "Pytanie jest za długie — maks. 1000 znaków."
    [hint] = await ask(api, f"@{BOT_USERNAME}  ", 106, chat_id=-600, kind="group")
    assert "Napisz pytanie" in visible_text(hint.params["text"])
    assert searcher.queries == []


async def test_follow_up_question_uses_the_previous_one(app, api, searcher):
    await ask(api, QUESTION, 107)
    await api.push(text_update("a dla rodziny?", 107))
    await api.wait_messages(107, count=2)
    assert searcher.queries[-1].startswith(QUESTION)


async def test_domain_error_gets_polite_reply_and_logs_ids_not_text(app, api, caplog):
    with caplog.at_level(logging.INFO):
        [reply] = await ask(api, "BOOM tajne dane klienta", 108)
    assert visible_text(reply.params["text"]) == handlers.ERROR_TEXTS[IndexNotBuilt]
    failure = [r for r in caplog.records if r.name == "bot.handlers" and r.levelno == logging.ERROR]
    assert failure and failure[0].exc_info is not None and "chat 108" in failure[0].getMessage()
    assert all("tajne dane" not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("failures", "status"),
    [(1, 429), (3, 429), (2, 500)],
    ids=["429-once-ratelimiter", "429-thrice-sending", "500-twice-backoff"],
)
async def test_send_failures_are_retried_and_delivered_exactly_once(app, api, failures, status, monkeypatch):
    monkeypatch.setattr(sending, "BASE_DELAY", 0.05)
    api.fail_next("sendMessage", failures, status=status, retry_after=1)
    started = time.monotonic()
    [_reply] = await ask(api, QUESTION, 109)  # exactly one reply arrives
    attempts = api.calls_of("sendMessage", 109)
    assert len(attempts) == failures + 1 and sum(1 for c in attempts if c.params.get("_ok")) == 1
    if status == 429:
        assert time.monotonic() - started >= 1.0 * failures  # waited as Telegram asked
    await asyncio.sleep(0.3)
    assert len(api.calls_of("sendMessage", 109)) == failures + 1  # no duplicate afterwards


@pytest.mark.parametrize("settings_changes", [{"allowed_ids": "1,2"}])
async def test_allowlist_refuses_others(app, api, searcher):
    [reply] = await ask(api, QUESTION, 110)
    assert visible_text(reply.params["text"]) == handlers.NOT_ALLOWED
    assert searcher.queries == []


@pytest.mark.parametrize("searcher", [KeywordSearcher(delay=1.0)])
async def test_slow_answers_run_concurrently_and_keep_typing(app, api, searcher, monkeypatch):
    monkeypatch.setattr(sending, "TYPING_INTERVAL", 0.3)
    started = time.monotonic()
    for user_id in (201, 202, 203):
        await api.push(text_update(QUESTION, user_id))
    for user_id in (201, 202, 203):
        await api.wait_messages(user_id)
    # Three 1-second searches finish in well under 3 s: the event loop was never blocked.
    assert time.monotonic() - started < 2.5
    typing = api.calls_of("sendChatAction", 201)
    assert len(typing) >= 3
    await asyncio.sleep(0.5)
    assert len(api.calls_of("sendChatAction", 201)) == len(typing)  # stopped once answered


# --- real model, real index ---------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
REAL_FILES = (
    "summaries/zasilek-staly.md",
    "summaries/kryteria-dochodowe.md",
    "statutes/ups-art-7.md",
    "statutes/nowelizacja-ups-2024-743.md",
)


@pytest.fixture(scope="module")
def real_index(tmp_path_factory, real_embedder, model_dir) -> Path:
    """A small real index of a few knowledge/ files, built once for this module."""
    from index.build import build_index
    from index.store import IndexStore

    root = tmp_path_factory.mktemp("real")
    for name in REAL_FILES:
        target = root / "knowledge" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "knowledge" / name, target)
    build_index(root / "knowledge", IndexStore(root / "index"), real_embedder, max_bytes=20_000_000)
    return root


@pytest.mark.slow
async def test_real_model_and_index_end_to_end(api, real_index, model_dir, tmp_path):
    from bot.runtime import load_runtime

    settings = bot_settings(
        api.base_url,
        tmp_path,
        knowledge_dir=real_index / "knowledge",
        index_dir=real_index / "index",
        embedding_model=str(model_dir),
    )
    application = build_application(settings, runtime_factory=load_runtime)
    async with running(application, settings):
        [reply] = await ask(api, "Ile wynosi maksymalna kwota zasiłku stałego?", 301)
        assert_telegram_html(reply)
        text = visible_text(reply.params["text"])
        assert "1229 zł" in text and "[1]" in text and "Źródła:" in text
        data = button_data(reply)
        assert data and all(len(d.encode()) <= 64 for d in data)
        assert api.calls_of("sendChatAction", 301)

        await api.push(callback_update(data[0], 301))
        shown = (await api.wait_messages(301, count=2))[-1]
        assert_telegram_html(shown)
        assert "Zasiłek stały" in visible_text(shown.params["text"])

        [off_topic] = await ask(api, "Jaka jest stolica Australii?", 302)
        assert_telegram_html(off_topic)
        assert "Nie znalazłem" in visible_text(off_topic.params["text"])
        assert button_data(off_topic) == []

        [sources] = await ask(api, "/zrodla", 303)
        assert "Zasiłek stały" in visible_text(sources.params["text"])
        await api.push(text_update("/zmiany", 303))
        changes = (await api.wait_messages(303, count=2))[-1]
        assert "743" in visible_text(changes.params["text"])
