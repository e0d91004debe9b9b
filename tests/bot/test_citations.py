"""Status texts and citation lines in Polish, computed for a given day."""

from __future__ import annotations

from datetime import date

import pytest

from bot.citations import citation_line, format_date, make_citation, status_text
from index.records import Chunk, DocumentMeta

TODAY = date(2025, 6, 1)


def meta(**fields: object) -> DocumentMeta:
    base: dict[str, object] = {
        "title": "Ustawa o pomocy społecznej",
        "kind": "statute",
        "status": "in_force",
        "source_url": "https://isap.sejm.gov.pl/x",
    }
    base.update(fields)
    return DocumentMeta(**base)  # type: ignore[arg-type]


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
