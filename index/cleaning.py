"""Pure text-cleaning functions: PDF page furniture, hyphenation, web debris, whitespace.

Every function takes and returns plain strings (or lists of page strings), so
each rule can be tested on a line of text.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")

# Page numbers anywhere on a page: "- 3 -", "Strona 3 z 10", "str. 3/10", "3/10".
_PAGE_NUMBER = re.compile(
    r"^(?:[-–—]\s*\d{1,4}\s*[-–—]|(?:strona|str\.|s\.)\s*\d{1,4}(?:\s*(?:z|/)\s*\d{1,4})?"
    r"|\d{1,4}\s*/\s*\d{1,4})$",
    re.IGNORECASE,
)
# A bare number is only a page number at the top or bottom of a page; inside
# the text it may be a value in a table.
_BARE_NUMBER = re.compile(r"^\d{1,4}$")
_EDGE_LINES = 2
# Lines that publishers print on every page of a consolidated text.
_PUBLISHER_LINE = re.compile(r"^(?:©\s*kancelaria sejmu\b|opracowano na podstawie\b)", re.IGNORECASE)
# Headers and footers live in the first/last lines of a page.
_FURNITURE_ZONE = 3
_FURNITURE_SHARE = 0.6
_FURNITURE_MIN_PAGES = 3  # on two pages, a repeated line is as likely to be text

# A footnote marker glued to a word or a closing quote ("społecznej1)", "…”2)"); "pkt 1)" has a space.
_FOOTNOTE_MARKER = re.compile(r"(?<=[^\W\d_]|[”\"»])\d{1,2}\)(?=[\s,.;:]|$)")
# The rule above a page's footnotes, when the text layer keeps it.
_FOOTNOTE_RULE = re.compile(r"^[_\-–—]{5,}$")

# End-of-line hyphenation: "świad-\nczenia". The word piece moves up so the
# next line keeps its start ("Art. 5." must stay at the start of a line).
_HYPHENATED = re.compile(r"(\w+)-\n[ \t]*([a-ząćęłńóśźż]\S*)[ \t]*\n?")
# Adjectival compounds keep their hyphen ("społeczno-zawodowy", "opiekuńczo-wychowawczy").
_COMPOUND_SUFFIXES = ("czno", "lno", "wno", "jno", "rno", "owo", "sko", "cko", "czo", "ywo")

_WEB_DEBRIS_LINES = frozenset(
    {
        "drukuj zawartość bieżącej strony",
        "drukuj zawartość",
        "drukuj",
        "zapisz tekst bieżącej strony do pdf",
        "powiększ zdjęcie",
        "powiększ",
        "accessibility",
        "dostępność",
        "ułatwienia dostępu",
        "przejdź do treści",
        "przejdź do menu",
        "skip to content",
        "menu",
        "udostępnij",
        "wróć",
        "powrót",
        "czytaj więcej",
        "zamknij",
        "akceptuję",
        "rozumiem",
        "do góry",
    }
)
_COOKIE_NOTICE = re.compile(r"\b(?:cookies?|ciasteczk\w*)\b", re.IGNORECASE)
_COOKIE_NOTICE_MAX_CHARS = 400
_BULLET = re.compile(r"^[•·*\-–]\s*")


def normalize_whitespace(text: str) -> str:
    """NFC, one space between words, no trailing spaces, at most one blank line."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def remove_web_debris(text: str) -> str:
    """Drop page-tool lines ("Drukuj zawartość…", "Powiększ zdjęcie") and cookie notices."""
    kept = []
    for line in text.split("\n"):
        bare = _BULLET.sub("", line.strip()).rstrip(".:").lower()
        if bare in _WEB_DEBRIS_LINES:
            continue
        if _COOKIE_NOTICE.search(line) and len(line) <= _COOKIE_NOTICE_MAX_CHARS:
            continue
        kept.append(line)
    return "\n".join(kept)


def clean_text(text: str) -> str:
    """Clean text from Markdown, plain text, HTML or DOCX."""
    return normalize_whitespace(remove_web_debris(normalize_whitespace(text)))


def remove_footnote_markers(text: str) -> str:
    """Remove footnote markers glued to words: "społecznej1)" → "społecznej"."""
    return _FOOTNOTE_MARKER.sub("", text)


def remove_footnotes(page: str) -> str:
    """Drop the footnotes printed at the bottom of a PDF page (ISAP's consolidated texts).

    A footnote is only recognised when the page holds its marker glued to a word
    ("społecznej1)"): the footnote block starts at the LAST line beginning with the
    smallest such number ("1) Niniejsza ustawa …"), below the marker, and runs to the
    page's end. Earlier lines with the same number are pkt of the text, not notes.
    """
    lines = page.split("\n")
    first_marker: dict[int, int] = {}
    for index, line in enumerate(lines):
        for match in _FOOTNOTE_MARKER.finditer(line):
            first_marker.setdefault(int(match.group()[:-1]), index)
    if not first_marker:
        return page
    number = min(first_marker)
    starts = [
        index
        for index, line in enumerate(lines)
        if index > first_marker[number] and re.match(rf"{number}\)\s", line)
    ]
    if not starts:
        return page
    cut = starts[-1]
    while cut > 0 and _FOOTNOTE_RULE.match(lines[cut - 1]):
        cut -= 1
    return "\n".join(lines[:cut])


def dehyphenate(text: str) -> str:
    """Join words split at line ends, keeping the hyphen of adjectival compounds."""

    def join(match: re.Match[str]) -> str:
        head, tail = match.group(1), match.group(2)
        if len(head) >= 5 and head.lower().endswith(_COMPOUND_SUFFIXES):
            return f"{head}-{tail}\n"
        return f"{head}{tail}\n"

    return _HYPHENATED.sub(join, text)


def remove_page_furniture(pages: list[str]) -> list[str]:
    """Drop running headers/footers, page numbers and publisher lines from PDF pages.

    A header or footer is a line among the first or last few lines of a page
    that repeats (digits ignored) at the same place on most pages.
    """
    split = [[line.strip() for line in page.split("\n")] for page in pages]
    repeated = _repeated_edge_lines(split)
    cleaned = []
    for lines in split:
        kept = []
        last = len(lines) - 1
        for index, line in enumerate(lines):
            at_edge = index < _EDGE_LINES or index > last - _EDGE_LINES
            if (
                _PAGE_NUMBER.match(line)
                or _PUBLISHER_LINE.match(line)
                or (at_edge and _BARE_NUMBER.match(line))
                or (line and not _edge_keys(line, index, last).isdisjoint(repeated))
            ):
                continue
            kept.append(line)
        cleaned.append("\n".join(kept))
    return cleaned


def join_hyphenation_across_pages(pages: list[str]) -> list[str]:
    """Move the tail of a word split across a page break back onto the earlier page."""
    pages = list(pages)
    for i in range(len(pages) - 1):
        head = re.search(r"(\w+)-$", pages[i])
        tail = re.match(r"\s*([a-ząćęłńóśźż]\S*)[ \t]*\n?", pages[i + 1])
        if not head or not tail:
            continue
        word = head.group(1)
        hyphen = "-" if len(word) >= 5 and word.lower().endswith(_COMPOUND_SUFFIXES) else ""
        pages[i] = pages[i][: head.start()] + word + hyphen + tail.group(1)
        pages[i + 1] = pages[i + 1][tail.end() :]
    return pages


def clean_pdf_pages(pages: list[str]) -> list[str]:
    """Clean the extracted text of each PDF page; the result keeps one entry per page."""
    pages = [normalize_whitespace(page) for page in pages]
    pages = remove_page_furniture(pages)
    pages = [dehyphenate(remove_footnote_markers(remove_footnotes(page))) for page in pages]
    pages = join_hyphenation_across_pages(pages)
    return [normalize_whitespace(page) for page in pages]


def _edge_keys(line: str, index: int, last: int) -> set[tuple[str, int]]:
    """Where a line sits, counted from the top (+) or the bottom (-), with its digit-free text."""
    text = re.sub(r"\d+", "#", line.lower())
    keys = set()
    if index < _FURNITURE_ZONE:
        keys.add((text, index))
    if last - index < _FURNITURE_ZONE:
        keys.add((text, index - last - 1))
    return keys


def _repeated_edge_lines(pages: list[list[str]]) -> set[tuple[str, int]]:
    if len(pages) < _FURNITURE_MIN_PAGES:
        return set()
    counts: Counter[tuple[str, int]] = Counter()
    for lines in pages:
        last = len(lines) - 1
        for index, line in enumerate(lines):
            if line:
                counts.update(_edge_keys(line, index, last))
    needed = max(2, math.ceil(_FURNITURE_SHARE * len(pages)))
    return {key for key, count in counts.items() if count >= needed}
