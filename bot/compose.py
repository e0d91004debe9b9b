"""Composition: ranked evidence → an ``Answer`` that opens with the answer.

Structural rules only (no weights):
- the best unit opens the answer; a list item comes with its stem, a stem ending
  in ":" with its items (as many as fit); when the question asks for a list
  ("jakie", "wymień"), an item gives way to its whole list;
- then at most ``MAX_SUPPORT`` more units, in ranker order;
- the body stays within ``BODY_LIMIT`` characters; everything else ranked goes to
  ``Answer.more`` (Telegram "Więcej", ``--full`` in the CLI);
- units are grouped by status: in force first, then planned changes and drafts,
  then outdated law; a question about changes puts planned changes first, one
  about the past (or a past year) puts the outdated law first;
- sources are numbered by first use; each line cites its passage, its best-ranked
  unit first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.citations import make_citation
from bot.evidence import Candidate
from bot.records import Answer, AnswerBlock, Citation, CitedSentence
from index.polish import text_key
from index.query import Query
from index.records import LEGAL_KINDS, PLANNED_STATUSES, PROPOSED_STATUSES

BODY_LIMIT = 700  # characters of the default answer body (a phone shows ~300 before scrolling)
MAX_SUPPORT = 2  # units after the opening evidence
MAX_MORE = 6  # units behind "Więcej"
MAX_SOURCES = 4  # documents cited in the body

DRAFT_NOTICE = "Projekt nie jest obowiązującym prawem."
UPCOMING_NOTICE = "Te przepisy jeszcze nie obowiązują."
HEADING_PLANNED = "Zmiany planowane i projekty:"
HEADING_CURRENT = "Obecnie:"
HEADING_PAST = "Przepisy nieaktualne:"

_HEADINGS = {"planned": HEADING_PLANNED, "current": HEADING_CURRENT, "past": HEADING_PAST}


@dataclass(frozen=True)
class _Piece:
    """A unit chosen for the answer, with the rank that placed it."""

    candidate: Candidate
    order: int  # 0 = the opening evidence


def compose(
    query: Query, ranked: Sequence[Candidate], today: date, confidence: float, question: str
) -> Answer:
    """The answer from candidates in ranker order (best first)."""
    body = _body(_list_first(query, ranked))
    shown = {id(p.candidate) for p in body}
    rest = [c for c in ranked if id(c) not in shown and _adds(c, body)]
    more = [_Piece(c, len(body) + i) for i, c in enumerate(rest[:MAX_MORE])]
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    blocks = _blocks(body, query, today, numbers, citations)
    more_blocks = _blocks(more, query, today, numbers, citations, headed=True) if more else ()
    statuses = {p.candidate.status for p in body}
    notice = None
    if statuses & PROPOSED_STATUSES:
        notice = DRAFT_NOTICE
    elif "upcoming" in statuses:
        notice = UPCOMING_NOTICE
    return Answer(
        question=question,
        answered=True,
        blocks=blocks,
        citations=tuple(citations),
        notice=notice,
        confidence=confidence,
        more=more_blocks,
    )


def _list_first(query: Query, ranked: Sequence[Candidate]) -> Sequence[Candidate]:
    """For a question asking for a list, a best unit that is one item gives way to its stem,
    so the answer opens with the whole list (as many items as fit), not one point of it."""
    if not ranked or "list" not in query.types or not ranked[0].unit.stem:
        return ranked
    lead = ranked[0]
    stem = next(
        (c for c in ranked if c.hit.chunk.id == lead.hit.chunk.id and c.unit.text == lead.unit.stem),
        None,
    )
    if stem is None or not stem.unit.is_stem:
        return ranked
    return [stem, *(c for c in ranked if c is not stem)]


def _body(ranked: Sequence[Candidate]) -> list[_Piece]:
    """The opening evidence with its list context, then up to ``MAX_SUPPORT`` units, within ``BODY_LIMIT``."""
    if not ranked:
        return []
    lead = ranked[0]
    pieces = [_Piece(c, 0) for c in _with_context(lead, ranked)]
    used = sum(len(p.candidate.unit.text) + 5 for p in pieces)
    sources = {p.candidate.hit.chunk.doc_id for p in pieces}
    support = 0
    for cand in ranked[1:]:
        if support == MAX_SUPPORT:
            break
        if any(id(p.candidate) == id(cand) for p in pieces) or not _adds(cand, pieces):
            continue
        group = _with_context(cand, ranked) if cand.unit.stem else [cand]
        group = [c for c in group if all(id(p.candidate) != id(c) for p in pieces)]
        cost = sum(len(c.unit.text) + 5 for c in group)
        doc = cand.hit.chunk.doc_id
        if used + cost > BODY_LIMIT or (doc not in sources and len(sources) == MAX_SOURCES):
            continue
        support += 1
        used += cost
        sources.add(doc)
        pieces += [_Piece(c, support) for c in group]
    return pieces


def _with_context(cand: Candidate, ranked: Sequence[Candidate]) -> list[Candidate]:
    """A unit with its list context: an item with its stem, a stem with its items (in reading order).

    Items are taken until ``BODY_LIMIT`` is reached; an item is never without its
    stem, and a stem ending in ":" never without at least one item.
    """
    passage = [c for c in ranked if c.hit.chunk.id == cand.hit.chunk.id]
    by_text = {c.unit.text: c for c in passage}
    if cand.unit.stem:
        stem = by_text.get(cand.unit.stem)
        return [stem, cand] if stem is not None else [cand]
    if cand.unit.is_stem:
        items = sorted((c for c in passage if c.unit.stem == cand.unit.text), key=lambda c: c.unit.position)
        chosen = [cand]
        used = len(cand.unit.text)
        for item in items:
            if used + len(item.unit.text) + 5 > BODY_LIMIT and len(chosen) > 1:
                break
            chosen.append(item)
            used += len(item.unit.text) + 5
        return chosen
    return [cand]


def _adds(cand: Candidate, pieces: Sequence[_Piece]) -> bool:
    """False for a unit whose text is already shown (same words in another passage)."""
    key = text_key(cand.unit.text)
    return all(text_key(p.candidate.unit.text) != key for p in pieces)


def _group(cand: Candidate) -> str:
    if cand.status in PLANNED_STATUSES:
        return "planned"
    if cand.status == "historical" and cand.hit.chunk.meta.kind in LEGAL_KINDS:
        return "past"
    return "current"


def _blocks(
    pieces: Sequence[_Piece],
    query: Query,
    today: date,
    numbers: dict[str, int],
    citations: list[Citation],
    headed: bool = False,
) -> tuple[AnswerBlock, ...]:
    """Blocks in status order; within a block, sources by rank and units in reading order."""
    groups: dict[str, list[_Piece]] = {"planned": [], "current": [], "past": []}
    for piece in pieces:
        groups[_group(piece.candidate)].append(piece)
    if query.changes:
        order = ("planned", "current", "past")
    elif query.past:
        order = ("past", "current", "planned")
    else:
        order = ("current", "planned", "past")
    headed = headed or (
        sum(1 for name in groups if groups[name]) > 1
        or bool(groups["planned"])
        or (bool(groups["past"]) and not query.past)
    )
    blocks: list[AnswerBlock] = []
    for name in order:
        if not groups[name]:
            continue
        lines = []
        for chunk_id, group in _by_source(groups[name]):
            if chunk_id not in numbers:
                numbers[chunk_id] = len(numbers) + 1
                # The quoted sentences narrow the anchor and are shown in bold with the passage.
                quoted = [i for piece in group for i in piece.candidate.unit.sentences]
                citations.append(
                    make_citation(numbers[chunk_id], group[0].candidate.hit.chunk, today, quoted)
                )
            lines.append(CitedSentence(_join(group), (numbers[chunk_id],)))
        blocks.append(AnswerBlock(tuple(lines), _HEADINGS[name] if headed else None))
    return tuple(blocks)


def _by_source(pieces: Sequence[_Piece]) -> list[tuple[str, list[_Piece]]]:
    """Pieces by passage: passages in the order their best piece was chosen; within a passage
    the better-ranked evidence first (the answer opens the line), each with its list context
    in reading order."""
    grouped: dict[str, list[_Piece]] = {}
    for piece in sorted(pieces, key=lambda p: p.order):
        grouped.setdefault(piece.candidate.hit.chunk.id, []).append(piece)
    return [
        (cid, sorted(group, key=lambda p: (p.order, p.candidate.unit.position)))
        for cid, group in grouped.items()
    ]


def _join(pieces: Sequence[_Piece]) -> str:
    """One line from a passage's units; a gap or a step back in reading order is marked with "…"."""
    parts: list[str] = []
    shown = {p.candidate.unit.text for p in pieces}
    last = None
    for piece in pieces:
        unit = piece.candidate.unit
        if unit.stem and unit.stem not in shown:  # an item never stands without its stem
            parts.append(f"{unit.stem} …")
            shown.add(unit.stem)
        elif last is not None and unit.position != last + 1:
            parts.append("…")
        parts.append(unit.text)
        last = unit.position
    return " ".join(parts)
