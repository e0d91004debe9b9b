"""Hold the knowledge documents to the table of amounts.

For every amount ("719 zł") in a document, find which quantity of the table the
sentence speaks of and which period it gives the amount, then compare with the
table. The reading is structural, driven only by the table's own patterns:

* the quantity is the one whose ``subject`` pattern stands nearest before the
  amount in the sentence; quantities sharing that subject are told apart by their
  ``qualifier``, looked for first right after the amount ("776 zł dla osoby
  samotnie gospodarującej") and then between the previous amount and this one;
* the period is a period phrase right after the amount ("776 zł w 2024 r."), else
  the nearest one before it in the sentence ("Od 1 stycznia 2025 r. … 1010 zł"),
  else the document's own period (effective_from..effective_to, or from its date);
* in "z 308 zł do 345 zł" the first amount is the value just before the second;
* values the sentence computes ("4 × 823 zł, czyli 3292 zł", "130% kryterium …
  1313 zł", "505 zł (50% różnicy)") are derived, not statements of a quantity.

Markdown tables are read cell by cell: the column header and the section heading
name the quantity, a date column ("obowiązuje od") the period.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml

from index.amounts import AmountTable, Quantity, Row, format_value
from index.periods import Period, fold, periods_in
from index.sentences import sentences

Check = Literal["point", "span", "overlap", "before", "previous"]

_AMOUNT = re.compile(r"(?<![\d.,])(\d{1,3}(?:[ \u00a0]\d{3})+|\d+)(?:,(\d{1,2}))?(\s*tys\.)?\s?zl\b")
_RIGHT_HEAD = 60  # characters after an amount searched for its qualifier
_RIGHT_STOP = re.compile(r"[,;(.:]")
_ADJACENT = re.compile(r"^\s*(?:miesiecznie\s*)?$")
# Words allowed between an amount and its qualifier ("1517 zł miesięcznie w rodzinie zastępczej
# zawodowej"); a conjunction or negation starts another clause ("823 zł i nie może być niższy").
_HEAD_GAP = re.compile(r"^\s*(?:[a-z]+\s+){0,4}$")
_CLAUSE_WORDS = frozenset({"i", "a", "oraz", "ale", "lub", "albo", "nie", "czyli"})
_FROM_TO = re.compile(r"^[^,;()]{0,30}?\bdo\s*$")
_DERIVED_BEFORE = re.compile(r"(?:[×*]|\bx|\bczyli|=)\s*$")
_DERIVED_AFTER = re.compile(r"^\s*(?:[×*]|x\b)|^\s*\([^)]*%")
_PERCENT = re.compile(r"\d\s?%")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*\n", re.DOTALL)


@dataclass(frozen=True)
class Statement:
    """One amount a document states for a quantity (or for one of a group) over a period."""

    path: str
    sentence: str
    value: Decimal
    quantities: tuple[Quantity, ...]  # one, or the members of a group
    check: Check
    start: date | None
    end: date | None
    period_text: str
    after: Statement | None = None  # for check "previous": the amount this one was raised to

    @property
    def label(self) -> str:
        """The quantity id, or "one of: a, b" for a group statement."""
        ids = [q.id for q in self.quantities]
        return ids[0] if len(ids) == 1 else "one of: " + ", ".join(ids)


@dataclass(frozen=True)
class Disagreement:
    """A statement the table contradicts (or cannot confirm), with the rows it was compared to."""

    statement: Statement
    rows: tuple[Row, ...]

    def message(self) -> str:
        """File, sentence and table rows, for a test failure."""
        s = self.statement
        rows = "; ".join(row.describe() for row in self.rows) or "no row for this period"
        return (
            f"{s.path}: „{s.sentence.strip()}”\n"
            f"    states {format_value(s.value)} for {s.label} ({s.period_text});\n"
            f"    table (knowledge/facts/amounts.yaml): {rows}"
        )


@dataclass(frozen=True)
class _Amount:
    begin: int
    end: int
    value: Decimal


def amounts_in(folded: str) -> list[_Amount]:
    """Amounts in złoty in folded text ("1 010 zł", "82,30 zł", "2 tys. zł")."""
    found = []
    for match in _AMOUNT.finditer(folded):
        whole = re.sub(r"\D", "", match[1])
        value = Decimal(f"{whole}.{match[2]}") if match[2] else Decimal(whole)
        if match[3]:
            value *= 1000
        found.append(_Amount(match.start(), match.end(), value))
    return found


def statements_in(
    text: str,
    table: AmountTable,
    *,
    path: str = "",
    document_period: tuple[date | None, date | None] = (None, None),
) -> list[Statement]:
    """The statements of known quantities in one sentence (or list item with its lead)."""
    folded = fold(text)
    amounts = amounts_in(folded)
    periods = periods_in(text)
    attached = {_attached(a, periods, folded) for a in amounts} - {None}
    result: list[Statement] = []
    by_amount: dict[int, Statement] = {}
    previous: tuple[int, tuple[Quantity, ...]] | None = None  # subject end and quantities of the last amount
    for index, amount in enumerate(amounts):
        prev_end = amounts[index - 1].end if index else 0
        next_begin = amounts[index + 1].begin if index + 1 < len(amounts) else len(folded)
        resolved = _quantities_for(folded, amount, prev_end, next_begin, table, previous)
        if resolved is None:
            continue
        subject_end, quantities = resolved
        if not quantities:  # the sentence computes this value
            continue
        previous = (subject_end, quantities)
        own = _attached(amount, periods, folded)
        if own is None:
            usable = [p for p in periods if p.stop <= amount.begin and p not in attached]
            own = usable[-1] if usable else None
        statement: Statement
        if own is None:
            start, end = document_period
            statement = Statement(
                path, text, amount.value, quantities, "overlap", start, end, _doc_text(start, end)
            )
        elif own.kind == "before":
            reference = _reference(by_amount, amounts[:index], document_period)
            statement = Statement(path, text, amount.value, quantities, "before", None, reference, own.phrase)
        else:
            check: Check = "point" if own.kind == "point" else "span"
            statement = Statement(
                path, text, amount.value, quantities, check, own.start, own.end, own.phrase.strip()
            )
        by_amount[amount.begin] = statement
        result.append(statement)
    return _link_raises(result, amounts, folded, by_amount, periods)


def _doc_text(start: date | None, end: date | None) -> str:
    return f"document period {start or '?'}..{end or 'now'}"


def _reference(
    by_amount: dict[int, Statement], before: list[_Amount], document_period: tuple[date | None, date | None]
) -> date | None:
    """The start of the period the sentence spoke of before "wcześniej"."""
    for amount in reversed(before):
        statement = by_amount.get(amount.begin)
        if statement and statement.start:
            return statement.start
    return document_period[0]


def _attached(amount: _Amount, periods: list[Period], folded: str) -> Period | None:
    """A period phrase right after the amount ("776 zł w 2024 r.") or right before it in brackets."""
    for period in periods:
        if period.begin >= amount.end and _ADJACENT.match(folded[amount.end : period.begin]):
            return period
        # "(w 2024 r.: 1000 zł)": a bracket opening with a period names the amount inside it.
        just_before = period.stop <= amount.begin and re.fullmatch(
            r"\s*:?\s*", folded[period.stop : amount.begin]
        )
        if just_before and folded[: period.begin].rstrip().endswith("("):
            return period
    return None


def _quantities_for(
    folded: str,
    amount: _Amount,
    prev_end: int,
    next_begin: int,
    table: AmountTable,
    previous: tuple[int, tuple[Quantity, ...]] | None,
) -> tuple[int, tuple[Quantity, ...]] | None:
    """Where the subject ends and the quantity (or group) stated at ``amount``.

    The quantities are () for a value the sentence computes; None means the
    sentence states no known quantity here. An amount with no qualifier of its
    own that follows another amount under the same subject ("z 30 zł do 100 zł",
    "701 zł i 528 zł") states the same quantity as that amount.
    """
    nearest: dict[str, tuple[int, int]] = {}
    for quantity in table:
        spans = [m.span() for m in quantity.subject.finditer(folded) if m.end() <= amount.begin]
        if spans:
            nearest[quantity.id] = spans[-1]
    if not nearest:
        return None
    closest = max(end for _, end in nearest.values())
    candidates = [q for q in table if q.id in nearest and nearest[q.id][1] == closest]
    subject_start = min(nearest[q.id][0] for q in candidates)
    left = folded[: amount.begin]
    right = folded[amount.end : next_begin]
    if (
        _PERCENT.search(folded[max(0, subject_start - 8) : amount.begin])
        or _DERIVED_BEFORE.search(left)
        or _DERIVED_AFTER.search(right)
    ):
        return closest, ()
    head = right[:_RIGHT_HEAD]
    stop = _RIGHT_STOP.search(head)
    head = head[: stop.start()] if stop else head
    region = folded[prev_end : amount.begin]
    best: tuple[tuple[int, int], Quantity] | None = None
    for quantity in candidates:
        if quantity.qualifier is None:
            continue
        # A qualifier after the amount counts only when it follows at once ("776 zł dla osoby …").
        in_head = quantity.qualifier.search(head)
        if in_head and not _follows_at_once(head[: in_head.start()]):
            in_head = None
        in_region = [m.end() for m in quantity.qualifier.finditer(region)]
        if in_head:
            rank = (1, -in_head.start())
        elif in_region:
            rank = (0, in_region[-1])
        else:
            continue
        if best is None or rank > best[0]:
            best = (rank, quantity)
    if best is not None:
        return closest, (best[1],)
    plain = [q for q in candidates if q.qualifier is None]
    if len(plain) == 1:
        return closest, (plain[0],)
    if previous is not None and previous[0] == closest:
        return previous
    groups = {q.group for q in candidates}
    if len(groups) == 1 and None not in groups:
        return closest, tuple(table.group(str(groups.pop())))
    return None


def _follows_at_once(gap: str) -> bool:
    """True when a qualifier after ``gap`` still describes the amount before it."""
    return bool(_HEAD_GAP.match(gap)) and not _CLAUSE_WORDS & set(gap.split())


def _link_raises(
    statements: list[Statement],
    amounts: list[_Amount],
    folded: str,
    by_amount: dict[int, Statement],
    periods: list[Period],
) -> list[Statement]:
    """In "z A zł do B zł" without a period of its own, A is the value just before B."""
    result = list(statements)
    for first, second in itertools.pairwise(amounts):
        a, b = by_amount.get(first.begin), by_amount.get(second.begin)
        if a is None or b is None or a.quantities != b.quantities:
            continue
        if not re.search(r"\bz\s*$", folded[: first.begin]) or not _FROM_TO.match(
            folded[first.end : second.begin]
        ):
            continue
        if _attached(first, periods, folded) is not None:
            continue
        raised = Statement(
            a.path, a.sentence, a.value, a.quantities, "previous", None, None, "the value before", b
        )
        result[result.index(a)] = raised
    return result


def verdict(statement: Statement) -> Disagreement | None:
    """None when the table agrees with the statement, else the disagreement."""
    compared: list[Row] = []
    for quantity in statement.quantities:
        ok, rows = _holds(quantity, statement)
        if ok:
            return None
        compared += rows
    return Disagreement(statement, tuple(dict.fromkeys(compared)))


def _holds(quantity: Quantity, s: Statement) -> tuple[bool, list[Row]]:
    value = s.value
    if s.check == "point":
        assert s.start is not None
        rows = quantity.rows_on(s.start)
        return bool(rows) and rows[0].value == value, rows or list(quantity.rows)
    if s.check == "span":
        assert s.start is not None and s.end is not None
        rows = quantity.rows_over(s.start, s.end)
        ok = bool(rows) and quantity.covers(s.start, s.end) and all(r.value == value for r in rows)
        return ok, rows or list(quantity.rows)
    if s.check == "overlap":
        rows = quantity.rows_over(s.start, s.end)
        return any(r.value == value for r in rows), rows or list(quantity.rows)
    if s.check == "before":
        earlier = [
            r for r in quantity.rows if r.valid_to is not None and (s.end is None or r.valid_to < s.end)
        ]
        return any(r.value == value for r in earlier), earlier or list(quantity.rows)
    # "previous": the row just before the one the later amount names.
    assert s.after is not None
    later = [r for r in _matching_rows(quantity, s.after)]
    before = [p for p in (quantity.previous(r) for r in later) if p is not None]
    return any(p.value == value for p in before), before or list(quantity.rows)


def _matching_rows(quantity: Quantity, s: Statement) -> list[Row]:
    """The rows that make statement ``s`` true."""
    if s.check == "point" and s.start is not None:
        return [r for r in quantity.rows_on(s.start) if r.value == s.value]
    return [r for r in quantity.rows_over(s.start, s.end) if r.value == s.value]


# --- documents --------------------------------------------------------------------------------


def document_units(body: str) -> list[str]:
    """The sentences (list items with their lead) and table cells of a Markdown body."""
    units: list[str] = []
    prose: list[str] = []
    heading = ""
    lines = body.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        if line.lstrip().startswith("|"):
            block = []
            while index < len(lines) and lines[index].lstrip().startswith("|"):
                block.append(lines[index])
                index += 1
            units += _table_units(block, heading)
            prose.append("")
            continue
        prose.append(line)
        index += 1
    for sentence in sentences("\n".join(prose)):
        units.append(f"{sentence.lead} {sentence.text}" if sentence.lead else sentence.text)
    return units


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table_units(block: list[str], heading: str) -> list[str]:
    """One synthetic sentence per amount cell: "od 1.10.2012: <heading>; <column>: 542 zł"."""
    if len(block) < 3:
        return []
    header = _cells(block[0])
    units = []
    for line in block[2:]:
        cells = _cells(line)
        period = ""
        first = cells[0] if cells else ""
        if re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", first):
            period = f"od {first}: "
        elif re.fullmatch(r"(?:19|20)\d\d", first):
            period = f"w {first} r.: "
        for column, cell in zip(header, cells, strict=False):
            if _AMOUNT.search(fold(cell)):
                units.append(f"{period}{heading}; {column}: {cell}")
    return units


def document_period(meta: dict[str, object]) -> tuple[date | None, date | None]:
    """The period a document speaks of: effective_from (or its date) to effective_to."""

    def as_date(value: object) -> date | None:
        return value if isinstance(value, date) else None

    start = as_date(meta.get("effective_from")) or as_date(meta.get("date"))
    return start, as_date(meta.get("effective_to"))


def check_file(
    path: Path, table: AmountTable, root: Path | None = None
) -> tuple[list[Statement], list[Disagreement]]:
    """The statements of known quantities in one Markdown file, and those the table contradicts."""
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    meta = yaml.safe_load(match[1] or "") if match else {}
    body = text[match.end() :] if match else text
    name = path.relative_to(root).as_posix() if root else path.name
    period = document_period(meta if isinstance(meta, dict) else {})
    found: list[Statement] = []
    for unit in document_units(body):
        found += statements_in(unit, table, path=name, document_period=period)
    disagreements = [d for d in (verdict(s) for s in found) if d is not None]
    return found, disagreements


def check_folder(root: Path, table: AmountTable) -> tuple[list[Statement], list[Disagreement]]:
    """``check_file`` over every Markdown file under ``root``."""
    statements: list[Statement] = []
    disagreements: list[Disagreement] = []
    for path in sorted(root.rglob("*.md")):
        if path.name == "README.md":
            continue
        found, wrong = check_file(path, table, root)
        statements += found
        disagreements += wrong
    return statements, disagreements


# --- consolidated texts -------------------------------------------------------------------------

_TJ_CONTEXT = re.compile(r"tekst\w* jednolit|stan\w* prawn|\bt\.\s?j\.", re.IGNORECASE)
_JOURNAL_REF = re.compile(r"Dz\.\s?U\.\s?(?:z\s)?(\d{4})\s?(?:r\.)?\s?,?\s?poz\.\s?(\d+)")
_HISTORICAL = re.compile(r"^status:\s*historical\s*$", re.MULTILINE)


def stale_consolidated_texts(document: str, table: AmountTable) -> list[str]:
    """Acts whose older consolidated text a current document names without the newest one.

    Applies when the document speaks of a consolidated text or legal state at all;
    historical documents describe an earlier state and may name only its text.
    """
    if not _TJ_CONTEXT.search(document) or _HISTORICAL.search(document):
        return []
    named = {f"Dz.U. {year} poz. {position}" for year, position in _JOURNAL_REF.findall(document)}
    problems = []
    for act in table.consolidated:
        older = sorted(named & set(act.texts[:-1]))
        if older and act.newest not in named:
            problems.append(
                f"names {', '.join(older)} of {act.act} but not its newest consolidated text {act.newest}"
                " (knowledge/facts/amounts.yaml, consolidated_texts)"
            )
    return problems
