"""/zrodla and /zmiany: one entry per document, grouped and ordered by status and date."""

from __future__ import annotations

from datetime import date

from bot.catalog import format_changes, format_sources, list_changes, list_sources
from index.records import Chunk, DocumentMeta

TODAY = date(2025, 6, 1)


def chunks_of(doc_id: str, n: int = 2, **meta: object) -> list[Chunk]:
    fields: dict[str, object] = {
        "title": doc_id,
        "kind": "statute",
        "status": "in_force",
        "source_url": f"https://example.org/{doc_id}",
    }
    fields.update(meta)
    document = DocumentMeta(**fields)  # type: ignore[arg-type]  # test fields from a loose dict
    return [
        Chunk(
            id=f"{doc_id}-{i}", doc_id=doc_id, anchor="", text="…", embed_text="", meta=document, position=i
        )
        for i in range(n)
    ]


CHUNKS = [
    *chunks_of("ups", kind="statute", effective_from=date(2024, 1, 1)),
    *chunks_of("conf", kind="conference", status="historical", date=date(2024, 6, 10)),
    *chunks_of(
        "nowel-2024", kind="amendment", effective_from=date(2024, 5, 1), published="Dz.U. 2024 poz. 743"
    ),
    *chunks_of("nowel-2026", kind="amendment", effective_from=date(2026, 1, 1)),
    *chunks_of("nowel-2025-07", kind="amendment", effective_from=date(2025, 7, 1)),
    *chunks_of("ud315", kind="draft", status="draft", date=date(2025, 9, 30), extra={"draft_id": "UD315"}),
    *chunks_of(
        "old-reg", kind="regulation", effective_from=date(2018, 10, 1), effective_to=date(2021, 12, 31)
    ),
    *chunks_of("zapowiedz", kind="news", status="announced", date=date(2025, 5, 1)),
    *chunks_of("news-plain", kind="news", status="in_force", date=date(2025, 5, 2)),
]


def test_sources_one_entry_per_document_grouped_by_kind() -> None:
    entries = list_sources(CHUNKS, TODAY)
    assert len(entries) == 9
    assert [e.kind for e in entries][:4] == ["statute", "amendment", "amendment", "amendment"]
    text = format_sources(entries)
    assert "Ustawy:" in text and "Konferencje i szkolenia:" in text and "Projekty:" in text
    assert "ups — obowiązuje od 1.01.2024" in text
    assert "nowel-2024, Dz.U. 2024 poz. 743 — obowiązuje od 1.05.2024" in text


def test_changes_upcoming_and_drafts_first_then_in_force_then_historical() -> None:
    entries = list_changes(CHUNKS, TODAY)
    assert [e.doc_id for e in entries] == [
        "nowel-2025-07",
        "nowel-2026",  # upcoming, soonest first
        "ud315",
        "zapowiedz",  # drafts and announcements, newest first
        "nowel-2024",  # in force
        "old-reg",  # historical
    ]
    text = format_changes(entries)
    assert (
        text.index("Planowane zmiany i projekty:")
        < text.index("Obowiązujące zmiany:")
        < text.index("Zmiany nieaktualne:")
    )
    assert "nowel-2026 — wchodzi w życie 1.01.2026" in text
    assert "projekt (UD315) z 30.09.2025, nie obowiązuje" in text
    assert "old-reg, 1.10.2018 — nieaktualne od 1.01.2022" in text
    assert "nie są obowiązującym prawem" in text


def test_changes_follow_today() -> None:
    later = [e.doc_id for e in list_changes(CHUNKS, date(2026, 2, 1)) if e.status == "upcoming"]
    assert later == []


def test_empty_knowledge_base() -> None:
    assert format_sources(list_sources([], TODAY)) == "Baza wiedzy jest pusta."
    assert "nie ma informacji" in format_changes(list_changes([], TODAY))
