import json

import pytest

from bot.evaluation import (
    HALVES,
    DevQuestion,
    anchor_holds,
    anchor_precision,
    citation_precision,
    cites_expected,
    contains_fact,
    half_of,
    load_dev_questions,
    score_answers,
)

PASSAGE = "Kryterium dochodowe dla osoby samotnie gospodarującej wynosi 1010 zł miesięcznie."
GOOD = {
    "answered": True,
    "text": "Kryterium dochodowe dla osoby samotnie gospodarującej wynosi 1 010 zł miesięcznie [1].\n\nŹródła:\n[1] …",
    "citations": [
        {"n": 1, "doc_id": "summaries/kryteria.md", "anchor": "art. 8 ust. 1 pkt 1", "passage": PASSAGE}
    ],
}
REFUSAL = {"answered": False, "text": "Nie znalazłem w bazie wiedzy wiarygodnej odpowiedzi.", "citations": []}


@pytest.mark.parametrize(
    ("text", "fact", "expected"),
    [
        ("wynosi 1 010 zł", "1010 zł", True),
        ("wynosi 1010 ZŁ", "1 010 zł", True),
        ("zasilek staly", "zasiłek stały", True),
        ("wynosi 823 zł", "1010 zł", False),
    ],
)
def test_contains_fact_folds_spaces_case_and_diacritics(text, fact, expected):
    assert contains_fact(text, fact) is expected


def test_cites_expected_accepts_enclosing_units_only():
    citations = GOOD["citations"]
    assert cites_expected(citations, "summaries/kryteria.md", None)
    assert cites_expected(citations, "summaries/kryteria.md", "art. 8 ust. 1")
    assert cites_expected(citations, "summaries/kryteria.md", "art. 8 ust. 1 pkt 1")
    assert not cites_expected(citations, "summaries/kryteria.md", "art. 8 ust. 2")
    assert not cites_expected(citations, "statutes/kpa.md", None)
    assert not cites_expected(
        [{"n": 1, "doc_id": "summaries/kryteria.md", "anchor": ""}], "summaries/kryteria.md", "art. 8"
    )


def test_citation_precision_checks_numbers_and_resolution():
    assert citation_precision(GOOD) == 1.0
    wrong_number = dict(GOOD, text="Kryterium dochodowe dla osoby samotnie gospodarującej wynosi 776 zł [1].")
    assert citation_precision(wrong_number) == 0.0
    dangling = dict(GOOD, text="Kryterium dochodowe wynosi 1010 zł [2].")
    assert citation_precision(dangling) == 0.0


def test_score_answers_aggregates():
    on_topic = DevQuestion(
        "a", "ile kryterium", True, "1010 zł", "summaries/kryteria.md", "art. 8 ust. 1 pkt 1"
    )
    off_topic = DevQuestion("b", "stolica Australii", False)
    scores = score_answers([(on_topic, GOOD), (off_topic, REFUSAL)])
    assert (scores.fact_rate, scores.citation_rate, scores.refusal_rate) == (1.0, 1.0, 1.0)
    assert scores.false_refusals == 0
    scores = score_answers([(on_topic, REFUSAL), (off_topic, GOOD)])
    assert (scores.fact_rate, scores.refusal_rate, scores.false_refusals) == (0.0, 0.0, 1)


def test_load_dev_questions_rejects_duplicates(tmp_path):
    line = json.dumps({"id": "x", "question": "q", "answerable": False})
    (tmp_path / "a.jsonl").write_text(line + "\n", encoding="utf-8")
    assert load_dev_questions(tmp_path)[0].id == "x"
    (tmp_path / "b.jsonl").write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ValueError):
        load_dev_questions(tmp_path)


def test_halves_are_fixed_and_keep_follow_ups_with_their_parent() -> None:
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "data" / "dev_questions"
    questions = load_dev_questions(folder)
    by_id = {q.id: q for q in questions}
    halves = {q.id: half_of(q, by_id) for q in questions}
    assert set(halves.values()) == set(HALVES)
    for q in questions:
        if q.follow_up_of:
            assert halves[q.id] == halves[q.follow_up_of]
    assert halves == {q.id: half_of(q, by_id) for q in reversed(questions)}  # order does not matter
    tune = [q for q in questions if halves[q.id] == "tune"]
    assert 0.35 < len(tune) / len(questions) < 0.65
    assert any(not q.answerable for q in tune) and any(not q.answerable for q in questions if q not in tune)


def test_anchor_holds_checks_pages_and_units_against_the_chunk_map() -> None:
    from index.records import Chunk, DocumentMeta, SentenceSpan

    meta = DocumentMeta(title="t", kind="guide", status="in_force", source_url="")
    paged = Chunk(
        "c",
        "d",
        "s. 1–2",
        "x" * 30,
        "",
        meta,
        0,
        sentences=(SentenceSpan(0, 9, "", page=1, page_end=1), SentenceSpan(10, 19, "", page=2, page_end=2)),
    )
    assert anchor_holds("s. 2", paged, [1]) and anchor_holds("s. 1–2", paged, [0, 1])
    assert not anchor_holds("s. 1", paged, [1])  # the words are on page 2
    assert not anchor_holds("s. 1–2", paged, [1])  # wider than the cited sentence
    assert anchor_holds("s. 1–2", paged, [])  # the whole chunk
    statute = Chunk(
        "s",
        "d",
        "art. 7",
        "x" * 30,
        "",
        meta,
        0,
        sentences=(SentenceSpan(0, 9, "art. 7", items=(1,)), SentenceSpan(10, 19, "art. 7 pkt 11", stem=0)),
    )
    assert anchor_holds("art. 7 pkt 11", statute, [0, 1]) and anchor_holds("art. 7", statute, [1])
    assert not anchor_holds("art. 7 pkt 1", statute, [1]) and not anchor_holds("art. 7 pkt 11", statute, [0])
    assert not anchor_holds("s. 1", statute, [1])
    assert anchor_precision([True, False, True, True]) == 0.75 and anchor_precision([]) == 1.0


def test_score_answers_reports_the_share_of_citations_with_status_and_date():
    question = DevQuestion("a", "ile kryterium", True, "1010 zł", "summaries/kryteria.md", None)
    dated = dict(
        GOOD, citations=[dict(GOOD["citations"][0], line="[1] Kryteria — stan prawny na 22.08.2025")]
    )
    undated = dict(GOOD, citations=[dict(GOOD["citations"][0], line="[1] Kryteria — obowiązuje")])
    assert score_answers([(question, dated)]).dated_citations == 1.0
    assert score_answers([(question, dated), (question, undated)]).dated_citations == 0.5
