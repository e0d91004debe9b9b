"""Read dates and time periods from Polish legal prose.

Knowledge documents tie amounts to periods in a handful of ways: "od 1 stycznia
2025 r.", "od 1.10.2012", "od 1 stycznia 2022 r. do 31 grudnia 2024 r.", "w 2024 r.",
"w latach 2022–2024", "w latach 2019, 2020 i 2021", "wcześniej". ``periods_in``
finds those phrases with their character offsets, so a caller can pick the one
nearest to a number. Act dates ("ustawa z dnia 15 kwietnia 2021 r.") and journal
years ("Dz.U. 2021 poz. 803") carry no preposition here and are not periods.

All patterns run on text folded by ``fold``: lower case, Polish letters replaced
one for one, so offsets in the folded text are offsets in the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from index.polish import fold_diacritics

MONTHS = {
    "stycznia": 1,
    "lutego": 2,
    "marca": 3,
    "kwietnia": 4,
    "maja": 5,
    "czerwca": 6,
    "lipca": 7,
    "sierpnia": 8,
    "wrzesnia": 9,
    "pazdziernika": 10,
    "listopada": 11,
    "grudnia": 12,
}

# "1 stycznia 2025" (also "1-stycznia-2025" as in web addresses) or "1.01.2025", optional "r." after.
_DATE = (
    r"(?:(?P<{p}d>\d{{1,2}})[\s-]+(?P<{p}m>" + "|".join(MONTHS) + r")[\s-]+(?P<{p}y>\d{{4}})"
    r"|(?P<{p}dd>\d{{1,2}})\.(?P<{p}dm>\d{{1,2}})\.(?P<{p}dy>\d{{4}}))(?:\s*r\b\.?)?"
)
_A = _DATE.format(p="a")
_B = _DATE.format(p="b")
_YEAR = r"(?:19|20)\d\d"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("span", re.compile(rf"\bod\s+(?:dnia\s+)?{_A}\s*(?:[-–]|do\s+(?:dnia\s+)?){_B}")),
    ("from", re.compile(rf"\bod\s+(?:dnia\s+)?{_A}")),
    ("until", re.compile(rf"\bdo\s+(?:dnia\s+)?{_B}")),
    ("years", re.compile(rf"\bw\s+latach\s+(?P<y1>{_YEAR})\s*[-–]\s*(?P<y2>{_YEAR})")),
    (
        "year_list",
        re.compile(rf"\bw\s+latach\s+(?P<list>{_YEAR}(?:\s*(?:,|\bi\b|\boraz\b)\s*{_YEAR})+)"),
    ),
    ("from_year", re.compile(rf"\bod\s+(?:roku\s+)?(?P<y>{_YEAR})\s*(?:r\b\.?|roku\b)")),
    (
        "year",
        re.compile(rf"\bw\s+(?:roku\s+(?P<ry>{_YEAR})|(?P<y>{_YEAR})(?:\s*r\b\.?|\s*roku\b|(?=\s*[:)])))"),
    ),
    ("before", re.compile(r"\b(?:wczesniej|poprzednio|dawniej|uprzednio)\b")),
)

Kind = Literal["point", "span", "before"]


@dataclass(frozen=True)
class Period:
    """A period a text names, with where it stands in that text.

    ``point``: a single day ("od 1 stycznia 2025 r.": the amount holds from that day;
    "do 31 grudnia 2024 r.": it held on that day). ``span``: every day from ``start``
    to ``end`` ("w 2024 r.", "w latach 2022–2024", "od … do …"). ``before``: some
    time before the period the text speaks of ("wcześniej").
    """

    kind: Kind
    start: date | None
    end: date | None
    begin: int  # character offsets of the phrase in the text
    stop: int
    phrase: str

    def describe(self) -> str:
        """Polish-free compact form for messages: "2024-01-01", "2022-01-01..2024-12-31"."""
        if self.kind == "before":
            return "earlier (wcześniej)"
        if self.kind == "point":
            return f"on {self.start}"
        return f"{self.start}..{self.end}"


def fold(text: str) -> str:
    """Lower case with Polish letters folded one for one (offsets are kept)."""
    return fold_diacritics(text).lower()


def _date(match: re.Match[str], prefix: str) -> date | None:
    groups = match.groupdict()
    try:
        if groups.get(f"{prefix}m"):
            return date(int(groups[f"{prefix}y"]), MONTHS[groups[f"{prefix}m"]], int(groups[f"{prefix}d"]))
        if groups.get(f"{prefix}dm"):
            return date(int(groups[f"{prefix}dy"]), int(groups[f"{prefix}dm"]), int(groups[f"{prefix}dd"]))
    except ValueError:
        return None
    return None


def periods_in(text: str) -> list[Period]:
    """Every period phrase of ``text``, left to right; a longer phrase wins over one inside it."""
    folded = fold(text)
    found: list[Period] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(folded):
            begin, stop = match.span()
            if any(begin < end and start < stop for start, end in taken):
                continue
            period = _period(kind, match, text[begin:stop])
            if period is not None:
                found.append(period)
                taken.append((begin, stop))
    return sorted(found, key=lambda p: p.begin)


def _period(kind: str, match: re.Match[str], phrase: str) -> Period | None:
    begin, stop = match.span()

    def make(kind: Kind, start: date | None, end: date | None) -> Period:
        return Period(kind, start, end, begin, stop, phrase)

    if kind == "span":
        start, end = _date(match, "a"), _date(match, "b")
        return make("span", start, end) if start and end and start <= end else None
    if kind == "from":
        start = _date(match, "a")
        return make("point", start, start) if start else None
    if kind == "until":
        end = _date(match, "b")
        return make("point", end, end) if end else None
    if kind == "years":
        first, last = int(match["y1"]), int(match["y2"])
        return make("span", date(first, 1, 1), date(last, 12, 31)) if first <= last else None
    if kind == "year_list":
        years = [int(y) for y in re.findall(_YEAR, match["list"])]
        return make("span", date(min(years), 1, 1), date(max(years), 12, 31))
    if kind == "from_year":
        start = date(int(match["y"]), 1, 1)
        return make("point", start, start)
    if kind == "year":
        year = int(match["y"] or match["ry"])
        return make("span", date(year, 1, 1), date(year, 12, 31))
    return make("before", None, None)


def dates_in(text: str) -> set[date]:
    """Every calendar date written in ``text`` ("1 stycznia 2025", "1.01.2025", "2025-01-01")."""
    folded = fold(text)
    found: set[date] = set()
    for match in re.finditer(_A, folded):
        day = _date(match, "a")
        if day:
            found.add(day)
    for y, m, d in re.findall(r"\b(\d{4})-(\d{2})-(\d{2})\b", text):
        try:
            found.add(date(int(y), int(m), int(d)))
        except ValueError:
            continue
    return found
