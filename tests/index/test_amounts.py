"""The amounts table loader, the period reader and the statement checker, on small inputs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from index.amount_check import (
    Statement,
    check_file,
    document_units,
    stale_consolidated_texts,
    statements_in,
    verdict,
)
from index.amounts import AmountTable, AmountTableError, load_table
from index.periods import dates_in, periods_in

TABLE = """
quantities:
  - id: kryterium_samotna
    name: kryterium dochodowe osoby samotnie gospodarującej
    unit: zł miesięcznie
    legal_basis: art. 8 ust. 1 pkt 1 u.p.s.
    subject: 'kryteri\\w*'
    qualifier: '(?:(?:dla|na) )?osob\\w* samotn\\w*(?: gospodaruj\\w*)?|samotnie gospodaruj\\w*'
    group: kryterium
    periods:
      - {value: 776, valid_from: 2022-01-01, valid_to: 2024-12-31,
         legal_basis: Dz.U. 2021 poz. 1296, sources: [https://a]}
      - {value: 1010, valid_from: 2025-01-01, valid_to: null,
         legal_basis: Dz.U. 2024 poz. 1044, sources: [https://b]}
  - id: kryterium_rodzina
    name: kryterium dochodowe na osobę w rodzinie
    unit: zł miesięcznie
    legal_basis: art. 8 ust. 1 pkt 2 u.p.s.
    subject: 'kryteri\\w*'
    qualifier: '(?:na|dla) osob\\w* w rodzinie'
    group: kryterium
    periods:
      - {value: 600, valid_from: 2022-01-01, valid_to: 2024-12-31,
         legal_basis: Dz.U. 2021 poz. 1296, sources: [https://a]}
      - {value: 823, valid_from: 2025-01-01, valid_to: null,
         legal_basis: Dz.U. 2024 poz. 1044, sources: [https://b]}
  - id: zs_max
    name: maksymalny zasiłek stały
    unit: zł miesięcznie
    legal_basis: art. 37 ust. 2 pkt 1 u.p.s.
    subject: 'zasil\\w* stal\\w*'
    qualifier: 'maks(?:ymaln\\w*|\\.)|nie (?:moze|mogl\\w*) (?:byc )?wyzsz\\w*'
    periods:
      - {value: 719, valid_from: 2022-01-01, valid_to: 2023-12-31,
         legal_basis: Dz.U. 2021 poz. 1296, sources: [https://a]}
      - {value: 1000, valid_from: 2024-01-01, valid_to: 2024-12-31,
         legal_basis: Dz.U. 2023 poz. 1693, sources: [https://c]}
      - {value: 1229, valid_from: 2025-01-01, valid_to: null,
         legal_basis: Dz.U. 2024 poz. 1044, sources: [https://b]}
  - id: zs_min
    name: minimalny zasiłek stały
    unit: zł miesięcznie
    legal_basis: art. 37 ust. 3 u.p.s.
    subject: 'zasil\\w* stal\\w*'
    qualifier: 'minimaln\\w*|najnizsz\\w*|nie (?:moze|mogl\\w*) (?:byc )?nizsz\\w*'
    periods:
      - {value: 30, valid_from: null, valid_to: 2023-12-31,
         legal_basis: art. 37 ust. 3, sources: [https://a]}
      - {value: 100, valid_from: 2024-01-01, valid_to: null,
         legal_basis: Dz.U. 2023 poz. 1693, sources: [https://c]}
  - id: ha
    name: dochód z 1 ha przeliczeniowego
    unit: zł miesięcznie
    legal_basis: art. 8 u.p.s.
    subject: '(?:hektar\\w*|ha) przeliczeniow\\w*'
    periods:
      - {value: 345, valid_from: 2022-01-01, valid_to: 2024-12-31,
         legal_basis: Dz.U. 2021 poz. 1296, sources: [https://a]}
      - {value: 459, valid_from: 2025-01-01, valid_to: null,
         legal_basis: Dz.U. 2024 poz. 1044, sources: [https://b]}
events:
  - {date: 2024-01-01, what: reguła 130%, act: Dz.U. 2023 poz. 1693, sources: [https://c]}
consolidated_texts:
  - {act: u.p.s., texts: [Dz.U. 2023 poz. 901, Dz.U. 2025 poz. 1214], sources: [https://d]}
"""


@pytest.fixture
def table(tmp_path: Path) -> AmountTable:
    path = tmp_path / "amounts.yaml"
    path.write_text(TABLE, encoding="utf-8")
    return load_table(path)


def statements(text: str, table: AmountTable, period: tuple[date | None, date | None] = (None, None)):
    return statements_in(text, table, path="x.md", document_period=period)


def wrong(text: str, table: AmountTable, period: tuple[date | None, date | None] = (None, None)) -> list[str]:
    """The quantity ids the table contradicts in ``text``."""
    return [d.statement.label for d in (verdict(s) for s in statements(text, table, period)) if d]


# --- the table --------------------------------------------------------------------------------


def test_table_answers_value_on_a_day(table: AmountTable) -> None:
    assert table.value_on("zs_max", date(2023, 12, 31)) == 719
    assert table.value_on("zs_max", date(2024, 1, 1)) == 1000
    assert table.value_on("zs_min", date(2010, 5, 5)) == 30  # open start
    assert table.value_on("ha", date(2021, 1, 1)) is None
    assert table.dates() >= {date(2024, 1, 1), date(2023, 12, 31)}
    assert "Dz.U. 2023 poz. 1693" in table.texts()


def test_overlapping_periods_are_rejected(tmp_path: Path) -> None:
    bad = TABLE.replace("{value: 1000, valid_from: 2024-01-01", "{value: 1000, valid_from: 2023-06-01")
    path = tmp_path / "amounts.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(AmountTableError, match="overlap"):
        load_table(path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("sources: [https://c]}\n      - {value: 1229", "sources: []}\n      - {value: 1229", "sources"),
        (
            "{value: 459, valid_from: 2025-01-01, valid_to: null,",
            "{value: 459, valid_from: 2025-01-01,",
            "valid_to",
        ),
        (
            "{value: 1229, valid_from: 2025-01-01, valid_to: null,",
            "{value: 1229, valid_from: 2025-01-01, valid_to: 2024-01-01,",
            "before",
        ),
        (
            "subject: 'zasil\\w* stal\\w*'\n    qualifier: 'maks",
            "subject: 'zasil(['\n    qualifier: 'maks",
            "pattern",
        ),
        ("{value: 776,", "{value: siedemset,", "number"),
    ],
)
def test_malformed_rows_name_the_problem(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in TABLE, old
    path = tmp_path / "amounts.yaml"
    path.write_text(TABLE.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(AmountTableError, match=message):
        load_table(path)


def test_changes_list_from_and_to_values(table: AmountTable) -> None:
    changes = table.changes(since=date(2024, 1, 1), until=date(2025, 12, 31))
    assert [c.describe() for c in changes if c.quantity.id == "zs_max"] == [
        "maksymalny zasiłek stały: 719 zł → 1000 zł od 2024-01-01",
        "maksymalny zasiłek stały: 1000 zł → 1229 zł od 2025-01-01",
    ]
    assert [c.day for c in changes] == sorted(c.day for c in changes)
    assert all(c.before is None or c.before.value != c.after.value for c in changes)


def test_the_real_table_loads() -> None:
    table = load_table()
    assert len(list(table)) >= 8
    assert table.value_on("dodatek_za_prace_w_terenie", date(2022, 1, 1)) == 400


# --- periods ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("Od 1 stycznia 2025 r. wynosi", "point", date(2025, 1, 1), date(2025, 1, 1)),
        ("od 1.10.2012: tabela", "point", date(2012, 10, 1), date(2012, 10, 1)),
        (
            "od 1 stycznia 2022 r. do 31 grudnia 2024 r. wynosiło",
            "span",
            date(2022, 1, 1),
            date(2024, 12, 31),
        ),
        ("W 2024 r. wynosił", "span", date(2024, 1, 1), date(2024, 12, 31)),
        ("w roku 2019 było", "span", date(2019, 1, 1), date(2019, 12, 31)),
        ("w latach 2022–2024", "span", date(2022, 1, 1), date(2024, 12, 31)),
        ("w latach 2019, 2020 i 2021", "span", date(2019, 1, 1), date(2021, 12, 31)),
        ("wcześniej wynosił", "before", None, None),
    ],
)
def test_period_phrases(text: str, kind: str, start: date | None, end: date | None) -> None:
    (period,) = periods_in(text)
    assert (period.kind, period.start, period.end) == (kind, start, end)


def test_act_dates_and_journal_years_are_not_periods() -> None:
    assert periods_in("ustawa z dnia 15 kwietnia 2021 r. (Dz.U. 2021 poz. 803) podniosła") == []


def test_dates_in_reads_all_written_forms() -> None:
    text = "od 1 stycznia 2025 r., 30.09.2012 i 2024-06-01"
    assert dates_in(text) == {date(2025, 1, 1), date(2012, 9, 30), date(2024, 6, 1)}


# --- statements -------------------------------------------------------------------------------


def test_the_contradiction_of_issue_17_is_caught(table: AmountTable) -> None:
    """719 zł was the maximum until 31.12.2023; the sentence claims it for 2024 too."""
    text = (
        "Od 1 stycznia 2022 r. do 31 grudnia 2024 r. kryterium dochodowe wynosiło 776 zł dla osoby "
        "samotnie gospodarującej i 600 zł na osobę w rodzinie, a maksymalny zasiłek stały 719 zł."
    )
    found = statements(text, table)
    assert [(s.label, s.value) for s in found] == [
        ("kryterium_samotna", 776),
        ("kryterium_rodzina", 600),
        ("zs_max", 719),
    ]
    assert wrong(text, table) == ["zs_max"]


def test_a_message_names_file_sentence_and_rows(table: AmountTable) -> None:
    (statement,) = statements("W 2024 r. maksymalny zasiłek stały wynosił 719 zł.", table)
    disagreement = verdict(statement)
    assert disagreement is not None
    message = disagreement.message()
    assert "x.md" in message and "W 2024 r. maksymalny zasiłek stały wynosił 719 zł." in message
    assert "1000 zł 2024-01-01..2024-12-31 (Dz.U. 2023 poz. 1693)" in message


@pytest.mark.parametrize(
    "text",
    [
        "W 2024 r. maksymalny zasiłek stały wynosił 1000 zł, a od 1 stycznia 2025 r. wynosi 1229 zł.",
        "Kryterium dochodowe dla osoby samotnie gospodarującej wzrosło z 776 zł w 2024 r. "
        "do 1010 zł od 1 stycznia 2025 r.",
        "Kwota dochodu z 1 hektara przeliczeniowego wzrosła z 345 zł do 459 zł.",
        "Najniższy zasiłek stały wzrósł z 30 zł do 100 zł miesięcznie.",
        "Wcześniej, od 1 stycznia 2022 r., kryteria wynosiły 776 zł i 600 zł.",
        "Od 1.01.2025 kryterium dochodowe wynosi 1010 zł dla osoby samotnie gospodarującej "
        "i 823 zł na osobę w rodzinie.",
        "Przykład: dla rodziny czteroosobowej kryterium dochodowe rodziny wynosi 4 × 823 zł, czyli 3292 zł.",
        "Przykład: 130% kryterium osoby samotnie gospodarującej wynosi w 2025 r. 1313 zł.",
        "Próg 10% kryterium wynosi 101 zł dla osoby samotnie gospodarującej (10% z 1010 zł).",
    ],
)
def test_true_statements_pass(table: AmountTable, text: str) -> None:
    assert wrong(text, table) == []


@pytest.mark.parametrize(
    ("text", "label"),
    [
        (
            "W 2024 r. maksymalny zasiłek stały wynosił 1000 zł, a od 1 stycznia 2025 r. wynosi 1000 zł.",
            "zs_max",
        ),
        (
            "Kryterium dochodowe dla osoby samotnie gospodarującej wzrosło z 600 zł w 2024 r. do 1010 zł.",
            "kryterium_samotna",
        ),
        ("Kwota dochodu z 1 hektara przeliczeniowego wzrosła z 308 zł do 459 zł.", "ha"),
        ("W latach 2022–2024 kwota zasiłku stałego nie mogła być niższa niż 30 zł.", "zs_min"),
        ("Od 1 stycznia 2025 r. kryterium dochodowe na osobę w rodzinie wynosi 776 zł.", "kryterium_rodzina"),
        (
            "Wcześniej, od 1 stycznia 2022 r., kryteria wynosiły 701 zł i 600 zł.",
            "one of: kryterium_samotna, kryterium_rodzina",
        ),
        ("Dochód z 1 ha przeliczeniowego wynosił 250 zł.", "ha"),  # no period: any in the table
    ],
)
def test_false_statements_fail(table: AmountTable, text: str, label: str) -> None:
    assert label in wrong(text, table)


def test_without_a_period_the_document_period_decides(table: AmountTable) -> None:
    text = "Maksymalny zasiłek stały wynosi 1229 zł."
    assert wrong(text, table, (date(2025, 8, 22), None)) == []
    assert wrong(text, table, (date(2022, 1, 1), date(2023, 12, 31))) == ["zs_max"]


def test_a_period_the_table_does_not_cover_fails(table: AmountTable) -> None:
    assert wrong("W 2019 r. kwota dochodu z 1 ha przeliczeniowego wynosiła 345 zł.", table) == ["ha"]


def test_markdown_tables_are_read_by_column_and_date(table: AmountTable, tmp_path: Path) -> None:
    path = tmp_path / "tabela.md"
    path.write_text(
        "---\ntitle: t\ndate: 2025-08-22\n---\n\n## Historia kryteriów dochodowych\n\n"
        "| obowiązuje od | osoba samotnie gospodarująca | na osobę w rodzinie | maks. zasiłek stały |\n"
        "|---|---|---|---|\n"
        "| 1.01.2022 | 776 zł | 600 zł | 719 zł (w 2024 r.: 1000 zł) |\n"
        "| 1.01.2025 | 1010 zł | 600 zł | 1229 zł |\n",
        encoding="utf-8",
    )
    found, disagreements = check_file(path, table)
    assert len(found) == 7
    assert [(d.statement.label, d.statement.value) for d in disagreements] == [("kryterium_rodzina", 600)]


def test_list_items_keep_their_lead(table: AmountTable) -> None:
    units = document_units(
        "## Kwoty\n\nOd 1 stycznia 2025 r. kryterium dochodowe wynosi:\n"
        "1) 1010 zł dla osoby samotnie gospodarującej;\n2) 823 zł na osobę w rodzinie.\n"
    )
    found: list[Statement] = []
    for unit in units:
        found += statements(unit, table)
    assert [(s.label, s.value, s.start) for s in found] == [
        ("kryterium_samotna", Decimal(1010), date(2025, 1, 1)),
        ("kryterium_rodzina", Decimal(823), date(2025, 1, 1)),
    ]


@pytest.mark.parametrize(
    ("document", "stale"),
    [
        ("status: in_force\nStan prawny: tekst jednolity Dz.U. 2023 poz. 901.", True),
        ("status: in_force\nStan prawny: t.j. Dz. U. z 2023 r. poz. 901.", True),
        (
            "status: in_force\nArt. 106 według t.j. Dz.U. 2023 poz. 901; stan prawny: Dz.U. 2025 poz. 1214.",
            False,
        ),
        ("status: historical\nStan prawny: tekst jednolity Dz.U. 2023 poz. 901.", False),
        ("status: in_force\nUstawa (Dz.U. 2023 poz. 901) zmieniła przepisy.", False),  # no legal-state claim
    ],
)
def test_a_stale_consolidated_text_is_reported(table: AmountTable, document: str, stale: bool) -> None:
    assert bool(stale_consolidated_texts(document, table)) is stale
