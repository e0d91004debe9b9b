"""What the knowledge base holds (/zrodla) and which changes it knows of (/zmiany).

Pure functions over the index's chunk list: one entry per document, never per chunk.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.citations import document_date, status_text
from index.metadata import effective_status, format_date
from index.records import CHANGE_KINDS, KINDS, PLANNED_STATUSES, PROPOSED_STATUSES, Chunk, DocumentMeta

KIND_LABELS = {
    "statute": "Ustawy",
    "statute_summary": "Omówienia ustaw",
    "amendment": "Nowelizacje",
    "draft": "Projekty",
    "regulation": "Rozporządzenia",
    "conference": "Konferencje i szkolenia",
    "guide": "Poradniki",
    "news": "Aktualności",
}


@dataclass(frozen=True)
class SourceEntry:
    """One document of the knowledge base, as /zrodla lists it."""

    doc_id: str
    kind: str
    title: str
    status: str
    status_text: str
    date: date | None
    published: str | None
    source_url: str


@dataclass(frozen=True)
class ChangeEntry:
    """One change of the law (amendment, regulation, draft, announcement), as /zmiany lists it."""

    doc_id: str
    kind: str
    title: str
    status: str
    status_text: str
    effective: date | None  # when it takes (or took) effect, else the document's date
    published: str | None
    source_url: str


def list_sources(chunks: Iterable[Chunk], today: date | None = None) -> list[SourceEntry]:
    """Documents grouped by kind (in ``KINDS`` order), newest first within a kind."""
    today = today or date.today()
    entries = [
        SourceEntry(
            doc_id=doc_id,
            kind=meta.kind,
            title=meta.title,
            status=effective_status(meta, today),
            status_text=status_text(meta, today),
            date=document_date(meta),
            published=meta.published,
            source_url=meta.source_url,
        )
        for doc_id, meta in _documents(chunks).items()
    ]
    entries.sort(key=lambda e: (_kind_order(e.kind), -_ordinal(e.date), e.title))
    return entries


def list_changes(chunks: Iterable[Chunk], today: date | None = None) -> list[ChangeEntry]:
    """Changes of the law: upcoming (soonest first) and drafts, then in force, then historical.

    In-force and historical changes are listed newest first.
    """
    today = today or date.today()
    entries = []
    for doc_id, meta in _documents(chunks).items():
        status = effective_status(meta, today)
        announced_news = meta.kind == "news" and status == "announced"
        # Kinds that change the law; any document not yet in force counts too.
        if meta.kind not in CHANGE_KINDS and status not in PLANNED_STATUSES and not announced_news:
            continue
        entries.append(
            ChangeEntry(
                doc_id=doc_id,
                kind=meta.kind,
                title=meta.title,
                status=status,
                status_text=status_text(meta, today),
                effective=meta.effective_from or meta.date,
                published=meta.published,
                source_url=meta.source_url,
            )
        )
    entries.sort(key=_change_order)
    return entries


def format_sources(entries: Iterable[SourceEntry]) -> str:
    """Plain text for /zrodla: a heading per kind, one line per document."""
    lines: list[str] = []
    kind = None
    for entry in entries:
        if entry.kind != kind:
            kind = entry.kind
            lines.extend(([""] if lines else []) + [f"{KIND_LABELS.get(kind, kind)}:"])
        lines.append(f"• {_describe(entry.title, entry.published, entry.date, entry.status_text)}")
    if not lines:
        return "Baza wiedzy jest pusta."
    return "Baza wiedzy zawiera:\n\n" + "\n".join(lines)


def format_changes(entries: Iterable[ChangeEntry]) -> str:
    """Plain text for /zmiany: planned changes and drafts first, then the rest by date."""
    entries = list(entries)
    if not entries:
        return "W bazie wiedzy nie ma informacji o zmianach przepisów."
    sections = (
        ("Planowane zmiany i projekty:", [e for e in entries if e.status in PLANNED_STATUSES]),
        ("Obowiązujące zmiany:", [e for e in entries if e.status == "in_force"]),
        ("Zmiany nieaktualne:", [e for e in entries if e.status == "historical"]),
    )
    lines: list[str] = []
    for heading, group in sections:
        if not group:
            continue
        lines.extend(([""] if lines else []) + [heading])
        lines.extend(f"• {_describe(e.title, e.published, e.effective, e.status_text)}" for e in group)
    if any(e.status in PROPOSED_STATUSES for e in entries):
        lines.extend(["", "Projekt ani zapowiedź nie są obowiązującym prawem."])
    return "\n".join(lines)


def _documents(chunks: Iterable[Chunk]) -> dict[str, DocumentMeta]:
    """Each document's metadata once, in first-seen order."""
    documents: dict[str, DocumentMeta] = {}
    for chunk in chunks:
        documents.setdefault(chunk.doc_id, chunk.meta)
    return documents


def _describe(title: str, published: str | None, day: date | None, status: str) -> str:
    parts = [title]
    if published and published not in title:
        parts.append(published)
    if day and format_date(day) not in status:
        parts.append(format_date(day))
    return f"{', '.join(parts)} — {status}"


def _kind_order(kind: str) -> int:
    return KINDS.index(kind) if kind in KINDS else len(KINDS)


def _ordinal(day: date | None) -> int:
    return day.toordinal() if day else 0


def _change_order(entry: ChangeEntry) -> tuple[int, int, str]:
    if entry.status == "upcoming":  # soonest first
        return (0, _ordinal(entry.effective) or 10**7, entry.title)
    if entry.status in PROPOSED_STATUSES:  # newest first
        return (1, -_ordinal(entry.effective), entry.title)
    if entry.status == "in_force":
        return (2, -_ordinal(entry.effective), entry.title)
    return (3, -_ordinal(entry.effective), entry.title)
