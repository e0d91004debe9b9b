"""Status texts and citation lines in Polish, computed for a given day."""

from __future__ import annotations

from datetime import date

import pytest

from bot.citations import (
    anchor_for,
    citation_line,
    common_unit,
    format_date,
    has_status_and_date,
    make_citation,
    status_text,
)
from index.records import Chunk, DocumentMeta, SentenceSpan

TODAY = date(2025, 6, 1)


def meta(**fields: object) -> DocumentMeta:
    base: dict[str, object] = {
        "title": "Ustawa o pomocy społecznej",
        "kind": "statute",
        "status": "in_force",
        "source_url": "https://isap.sejm.gov.pl/x",
    }
    base.update(fields)
    return DocumentMeta(**base)  # type: ignore[arg-type]  # test fields from a loose dict


def test_format_date_drops_leading_zero_of_the_day_only() -> None:
    assert format_date(date(2025, 1, 1)) == "1.01.2025"
    assert format_date(date(2024, 12, 24)) == "24.12.2024"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"effective_from": date(2025, 1, 1)}, "obowiązuje od 1.01.2025"),
        ({}, "obowiązuje"),
        ({"effective_from": date(2026, 1, 1)}, "wchodzi w życie 1.01.2026"),
        ({"status": "upcoming"}, "jeszcze nie obowiązuje"),
        (
            {"status": "draft", "kind": "draft", "extra": {"draft_id": "UD315"}},
            "projekt (UD315), nie obowiązuje",
        ),
        (
            {"status": "draft", "kind": "draft", "title": "Projekt ustawy (UD315)"},
            "projekt (UD315), nie obowiązuje",
        ),
        ({"status": "draft", "kind": "draft"}, "projekt, nie obowiązuje"),
        ({"status": "announced", "kind": "news"}, "zapowiedź, nie obowiązuje"),
        (
            {"effective_from": date(2019, 1, 1), "effective_to": date(2021, 12, 31)},
            "nieaktualne od 1.01.2022",
        ),
        ({"status": "historical"}, "nieaktualne"),
        (
            {"status": "historical", "kind": "conference", "date": date(2020, 10, 27)},
            "relacja z wydarzenia, 27.10.2020",
        ),
        ({"status": "historical", "kind": "conference"}, "relacja z wydarzenia"),
    ],
)
def test_status_text_for_every_status(fields: dict[str, object], expected: str) -> None:
    assert status_text(meta(**fields), TODAY) == expected


def test_status_follows_today() -> None:
    upcoming = meta(effective_from=date(2026, 1, 1))
    assert status_text(upcoming, date(2025, 12, 31)) == "wchodzi w życie 1.01.2026"
    assert status_text(upcoming, date(2026, 1, 1)) == "obowiązuje od 1.01.2026"


def test_citation_carries_passage_status_and_reads_as_one_line() -> None:
    chunk = Chunk(
        id="c1",
        doc_id="statutes/ups.md",
        anchor="art. 8 ust. 1",
        text="Art. 8. 1. Prawo …",
        embed_text="",
        position=0,
        meta=meta(published="Dz.U. 2025 poz. 1214", date=date(2025, 8, 1), effective_from=date(2025, 1, 1)),
    )
    citation = make_citation(2, chunk, TODAY)
    assert (citation.n, citation.chunk_id, citation.status) == (2, "c1", "in_force")
    assert citation.passage == "Art. 8. 1. Prawo …"
    assert citation.date == "2025-08-01"
    assert citation_line(citation) == (
        "[2] Ustawa o pomocy społecznej, art. 8 ust. 1, Dz.U. 2025 poz. 1214, 1.08.2025"
        " — obowiązuje od 1.01.2025"
    )


def spanned_chunk(spans: tuple[SentenceSpan, ...], anchor: str = "art. 7") -> Chunk:
    text = " ".join("x" * 9 for _ in spans)
    return Chunk("c", "d", anchor, text, text, meta(), 0, sentences=spans)


STEM_AND_ITEMS = (
    SentenceSpan(0, 9, "art. 7", items=(1, 2)),
    SentenceSpan(10, 19, "art. 7 pkt 1", stem=0),
    SentenceSpan(20, 29, "art. 7 pkt 11", stem=0),
)


@pytest.mark.parametrize(
    ("cited", "expected"),
    [
        ((2,), "art. 7 pkt 11"),
        ((0, 2), "art. 7 pkt 11"),  # the stem is the item's context
        ((0,), "art. 7"),
        ((1, 2), "art. 7"),
        ((), "art. 7"),  # nothing known: the chunk's anchor
        ((7,), "art. 7"),
    ],
)
def test_anchor_for_is_the_narrowest_unit_of_the_cited_sentences(
    cited: tuple[int, ...], expected: str
) -> None:
    assert anchor_for(spanned_chunk(STEM_AND_ITEMS), cited) == expected


def test_anchor_for_pdf_pages_and_paragraphs() -> None:
    pages = (
        SentenceSpan(0, 9, "", page=1, page_end=1),
        SentenceSpan(10, 19, "", page=1, page_end=2),
        SentenceSpan(20, 29, "", page=2, page_end=2),
    )
    chunk = spanned_chunk(pages, anchor="s. 1–2")
    assert [anchor_for(chunk, c) for c in ((0,), (1,), (2,), (0, 2))] == ["s. 1", "s. 1–2", "s. 2", "s. 1–2"]
    statute_pdf = spanned_chunk((SentenceSpan(0, 9, "art. 2 ust. 1", page=3, page_end=3),), anchor="art. 2")
    assert anchor_for(statute_pdf, (0,)) == "art. 2 ust. 1, s. 3"
    paragraphs = spanned_chunk(
        (SentenceSpan(0, 9, "akapit 3"), SentenceSpan(10, 19, "akapit 5")), "akapit 3–5"
    )
    assert anchor_for(paragraphs, (1,)) == "akapit 5" and anchor_for(paragraphs, (0, 1)) == "akapit 3–5"
    assert common_unit(["§ Wniosek", "§ Dochód"]) is None


def test_citation_of_cited_sentences_narrows_the_anchor_and_marks_them() -> None:
    citation = make_citation(1, spanned_chunk(STEM_AND_ITEMS), TODAY, [2, 0])
    assert citation.anchor == "art. 7 pkt 11" and citation.sentences == (0, 2)
    assert citation.highlights == ((0, 9), (20, 29))
    assert "art. 7 pkt 11" in citation_line(citation)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"kind": "statute_summary", "date": date(2025, 8, 22)}, "stan prawny na 22.08.2025"),
        (
            {"kind": "statute_summary", "date": date(2025, 8, 22), "effective_from": date(2004, 5, 1)},
            "stan prawny na 22.08.2025",
        ),
        ({"kind": "guide", "date": date(2025, 8, 22)}, "stan prawny na 22.08.2025"),
        ({"date": date(1960, 6, 14)}, "obowiązuje"),  # a statute's own date stands beside it
        (
            {"kind": "draft", "status": "draft", "date": date(2025, 9, 30)},
            "projekt z 30.09.2025, nie obowiązuje",
        ),
        (
            {"kind": "draft", "status": "draft", "date": date(2025, 9, 30), "extra": {"draft_id": "UD315"}},
            "projekt (UD315) z 30.09.2025, nie obowiązuje",
        ),
        (
            {"kind": "news", "status": "announced", "date": date(2025, 3, 3)},
            "zapowiedź z 3.03.2025, nie obowiązuje",
        ),
        (
            {"kind": "statute_summary", "status": "historical", "date": date(2020, 1, 2)},
            "nieaktualne, stan prawny na 2.01.2020",
        ),
        ({"status": "upcoming", "date": date(2025, 5, 5)}, "jeszcze nie obowiązuje, dokument z 5.05.2025"),
    ],
)
def test_status_text_shows_a_date_whenever_the_document_has_one(
    fields: dict[str, object], expected: str
) -> None:
    assert status_text(meta(**fields), TODAY) == expected


def test_every_front_end_shows_the_same_line_with_status_and_date() -> None:
    """Telegram (render), console (plain text) and JSON all show ``citation_line``."""
    from bot import render
    from bot.plain import answer_to_json, answer_to_text
    from bot.records import Answer, AnswerBlock, CitedSentence
    from tests.bot.html_check import visible_text

    chunk = Chunk(
        id="c1",
        doc_id="summaries/zasilek.md",
        anchor="§ Kto dostaje",
        text="Zasiłek stały przysługuje …",
        embed_text="",
        position=0,
        meta=meta(
            kind="statute_summary", date=date(2025, 8, 22), source_url="https://mops.example.pl/a?b=1&c=2"
        ),
    )
    citation = make_citation(1, chunk, TODAY)
    answer = Answer(
        question="q",
        answered=True,
        blocks=(AnswerBlock((CitedSentence("Zasiłek stały przysługuje …", (1,)),)),),
        citations=(citation,),
    )
    line = citation_line(citation)
    assert line == "[1] Ustawa o pomocy społecznej, § Kto dostaje — stan prawny na 22.08.2025"
    assert has_status_and_date(line)
    [message] = render.render_answer(answer)
    telegram = next(row for row in message.splitlines() if row.startswith("[1]"))
    assert visible_text(telegram) == line
    assert '<a href="https://mops.example.pl/a?b=1&amp;c=2">' in telegram
    assert line in answer_to_text(answer).splitlines()
    assert answer_to_json(answer)["citations"][0]["line"] == line  # type: ignore[index]  # JSON is typed as object


def test_has_status_and_date() -> None:
    assert has_status_and_date("[1] Ustawa, art. 7 — obowiązuje od 1.01.2025")
    assert has_status_and_date("[1] Ustawa, art. 7, 12.03.2004 — obowiązuje")
    assert not has_status_and_date("[1] Ustawa, art. 7 — obowiązuje")
    assert not has_status_and_date("[1] Ustawa 1.01.2025")


def test_an_act_without_a_start_date_shows_its_own_date_in_the_line() -> None:
    chunk = Chunk(
        id="k1",
        doc_id="statutes/kpa.md",
        anchor="art. 35",
        text="Art. 35. …",
        embed_text="",
        position=0,
        meta=meta(title="Kodeks postępowania administracyjnego", date=date(1960, 6, 14)),
    )
    line = citation_line(make_citation(1, chunk, TODAY))
    assert line == "[1] Kodeks postępowania administracyjnego, art. 35, 14.06.1960 — obowiązuje"
    assert has_status_and_date(line)
