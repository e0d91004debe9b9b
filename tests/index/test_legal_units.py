"""Unit references in queries and anchors, and the unit tree of an act."""

from __future__ import annotations

import pytest

from index.legal_units import UnitRef, anchor_matches, canonical_label, parse_unit_refs, parse_units


@pytest.mark.parametrize(
    ("query", "anchors"),
    [
        ("art. 37", ["art. 37"]),
        ("Ile wynosi zasiłek z art 8 ust 1?", ["art. 8 ust. 1"]),
        ("Art. 8 ust. 1 pkt 2", ["art. 8 ust. 1 pkt 2"]),
        ("co mówi artykuł 7", ["art. 7"]),
        ("§ 2", ["§ 2"]),
        ("art. 39(1)", ["art. 39¹"]),
        ("art. 39^1 § 2", ["art. 39¹ § 2"]),
        ("art. 39¹", ["art. 39¹"]),
        ("art. 106 ust. 3a", ["art. 106 ust. 3a"]),
        ("artykułu 17 ust. 1 pkt 3 lit. b", ["art. 17 ust. 1 pkt 3 lit. b"]),
        ("art. 7 pkt 1 i art. 8", ["art. 7 pkt 1", "art. 8"]),
        ("w art. 5 w ust. 1 w pkt 5", ["art. 5 ust. 1 pkt 5"]),
        ("zasiłek stały dla osoby samotnej", []),
        ("ustawa z 2004 r., poz. 593", []),
    ],
)
def test_parse_unit_refs(query, anchors):
    assert [ref.anchor for ref in parse_unit_refs(query)] == anchors


def test_canonical_label_writes_superscripts_one_way():
    assert canonical_label("39^1") == canonical_label("39(1)") == "39¹"
    assert canonical_label("29A") == "29a"


@pytest.mark.parametrize(
    ("query", "anchor", "expected"),
    [
        ("art. 8", "art. 8 ust. 1", True),
        ("art. 8", "art. 8", True),
        ("art. 8 ust. 1 pkt 2", "art. 8", True),  # the chunk holds the whole article
        ("art. 8", "art. 80", False),
        ("art. 8", "art. 8a ust. 1", False),
        ("art. 8 ust. 2", "art. 8 ust. 1", False),
        ("art. 8 pkt 2", "art. 8 ust. 1 pkt 2", True),
        ("art. 39¹ § 2", "art. 39¹ § 2 pkt 1", True),
        ("§ 2", "art. 39¹ § 2", True),
        ("art. 8", "§ Kryterium dochodowe", False),
        ("art. 8", "s. 12", False),
        ("art. 8", "", False),
    ],
)
def test_matches_is_a_prefix_match_both_ways(query, anchor, expected):
    (ref,) = parse_unit_refs(query)
    assert ref.matches(anchor) is expected


def test_unit_ref_anchor_order():
    ref = UnitRef(article="39¹", section="2", pkt="1")
    assert ref.anchor == "art. 39¹ § 2 pkt 1"


ACT = """USTAWA
z dnia 12 marca 2004 r.
o pomocy społecznej

DZIAŁ I
Przepisy ogólne

Rozdział 1
Zasady ogólne

Art. 1. Ustawa określa:
1) zadania w zakresie pomocy społecznej;
2) organizację pomocy społecznej.

Art. 2. 1. Pomoc społeczna jest instytucją polityki społecznej państwa.
2. Pomoc społeczną organizują organy administracji rządowej.

Rozdział 2
Świadczenia

Art. 39^1. § 1. Organ może:
1) wezwać stronę;
2) doręczyć pismo:
a) osobiście,
b) pocztą.
§ 2. Przepis stosuje się odpowiednio."""


def test_parse_units_builds_the_tree_with_chapters():
    parsed = parse_units(ACT)
    assert "o pomocy społecznej" in parsed.preamble
    assert [u.ref.anchor for u in parsed.units] == ["art. 1", "art. 2", "art. 39¹"]
    art1, art2, art39 = parsed.units
    assert art1.heading == "DZIAŁ I Przepisy ogólne / Rozdział 1 Zasady ogólne"
    assert art39.heading == "DZIAŁ I Przepisy ogólne / Rozdział 2 Świadczenia"
    assert [c.ref.anchor for c in art1.children] == ["art. 1 pkt 1", "art. 1 pkt 2"]
    assert art2.intro == "Art. 2."
    assert art2.children[0].text == "1. Pomoc społeczna jest instytucją polityki społecznej państwa."
    section1 = art39.children[0]
    assert section1.ref.anchor == "art. 39¹ § 1"
    assert [c.ref.anchor for c in section1.children[1].children] == [
        "art. 39¹ § 1 pkt 2 lit. a",
        "art. 39¹ § 1 pkt 2 lit. b",
    ]
    # Chapter headings belong to no article.
    assert "Rozdział 2" not in art2.text
    assert ACT[art2.start :].startswith("Art. 2.")


def test_regulation_paragraphs_are_top_units():
    text = "§ 1. Rozporządzenie określa kryteria.\n§ 2. 1. Kryterium wynosi 1010 zł.\n2. Inne.\n§ 3. Wchodzi w życie."
    units = parse_units(text).units
    assert [u.ref.anchor for u in units] == ["§ 1", "§ 2", "§ 3"]
    assert [c.ref.anchor for c in units[1].children] == ["§ 2 ust. 1", "§ 2 ust. 2"]


def test_quoted_text_does_not_start_units_of_an_amending_act():
    text = (
        "Art. 1. W ustawie wprowadza się następujące zmiany:\n"
        "1) po art. 29 dodaje się art. 29a w brzmieniu:\n"
        "„Art. 29a. 1. Nowy przepis.\n"
        "2) nowy punkt;\n"
        "3. Nowy ustęp.\n"
        "Art. 29b. Drugi nowy artykuł.”;\n"
        "2) uchyla się art. 30.\n"
        "Art. 2. Ustawa wchodzi w życie po upływie 14 dni."
    )
    units = parse_units(text, respect_quotes=True).units
    assert [u.ref.anchor for u in units] == ["art. 1", "art. 2"]
    assert [c.ref.anchor for c in units[0].children] == ["art. 1 pkt 1", "art. 1 pkt 2"]
    assert "Art. 29b. Drugi nowy artykuł." in units[0].children[0].text
    # Without quote awareness the inserted article would be taken for the act's own.
    assert "art. 29b" in [u.ref.anchor for u in parse_units(text).units]


@pytest.mark.parametrize(
    ("chunk_anchor", "expected", "matches"),
    [
        ("art. 129", "art. 129 § 2", True),  # the chunk holds the expected unit
        ("art. 7 pkt 3", "art. 7", True),  # the chunk is part of the expected unit
        ("art. 7 pkt 3", "art. 7 pkt 7a", False),
        ("art. 12", "art. 129 § 2", False),
        ("art. 129", None, True),
        ("§ Program konferencji", "§ program konferencji", True),
        ("§ Uczestnicy", "§ Program konferencji", False),
        ("s. 1–2", "s. 2", True),  # a range of pages holds each of them
        ("s. 2", "s. 1–2", False),
        ("s. 3", "s. 2", False),
        ("akapit 1–2", "akapit 2", True),
        ("akapit 2", "s. 2", False),
    ],
)
def test_anchor_matches(chunk_anchor: str, expected: str | None, matches: bool) -> None:
    assert anchor_matches(chunk_anchor, expected) is matches
