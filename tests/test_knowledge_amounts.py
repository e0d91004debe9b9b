"""Every amount the knowledge base states agrees with knowledge/facts/amounts.yaml.

The table is the single source of truth: a statement like "od 1 stycznia 2022 r.
do 31 grudnia 2024 r. … maksymalny zasiłek stały 719 zł" fails here because the
table says 1000 zł for 2024. How statements are read: ``index.amount_check``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from index.amount_check import check_folder, stale_consolidated_texts
from index.amounts import AmountTable, load_table

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture(scope="module")
def table() -> AmountTable:
    return load_table(KNOWLEDGE / "facts" / "amounts.yaml")


def test_every_stated_amount_agrees_with_the_table(table: AmountTable) -> None:
    statements, disagreements = check_folder(KNOWLEDGE, table)
    # The reader must keep finding the base's statements, or this test would pass vacuously.
    assert len(statements) >= 100, f"only {len(statements)} statements of known quantities found"
    assert not disagreements, "\n\n".join(d.message() for d in disagreements)


def test_every_row_names_its_legal_basis_and_sources(table: AmountTable) -> None:
    for quantity in table:
        assert re.search(r"\bart\. \d|ustaw|rozporządzeni|Dz\.U\.", quantity.legal_basis), quantity.id
        for row in quantity.rows:
            assert row.sources, f"{quantity.id} {row.describe()} has no source"
            assert all(s.startswith("http") for s in row.sources), f"{quantity.id}: sources are addresses"


def test_current_values(table: AmountTable) -> None:
    """The values users ask about most, as the sources give them for 2025."""
    from datetime import date

    day = date(2025, 6, 1)
    assert table.value_on("kryterium_osoba_samotnie_gospodarujaca", day) == 1010
    assert table.value_on("kryterium_na_osobe_w_rodzinie", day) == 823
    assert table.value_on("zasilek_staly_maksymalny", day) == 1229
    assert table.value_on("zasilek_staly_minimalny", day) == 100
    assert table.value_on("dochod_z_1_ha_przeliczeniowego", day) == 459
    assert table.value_on("zasilek_staly_maksymalny", date(2024, 6, 1)) == 1000
    assert table.value_on("zasilek_staly_maksymalny", date(2023, 6, 1)) == 719


@pytest.mark.parametrize(
    "path", sorted(KNOWLEDGE.rglob("*.md")), ids=lambda p: p.relative_to(KNOWLEDGE).as_posix()
)
def test_a_consolidated_text_named_is_the_newest_or_comes_with_it(table: AmountTable, path: Path) -> None:
    """A current document naming an older t.j. of an act also names the newest one."""
    problems = stale_consolidated_texts(path.read_text(encoding="utf-8"), table)
    assert not problems, f"{path.name}: " + "; ".join(problems)
