"""Citations in Polish: a source's status on a given day, and its one-line description."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta

from bot.records import Citation
from index.chunking import page_anchor
from index.legal_units import LEVELS, UnitRef, parse_anchor
from index.metadata import effective_status, format_date
from index.records import Chunk, DocumentMeta, SentenceSpan

# Metadata keys under which authors may give a draft's legislative number ("UD315").
_DRAFT_ID_KEYS = ("draft_id", "project_id", "projekt", "number", "numer", "id")
_DRAFT_ID = re.compile(r"\b(UD\s?\d+|U\d+|RD\s?\d+)\b")
_PARAGRAPH_ANCHOR = re.compile(r"akapit (\d+)(?:–(\d+))?")
# Legal acts: their ``date`` is the act's own date, not a legal state.
_ACTS = frozenset({"statute", "regulation", "amendment"})
_DATE = re.compile(r"\b\d{1,2}\.\d{2}\.\d{4}\b")


def status_text(meta: DocumentMeta, today: date) -> str:
    """The status of a source on ``today`` in Polish, always with a date when one is known.

    "obowiązuje od 1.01.2025", "stan prawny na 22.08.2025" (a summary or guide;
    an act without a start date reads "obowiązuje" beside its own date in the
    citation line), "wchodzi w życie 1.01.2026", "projekt (UD315)
    z 30.09.2025, nie obowiązuje", "zapowiedź z 3.03.2025, nie obowiązuje",
    "nieaktualne od 1.01.2022" (the day after ``effective_to``); conference
    reports read "relacja z wydarzenia, 27.10.2020". Without any date (metadata
    built in memory, never a validated document) the date part is left out.
    """
    status = effective_status(meta, today)
    day = f" {format_date(meta.date)}" if meta.date else ""
    since = f" z{day}" if day else ""
    if meta.kind == "conference":
        # A report of a past event is not "outdated law": say what it is and when it happened.
        return f"relacja z wydarzenia,{day}" if day else "relacja z wydarzenia"
    if status == "in_force":
        if meta.effective_from and meta.kind != "statute_summary":
            return f"obowiązuje od {format_date(meta.effective_from)}"
        if meta.kind in _ACTS or not day:
            return "obowiązuje"  # an act's own date stands beside it in the citation line
        # A summary (or a guide) describes the law as it stood on its date.
        return f"stan prawny na{day}"
    if status == "upcoming":
        if meta.effective_from:
            return f"wchodzi w życie {format_date(meta.effective_from)}"
        return f"jeszcze nie obowiązuje, dokument{since}" if day else "jeszcze nie obowiązuje"
    if status == "draft":
        draft_id = draft_number(meta)
        label = f"projekt ({draft_id})" if draft_id else "projekt"
        return f"{label}{since}, nie obowiązuje"
    if status == "announced":
        return f"zapowiedź{since}, nie obowiązuje"
    if meta.effective_to:
        return f"nieaktualne od {format_date(meta.effective_to + timedelta(days=1))}"
    return f"nieaktualne, stan prawny na{day}" if day and meta.kind not in _ACTS else "nieaktualne"


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


def anchor_for(chunk: Chunk, sentence_indexes: Sequence[int]) -> str:
    """The most specific anchor holding the cited sentences of ``chunk``.

    "art. 7 pkt 11" for one list item; their common unit for several ("art. 7"
    for pkt 1 and pkt 7); a list's stem cited with its items is their context and
    does not widen the anchor. PDFs add the pages the sentences stand on:
    "s. 2", "s. 1–2", "art. 2, s. 3". Without known sentences, the chunk's anchor.
    """
    chosen = sorted({i for i in sentence_indexes if 0 <= i < len(chunk.sentences)})
    if not chosen:
        return chunk.anchor
    cited = [chunk.sentences[i] for i in chosen]
    # A stem quoted as the context of cited items adds no unit of its own.
    own = [s for s in cited if not (s.items and set(s.items) & set(chosen))] or cited
    unit = common_unit([s.anchor for s in own])
    if unit is None:
        unit = "" if chunk.anchor.startswith("s. ") else chunk.anchor
    return ", ".join(part for part in (unit, _pages(cited)) if part)


def common_unit(anchors: Sequence[str]) -> str | None:
    """The narrowest anchor holding all of ``anchors``; None when they share none.

    Legal units share their common path ("art. 7 pkt 1" and "art. 7 pkt 7" →
    "art. 7"), paragraphs their range ("akapit 3–5"), headings must be equal.
    """
    distinct = list(dict.fromkeys(anchors))
    if len(distinct) == 1:
        return distinct[0]
    refs = [parse_anchor(a) for a in distinct]
    if all(refs):
        common: dict[str, str] = {}
        for level in LEVELS:
            values = {getattr(ref, level) for ref in refs}
            if len(values) != 1:
                break
            value = values.pop()
            if value is not None:
                common[level] = value
        return UnitRef(**common).anchor or None
    numbers = [_PARAGRAPH_ANCHOR.fullmatch(a) for a in distinct]
    if all(numbers):
        first = min(int(m.group(1)) for m in numbers if m)
        last = max(int(m.group(2) or m.group(1)) for m in numbers if m)
        return f"akapit {first}" if first == last else f"akapit {first}–{last}"
    return None


def _pages(sentences: Sequence[SentenceSpan]) -> str:
    firsts = [s.page for s in sentences if s.page is not None]
    lasts = [s.page_end if s.page_end is not None else s.page for s in sentences if s.page is not None]
    return page_anchor(min(firsts), max(lasts)) if firsts else ""


def make_citation(n: int, chunk: Chunk, today: date, sentences: Sequence[int] = ()) -> Citation:
    """Citation number ``n`` for ``chunk``, with its status computed for ``today``.

    ``sentences`` are the indexes (into ``chunk.sentences``) the answer quotes:
    they narrow the anchor (``anchor_for``) and are shown in bold with the passage.
    """
    meta = chunk.meta
    day = document_date(meta)
    cited = tuple(sorted({i for i in sentences if 0 <= i < len(chunk.sentences)}))
    return Citation(
        n=n,
        chunk_id=chunk.id,
        doc_id=chunk.doc_id,
        title=meta.title,
        anchor=anchor_for(chunk, cited),
        status=effective_status(meta, today),
        status_text=status_text(meta, today),
        published=meta.published,
        date=day.isoformat() if day else None,
        source_url=meta.source_url,
        passage=chunk.text,
        sentences=cited,
        highlights=tuple((chunk.sentences[i].start, chunk.sentences[i].end) for i in cited),
    )


def citation_line(citation: Citation) -> str:
    """THE one source line of every front end (Telegram, console, JSON).

    "[1] Title, art. 7, Dz.U. 2023 poz. 901, 12.03.2004 — obowiązuje od 1.01.2025":
    the number and title first (Telegram links the title), then the unit, the
    publication, the document's date unless the status already shows it, and the
    status with its date.
    """
    parts = [f"[{citation.n}] {citation.title}"]
    if citation.anchor:
        parts.append(citation.anchor)
    if citation.published and citation.published not in citation.title:
        parts.append(citation.published)
    if citation.date and not _date_in(citation):
        parts.append(format_date(date.fromisoformat(citation.date)))
    return f"{', '.join(parts)} — {citation.status_text}"


def has_status_and_date(line: str) -> bool:
    """True when a citation line shows a status after " — " and a date (d.mm.yyyy) in it."""
    _, dash, status = line.rpartition(" — ")
    return bool(dash and status.strip()) and _DATE.search(line) is not None


def _date_in(citation: Citation) -> bool:
    """True when the status text already shows the source's date (no need to repeat it)."""
    assert citation.date is not None
    return format_date(date.fromisoformat(citation.date)) in citation.status_text
