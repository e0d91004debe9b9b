"""bot.generate through ``respond`` against a fake OpenAI-compatible server on 127.0.0.1.

Every scripted reply gives either verified sentences only or the extractive
answer, unchanged; without POMOCNIK_LLM_URL answers are exactly the extractive ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from bot import generate
from bot.answer import answer
from bot.generate import (
    GenerationResult,
    Writer,
    build_messages,
    completions_url,
    evidence,
    make_writer,
    respond,
)
from bot.settings import Settings
from bot.testing.harness import KeywordSearcher
from bot.verify import check_sentence
from tests.fake_llm import CASES, FakeLlm, Scripted, first_sentence, good, invented_amount, passages_in

QUESTIONS = [
    "Komu przysługuje zasiłek stały?",
    "ile wynosi kryterium dochodowe osoby samotnie gospodarującej",
    "projekt podwyższenie zasiłku okresowego dla rodzin wielodzietnych",
]
OFF_TOPIC = "jak ugotować bigos po staropolsku"
TODAY = date(2025, 11, 1)
TIMEOUT = 0.5  # the fake's slow reply takes 3 s


@pytest.fixture
def writer(llm: FakeLlm) -> Iterator[Writer]:
    llm.reply = good
    settings = Settings(_env_file=None, llm_url=llm.url, llm_model="bielik", llm_timeout=TIMEOUT)
    made = Writer(settings)
    yield made
    made.close()


def delivered_sentences_verified(result: GenerationResult) -> bool:
    """Re-check every delivered sentence against the delivered citations."""
    passages = {c.n: evidence(c) for c in result.answer.citations}
    for block in result.answer.blocks:
        for sentence in block.sentences:
            marked = sentence.text.rstrip(".") + " " + "".join(f"[{n}]" for n in sentence.sources) + "."
            if not check_sentence(marked, passages).verified:
                return False
    return True


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("question", QUESTIONS)
def test_every_scripted_reply_gives_verified_sentences_or_the_extractive_answer(llm, writer, case, question):
    reply, delivers = CASES[case]
    llm.reply = reply
    extractive = answer(question, KeywordSearcher(), today=TODAY)
    assert extractive.answered
    result = respond(question, KeywordSearcher(), today=TODAY, writer=writer)
    assert result.attempted
    assert result.generated is delivers
    if delivers:
        assert result.fallback is None
        assert result.answer != extractive
        assert delivered_sentences_verified(result)
        # Same sources and buttons, same status notice.
        assert result.answer.citations == extractive.citations
        assert result.answer.notice == extractive.notice
    else:
        assert result.fallback is not None
        assert result.answer == extractive  # the extractive answer, unchanged


def test_good_reply_is_delivered_whole(llm, writer):
    llm.reply = good
    result = respond(QUESTIONS[1], KeywordSearcher(), today=TODAY, writer=writer)
    assert result.generated and result.dropped == 0
    [block] = result.answer.blocks
    assert block.heading is None
    assert [s.sources for s in block.sentences] == [(c.n,) for c in result.answer.citations[:2]]


def test_invented_amount_is_dropped_and_the_rest_delivered(llm, writer):
    llm.reply = invented_amount
    result = respond(QUESTIONS[0], KeywordSearcher(), today=TODAY, writer=writer)
    assert (result.sentences, result.dropped) == (2, 1)
    texts = [s.text for block in result.answer.blocks for s in block.sentences]
    assert not any("98" in text for text in texts)
    assert [c.problem for c in result.checked] == [None, "unsupported-number"]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("slow", generate.TIMEOUT),
        ("server_error", generate.HTTP_ERROR),
        ("malformed_json", generate.MALFORMED),
        ("not_a_completion", generate.MALFORMED),
        ("does_not_know", generate.UNKNOWN),
        ("off_topic", generate.NOTHING_VERIFIED),
        ("no_citations", generate.NOTHING_VERIFIED),
        ("missing_passage", generate.NOTHING_VERIFIED),
        ("only_invented_amount", generate.NOTHING_VERIFIED),
    ],
)
def test_fallback_reasons(llm, writer, case, reason):
    llm.reply = CASES[case][0]
    assert respond(QUESTIONS[0], KeywordSearcher(), today=TODAY, writer=writer).fallback == reason


def test_unreachable_server_falls_back():
    settings = Settings(_env_file=None, llm_url="http://127.0.0.1:9/v1", llm_timeout=TIMEOUT)
    unreachable = Writer(settings)
    try:
        result = respond(QUESTIONS[0], KeywordSearcher(), today=TODAY, writer=unreachable)
    finally:
        unreachable.close()
    assert result.fallback == generate.CONNECTION
    assert result.answer == answer(QUESTIONS[0], KeywordSearcher(), today=TODAY)


def test_refused_questions_never_reach_the_model(llm, writer):
    before = len(llm.requests)
    result = respond(OFF_TOPIC, KeywordSearcher(), today=TODAY, writer=writer)
    assert not result.answer.answered and not result.attempted
    assert len(llm.requests) == before


def test_prompt_holds_the_rules_the_question_and_numbered_passages_with_status_and_date(llm, writer):
    respond(QUESTIONS[2], KeywordSearcher(), today=TODAY, writer=writer)
    request = llm.requests[-1]
    assert request["model"] == "bielik" and request["stream"] is False and request["temperature"] == 0
    system, user = (m["content"] for m in request["messages"])
    assert "[1]" in system and "nie wiem" in system and "Najwyżej 5 zdań" in system and "projekt" in system
    assert user.startswith(f"Pytanie: {QUESTIONS[2]}")
    assert "[1] Projekt ustawy o zmianie ustawy o pomocy społecznej (UD315), art. 1" in user
    assert "(projekt (UD315) z 1.06.2025, nie obowiązuje; data: 2025-06-01)" in user
    assert "Projekt przewiduje podwyższenie zasiłku okresowego" in user


def test_a_follow_up_is_asked_with_its_topic(llm, writer):
    respond(
        "a ile wynosi?",
        KeywordSearcher(),
        history=["kryterium dochodowe osoby samotnie gospodarującej"],
        today=TODAY,
        writer=writer,
    )
    user = llm.requests[-1]["messages"][1]["content"]
    assert user.startswith("Pytanie: kryterium dochodowe osoby samotnie gospodarującej a ile wynosi?")


def test_api_key_is_sent_as_bearer_token(llm):
    settings = Settings(_env_file=None, llm_url=llm.url, llm_api_key="sekret", llm_timeout=TIMEOUT)
    keyed = Writer(settings)
    try:
        respond(QUESTIONS[0], KeywordSearcher(), today=TODAY, writer=keyed)
    finally:
        keyed.close()
    assert llm.headers[-1]["Authorization"] == "Bearer sekret"


def test_without_llm_url_answers_are_the_extractive_ones(monkeypatch):
    monkeypatch.delenv("POMOCNIK_LLM_URL", raising=False)
    settings = Settings(_env_file=None)
    assert settings.llm_url is None and settings.llm_timeout == 20.0
    assert make_writer(settings) is None
    monkeypatch.setenv("POMOCNIK_LLM_URL", "")
    assert make_writer(Settings(_env_file=None)) is None
    for question in [*QUESTIONS, OFF_TOPIC]:
        result = respond(question, KeywordSearcher(), today=TODAY, writer=None)
        assert result == GenerationResult(answer(question, KeywordSearcher(), today=TODAY))


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("POMOCNIK_LLM_URL", "http://ollama:11434/v1")
    monkeypatch.setenv("POMOCNIK_LLM_MODEL", "bielik")
    monkeypatch.setenv("POMOCNIK_LLM_TIMEOUT", "7.5")
    settings = Settings(_env_file=None)
    assert (settings.llm_url, settings.llm_model, settings.llm_timeout) == (
        "http://ollama:11434/v1",
        "bielik",
        7.5,
    )
    writer = make_writer(settings)
    assert isinstance(writer, Writer)
    writer.close()


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("http://ollama:11434/v1", "http://ollama:11434/v1/chat/completions"),
        ("http://ollama:11434/v1/", "http://ollama:11434/v1/chat/completions"),
        ("http://ollama:11434", "http://ollama:11434/v1/chat/completions"),
        ("http://vllm:8000/v1/chat/completions", "http://vllm:8000/v1/chat/completions"),
    ],
)
def test_completions_url(base, url):
    assert completions_url(base) == url


def test_the_model_may_repeat_the_status_and_date_it_was_shown(llm, writer):
    # The prompt says "(obowiązuje od 1.05.2004; data: 2004-05-01)" for the statute.
    written = "Zasiłek stały przysługuje od 1 maja 2004 r. osobie samotnie gospodarującej [1]."
    llm.reply = lambda request: Scripted(written)
    result = respond(QUESTIONS[0], KeywordSearcher(), today=TODAY, writer=writer)
    assert result.generated and result.dropped == 0


def test_a_reasoning_models_thinking_is_not_part_of_the_answer(llm, writer):
    thinking = "<think>Może 9999 zł? Sprawdzę fragment.</think>\n"
    llm.reply = lambda request: Scripted(thinking + good(request).content)
    result = respond(QUESTIONS[1], KeywordSearcher(), today=TODAY, writer=writer)
    assert result.generated and result.dropped == 0


async def test_the_async_path_gives_the_same_results(llm):
    from bot.generate import arespond

    settings = Settings(_env_file=None, llm_url=llm.url, llm_model="bielik", llm_timeout=TIMEOUT)
    writer = Writer(settings)
    try:
        for case, (reply, delivers) in sorted(CASES.items()):
            llm.reply = reply
            sync = respond(QUESTIONS[0], KeywordSearcher(), today=TODAY, writer=writer)
            awaited = await arespond(QUESTIONS[0], KeywordSearcher(), today=TODAY, writer=writer)
            assert awaited == sync, case
            assert awaited.generated is delivers, case
    finally:
        await writer.aclose()


def test_the_question_reaches_the_model_without_personal_numbers():
    extractive = answer(QUESTIONS[0], KeywordSearcher(), today=TODAY)
    messages = build_messages(
        f"{QUESTIONS[0]} Klient PESEL 44051401359, tel. 601 234 567", extractive.citations
    )
    user = messages[1]["content"]
    assert "44051401359" not in user and "601 234 567" not in user and "[PESEL]" in user


def test_a_long_written_answer_is_cut_to_whole_sentences(llm, writer):
    llm.reply = lambda request: Scripted(" ".join([f"{first_sentence(passages_in(request)[1])} [1]"] * 5))
    result = respond(QUESTIONS[0], KeywordSearcher(), today=TODAY, writer=writer)
    [block] = result.answer.blocks
    assert result.generated and result.dropped == 0
    assert 1 < len(block.sentences) < 5
    assert sum(len(s.text) + 1 for s in block.sentences) <= generate.MAX_ANSWER_CHARS
