"""Query understanding: the one year reader, shorthand, typo tolerance, question types, follow-ups."""

from __future__ import annotations

from datetime import date

import pytest

from index.query import (
    ABBREVIATIONS,
    Vocabulary,
    asks_about_past,
    expand_abbreviations,
    is_follow_up,
    question_types,
    read_query,
    years_in,
)

TODAY = date(2025, 6, 1)


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("kryterium dochodowe w 2008r", {2008}),
        ("ile było w 2019 roku, a od 2015 r.?", {2019, 2015}),
        ("przed 2020r", {2020}),
        ("wynosi 1010 zł, Dz.U. 2023 poz. 901", set()),
        ("1.01.2025", set()),
    ],
)
def test_one_year_reader(text: str, years: set[int]) -> None:
    assert years_in(text) == years


@pytest.mark.parametrize(
    ("text", "past"),
    [
        ("ile było wcześniej", True),
        ("kryterium w 2019", True),
        ("kryterium w 2025", False),
        ("ile wynosi", False),
    ],
)
def test_past_questions(text: str, past: bool) -> None:
    assert asks_about_past(text, TODAY) is past


def test_every_abbreviation_is_an_acronym_of_its_expansion() -> None:
    for key, expansion in ABBREVIATIONS.items():
        initials = "".join(w[0] for w in expansion.replace("-", " ").split() if len(w) > 1)
        assert initials == key, (key, expansion)


def test_shorthand_is_spelled_out_beside_itself() -> None:
    assert expand_abbreviations("co robi PCPR?") == "co robi PCPR? powiatowe centrum pomocy rodzinie"
    assert "ustawa o pomocy społecznej" in expand_abbreviations("art. 7 u.p.s.")


def test_typos_are_corrected_against_the_vocabulary_only() -> None:
    vocabulary = Vocabulary(["zasilku", "zasilek", "odwolanie", "kryterium", "~zasilek"])
    assert vocabulary.correct("zasilkku") == "zasilku"  # one letter too many
    assert vocabulary.correct("odwolanei") == "odwolanie"  # two letters swapped: one edit
    assert vocabulary.correct("kot") == "kot"  # too short to guess
    assert vocabulary.correct("samochod") == "samochod"  # nothing near
    # A real Polish word the index lacks is no typo: it stays, and counts as unknown.
    query = read_query("ile wynosi becikowe i zasilkku", vocabulary=vocabulary, today=TODAY)
    assert "zasilku" in query.words and "becikowe" in query.words
    assert query.unknown_words >= 1


@pytest.mark.parametrize(
    ("question", "types"),
    [
        ("ile wynosi zasiłek stały", {"amount"}),
        ("w ile dni trzeba się odwołać", {"duration"}),
        ("kiedy wchodzi w życie", {"date"}),
        ("kto przeprowadza wywiad", {"body"}),
        ("czy babcia dostanie zasiłek", {"yesno"}),
        ("jakie są powody udzielania pomocy", {"list"}),
    ],
)
def test_question_types(question: str, types: set[str]) -> None:
    assert types <= question_types(question)


def test_follow_ups_merge_with_the_previous_question_and_keep_its_year() -> None:
    assert is_follow_up("a dla rodziny?") and is_follow_up("a w 2019?")
    assert not is_follow_up("ile dni ma klient na odwołanie od decyzji mops")
    query = read_query("a dla rodziny?", previous="kryterium dochodowe w 2019", today=TODAY)
    assert query.follow_up and query.text == "kryterium dochodowe w 2019 a dla rodziny?"
    assert query.years == {2019} and query.past
    assert not read_query("ile dni na odwołanie od decyzji", previous="kryterium", today=TODAY).follow_up
