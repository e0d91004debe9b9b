"""Split a Polish passage into sentences without breaking legal references and amounts.

A period ends a sentence only when whitespace and a capital letter, digit or
opening quote follow, and the word before it is not an abbreviation such as
"art.", "ust.", "pkt", "Dz.U.", "r.", "m.in.", "tj.", "np." and not a unit
label ("Art. 7.", "§ 2.", "1." at the start of a line). Dates like "1.01.2025"
contain no space, so they never split.

Statutes list their points on separate lines ("1) ubóstwa;"), so each list item
becomes its own ``Sentence`` that remembers the sentence introducing the list
(its ``lead``): an answer can then quote "… z powodu: 7) przemocy domowej;"
without the other fourteen points. Markdown headings are not sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Lowercased words that end with a period without ending a sentence.
_ABBREVIATIONS = frozenset(
    ["art", "ust", "pkt", "lit", "nr", "np", "m.in", "tj", "t.j", "tzw", "ok", "godz", "ul", "dz", "dz.u", "dz.urz", "u", "poz", "zm", "al", "wg", "itd", "itp", "jw", "ww", "r", "pt", "mgr", "inż", "hab", "dr", "prof", "św", "tys", "mln", "mld", "ds", "pn", "wyd", "str", "s", "sygn", "zob", "por", "ang", "łac", "min", "max", "tel", "m.st", "woj", "pow", "gm", "ob", "k.p.a", "u.p.s", "pl", "os", "tzn", "sp", "ks"]
)
_LIST_ITEM = re.compile(r"^\s*(?:\d{1,3}[a-z]?\)|[a-z]\)|[-–•*]\s)")
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

    text: str
    position: int  # 0-based order inside the passage
    lead: str | None = None  # for a list item: the sentence that introduces the list


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` as plain strings (list items included, headings left out)."""
    return [sentence.text for sentence in sentences(text)]


def sentences(text: str) -> list[Sentence]:
    """The sentences and list items of ``text``, each with its position and list lead."""
    result: list[Sentence] = []
    lead: str | None = None
    for block in _blocks(text):
        is_item = bool(_LIST_ITEM.match(block))
        if not is_item:
            lead = None
        for piece in _split_block(block):
            result.append(Sentence(piece, len(result), lead if is_item else None))
        if not is_item and block.rstrip().endswith(":"):
            lead = result[-1].text if result else None
    return result


def _blocks(text: str) -> list[str]:
    """Paragraphs and list items: a new block starts at a blank line or a list marker."""
    blocks: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if not line.strip() or _HEADING.match(line):
            if current:
                blocks.append(" ".join(current))
            current = []
            continue
        starts_block = _LIST_ITEM.match(line) or _PARAGRAPH.match(line)
        if current and (starts_block or current[-1].rstrip().endswith((":", ";"))):
            blocks.append(" ".join(current))
            current = []
        current.append(line.strip())
    if current:
        blocks.append(" ".join(current))
    return blocks


def _split_block(block: str) -> list[str]:
    """Split one paragraph at sentence ends that are not abbreviations or unit labels."""
    pieces: list[str] = []
    start = 0
    for match in _END.finditer(block):
        end = match.end()
        if end >= len(block) or not _NEXT_STARTS_SENTENCE.match(block, end):
            continue
        before = block[start : match.end()]
        if _is_abbreviation(before) or _UNIT_LABEL.match(block[start : match.start() + 1]):
            continue
        pieces.append(block[start : match.start() + len(match.group().rstrip())].strip())
        start = end
    tail = block[start:].strip()
    if tail:
        pieces.append(tail)
    return [piece for piece in pieces if piece]


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
