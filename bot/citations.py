"""Citations in Polish: a source's status on a given day, and its one-line description."""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.records import Citation
from index.metadata import effective_status
from index.records import Chunk, DocumentMeta

# Metadata keys under which authors may give a draft's legislative number ("UD315").
_DRAFT_ID_KEYS = ("draft_id", "project_id", "projekt", "number", "numer", "id")
_DRAFT_ID = re.compile(r"\b(UD\s?\d+|U\d+|RD\s?\d+)\b")


def format_date(day: date) -> str:
    """A date as Polish documents write it: day without a leading zero, "1.01.2025"."""
    return f"{day.day}.{day.month:02d}.{day.year}"


def status_text(meta: DocumentMeta, today: date) -> str:
    """The status of a source on ``today`` in Polish.

    "obowiązuje od 1.01.2025" / "obowiązuje", "wchodzi w życie 1.01.2026",
    "projekt (UD315), nie obowiązuje", "zapowiedź, nie obowiązuje",
    "nieaktualne od 1.01.2022" (the day after ``effective_to``) / "nieaktualne";
    conference reports read "relacja z wydarzenia, 27.10.2020".
    """
    status = effective_status(meta, today)
    if meta.kind == "conference":
        # A report of a past event is not "outdated law": say what it is and when it happened.
        return f"relacja z wydarzenia, {format_date(meta.date)}" if meta.date else "relacja z wydarzenia"
    if status == "in_force":
        return f"obowiązuje od {format_date(meta.effective_from)}" if meta.effective_from else "obowiązuje"
    if status == "upcoming":
        if meta.effective_from:
            return f"wchodzi w życie {format_date(meta.effective_from)}"
        return "jeszcze nie obowiązuje"
    if status == "draft":
        draft_id = draft_number(meta)
        return f"projekt ({draft_id}), nie obowiązuje" if draft_id else "projekt, nie obowiązuje"
    if status == "announced":
        return "zapowiedź, nie obowiązuje"
    if meta.effective_to:
        return f"nieaktualne od {format_date(meta.effective_to + timedelta(days=1))}"
    return "nieaktualne"


def draft_number(meta: DocumentMeta) -> str | None:
    """A draft's legislative number (e.g. "UD315") from its metadata or title, if any."""
    for key in _DRAFT_ID_KEYS:
        value = meta.extra.get(key)
        if value:
            return value.strip()
    for text in (meta.title, meta.published or ""):
        match = _DRAFT_ID.search(text)
        if match:
            return match.group(1).replace(" ", "")
    return None


def document_date(meta: DocumentMeta) -> date | None:
    """The date that best dates a source: its own date, else when it took effect."""
    return meta.date or meta.effective_from


def make_citation(n: int, chunk: Chunk, today: date) -> Citation:
    """Citation number ``n`` for ``chunk``, with its status computed for ``today``."""
    meta = chunk.meta
    day = document_date(meta)
    return Citation(
        n=n,
        chunk_id=chunk.id,
        doc_id=chunk.doc_id,
        title=meta.title,
        anchor=chunk.anchor,
        status=effective_status(meta, today),
        status_text=status_text(meta, today),
        published=meta.published,
        date=day.isoformat() if day else None,
        source_url=meta.source_url,
        passage=chunk.text,
    )


def citation_line(citation: Citation) -> str:
    """One source line: "[1] Title, art. 7, Dz.U. 2023 poz. 901, 12.03.2004 — obowiązuje"."""
    parts = [citation.title]
    if citation.anchor:
        parts.append(citation.anchor)
    if citation.published:
        parts.append(citation.published)
    if citation.date and not _date_in(citation):
        parts.append(format_date(date.fromisoformat(citation.date)))
    return f"[{citation.n}] {', '.join(parts)} — {citation.status_text}"


def _date_in(citation: Citation) -> bool:
    """True when the status text already shows the source's date (no need to repeat it)."""
    assert citation.date is not None
    return format_date(date.fromisoformat(citation.date)) in citation.status_text
