"""Metadata validation and the status computed from effective dates."""

from __future__ import annotations

from datetime import date

import pytest

from index.errors import InvalidDocument
from index.metadata import effective_status, parse_meta

BASE = {
    "title": "Ustawa o pomocy społecznej",
    "kind": "statute",
    "status": "in_force",
    "source_url": "https://isap.sejm.gov.pl/",
    "date": "2025-08-22",
}


def test_full_metadata_is_read_with_dates_and_extras():
    raw = BASE | {
        "act": "ustawa o pomocy społecznej",
        "published": "Dz.U. 2025 poz. 1214",
        "date": date(2025, 8, 22),
        "effective_from": "2025-09-01",
        "speakers": ["Jan Kowalski", "Anna Nowak"],
        "version": 3,
        "place": "Zakopane",
    }
    meta = parse_meta(raw, "k/ups.md")
    assert meta.published == "Dz.U. 2025 poz. 1214"
    assert meta.date == date(2025, 8, 22)
    assert meta.effective_from == date(2025, 9, 1)
    assert meta.effective_to is None
    assert meta.language == "pl"
    assert meta.extra == {"speakers": "Jan Kowalski, Anna Nowak", "version": "3", "place": "Zakopane"}


def test_announced_is_an_allowed_status():
    assert parse_meta(BASE | {"status": "announced"}, "a.md").status == "announced"


@pytest.mark.parametrize("field", ["title", "kind", "status", "source_url", "date"])
def test_missing_required_field_names_file_and_field(field):
    raw = {k: v for k, v in BASE.items() if k != field}
    with pytest.raises(InvalidDocument) as info:
        parse_meta(raw, "knowledge/x.md")
    assert info.value.path == "knowledge/x.md"
    assert f"'{field}'" in info.value.reason


def test_blank_title_counts_as_missing():
    with pytest.raises(InvalidDocument, match="'title'"):
        parse_meta(BASE | {"title": "  "}, "x.md")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "ustawa"}, "kind"),
        ({"status": "obowiązuje"}, "status"),
        ({"effective_from": "1.01.2025"}, "effective_from"),
        ({"date": "2025-13-01"}, "date"),
    ],
)
def test_invalid_values_are_rejected_naming_the_field(change, field):
    with pytest.raises(InvalidDocument) as info:
        parse_meta(BASE | change, "x.md")
    assert f"'{field}'" in info.value.reason


def test_effective_range_must_be_ordered():
    raw = BASE | {"effective_from": "2025-01-01", "effective_to": "2024-12-31"}
    with pytest.raises(InvalidDocument, match="effective_from"):
        parse_meta(raw, "x.md")


def test_non_mapping_is_rejected():
    with pytest.raises(InvalidDocument, match="'pole: wartość'"):
        parse_meta(["title"], "x.md")  # type: ignore[arg-type]  # deliberately not a mapping


def _meta(**changes):
    return parse_meta(BASE | changes, "x.md")


@pytest.mark.parametrize(
    ("changes", "today", "expected"),
    [
        ({"effective_from": "2025-01-01"}, date(2024, 12, 31), "upcoming"),
        ({"effective_from": "2025-01-01"}, date(2025, 1, 1), "in_force"),
        ({"effective_from": "2024-01-01", "effective_to": "2024-12-31"}, date(2024, 12, 31), "in_force"),
        ({"effective_from": "2024-01-01", "effective_to": "2024-12-31"}, date(2025, 1, 1), "historical"),
        # The author declared it upcoming, but the date has come: dates win.
        ({"status": "upcoming", "effective_from": "2025-01-01"}, date(2025, 6, 1), "in_force"),
        # Superseded without an end date: the declaration stands.
        ({"status": "historical", "effective_from": "2018-01-01"}, date(2025, 6, 1), "historical"),
        ({"status": "draft", "effective_from": "2020-01-01"}, date(2025, 6, 1), "draft"),
        ({"status": "announced", "effective_from": "2020-01-01"}, date(2025, 6, 1), "announced"),
        ({"status": "historical"}, date(2025, 6, 1), "historical"),
        ({"status": "upcoming"}, date(2025, 6, 1), "upcoming"),
    ],
)
def test_effective_status(changes, today, expected):
    assert effective_status(_meta(**changes), today) == expected
