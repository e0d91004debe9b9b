"""Split a Document into citable Chunks.

Acts (statute, regulation, amendment, and drafts that contain articles) are
split along legal units: an article stays whole when short, else its ust., else
its pkt, each carrying the article's leading sentence. Changes made by an
amending act become one chunk each, naming the unit they change. Summaries are
split by headings, anchored to the unit a heading names. Everything else is
split into ~200-word windows of sentences with a small overlap.

Every piece of a chunk's text remembers where it stands in ``Document.text``, so
each sentence of a chunk (``index.sentences``, run once here at build time) gets
the page it starts on and the most specific legal unit that holds it.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace

from index.legal_units import ParsedAct, UnitNode, parse_unit_refs, parse_units
from index.records import ENACTED_KINDS, Chunk, Document, SentenceSpan
from index.sentences import sentence_spans, sentences

# The embedder reads at most 512 tokens, about 300 Polish words with the title.
MAX_UNIT_WORDS = 300
TARGET_WORDS = 180
MAX_WORDS = 250
OVERLAP_SENTENCES = 2
OVERLAP_MAX_WORDS = 40
LEAD_MAX_WORDS = 80  # an article's leading sentence longer than this is not repeated

_QUOTE_AWARE_KINDS = frozenset({"amendment", "draft"})
_MIN_DRAFT_ARTICLES = 2

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)
_LIST_ITEM = re.compile(r"^(?:[-•*–]\s|\d{1,3}[.)]\s|[a-z]\)\s)")
# The "Art. 7. [Tytuł]" head of an article: a sentence's unit is read after it.
_ARTICLE_HEAD = re.compile(r"(?:#{1,6}\s*)?(?:\*\*)?Art\.\s*\S+\.(?:\*\*)?\s*(?:\[[^\]\n]*\]\s*)?")
_AMENDING = re.compile(
    r"\bW\s+(?:ustawie|rozporządzeniu|kodeksie)\b.*?(?:wprowadza się|dodaje się|otrzymuje brzmienie"
    r"|uchyla się|skreśla się|zastępuje się|w brzmieniu)",
    re.DOTALL,
)
_AMENDED_ACT = re.compile(
    r"W\s+ustawie\s+z\s+dnia\s+\d{1,2}\s+\w+\s+\d{4}\s+r\.\s*(?:[–-]\s*)?(.+?)\s*\(", re.DOTALL
)
_ADDED_UNIT = re.compile(
    r"dodaje się\s+(art\.|ust\.|pkt|lit\.|§)\s*"
    r"([\w¹²³⁴⁵⁶⁷⁸⁹^]+(?:\s*[–-]\s*[\w¹²³⁴⁵⁶⁷⁸⁹^]+)?)"  # "ust. 3-10": a range of new units
)
_QUOTE_START = re.compile(r"[„“\"«]")


@dataclass(frozen=True)
class _Unit:
    """A sentence or list line with the separator that stands before it.

    ``text`` is ``Document.text[offset:offset + len(text)]`` with line breaks as spaces.
    """

    offset: int
    text: str
    sep: str


@dataclass(frozen=True)
class _Draft:
    """A chunk before it gets its id, page and position: pieces of the document, joined."""

    anchor: str
    units: tuple[_Unit, ...]
    context: str  # unit or heading path, given to the embedder
    offset: int  # where the passage's own text (after any lead) starts in ``Document.text``

    @property
    def text(self) -> str:
        return self.units[0].text + "".join(u.sep + u.text for u in self.units[1:])


def _lead_units(lead: Sequence[_Unit], units: Sequence[_Unit]) -> tuple[_Unit, ...]:
    """``lead`` then ``units``, each on its own line (``_join`` for pieces that know their offsets)."""
    joined = [*lead, *units]
    return tuple(replace(u, sep="\n") if 0 < i <= len(lead) else u for i, u in enumerate(joined))


def chunk_document(
    doc: Document,
    *,
    max_unit_words: int = MAX_UNIT_WORDS,
    target_words: int = TARGET_WORDS,
    max_words: int = MAX_WORDS,
) -> list[Chunk]:
    """The chunks of ``doc``, in reading order; ids are stable and unique within it."""
    kind = doc.meta.kind
    window = _Window(target_words, max_words)
    drafts: list[_Draft] = []
    units = _UnitMap(())
    if kind in ENACTED_KINDS or kind == "draft":
        parsed = parse_units(doc.text, respect_quotes=kind in _QUOTE_AWARE_KINDS)
        articles = [u for u in parsed.units if u.ref.article is not None]
        if parsed.units and (kind != "draft" or len(articles) >= _MIN_DRAFT_ARTICLES):
            drafts = _legal_drafts(doc, parsed, max_unit_words, window)
            units = _UnitMap(parsed.units)
    elif kind == "statute_summary":
        drafts = _section_drafts(doc, window, anchor_units=True)
    if not drafts:
        drafts = _section_drafts(doc, window, anchor_units=False)
    return _finalise(doc, drafts, units)


# --- legal texts ----------------------------------------------------------------------


def _legal_drafts(doc: Document, parsed: ParsedAct, max_words: int, window: _Window) -> list[_Draft]:
    drafts = []
    if parsed.preamble and not _only_title(parsed.preamble):
        drafts += [_Draft("", w, "", w[0].offset) for w in window.pack(_units(parsed.preamble, 0))]
    for unit in parsed.units:
        if _AMENDING.match(_strip_head(unit.intro)):
            drafts += _amendment_drafts(doc, unit, window)
        else:
            drafts += _unit_drafts(unit, (), max_words, window)
    for note in parsed.interludes:
        anchor = f"§ {note.heading.split(' / ')[-1]}" if note.heading else ""
        for w in window.pack(_units(note.text, note.start)):
            drafts.append(_Draft(anchor, w, note.heading, w[0].offset))
    # Reading order, so positions follow the text.
    return sorted(drafts, key=lambda draft: draft.offset)


def _unit_drafts(unit: UnitNode, lead: tuple[_Unit, ...], max_words: int, window: _Window) -> list[_Draft]:
    """The unit whole if it fits, else its children, each with the leading text above it."""
    context = _join(unit.heading, unit.ref.anchor, sep=" — ")
    lead_words = sum(_words(u.text) for u in lead)
    if lead_words + _words(unit.text) <= max_words:
        whole = _Unit(unit.start, unit.text, "")
        return [_Draft(unit.ref.anchor, _lead_units(lead, [whole]), context, unit.start)]
    if unit.children:
        text = unit.intro if _words(unit.intro) <= LEAD_MAX_WORDS else _head_only(unit.intro)
        intro = (_Unit(unit.start, text, ""),) if text else ()
        lead = (*lead, *intro) if lead_words + _words(text) <= LEAD_MAX_WORDS else intro
        drafts = []
        for child in unit.children:
            child = _with_heading(child, unit.heading)
            drafts += _unit_drafts(child, lead, max_words, window)
        return drafts
    return [
        _Draft(unit.ref.anchor, _lead_units(lead, w), context, w[0].offset)
        for w in window.pack(_units(unit.text, unit.start, keep_lines=True))
    ]


def _amendment_drafts(doc: Document, unit: UnitNode, window: _Window) -> list[_Draft]:
    """One chunk per change ("art. 1 pkt 2"), whose context names the unit it changes."""
    act = _amended_act(unit.intro) or doc.meta.act or ""
    changes = unit.children if unit.children and unit.children[0].ref.pkt else (unit,)
    text = unit.intro if changes[0] is not unit else ""
    if _words(text) > LEAD_MAX_WORDS:
        text = _head_only(text)
    lead = (_Unit(unit.start, text, ""),) if text else ()
    drafts = []
    for change in changes:
        target = _amended_target(change.text if change is not unit else _strip_head(unit.text))
        what = _join(f"zmiana {target}" if target else "zmiana", act, sep=" ")
        context = _join(unit.heading, f"{change.ref.anchor} — {what}", sep=" — ")
        for w in window.pack(_units(change.text, change.start, keep_lines=True)):
            drafts.append(_Draft(change.ref.anchor, _lead_units(lead, w), context, w[0].offset))
    return drafts


def _amended_act(intro: str) -> str:
    """ "W ustawie z dnia … o pomocy społecznej (Dz. U. …)" → "ustawy o pomocy społecznej"."""
    match = _AMENDED_ACT.search(intro)
    if not match:
        return ""
    name = " ".join(match.group(1).split())
    return f"ustawy {name}" if name.startswith("o ") else f"ustawy – {name}"


def _amended_target(text: str) -> str:
    """The unit a change acts on, read from its text before any quoted new wording."""
    quote = _QUOTE_START.search(text)
    own = text[: quote.start()] if quote else text
    own = re.sub(r"\([^)]*\)", " ", own)  # "(Dz. U. … poz. 901)" names no unit
    refs = parse_unit_refs(own)
    if not refs:
        return ""
    target = refs[0].anchor
    added = _ADDED_UNIT.search(own)
    if added:
        level, label = added.group(1), re.sub(r"\s*[–-]\s*", "–", added.group(2))
        if level == "art.":
            return f"art. {label}"
        # "w art. 24 dodaje się ust. 3-10": the new units replace that level of the path.
        prefix = target.split(f" {level} ")[0] if f" {level} " in target else target
        return f"{prefix} {level} {label}"
    return target


# --- headed texts (summaries, guides, news, PDFs) ------------------------------------------


def _section_drafts(doc: Document, window: _Window, *, anchor_units: bool) -> list[_Draft]:
    """Split by Markdown headings, then into windows; anchored to the heading (or its unit)."""
    drafts = []
    path: dict[int, str] = {}
    matches = list(_HEADING.finditer(doc.text))
    starts = [0] + [m.end() for m in matches]
    ends = [m.start() for m in matches] + [len(doc.text)]
    for index, (start, end) in enumerate(zip(starts, ends, strict=True)):
        anchor, heading_path = "", ""
        if index > 0:
            match = matches[index - 1]
            level, heading = len(match.group(1)), match.group(2).strip("*_ ")
            path = {lvl: h for lvl, h in path.items() if lvl < level}
            path[level] = heading
            heading_path = " > ".join(path[lvl] for lvl in sorted(path))
            refs = parse_unit_refs(heading) if anchor_units else []
            anchor = refs[0].anchor if refs else f"§ {heading}"
        for w in window.pack(_units(doc.text[start:end], start)):
            drafts.append(_Draft(anchor, w, heading_path, w[0].offset))
    return drafts


# --- sentence windows -------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    target: int
    maximum: int

    def pack(self, units: list[_Unit]) -> list[tuple[_Unit, ...]]:
        """Greedy windows of about ``target`` words, never over ``maximum`` (one
        over-long sentence excepted), the next starting with the last sentence or two."""
        windows: list[tuple[_Unit, ...]] = []
        current: list[_Unit] = []
        fresh = 0  # units in ``current`` not carried over from the previous window
        for unit in _split_long(units, self.maximum):
            size = sum(_words(u.text) for u in current)
            full = size + _words(unit.text) > self.maximum
            at_break = unit.sep == "\n\n" and size >= self.target
            if fresh and (full or at_break):
                windows.append(tuple(current))
                current = _overlap(current) if not at_break or full else []
                fresh = 0
            current.append(unit)
            fresh += 1
        if fresh:
            windows.append(tuple(current))
        return windows


def _units(text: str, base: int, keep_lines: bool = False) -> list[_Unit]:
    """Sentences and list lines of ``text`` (offset ``base`` in the document).

    With ``keep_lines`` (legal text) every line is a unit, so pkt lists keep their shape.
    """
    units: list[_Unit] = []
    for block in re.finditer(r"[^\n]+(?:\n[^\n]+)*", text):
        lines = block.group().split("\n")
        listed = keep_lines or (len(lines) > 1 and any(_LIST_ITEM.match(line) for line in lines))
        sep = "\n\n"
        if listed:
            offset = base + block.start()
            for line in lines:
                if line.strip():
                    units.append(_Unit(offset + len(line) - len(line.lstrip()), line.strip(), sep))
                offset, sep = offset + len(line) + 1, "\n"
            continue
        for start, end in sentence_spans(block.group()):
            sentence = " ".join(block.group()[start:end].split())
            if sentence:
                units.append(_Unit(base + block.start() + start, sentence, sep))
                sep = " "
    return units


def _split_long(units: list[_Unit], maximum: int) -> list[_Unit]:
    result = []
    for unit in units:
        words = unit.text.split()
        if len(words) <= maximum:
            result.append(unit)
            continue
        for i in range(0, len(words), maximum):
            skipped = len(" ".join(words[:i])) + 1 if i else 0
            piece = _Unit(
                unit.offset + skipped, " ".join(words[i : i + maximum]), unit.sep if i == 0 else " "
            )
            result.append(piece)
    return result


def _overlap(units: list[_Unit]) -> list[_Unit]:
    carried: list[_Unit] = []
    for unit in reversed(units[-OVERLAP_SENTENCES:]):
        if sum(_words(u.text) for u in carried) + _words(unit.text) > OVERLAP_MAX_WORDS:
            break
        carried.insert(0, unit)
    return carried


# --- records ------------------------------------------------------------------------------


def _finalise(doc: Document, drafts: list[_Draft], units: _UnitMap) -> list[Chunk]:
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for draft in drafts:
        if not draft.text.strip():
            continue
        position = len(chunks)
        page = doc.page_at(draft.offset) if doc.pages else None
        spans = _sentence_spans(doc, draft, units)
        anchor = draft.anchor or page_anchor(
            min((s.page for s in spans if s.page is not None), default=page),
            max((s.page_end for s in spans if s.page_end is not None), default=page),
        )
        if not anchor and doc.paragraphs:
            numbers = [int(s.anchor.split()[1]) for s in spans if s.anchor.startswith("akapit ")]
            anchor = _paragraph_anchor(min(numbers), max(numbers)) if numbers else ""
        chunk_id = _chunk_id(doc.id, anchor, draft.text)
        if chunk_id in seen:
            chunk_id = _chunk_id(doc.id, anchor, draft.text, salt=str(position))
        seen.add(chunk_id)
        chunks.append(
            Chunk(
                id=chunk_id,
                doc_id=doc.id,
                anchor=anchor,
                text=draft.text,
                embed_text=_join(doc.meta.title, draft.context, draft.text),
                meta=doc.meta,
                position=position,
                page=page,
                sentences=spans,
            )
        )
    return chunks


def page_anchor(first: int | None, last: int | None) -> str:
    """ "s. 2", or "s. 1–2" for text running over pages; "" for unpaged text."""
    if first is None:
        return ""
    return f"s. {first}" if last is None or last == first else f"s. {first}–{last}"


def _paragraph_anchor(first: int, last: int) -> str:
    return f"akapit {first}" if first == last else f"akapit {first}–{last}"


class _UnitMap:
    """The legal units of a document, to find the most specific one holding an offset."""

    def __init__(self, top: Sequence[UnitNode]) -> None:
        spans: list[tuple[int, int, str]] = []

        def walk(node: UnitNode) -> None:  # pre-order: a parent comes before its children
            spans.append((node.start, node.start + len(node.text), node.ref.anchor))
            for child in node.children:
                walk(child)

        for node in top:
            walk(node)
        self._spans = spans
        self._starts = [start for start, _, _ in spans]

    def anchor_at(self, offset: int) -> str | None:
        """The anchor of the deepest unit holding ``offset``, or None outside every unit."""
        index = bisect_right(self._starts, offset) - 1
        # Walking back in pre-order, the first unit that still holds the offset is the deepest.
        while index >= 0:
            start, end, anchor = self._spans[index]
            if start <= offset < end:
                return anchor
            index -= 1
        return None


def text_sentences(text: str, anchor: str = "") -> tuple[SentenceSpan, ...]:
    """Sentences of a passage made outside a document (evaluation corpora): no pages, one anchor."""
    return tuple(
        SentenceSpan(start=s.start, end=s.end, anchor=anchor, stem=s.stem, items=s.items)
        for s in sentences(text)
    )


def _sentence_spans(doc: Document, draft: _Draft, units: _UnitMap) -> tuple[SentenceSpan, ...]:
    """The sentences of the draft's text with their page, unit anchor and list structure."""
    text = draft.text
    starts, place = [], 0  # where each piece starts in ``text``
    for i, unit in enumerate(draft.units):
        place += len(unit.sep) if i else 0
        starts.append(place)
        place += len(unit.text)

    def in_document(position: int) -> int:
        index = max(0, bisect_right(starts, position) - 1)
        unit = draft.units[index]
        return unit.offset + min(max(position - starts[index], 0), max(len(unit.text) - 1, 0))

    spans = []
    for sentence in sentences(text):
        head = _ARTICLE_HEAD.match(text, sentence.start)
        content = min(head.end() if head else sentence.start, sentence.end - 1)
        anchor = units.anchor_at(in_document(content)) or draft.anchor
        if not anchor and doc.paragraphs:
            number = doc.paragraph_at(in_document(content))
            anchor = f"akapit {number}" if number is not None else ""
        first, last = in_document(sentence.start), in_document(sentence.end - 1)
        spans.append(
            SentenceSpan(
                start=sentence.start,
                end=sentence.end,
                anchor=anchor,
                page=doc.page_at(first) if doc.pages else None,
                page_end=doc.page_at(last) if doc.pages else None,
                stem=sentence.stem,
                items=sentence.items,
            )
        )
    return tuple(spans)


def _chunk_id(doc_id: str, anchor: str, text: str, salt: str = "") -> str:
    normalised = " ".join(text.lower().split())
    key = "\n".join((doc_id, anchor, normalised, salt))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def _words(text: str) -> int:
    return len(text.split())


def _join(*parts: str, sep: str = "\n") -> str:
    return sep.join(p for p in parts if p)


def _strip_head(text: str) -> str:
    """Text without its "Art. 1." label."""
    return re.sub(r"^(?:Art\.\s*\S+\.|§\s*\S+\.)\s*", "", text)


def _head_only(intro: str) -> str:
    """The "Art. 7. [Tytuł]" label of an over-long intro."""
    match = re.match(r"^(?:Art\.\s*\S+\.|§\s*\S+\.)(?:\s*\[[^\]]*\])?", intro)
    return match.group() if match else ""


def _only_title(preamble: str) -> bool:
    """Whether the text before the first article is just the act's title block."""
    return bool(re.search(r"\b(USTAWA|ROZPORZĄDZENIE|OBWIESZCZENIE)\b", preamble)) and _words(preamble) < 60


def _with_heading(unit: UnitNode, heading: str) -> UnitNode:
    return replace(unit, heading=heading) if heading and not unit.heading else unit
