"""Answering end to end: follow-ups, the JSON contract, and the real model over a real index."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from bot.answer import NO_ANSWER, answer
from bot.compose import DRAFT_NOTICE, HEADING_PLANNED
from bot.plain import answer_to_json, answer_to_text
from bot.testing.harness import ModelFreeSearcher, query_text
from index.query import Query
from index.records import Chunk, DocumentMeta, Hit

TODAY = date(2025, 6, 1)

CRITERION = Chunk(
    id="c-kryt",
    doc_id="statutes/ups-art-8.md",
    anchor="art. 8 ust. 1 pkt 2",
    text=(
        "Art. 8. 1. Prawo do świadczeń pieniężnych z pomocy społecznej przysługuje osobie w rodzinie, "
        "której dochód na osobę nie przekracza kwoty 823 zł. Kryterium dochodowe osoby samotnie "
        "gospodarującej wynosi 1010 zł. Kwoty weryfikuje się co trzy lata."
    ),
    embed_text="",
    position=0,
    meta=DocumentMeta(
        title="Ustawa o pomocy społecznej — art. 8",
        kind="statute",
        status="in_force",
        source_url="https://example.org/ups",
        published="Dz.U. 2025 poz. 1214",
        effective_from=date(2025, 1, 1),
    ),
)
CONFERENCE = Chunk(
    id="c-conf",
    doc_id="conferences/zakopane.md",
    anchor="§ Program",
    text="Konferencja odbyła się w Zakopanem. Uczestnicy rozmawiali o superwizji.",
    embed_text="",
    position=0,
    meta=DocumentMeta(
        title="X Konferencja Razem",
        kind="conference",
        status="historical",
        source_url="https://example.org/razem",
    ),
)


FAMILY = Chunk(
    id="c-fam",
    doc_id="statutes/ups-art-8.md",
    anchor="art. 8 ust. 1 pkt 2",
    text="Kryterium dochodowe osoby w rodzinie wynosi 823 zł na osobę.",
    embed_text="",
    position=1,
    meta=CRITERION.meta,
)


def hit(chunk: Chunk, dense: float = 0.88, rank: int = 1) -> Hit:
    return Hit(chunk=chunk, score=1.0 / rank, dense_rank=rank, lexical_rank=rank, dense_score=dense)


class FakeSearcher(ModelFreeSearcher):
    """Returns fixed hits and records the question texts it was asked (follow-ups merged)."""

    def __init__(self, *hits: Hit) -> None:
        self.hits = list(hits)
        self.queries: list[str] = []

    def search(self, query: str | Query, k: int = 5, kinds=None, statuses=None, on=None) -> list[Hit]:
        self.queries.append(query_text(query))
        return self.hits[:k]


def cited_numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", text.split("Źródła:")[0])]


def test_follow_up_is_searched_with_the_previous_question() -> None:
    searcher = FakeSearcher(hit(CONFERENCE))
    result = answer("a dla rodziny?", searcher, history=["ile wynosi kryterium dochodowe"], today=TODAY)
    assert searcher.queries[0] == "ile wynosi kryterium dochodowe a dla rodziny?"
    assert result.follow_up is True


def test_a_full_question_ignores_history() -> None:
    searcher = FakeSearcher(hit(CONFERENCE))
    answer(
        "ile dni ma klient na odwołanie od decyzji", searcher, history=["ile wynosi kryterium"], today=TODAY
    )
    assert searcher.queries[0] == "ile dni ma klient na odwołanie od decyzji"


def test_nothing_found_is_a_refusal_without_citations() -> None:
    refused = answer_to_json(answer("przepis na pierogi", FakeSearcher(), today=TODAY))
    assert refused == {"answered": False, "text": refused["text"], "citations": []}
    assert refused["text"].startswith(NO_ANSWER)


# ---------------------------------------------------------------- real model, real index

KB_FILES = (
    "statutes/ups-art-7.md",
    "statutes/ups-art-106.md",
    "conferences/rops-olsztyn-szkolenie-braniewo-2013.md",
    "changes/projekt-ud315-reforma-pomocy-spolecznej.md",
)


def build_small_index(root, embedder):
    """Index four real knowledge files into ``root`` (shared with test_cli)."""
    import shutil
    from pathlib import Path

    from index.build import build_index
    from index.store import IndexStore

    knowledge = Path(__file__).resolve().parents[2] / "knowledge"
    folder = Path(root) / "knowledge"
    for name in KB_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(knowledge / name, folder / name)
    store = IndexStore(Path(root) / "index")
    build_index(folder, store, embedder, max_bytes=5_000_000)
    return store


@pytest.fixture(scope="module")
def real_searcher(tmp_path_factory, real_embedder):
    from index.search import Searcher

    store = build_small_index(tmp_path_factory.mktemp("kb"), real_embedder)
    return Searcher(store.load_current(), real_embedder)


@pytest.mark.slow
def test_real_question_gets_the_cited_fact(real_searcher) -> None:
    result = answer("od którego miesiąca przyznaje się świadczenie pieniężne", real_searcher, today=TODAY)
    data = answer_to_json(result)
    assert data["answered"], data
    assert "począwszy od miesiąca, w którym został złożony wniosek" in data["text"]
    assert data["citations"][0]["doc_id"] == "statutes/ups-art-106.md"
    assert cited_numbers(data["text"])[0] == 1


@pytest.mark.slow
def test_real_follow_up_uses_the_previous_question(real_searcher) -> None:
    result = answer(
        "a kiedy?", real_searcher, today=TODAY, history=["szkolenie rops olsztyn w braniewie kto prowadził"]
    )
    assert result.answered and result.follow_up
    assert result.citations[0].doc_id == "conferences/rops-olsztyn-szkolenie-braniewo-2013.md"
    assert "30.10.2013" in answer_to_text(result)


@pytest.mark.slow
def test_real_draft_question_carries_the_notice(real_searcher) -> None:
    result = answer("co się zmieni w pomocy społecznej według projektu UD315", real_searcher, today=TODAY)
    assert result.answered
    assert result.blocks[0].heading == HEADING_PLANNED
    assert result.notice == DRAFT_NOTICE
    assert result.citations[0].status_text == "projekt (UD315) z 30.09.2025, nie obowiązuje"


@pytest.mark.slow
@pytest.mark.parametrize("question", ["Jaka jest stolica Australii?", "przepis na pierogi ruskie"])
def test_real_off_topic_question_is_refused(real_searcher, question: str) -> None:
    result = answer(question, real_searcher, today=TODAY)
    assert not result.answered and result.citations == ()


@pytest.mark.slow
def test_real_list_question_shows_the_stem_with_its_items(real_searcher: Any) -> None:
    result = answer("z jakich powodow udziela sie pomocy spolecznej", real_searcher, today=TODAY)
    assert result.answered
    text = answer_to_text(result).split("Źródła:")[0]
    assert "z powodu:" in text
    assert "1) ubóstwa;" in text and "2) sieroctwa;" in text
    # Each unit of the body is cited, and an item is never shown without its stem.
    for block in result.blocks:
        for sentence in block.sentences:
            assert sentence.sources
            if re.match(r"\d+\)", sentence.text):
                pytest.fail(f"item without its stem: {sentence.text}")
