"""The records that flow through the pipeline: Document → Chunk → Hit.

Every step of ``index`` takes and returns these frozen dataclasses, so a citation
can always be traced back to its passage and its file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np

Kind = Literal[
    "statute", "statute_summary", "amendment", "draft", "regulation", "conference", "guide", "news"
]
KINDS: tuple[Kind, ...] = get_args(Kind)

Status = Literal["in_force", "upcoming", "draft", "announced", "historical"]
STATUSES: tuple[Status, ...] = get_args(Status)

# The groupings every step uses, defined once here (chunking, search, answers, /zmiany).
ENACTED_KINDS: frozenset[Kind] = frozenset({"statute", "amendment", "regulation"})
"""Enacted legal text, kept verbatim and numbered in art./ust./pkt."""
LEGAL_KINDS: frozenset[Kind] = ENACTED_KINDS | {"statute_summary"}
"""Documents that state the law: the enacted text and our summaries of it."""
CHANGE_KINDS: frozenset[Kind] = frozenset({"amendment", "regulation", "draft"})
"""Documents that change the law."""
PROPOSED_STATUSES: frozenset[Status] = frozenset({"draft", "announced"})
"""Not law, only proposed: declared by the author, never computed from dates."""
PLANNED_STATUSES: frozenset[Status] = PROPOSED_STATUSES | {"upcoming"}
"""Not in force yet: proposed, or enacted with a later start."""


@dataclass(frozen=True)
class DocumentMeta:
    """Metadata of one document (front matter or sidecar ``NAME.meta.yaml``)."""

    title: str
    kind: Kind
    status: Status
    source_url: str
    act: str | None = None
    published: str | None = None  # publication reference, e.g. "Dz.U. 2025 poz. 1214"
    # dt.date, not date: the field named ``date`` would shadow the type for the next two.
    date: dt.date | None = None
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    language: str = "pl"
    extra: dict[str, str] = field(default_factory=dict)  # place, organiser, speakers, draft id …


@dataclass(frozen=True)
class Page:
    """Where a PDF page lies in ``Document.text`` (character offsets, end exclusive)."""

    number: int
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """One loaded and cleaned file from the knowledge folder."""

    id: str  # path relative to the knowledge folder, POSIX separators
    text: str  # cleaned text
    meta: DocumentMeta
    content_hash: str  # sha256 of the raw file bytes (and its sidecar, if any)
    pages: tuple[Page, ...] = ()
    # Numbered paragraphs of a DOCX without headings ("akapit 12"), in the same shape as pages.
    paragraphs: tuple[Page, ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The page number holding character ``offset``, or None for unpaged text."""
        return _number_at(self.pages, offset)

    def paragraph_at(self, offset: int) -> int | None:
        """The DOCX paragraph number holding character ``offset``, or None."""
        return _number_at(self.paragraphs, offset)


def _number_at(regions: tuple[Page, ...], offset: int) -> int | None:
    for region in regions:
        if region.start <= offset < region.end:
            return region.number
    return None


@dataclass(frozen=True)
class SentenceSpan:
    """One sentence or list item of a chunk, computed once at build time (``index.sentences``).

    ``anchor`` is the most specific unit that holds the sentence ("art. 7 pkt 11",
    "art. 129 § 2", "§ 2 pkt 1"), else the chunk's heading ("§ Nagłówek") or DOCX
    paragraph ("akapit 12"), else "". Pages are kept apart so a statute PDF can
    show both; a sentence broken across a page break has ``page_end > page``.
    """

    start: int  # span in ``Chunk.text``, end exclusive
    end: int
    anchor: str = ""
    page: int | None = None  # the page the sentence starts on (PDF)
    page_end: int | None = None  # the page it ends on
    stem: int | None = None  # a list item: index of the sentence introducing its list
    items: tuple[int, ...] = ()  # a stem: indexes of its items


@dataclass(frozen=True)
class Chunk:
    """A citable passage: one legal unit, or one section/paragraph window."""

    id: str  # stable hash of doc id, anchor and normalised text
    doc_id: str
    anchor: str  # "art. 8 ust. 1 pkt 2" | "s. 3" | "§ Nagłówek" | ""
    text: str  # clean text shown to users
    embed_text: str  # text given to the embedder: title + unit path + text
    meta: DocumentMeta
    position: int  # order of the chunk inside its document
    page: int | None = None  # the page the passage starts on (PDF)
    sentences: tuple[SentenceSpan, ...] = ()  # in reading order

    def sentence_text(self, index: int) -> str:
        """The text of sentence ``index``, whitespace collapsed to single spaces."""
        span = self.sentences[index]
        return " ".join(self.text[span.start : span.end].split())


@dataclass(frozen=True)
class Hit:
    """A search result with the reasons it was found."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None  # 1-based rank in the dense list, None if absent
    lexical_rank: int | None = None  # 1-based rank in the BM25 list, None if absent
    unit_boost: bool = False  # the query named this chunk's legal unit
    dense_score: float | None = None  # cosine similarity of query and passage
    # Cosine of the query with each evidence unit of the chunk (``index.evidence.chunk_units``
    # order); None when the index stores no unit vectors, an item None when one is missing.
    unit_cosines: tuple[float | None, ...] | None = None

    @property
    def why(self) -> str:
        """A short human-readable reason, e.g. "dense #2, lexical #1, unit"."""
        parts = []
        if self.dense_rank is not None:
            parts.append(f"dense #{self.dense_rank}")
        if self.lexical_rank is not None:
            parts.append(f"lexical #{self.lexical_rank}")
        if self.unit_boost:
            parts.append("unit")
        return ", ".join(parts)


@dataclass(frozen=True)
class QueryVector:
    """A question's query vector and the model that made it (a vector means nothing to a
    model trained on another embedder's vectors)."""

    model_id: str
    values: np.ndarray
