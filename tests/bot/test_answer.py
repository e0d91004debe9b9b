"""Choosing, grouping and citing sentences; refusing on weak evidence (hand-made hits)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.answer import (
    DRAFT_NOTICE,
    HEADING_PLANNED,
    NO_ANSWER,
    answer,
    is_follow_up,
)
from bot.plain import answer_to_json, answer_to_text
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
OLD_CRITERION = Chunk(
    id="c-old",
    doc_id="statutes/ups-art-8-2018.md",
    anchor="art. 8 ust. 1",
    text="Kryterium dochodowe osoby samotnie gospodarującej wynosiło 701 zł.",
    embed_text="",
    position=0,
    meta=DocumentMeta(
        title="Ustawa o pomocy społecznej — art. 8 (2018)",
        kind="statute",
        status="in_force",
        source_url="https://example.org/ups-2018",
        effective_from=date(2018, 10, 1),
        effective_to=date(2021, 12, 31),
    ),
)
DRAFT = Chunk(
    id="c-draft",
    doc_id="drafts/ud315.md",
    anchor="art. 1",
    text="Projekt przewiduje podwyższenie kryterium dochodowego osoby samotnie gospodarującej do 1200 zł.",
    embed_text="",
    position=0,
    meta=DocumentMeta(
        title="Projekt nowelizacji ustawy o pomocy społecznej",
        kind="draft",
        status="draft",
        source_url="https://example.org/ud315",
        extra={"draft_id": "UD315"},
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


class FakeSearcher:
    """Returns fixed hits and records the queries it was asked."""

    def __init__(self, *hits: Hit) -> None:
        self.hits = list(hits)
        self.queries: list[str] = []

    def search(self, query: str, k: int = 5, kinds=None, statuses=None, on=None) -> list[Hit]:
        self.queries.append(query)
        return self.hits[:k]


def cited_numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", text.split("Źródła:")[0])]


def test_amount_question_gets_the_amount_sentence_intact_and_cited() -> None:
    searcher = FakeSearcher(hit(CRITERION), hit(CONFERENCE, dense=0.80, rank=2))
    result = answer(
        "Ile wynosi kryterium dochodowe dla osoby samotnie gospodarującej?", searcher, today=TODAY
    )
    assert result.answered
    text = answer_to_text(result)
    assert "Kryterium dochodowe osoby samotnie gospodarującej wynosi 1010 zł." in text
    assert [c.chunk_id for c in result.citations] == ["c-kryt"]  # the conference is not padded in
    assert result.citations[0].status_text == "obowiązuje od 1.01.2025"
    assert all(s.sources == (1,) for block in result.blocks for s in block.sentences)


def test_every_sentence_cited_and_numbers_follow_first_use() -> None:
    second = Chunk(
        id="c-proc",
        doc_id="statutes/kpa.md",
        anchor="art. 8",
        text="Kryterium dochodowe ustala się na podstawie dochodu osoby samotnie gospodarującej z miesiąca.",
        embed_text="",
        position=0,
        meta=CRITERION.meta,
    )
    searcher = FakeSearcher(hit(CRITERION), hit(second, rank=2))
    result = answer("kryterium dochodowe osoby samotnie gospodarującej", searcher, today=TODAY)
    assert result.answered
    lines = [s for block in result.blocks for s in block.sentences]
    assert all(line.sources for line in lines)
    assert [c.n for c in result.citations] == list(range(1, len(result.citations) + 1))
    first_use = list(dict.fromkeys(n for line in lines for n in line.sources))
    assert first_use == [c.n for c in result.citations]
    # One line per source: sentences from the same passage are merged.
    assert len(lines) == len(result.citations) == 2


def test_weak_evidence_gives_no_answer_and_no_citations() -> None:
    searcher = FakeSearcher(hit(CRITERION, dense=0.76), hit(CONFERENCE, dense=0.75, rank=2))
    result = answer("Jaka jest stolica Australii?", searcher, today=TODAY)
    assert not result.answered
    assert result.citations == () and result.blocks == ()
    assert result.notice == NO_ANSWER
    assert result.suggestions == ("Ustawa o pomocy społecznej — art. 8", "X Konferencja Razem")
    text = answer_to_text(result)
    assert text.startswith(NO_ANSWER) and "/zmiany" in text and "[1]" not in text


def test_high_cosine_without_shared_words_is_still_refused() -> None:
    searcher = FakeSearcher(hit(CRITERION, dense=0.95))
    assert not answer("przepis na pierogi ruskie", searcher, today=TODAY).answered


def test_change_question_leads_with_drafts_and_says_a_draft_is_not_law() -> None:
    searcher = FakeSearcher(hit(CRITERION), hit(DRAFT, rank=2))
    result = answer(
        "Co się zmieni w kryterium dochodowym osoby samotnie gospodarującej?", searcher, today=TODAY
    )
    assert result.answered
    assert result.blocks[0].heading == HEADING_PLANNED
    assert "1200 zł" in result.blocks[0].sentences[0].text
    assert result.citations[0].chunk_id == "c-draft"
    assert result.citations[0].status_text == "projekt (UD315), nie obowiązuje"
    assert result.notice == DRAFT_NOTICE
    assert DRAFT_NOTICE in answer_to_text(result)


def test_plain_question_puts_in_force_law_before_a_draft() -> None:
    searcher = FakeSearcher(hit(DRAFT), hit(CRITERION, rank=2))
    result = answer("Ile wynosi kryterium dochodowe osoby samotnie gospodarującej?", searcher, today=TODAY)
    assert result.citations[0].chunk_id == "c-kryt"
    if len(result.blocks) > 1:
        assert result.blocks[-1].heading == HEADING_PLANNED


def test_in_force_outranks_historical_unless_the_past_is_asked() -> None:
    searcher = FakeSearcher(hit(OLD_CRITERION), hit(CRITERION, rank=2))
    now = answer("kryterium dochodowe osoby samotnie gospodarującej ile wynosi", searcher, today=TODAY)
    assert now.citations[0].chunk_id == "c-kryt"
    old = [c for c in now.citations if c.chunk_id == "c-old"]
    assert all(c.status_text == "nieaktualne od 1.01.2022" for c in old)

    past = answer(
        "ile wynosiło kryterium dochodowe osoby samotnie gospodarującej w 2019", searcher, today=TODAY
    )
    assert past.citations[0].chunk_id == "c-old"


def test_follow_up_is_searched_with_the_previous_question() -> None:
    searcher = FakeSearcher(hit(FAMILY))
    result = answer("a dla rodziny?", searcher, history=["Ile wynosi kryterium dochodowe?"], today=TODAY)
    assert searcher.queries == ["Ile wynosi kryterium dochodowe? a dla rodziny?"]
    assert result.answered and result.follow_up
    assert "823 zł" in answer_to_text(result)


def test_a_full_question_ignores_history() -> None:
    searcher = FakeSearcher(hit(CRITERION))
    answer(
        "Ile wynosi kryterium dochodowe osoby samotnie gospodarującej?",
        searcher,
        history=["Kto prowadził szkolenie w Braniewie?"],
        today=TODAY,
    )
    assert searcher.queries == ["Ile wynosi kryterium dochodowe osoby samotnie gospodarującej?"]


def test_follow_up_detection() -> None:
    assert is_follow_up("a dla rodziny?")
    assert is_follow_up("a w 2019?")
    assert is_follow_up("a ile to jest?")
    assert is_follow_up("kto przedstawiał propozycje zmian na tej konferencji")
    assert not is_follow_up("ile dni ma klient na odwołanie od decyzji mops")
    assert not is_follow_up("a jaka jest procedura odwołania od decyzji o zasiłku celowym w gminie?")


def test_list_item_is_quoted_with_its_lead() -> None:
    article = Chunk(
        id="c-art7",
        doc_id="statutes/ups-art-7.md",
        anchor="art. 7",
        text="Art. 7. Pomocy społecznej udziela się osobom i rodzinom w szczególności z powodu:\n"
        "1) ubóstwa;\n2) sieroctwa;\n3) bezdomności;\n7) przemocy domowej;\n14) zdarzenia losowego;",
        embed_text="",
        position=0,
        meta=CRITERION.meta,
    )
    result = answer("czy przemoc domowa to podstawa do pomocy z ops", FakeSearcher(hit(article)), today=TODAY)
    line = result.blocks[0].sentences[0].text
    assert line.startswith("Art. 7. Pomocy społecznej udziela się")
    assert "7) przemocy domowej;" in line and "2) sieroctwa;" not in line


def test_json_shape() -> None:
    result = answer(
        "Ile wynosi kryterium dochodowe osoby samotnie gospodarującej?",
        FakeSearcher(hit(CRITERION)),
        today=TODAY,
    )
    data = answer_to_json(result)
    assert set(data) == {"answered", "text", "citations"}
    assert data["answered"] is True and cited_numbers(data["text"]) == [1]
    assert data["citations"] == [
        {
            "n": 1,
            "line": "[1] Ustawa o pomocy społecznej — art. 8, art. 8 ust. 1 pkt 2, Dz.U. 2025 poz. 1214"
            " — obowiązuje od 1.01.2025",
            "title": "Ustawa o pomocy społecznej — art. 8",
            "anchor": "art. 8 ust. 1 pkt 2",
            "status": "obowiązuje od 1.01.2025",
            "date": "2025-01-01",
            "source_url": "https://example.org/ups",
            "chunk_id": "c-kryt",
            "doc_id": "statutes/ups-art-8.md",
            "passage": CRITERION.text,
        }
    ]
    refused = answer_to_json(
        answer("przepis na pierogi", FakeSearcher(hit(CONFERENCE, dense=0.7)), today=TODAY)
    )
    assert refused["answered"] is False and refused["citations"] == []


def test_year_question_picks_the_sentence_of_that_period() -> None:
    searcher = FakeSearcher(hit(CRITERION), hit(OLD_CRITERION, rank=2))
    # "2019r" typed without a space: the year still counts, and the 2018–2021 passage is preferred.
    result = answer("kryterium dochodowe osoby samotnie gospodarującej w 2019r", searcher, today=TODAY)
    assert result.answered
    assert result.citations[0].chunk_id == "c-old"
    assert "701 zł" in result.blocks[0].sentences[0].text


def test_a_year_no_passage_speaks_for_is_refused() -> None:
    searcher = FakeSearcher(hit(CRITERION, dense=0.95), hit(OLD_CRITERION, dense=0.9, rank=2))
    result = answer(
        "ile będzie kryterium dochodowe osoby samotnie gospodarującej w 2030", searcher, today=TODAY
    )
    assert not result.answered and result.citations == ()
    # The current year is spoken for by what is in force now.
    assert answer("kryterium dochodowe osoby samotnie gospodarującej w 2025", searcher, today=TODAY).answered


def passage(id_: str, anchor: str, text: str, doc_id: str = "statutes/kpa.md", position: int = 0) -> Chunk:
    """A passage with CRITERION's metadata (in force, no period)."""
    return Chunk(
        id=id_, doc_id=doc_id, anchor=anchor, text=text, embed_text="", position=position, meta=CRITERION.meta
    )


PCPR = passage(
    "c-pcpr",
    "§ Powiat",
    "Powiatowe centrum pomocy rodzinie organizuje pieczę zastępczą i prowadzi domy pomocy.",
    doc_id="summaries/zadania.md",
)


def test_shorthand_matches_the_spelled_out_passage() -> None:
    searcher = FakeSearcher(hit(PCPR))
    result = answer("czym się zajmuje pcpr", searcher, today=TODAY)
    assert result.answered and result.citations[0].chunk_id == "c-pcpr"
    # Shorthand the table does not know is still a missing topic.
    assert not answer("czym się zajmuje zus", searcher, today=TODAY).answered


def test_verbs_the_passage_lacks_do_not_block_but_missing_nouns_do() -> None:
    appeal = passage(
        "c-odw",
        "art. 129 § 1",
        "Odwołanie od decyzji wnosi się do organu odwoławczego za pośrednictwem organu, który wydał decyzję.",
    )
    searcher = FakeSearcher(hit(appeal))
    # "idzie" (typed like users do) appears in no passage: it says what is asked, not about what.
    assert answer("do kogo idzie odwolanie od decyzji", searcher, today=TODAY).answered
    assert not answer("do kogo idzie wniosek o becikowe", searcher, today=TODAY).answered


def test_how_long_question_prefers_the_sentence_with_a_period() -> None:
    rule = passage(
        "c-pon", "art. 37 § 3", "Ponaglenie do organu wyższego stopnia przekazuje się w dwóch egzemplarzach."
    )
    period = passage("c-pon4", "art. 37 § 4", "Organ przekazuje je w terminie siedmiu dni.", position=1)
    result = answer(
        "w ile dni trzeba przekazać ponaglenie do organu wyższego stopnia",
        FakeSearcher(hit(period), hit(rule, rank=2)),
        today=TODAY,
    )
    assert result.answered
    # Both sentences hold a number; only one holds a period of time.
    assert "siedmiu dni" in answer_to_text(result)


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
