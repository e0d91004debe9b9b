"""The real PTB Application answering with a (fake) language model, over HTTP on 127.0.0.1.

Two fake servers: the Telegram Bot API (bot.testing.fake_bot_api) and an
OpenAI-compatible model (tests.fake_llm). Every scripted model reply must reach
the user as verified sentences with the usual sources and buttons, or as the
extractive answer exactly as the bot sends it without a model.
"""

from __future__ import annotations

import asyncio
import re
from unittest.mock import ANY

import pytest

from bot import render, sending
from bot.answer import answer
from bot.telegram_app import build_application, running
from bot.testing.fake_bot_api import FakeBotApi, text_update
from bot.testing.harness import FakeRuntime, KeywordSearcher, bot_settings
from bot.testing.html_check import html_problems, visible_text
from tests.fake_llm import CASES, GOOD_LEAD, first_sentence, good

QUESTION = "Komu przysługuje zasiłek stały?"
OFF_TOPIC = "jak ugotować bigos po staropolsku"
TIMEOUT = 0.5  # the fake's slow reply takes 3 s


@pytest.fixture
async def app(api, llm, tmp_path):
    llm.reply = good
    settings = bot_settings(
        api.base_url, tmp_path, llm_url=llm.url, llm_model="bielik", llm_timeout=TIMEOUT, admin_ids="101"
    )
    # A short delay: a warm answer can finish before the first typing action goes out.
    searcher = KeywordSearcher(delay=0.3)
    application = build_application(settings, runtime_factory=lambda _: FakeRuntime(searcher))
    async with running(application, settings, poll_timeout=0.2) as started:
        yield started


async def ask(api: FakeBotApi, text: str, user_id: int) -> str:
    await api.push(text_update(text, user_id))
    [reply] = await api.wait_messages(user_id)
    assert reply.params["parse_mode"] == "HTML" and html_problems(reply.params["text"]) == []
    return reply.params["text"]


def buttons(api: FakeBotApi, user_id: int) -> list[list[str]]:
    [reply] = api.calls_of("sendMessage", user_id)
    markup = reply.params.get("reply_markup") or {"inline_keyboard": []}
    return [button["callback_data"].split(":")[:2] for row in markup["inline_keyboard"] for button in row]


def extractive_text(question: str) -> str:
    """What the bot sends without a model."""
    [message] = render.render_answer(answer(question, KeywordSearcher()))
    return visible_text(message)


@pytest.mark.parametrize("case", sorted(CASES))
async def test_each_scripted_reply_reaches_telegram_verified_or_as_the_extractive_answer(
    app, api, llm, case, monkeypatch
):
    monkeypatch.setattr(sending, "TYPING_INTERVAL", 0.2)
    reply, delivers = CASES[case]
    llm.reply = reply
    text = visible_text(await ask(api, QUESTION, 101))
    passage = answer(QUESTION, KeywordSearcher()).citations[0].passage
    if delivers:
        assert text != extractive_text(QUESTION)
        assert text.startswith(GOOD_LEAD + first_sentence(passage).rstrip(".") + ". [1]")
        assert "98 765" not in text and "98765" not in text
    else:
        assert text == extractive_text(QUESTION)
    assert "Źródła:" in text and "[1] Ustawa o pomocy społecznej" in text
    # The same kinds of buttons either way: a button per passage the body cites, "Więcej"
    # when there is further evidence, then 👍 / 👎.
    extractive = answer(QUESTION, KeywordSearcher())
    cited = list(dict.fromkeys(re.findall(r"\[(\d+)\]", text.split("Źródła:")[0])))
    more = [["m", ANY]] if extractive.more else []
    assert buttons(api, 101) == [["p", n] for n in cited] + more + [["f", "+"], ["f", "-"]]
    typing = api.calls_of("sendChatAction", 101)
    [sent] = api.calls_of("sendMessage", 101)
    assert typing and typing[0].params["action"] == "typing" and typing[0].at <= sent.at
    if case == "slow":  # "typing…" kept up while waiting for the model
        assert len(typing) >= 2


async def test_off_topic_question_never_reaches_the_model(app, api, llm):
    before = len(llm.requests)
    text = visible_text(await ask(api, OFF_TOPIC, 102))
    assert text.startswith("Nie znalazłem w bazie wiedzy")
    assert len(llm.requests) == before


async def test_stats_count_model_answers_and_dropped_sentences(app, api, llm):
    for user_id, case in ((103, "good"), (104, "invented_amount"), (105, "server_error"), (106, "off_topic")):
        llm.reply = CASES[case][0]
        await ask(api, QUESTION, user_id)
    for _ in range(100):  # counted just after each reply is sent, so that a locked store never delays it
        generation = app.bot_data.feedback_sink.stats().generation
        if generation is not None and generation.asked == 4:
            break
        await asyncio.sleep(0.05)
    assert generation is not None
    assert (generation.asked, generation.delivered) == (4, 2)
    assert (generation.sentences, generation.dropped) == (2 + 2 + 2, 1 + 2)
    assert generation.fallbacks == {"http-error": 1, "nothing-verified": 1}
    await api.push(text_update("/stats", 101))
    shown = visible_text((await api.wait_messages(101))[-1].params["text"])
    assert "Model językowy: pytań 4, odpowiedzi z modelu 2." in shown
    assert "Zdania odrzucone przy sprawdzaniu: 3 z 6 (50%)." in shown
    assert "błąd serwera modelu 1" in shown
