"""Polish legal units: references like "art. 8 ust. 1 pkt 2" and the unit tree of a legal text.

``UnitRef`` is one unit path; its ``anchor`` is the canonical citation form
("art. 39¹ § 2", "art. 8 ust. 1 pkt 2 lit. a"). ``parse_unit_refs`` reads
references in user queries and headings; ``parse_units`` splits the text of an
act into articles (or regulation paragraphs "§ 1."), their ust., pkt and lit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise

LEVELS = ("article", "section", "ust", "pkt", "lit")
_PREFIX = {"article": "art. ", "section": "§ ", "ust": "ust. ", "pkt": "pkt ", "lit": "lit. "}

_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
# "39¹", "39^1" and "39(1)" all name the same article.
_NUMBER = r"\d{1,4}[a-z]{0,3}(?:\^\d{1,2}|\(\d{1,2}\)|[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2})?"


def canonical_label(label: str) -> str:
    """Write superscript article numbers one way: "39^1" and "39(1)" → "39¹"."""
    label = label.strip().lower().replace(" ", "")
    match = re.fullmatch(r"(\d+[a-z]*)(?:\^(\d+)|\((\d+)\))", label)
    if match:
        return match.group(1) + (match.group(2) or match.group(3)).translate(_SUPERSCRIPTS)
    return label


@dataclass(frozen=True)
class UnitRef:
    """A path to a legal unit; unset levels are None."""

    article: str | None = None
    section: str | None = None  # "§ 2" (codes, regulations)
    ust: str | None = None
    pkt: str | None = None
    lit: str | None = None

    @property
    def anchor(self) -> str:
        """The canonical Polish citation form, e.g. "art. 8 ust. 1 pkt 2 lit. a"."""
        return " ".join(
            _PREFIX[name] + value for name in LEVELS if (value := getattr(self, name)) is not None
        )

    def child(self, level: str, label: str) -> UnitRef:
        """This path extended by one deeper unit."""
        return replace(self, **{level: canonical_label(label)})

    def matches(self, anchor: str) -> bool:
        """Whether the unit at ``anchor`` lies on this unit's path.

        True when one is a prefix of the other, so a query for "art. 8" matches
        the chunk "art. 8 ust. 1", and a query for "art. 8 ust. 1 pkt 2"
        matches a chunk holding the whole "art. 8". A query that skips a level
        ("art. 8 pkt 2") matches every unit agreeing on the levels both name.
        """
        other = parse_anchor(anchor)
        if other is None:
            return False
        pairs = [(getattr(self, name), getattr(other, name)) for name in LEVELS]
        top = next((theirs for mine, theirs in pairs if mine is not None), None)
        if top is None:
            return False
        return all(mine == theirs for mine, theirs in pairs if mine is not None and theirs is not None)


_QUERY_ARTICLE = r"(?:art(?:ykuł|ykul)?\w*\.?)"
_QUERY_PARTS = {
    "section": r"§\s*(" + _NUMBER + r")",
    "ust": r"ust(?:ęp|ep)?\w*\.?\s*(\d{1,3}[a-z]{0,2})",
    "pkt": r"(?:pkt|punkt\w*)\.?\s*(\d{1,3}[a-z]{0,2})",
    "lit": r"lit(?:er\w*)?\.?\s*([a-z])\b",
}
_REF_START = re.compile(
    r"(?<![\w§])(?:" + _QUERY_ARTICLE + r"\s*(" + _NUMBER + r")|§\s*(" + _NUMBER + r"))",
    re.IGNORECASE,
)
_REF_PART = re.compile(
    # "w art. 5 w ust. 1 w pkt 5" is how amending acts name a unit.
    r"\s*,?\s*(?:w\s+)?(?:" + "|".join(f"(?P<{name}>{rx})" for name, rx in _QUERY_PARTS.items()) + ")",
    re.IGNORECASE,
)


def parse_unit_refs(text: str) -> list[UnitRef]:
    """All unit references in ``text``, in order of appearance.

    Reads "art. 37", "art 8 ust 1", "Art. 8 ust. 1 pkt 2", "artykuł 7", "§ 2",
    "art. 39(1)", "art. 39^1 § 2" and "art. 106 ust. 3a".
    """
    refs: list[UnitRef] = []
    position = 0
    while match := _REF_START.search(text, position):
        if match.group(1) is not None:
            ref, depth = UnitRef(article=canonical_label(match.group(1))), 0
        else:
            ref, depth = UnitRef(section=canonical_label(match.group(2))), 1
        position = match.end()
        while part := _REF_PART.match(text, position):
            level = next(name for name in _QUERY_PARTS if part.group(name))
            level_depth = LEVELS.index(level)
            if level_depth <= depth:
                break  # "art. 7 pkt 1 i pkt 2": a new sibling, not a deeper unit
            label = re.search(_QUERY_PARTS[level], part.group(level), re.IGNORECASE)
            if label is None:  # cannot happen: the same pattern just matched inside _REF_PART
                break
            ref, depth, position = ref.child(level, label.group(1)), level_depth, part.end()
        refs.append(ref)
    return refs


# Searches compare a named unit with the anchors of every chunk in that article,
# and anchors repeat across acts and versions: parse each distinct one once.
@lru_cache(maxsize=100_000)
def parse_anchor(anchor: str) -> UnitRef | None:
    """The ``UnitRef`` of a chunk anchor, or None for page/heading anchors."""
    if not re.match(r"\s*(?:art\.|§\s*\d)", anchor):
        return None
    refs = parse_unit_refs(anchor)
    return refs[0] if refs else None


# --- the unit tree of a legal text -------------------------------------------------

_LABEL = r"(\d{1,4}[a-z]{0,3}(?:\^\d{1,2}|[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2})?)"
# Markdown decorations are allowed around a unit head ("### Art. 7.", "**Art. 7.**").
_MD = r"(?:#{1,6}\s*)?(?:\*\*)?"
_HEADS = {
    "article": re.compile(r"^" + _MD + r"Art\.\s*" + _LABEL + r"\.(?:\*\*)?\s*(?:\[[^\]\n]*\]\s*)?"),
    "section": re.compile(r"^" + _MD + r"§\s*" + _LABEL + r"\.(?:\*\*)?\s*"),
    "ust": re.compile(r"^" + _LABEL.replace("{1,4}", "{1,3}") + r"\.\s+(?=\S)"),
    "pkt": re.compile(r"^" + _LABEL.replace("{1,4}", "{1,3}") + r"\)\s*"),
    "lit": re.compile(r"^([a-z]{1,2})\)\s*"),
}
_CHILD_LEVELS = {
    "article": ("section", "ust", "pkt"),
    "section": ("ust", "pkt"),
    "ust": ("pkt",),
    "pkt": ("lit",),
    "lit": (),
}
_STRUCTURE_RANKS = {"księga": 0, "tytuł": 1, "dział": 2, "rozdział": 3, "oddział": 4}
_STRUCTURE = re.compile(
    r"(?:#{1,6}\s*)?(księga|tytuł|dział|rozdział|oddział)\s+[IVXLCDM\d]+[a-z]*\b", re.IGNORECASE
)
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.+)$")
_HEADING_TITLE_MAX_WORDS = 15
_OPEN_QUOTES = "„“\u00ab"
_CLOSE_QUOTES = "”“\u00bb"


@dataclass(frozen=True)
class UnitNode:
    """One unit of a legal text with its offsets in the source text."""

    ref: UnitRef
    start: int
    text: str  # the whole unit, children included
    intro: str  # the unit's own text before its first child (all of it without children)
    children: tuple[UnitNode, ...] = ()
    heading: str = ""  # the chapter the unit stands in, e.g. "Rozdział 2 Świadczenia"


@dataclass(frozen=True)
class Interlude:
    """Text under a chapter heading that belongs to no unit (a note, a commentary)."""

    heading: str
    start: int
    text: str


@dataclass(frozen=True)
class ParsedAct:
    """A legal text split into top-level units, plus what stands before the first one."""

    preamble: str
    units: tuple[UnitNode, ...]
    interludes: tuple[Interlude, ...] = ()


def parse_units(text: str, *, respect_quotes: bool = False) -> ParsedAct:
    """Split ``text`` into articles ("Art. 7."), or "§ 1." units when there are no articles.

    With ``respect_quotes`` (amending acts) lines inside „quoted” inserted text
    never start a unit, so the new "Art. 29a." stays inside the change that adds it.
    """
    lines = _lines(text, respect_quotes)
    top = "article" if any(_starts(line, "article") for line in lines) else "section"
    preamble_end = len(text)
    units: list[UnitNode] = []
    headings: dict[int, str] = {}
    interludes: list[Interlude] = []
    current: list[_Line] = []
    loose: list[_Line] = []  # lines after a heading, before the next unit
    current_heading = ""
    index = 0

    def close() -> None:
        if current:
            units.append(_build(top, UnitRef(), current, text, current_heading))
        if loose:
            end = loose[-1].offset + len(loose[-1].text)
            interludes.append(Interlude(current_heading, loose[0].offset, text[loose[0].offset : end]))
            loose.clear()

    while index < len(lines):
        line = lines[index]
        structure = None if line.quoted else _structure_rank(line.text)
        if structure is not None:
            close()
            current, index = [], index + 1
            if not units:
                preamble_end = min(preamble_end, line.offset)
            title = line.text.lstrip("#* ").strip()
            following = lines[index] if index < len(lines) else None
            bare = _STRUCTURE.fullmatch(line.text.strip("#* "))  # "Rozdział 2": its title follows
            if bare and following and _is_heading_title(following):
                title, index = f"{title} {following.text.strip('#* ')}", index + 1
            headings = {rank: h for rank, h in headings.items() if rank < structure}
            headings[structure] = title
            current_heading = " / ".join(headings[rank] for rank in sorted(headings))
            continue
        if _starts(line, top):
            close()
            current = []
            preamble_end = min(preamble_end, line.offset)
        if current or _starts(line, top):
            current.append(line)
        elif headings:
            loose.append(line)
        index += 1
    close()
    preamble = text[:preamble_end] if units else text
    return ParsedAct(preamble=preamble.strip(), units=tuple(units), interludes=tuple(interludes))


@dataclass(frozen=True)
class _Line:
    offset: int
    text: str
    quoted: bool  # starts inside (or with) a quotation: never a unit head


def _lines(text: str, respect_quotes: bool) -> list[_Line]:
    result = []
    offset, depth, ascii_open = 0, 0, False
    for raw in text.split("\n"):
        stripped = raw.lstrip()
        lead = len(raw) - len(stripped)
        opens = bool(stripped) and (stripped[0] in _OPEN_QUOTES or stripped[0] == '"')
        quoted = respect_quotes and (depth > 0 or ascii_open or opens)
        if stripped:
            result.append(_Line(offset + lead, stripped, quoted))
        for char in raw:
            if char == "„" or (char in "“«" and depth == 0):
                depth += 1
            elif char in _CLOSE_QUOTES and depth > 0:
                depth -= 1
            elif char == '"' and depth == 0:
                ascii_open = not ascii_open
        offset += len(raw) + 1
    return result


def _starts(line: _Line, level: str) -> bool:
    return not line.quoted and bool(_HEADS[level].match(line.text))


def _structure_rank(text: str) -> int | None:
    match = _STRUCTURE.match(text)
    if match:
        return _STRUCTURE_RANKS[match.group(1).lower()]
    heading = _MARKDOWN_HEADING.match(text)
    if heading and not any(_HEADS[level].match(text) for level in ("article", "section")):
        return 10 + len(heading.group(1))  # below the act's own divisions
    return None


def _is_heading_title(line: _Line) -> bool:
    text = line.text
    return (
        not line.quoted
        and text[:1].isupper()
        and len(text.split()) <= _HEADING_TITLE_MAX_WORDS
        and not any(rx.match(text) for rx in _HEADS.values())
        and _structure_rank(text) is None
        and not text.rstrip().endswith((".", ";", ":", ","))
    )


def _build(level: str, parent: UnitRef, lines: list[_Line], source: str, heading: str) -> UnitNode:
    """Build the node whose head is ``lines[0]``; deeper units are found in the rest."""
    head = _HEADS[level].match(lines[0].text)
    assert head is not None  # callers only pass lines starting with a head of ``level``
    ref = parent.child(level, head.group(1))
    body = list(lines)
    rest = lines[0].text[head.end() :]
    if level in ("article", "section") and rest:
        # "Art. 2. 1. Pomoc …": the first ust starts on the article's own line.
        body[0] = _Line(lines[0].offset, lines[0].text[: head.end()].rstrip(), False)
        body.insert(1, _Line(lines[0].offset + head.end(), rest, lines[0].quoted))
    children: list[UnitNode] = []
    first_child = len(body)
    for child_level in _CHILD_LEVELS[level]:
        starts = [i for i, line in enumerate(body) if i > 0 and _starts(line, child_level)]
        if starts:
            first_child = starts[0]
            bounds = [*starts, len(body)]
            children = [_build(child_level, ref, body[a:b], source, "") for a, b in pairwise(bounds)]
            break
    end = lines[-1].offset + len(lines[-1].text)
    intro_end = body[first_child].offset if first_child < len(body) else end
    return UnitNode(
        ref=ref,
        start=lines[0].offset,
        text=source[lines[0].offset : end].strip(),
        intro=source[lines[0].offset : intro_end].strip(),
        children=tuple(children),
        heading=heading,
    )


def anchor_matches(chunk_anchor: str, expected: str | None) -> bool:
    """Whether a chunk at ``chunk_anchor`` holds (part of) the ``expected`` unit.

    No expected anchor: any chunk matches. Legal units: the two lie on one path,
    so the chunk "art. 129" holds "art. 129 § 2", and the chunk "art. 7 pkt 3" is
    part of "art. 7" (chunking may be coarser or finer than a question).
    Pages and paragraphs: the range holds the number ("s. 1–2" holds "s. 2").
    Headings: the same label, ignoring case.
    """
    if not expected:
        return True
    wanted = parse_unit_refs(expected) if parse_anchor(expected) else []
    if wanted:
        return wanted[0].matches(chunk_anchor)
    have, want = _NUMBERED.fullmatch(chunk_anchor.strip()), _NUMBERED.fullmatch(expected.strip())
    if have and want and have.group(1) == want.group(1):
        low, high = int(have.group(2)), int(have.group(3) or have.group(2))
        return low <= int(want.group(2)) and int(want.group(3) or want.group(2)) <= high
    return chunk_anchor.strip().casefold() == expected.strip().casefold()


# "s. 2", "s. 1–2", "akapit 12", "akapit 3–5": page and paragraph anchors and their ranges.
_NUMBERED = re.compile(r"(s\.|akapit) (\d+)(?:\s*[–-]\s*(\d+))?")
