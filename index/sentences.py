"""THE sentence splitter: Polish passages into sentences and list items, with their spans.

A period ends a sentence only when whitespace and a capital letter, digit or
opening quote follow, and the word before it is not an abbreviation such as
"art.", "ust.", "pkt", "Dz.U.", "r.", "m.in.", "tj.", "np." and not a unit
label ("Art. 7.", "§ 2.", "1." at the start of a line). Dates like "1.01.2025"
contain no space, so they never split.

Statutes list their points on separate lines ("1) ubóstwa;"), so each list item
becomes its own ``Sentence`` that knows the sentence introducing the list (its
stem, ending with ":"), and a stem knows its items: an answer can then quote
"… z powodu: 7) przemocy domowej;" without the other fourteen points. Nested
lists ("2) … :" followed by "a) …") hang under their own stem. Markdown headings
are not sentences.

Every sentence carries its character span in the text it was split from, so the
index can tell the page and the legal unit it stands in (``index.chunking``
runs this once per chunk at build time; answering reads the stored result).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Lowercased words that end with a period without ending a sentence (common Polish legal
# abbreviations, e.g. "M.P." for Monitor Polski, "u.w.r.s.p.z." for the family-support act).
_ABBREVIATION_WORDS = (
    "art ust pkt lit nr np m.in tj t.j tzw ok godz ul dz dz.u dz.urz u poz zm al wg itd itp jw ww r "
    "pt mgr inż hab dr prof św tys mln mld ds pn wyd str s sygn zob por ang łac min max tel m.st woj "
    "pow gm ob k.p.a u.p.s u.w.r.s.p.z m.p k.c k.r.o pl os tzn sp ks"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
_LIST_ITEM = re.compile(r"^\s*(?:(\d{1,3}[a-z]?\))|([a-z]\))|([-–•*])\s)")
# A numbered paragraph ("1. Pomoc…", "§ 2. Odwołanie…", "Art. 8.") starts a block but is no list item.
_PARAGRAPH = re.compile(r"^\s*(?:Art\.\s*\d+[a-z]*\.|§\s*\d+[a-z]*\.|\d{1,3}[a-z]?\.)\s")
_HEADING = re.compile(r"^\s*#{1,6}\s")
# A candidate end: terminal punctuation, optional closing quotes/brackets, whitespace.
_END = re.compile(r"[.!?…]+[\"”»)\]]*\s+")
_NEXT_STARTS_SENTENCE = re.compile(r"[A-ZĄĆĘŁŃÓŚŹŻ0-9„\"(«§]")
_WORD_BEFORE = re.compile(r"([\w.]+)[.!?…]*[\"”»)\]]*\s*$")
# "Art. 7." / "§ 2." / "ust. 1." / "1." opening a passage: labels, not sentence ends.
_UNIT_LABEL = re.compile(
    r"^\s*(?:(?:Art|art|ust|pkt)\.?\s*\d+[a-z]*\.?\s*)?(?:§\s*\d+[a-z]*\.?\s*)?(?:\d+[a-z]?[.)]\s*)?$"
)


@dataclass(frozen=True)
class Sentence:
    """One sentence or list item of a passage, in reading order."""

    text: str  # whitespace collapsed to single spaces
    position: int  # 0-based order inside the passage
    lead: str | None = None  # for a list item: the text of its stem
    start: int = 0  # span in the split text, end exclusive
    end: int = 0
    stem: int | None = None  # for a list item: the position of the sentence introducing the list
    items: tuple[int, ...] = ()  # for a stem: the positions of its items


@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    marker: str | None  # list marker kind ("1)", "a)", "-") or None for a paragraph


@dataclass
class _Stem:
    position: int
    kind: str | None = None  # marker kind of its items, fixed by the first one


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` as plain strings (list items included, headings left out)."""
    return [sentence.text for sentence in sentences(text)]


def sentences(text: str) -> list[Sentence]:
    """The sentences and list items of ``text`` with their spans and list structure."""
    found: list[tuple[int, int, int | None]] = []  # start, end, stem position
    stems: list[_Stem] = []  # open lists, innermost last
    for block in _blocks(text):
        stem: int | None = None
        if block.marker is None:
            stems = []
        else:
            # An item of another kind than the innermost list closes that list ("3)" after "b)").
            while stems and stems[-1].kind is not None and stems[-1].kind != block.marker:
                stems.pop()
            if stems:
                stems[-1].kind = block.marker
                stem = stems[-1].position
        for start, end in sentence_spans(text[block.start : block.end]):
            found.append((block.start + start, block.start + end, stem))
        if found and found[-1][0] >= block.start and text[block.start : block.end].rstrip().endswith(":"):
            stems.append(_Stem(len(found) - 1))
    items: dict[int, list[int]] = {}
    for position, (_, _, stem) in enumerate(found):
        if stem is not None:
            items.setdefault(stem, []).append(position)
    texts = [" ".join(text[start:end].split()) for start, end, _ in found]
    return [
        Sentence(
            text=texts[position],
            position=position,
            lead=texts[stem] if stem is not None else None,
            start=start,
            end=end,
            stem=stem,
            items=tuple(items.get(position, ())),
        )
        for position, (start, end, stem) in enumerate(found)
    ]


def sentence_spans(paragraph: str) -> list[tuple[int, int]]:
    """Spans of the sentences of one paragraph (no list or heading handling), whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(paragraph):
        end = match.end()
        if end >= len(paragraph) or not _NEXT_STARTS_SENTENCE.match(paragraph, end):
            continue
        if _is_abbreviation(paragraph[start:end]) or _UNIT_LABEL.match(paragraph[start : match.start() + 1]):
            continue
        spans.append(_trimmed(paragraph, start, match.start() + len(match.group().rstrip())))
        start = end
    spans.append(_trimmed(paragraph, start, len(paragraph)))
    return [(a, b) for a, b in spans if b > a]


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _blocks(text: str) -> list[_Block]:
    """Paragraphs and list items: a new block starts at a blank line, a heading or a list marker."""
    blocks: list[_Block] = []
    current: list[tuple[int, int]] = []  # stripped line spans

    def close() -> None:
        if current:
            first = text[current[0][0] : current[0][1]]
            marker = _LIST_ITEM.match(first)
            kind = None
            if marker:
                kind = "1)" if marker.group(1) else "a)" if marker.group(2) else "-"
            blocks.append(_Block(current[0][0], current[-1][1], kind))
        current.clear()

    offset = 0
    for line in text.split("\n"):
        start, end = _trimmed(text, offset, offset + len(line))
        offset += len(line) + 1
        stripped = text[start:end]
        if not stripped or _HEADING.match(stripped):
            close()
            continue
        starts_block = _LIST_ITEM.match(stripped) or _PARAGRAPH.match(stripped)
        if current and (starts_block or text[current[-1][0] : current[-1][1]].endswith((":", ";"))):
            close()
        current.append((start, end))
    close()
    return blocks


def _is_abbreviation(text: str) -> bool:
    """True when ``text`` ends with an abbreviation's period ("art.", "Dz.U.", "r.")."""
    stripped = text.rstrip()
    if not stripped.endswith("."):
        return False
    match = _WORD_BEFORE.search(stripped)
    if not match:
        return False
    word = match.group(1).lower().rstrip(".")
    if word in _ABBREVIATIONS or word.replace(" ", "") in _ABBREVIATIONS:
        return True
    # Single letters ("U.", "lit. a.") and initials ("J. Kowalski") are not sentence ends.
    return len(word) == 1 and word.isalpha()
