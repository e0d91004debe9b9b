"""The table of amounts and dates: ``knowledge/facts/amounts.yaml``.

One row per quantity and period (value, unit, valid_from, valid_to, legal basis,
sources), so that every amount the knowledge base states has one place where it
is written down and sourced. ``index.amount_check`` holds the documents to it;
``AmountTable.value_on`` answers "how much was X on day D" for features such as
the /zmiany list or a benefit calculator.

The file also lists dated events (entries into force, consolidated texts) with
their sources, so that dates and journal references in the documents can be
checked against one sourced place as well.

YAML is never indexed as a document (``index.documents.discover`` skips it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "knowledge" / "facts" / "amounts.yaml"


class AmountTableError(ValueError):
    """The amounts table is malformed; the message names the quantity and row."""


@dataclass(frozen=True)
class Row:
    """One value of a quantity over one period; ``valid_to`` None = still in force."""

    quantity: str
    value: Decimal
    valid_from: date | None  # None: the start is not established in the sources
    valid_to: date | None
    legal_basis: str
    sources: tuple[str, ...]
    note: str = ""

    def holds_on(self, day: date) -> bool:
        """True when ``day`` falls inside this row's period."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )

    def overlaps(self, start: date | None, end: date | None) -> bool:
        """True when this row's period shares a day with [start, end] (None = open)."""
        starts_before_end = end is None or self.valid_from is None or self.valid_from <= end
        ends_after_start = start is None or self.valid_to is None or start <= self.valid_to
        return starts_before_end and ends_after_start

    def describe(self) -> str:
        """Compact form for messages: "719 zł 2022-01-01..2023-12-31 (Dz.U. 2021 poz. 1296)"."""
        start = self.valid_from.isoformat() if self.valid_from else "?"
        end = self.valid_to.isoformat() if self.valid_to else "now"
        return f"{format_value(self.value)} {start}..{end} ({self.legal_basis})"


@dataclass(frozen=True)
class Quantity:
    """A quantity the law sets, how texts name it, and its values over time.

    ``subject`` and ``qualifier`` are regular expressions over folded text (lower
    case, no Polish diacritics). ``subject`` finds where a sentence speaks of the
    quantity; ``qualifier``, when given, must also be there to tell apart
    quantities with the same subject (the maximum and the minimum zasiłek stały).
    Quantities sharing a ``group`` are alternatives: a sentence naming the group
    without a qualifier ("kryteria wynosiły 701 zł i 528 zł") must state one of them.
    """

    id: str
    name: str
    unit: str
    legal_basis: str
    subject: re.Pattern[str]
    qualifier: re.Pattern[str] | None
    group: str | None
    rows: tuple[Row, ...] = field(default=())

    def rows_on(self, day: date) -> list[Row]:
        """The rows in force on ``day`` (one, or none when the table has a gap)."""
        return [row for row in self.rows if row.holds_on(day)]

    def rows_over(self, start: date | None, end: date | None) -> list[Row]:
        """The rows sharing at least one day with [start, end]."""
        return [row for row in self.rows if row.overlaps(start, end)]

    def covers(self, start: date, end: date) -> bool:
        """True when the rows leave no day of [start, end] without a value."""
        day = start
        for row in sorted(self.rows_over(start, end), key=lambda r: r.valid_from or date.min):
            if row.valid_from is not None and row.valid_from > day:
                return False
            if row.valid_to is None:
                return True
            day = max(day, row.valid_to + timedelta(days=1))
            if day > end:
                return True
        return day > end

    def previous(self, row: Row) -> Row | None:
        """The row that ended the day before ``row`` began."""
        if row.valid_from is None:
            return None
        before = row.valid_from - timedelta(days=1)
        return next((r for r in self.rows if r.holds_on(before)), None)


@dataclass(frozen=True)
class Change:
    """A quantity's value changing on a day ("from → to"), e.g. for the /zmiany list."""

    quantity: Quantity
    day: date
    before: Row | None  # None when the table has no earlier row
    after: Row

    def describe(self) -> str:
        """Polish one-liner: "maksymalna kwota zasiłku stałego: 1000 zł → 1229 zł od 2025-01-01"."""
        before = format_value(self.before.value) if self.before else "—"
        return f"{self.quantity.name}: {before} → {format_value(self.after.value)} od {self.day.isoformat()}"


@dataclass(frozen=True)
class Event:
    """A dated legal event the documents mention (entry into force, a consolidated text)."""

    date: date
    what: str
    act: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ConsolidatedTexts:
    """The consolidated texts (teksty jednolite) of one act, oldest first, with sources."""

    act: str
    texts: tuple[str, ...]  # "Dz.U. 2025 poz. 1214"
    sources: tuple[str, ...]

    @property
    def newest(self) -> str:
        """The newest consolidated text the sources confirm."""
        return self.texts[-1]


@dataclass(frozen=True)
class AmountTable:
    """Every quantity of the table, in file order, the dated events and consolidated texts."""

    quantities: tuple[Quantity, ...]
    events: tuple[Event, ...] = ()
    consolidated: tuple[ConsolidatedTexts, ...] = ()

    def __iter__(self) -> Iterator[Quantity]:
        return iter(self.quantities)

    def get(self, quantity_id: str) -> Quantity:
        """The quantity with this id (KeyError when there is none)."""
        for quantity in self.quantities:
            if quantity.id == quantity_id:
                return quantity
        raise KeyError(quantity_id)

    def value_on(self, quantity_id: str, day: date) -> Decimal | None:
        """The value of a quantity on ``day``, or None when the table has none."""
        rows = self.get(quantity_id).rows_on(day)
        return rows[0].value if rows else None

    def changes(self, since: date | None = None, until: date | None = None) -> list[Change]:
        """Every change of value that took effect in [since, until], oldest first."""
        found = []
        for quantity in self.quantities:
            for row in quantity.rows:
                day = row.valid_from
                if day is None or (since and day < since) or (until and day > until):
                    continue
                before = quantity.previous(row)
                if before is None or before.value != row.value:
                    found.append(Change(quantity, day, before, row))
        return sorted(found, key=lambda c: (c.day, c.quantity.id))

    def group(self, name: str) -> list[Quantity]:
        """The quantities of one group."""
        return [q for q in self.quantities if q.group == name]

    def dates(self) -> set[date]:
        """Every date the table states: period bounds and event dates."""
        found = {e.date for e in self.events}
        for quantity in self.quantities:
            for row in quantity.rows:
                found |= {d for d in (row.valid_from, row.valid_to) if d is not None}
        return found

    def texts(self) -> str:
        """All legal bases, acts and notes as one text (for checking journal references)."""
        parts = [e.act for e in self.events] + [e.what for e in self.events]
        parts += [text for c in self.consolidated for text in c.texts]
        for quantity in self.quantities:
            parts.append(quantity.legal_basis)
            parts += [row.legal_basis for row in quantity.rows] + [row.note for row in quantity.rows]
        return "\n".join(parts)


def format_value(value: Decimal) -> str:
    """A value as Polish text writes it: "1010 zł", "82,30 zł"."""
    text = str(int(value)) if value == value.to_integral_value() else f"{value:.2f}".replace(".", ",")
    return f"{text} zł"


def load_table(path: Path = DEFAULT_PATH) -> AmountTable:
    """Read and validate the table.

    Raises:
        AmountTableError: a required field is missing, a value or date cannot be
            read, a pattern does not compile, a period ends before it starts, or
            two periods of one quantity overlap.
    """
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("quantities"), list):
        raise AmountTableError(f"{path}: expected a mapping with a 'quantities' list")
    quantities = tuple(_quantity(item, path) for item in raw["quantities"])
    ids = [q.id for q in quantities]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise AmountTableError(f"{path}: duplicate quantity ids {duplicates}")
    events = tuple(_event(item, path) for item in raw.get("events") or [])
    consolidated = tuple(_consolidated(item, path) for item in raw.get("consolidated_texts") or [])
    return AmountTable(quantities, events, consolidated)


def _required(item: dict[str, Any], key: str, where: str) -> Any:
    value = item.get(key)
    if value is None or (isinstance(value, (str, list)) and not value):
        raise AmountTableError(f"{where}: missing '{key}'")
    return value


def _pattern(text: str | None, where: str) -> re.Pattern[str] | None:
    if text is None:
        return None
    try:
        return re.compile(text)
    except re.error as error:
        raise AmountTableError(f"{where}: bad pattern {text!r}: {error}") from error


def _date(value: Any, where: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as error:
        raise AmountTableError(f"{where}: not an ISO date: {value!r}") from error


def _sources(item: dict[str, Any], where: str) -> tuple[str, ...]:
    sources = _required(item, "sources", where)
    if not isinstance(sources, list) or not all(isinstance(s, str) and s.strip() for s in sources):
        raise AmountTableError(f"{where}: 'sources' must be a list of addresses")
    return tuple(sources)


def _quantity(item: Any, path: Path) -> Quantity:
    if not isinstance(item, dict):
        raise AmountTableError(f"{path}: a quantity must be a mapping")
    qid = str(_required(item, "id", f"{path}: quantity"))
    where = f"{path}: {qid}"
    legal_basis = str(_required(item, "legal_basis", where))
    rows: list[Row] = []
    for index, raw_row in enumerate(_required(item, "periods", where)):
        row_where = f"{where}, period {index + 1}"
        if not isinstance(raw_row, dict):
            raise AmountTableError(f"{row_where}: a period must be a mapping")
        try:
            value = Decimal(str(_required(raw_row, "value", row_where)))
        except InvalidOperation as error:
            raise AmountTableError(f"{row_where}: value is not a number") from error
        if "valid_from" not in raw_row or "valid_to" not in raw_row:
            raise AmountTableError(f"{row_where}: give valid_from and valid_to (null when open or unknown)")
        start, end = _date(raw_row["valid_from"], row_where), _date(raw_row["valid_to"], row_where)
        if start and end and end < start:
            raise AmountTableError(f"{row_where}: valid_to {end} is before valid_from {start}")
        rows.append(
            Row(
                quantity=qid,
                value=value,
                valid_from=start,
                valid_to=end,
                legal_basis=str(_required(raw_row, "legal_basis", row_where)),
                sources=_sources(raw_row, row_where),
                note=str(raw_row.get("note") or ""),
            )
        )
    for i, first in enumerate(rows):
        for second in rows[i + 1 :]:
            if first.overlaps(second.valid_from, second.valid_to):
                raise AmountTableError(
                    f"{where}: periods overlap: {first.describe()} and {second.describe()}"
                )
    return Quantity(
        id=qid,
        name=str(_required(item, "name", where)),
        unit=str(_required(item, "unit", where)),
        legal_basis=legal_basis,
        subject=_pattern(str(_required(item, "subject", where)), where) or re.compile(r"(?!)"),
        qualifier=_pattern(item.get("qualifier"), where),
        group=item.get("group"),
        rows=tuple(sorted(rows, key=lambda r: r.valid_from or date.min)),
    )


def _event(item: Any, path: Path) -> Event:
    if not isinstance(item, dict):
        raise AmountTableError(f"{path}: an event must be a mapping")
    where = f"{path}: event {item.get('what', '?')!r}"
    day = _date(_required(item, "date", where), where)
    assert day is not None  # _required rejected None
    return Event(
        date=day,
        what=str(_required(item, "what", where)),
        act=str(_required(item, "act", where)),
        sources=_sources(item, where),
    )


_JOURNAL = re.compile(r"Dz\.U\. \d{4} poz\. \d+")


def _consolidated(item: Any, path: Path) -> ConsolidatedTexts:
    if not isinstance(item, dict):
        raise AmountTableError(f"{path}: consolidated_texts entries must be mappings")
    where = f"{path}: consolidated texts of {item.get('act', '?')!r}"
    texts = _required(item, "texts", where)
    if not isinstance(texts, list) or not all(isinstance(t, str) and _JOURNAL.fullmatch(t) for t in texts):
        raise AmountTableError(f"{where}: 'texts' must list addresses like 'Dz.U. 2025 poz. 1214'")
    return ConsolidatedTexts(
        act=str(_required(item, "act", where)), texts=tuple(texts), sources=_sources(item, where)
    )
