"""bot.verify: each generated sentence is checked against the passages it cites."""

from __future__ import annotations

from functools import lru_cache

import pytest

from bot.verify import (
    DRAFT_AS_LAW,
    NO_CITATION,
    OFF_TOPIC,
    UNKNOWN_SOURCE,
    UNSUPPORTED_DATE,
    UNSUPPORTED_JOURNAL,
    UNSUPPORTED_NUMBER,
    UNSUPPORTED_UNIT,
    Evidence,
    Fact,
    generated_sentences,
    passage_facts,
    says_unknown,
    sentence_facts,
    verify,
)

STATUTE = (
    "Art. 8. 1. Prawo do świadczeń pieniężnych z pomocy społecznej przysługuje:\n"
    "1) osobie samotnie gospodarującej, której dochód nie przekracza kwoty 1 010 zł;\n"
    "2) osobie w rodzinie, w której dochód na osobę nie przekracza kwoty 823 zł.\n"
    "2. Kwoty obowiązują od dnia 1 stycznia 2025 r. (Dz. U. z 2025 r. poz. 1214).\n"
    "Odwołanie wnosi się w terminie czternastu dni, a kryterium wynosi 130% kwoty."
)
DRAFT = "Projekt przewiduje podwyższenie zasiłku okresowego dla rodzin wielodzietnych od 1.07.2026."


# Built on first use, not at import: Morfeusz loaded before faiss crashes the
# next analysis (seen with faiss-cpu and morfeusz2 here), and collection imports faiss.
@lru_cache(maxsize=1)
def passages() -> dict[int, Evidence]:
    return {
        1: Evidence.of(STATUTE, "Ustawa o pomocy społecznej", "art. 8 ust. 1"),
        2: Evidence.of(DRAFT, "Projekt UD315", "art. 1", proposed=True),
    }


def one(sentence: str, question: str = "") -> tuple[str | None, tuple[int, ...]]:
    [checked] = verify(sentence, passages(), question)
    return checked.problem, checked.sources


@pytest.mark.parametrize(
    "sentence",
    [
        "Osoba samotnie gospodarująca ma prawo do świadczeń, gdy jej dochód nie przekracza 1010 zł [1].",
        "Dla osoby samotnie gospodarującej kryterium to 1 010,00 zł [1].",
        "Dla osoby w rodzinie kryterium wynosi 823 zł [1].",
        "Kwoty obowiązują od 1.01.2025 r. [1].",
        "Kwoty obowiązują od 1 stycznia 2025 r. [1].",
        "Kwoty obowiązują od 2025 roku [1].",
        "Odwołanie wnosi się w terminie 14 dni [1].",
        "Kryterium wynosi 130 procent kwoty [1].",
        "Kryterium wynosi 130% kwoty [1].",
        "Prawo do świadczeń określa art. 8 ust. 1 pkt 2 ustawy [1].",
        "Kwoty ogłoszono w Dz.U. 2025 poz. 1214 [1].",
        "Projekt przewiduje podwyższenie zasiłku okresowego od 1 lipca 2026 r. [2].",
        "Kryterium wynosi 823 zł, a projekt przewiduje podwyższenie zasiłku okresowego [1][2].",
        "Kryterium wynosi 823 zł [1, 2].",
        "W 2025 roku było to 823 zł [1].",  # few words, but its figures check out
    ],
)
def test_faithful_sentences_pass(sentence):
    assert one(sentence, "ile wynosi kryterium dochodowe")[0] is None


@pytest.mark.parametrize(
    ("sentence", "problem"),
    [
        ("Kryterium wynosi 1200 zł [1].", UNSUPPORTED_NUMBER),
        ("Kryterium wynosi 1 011 zł [1].", UNSUPPORTED_NUMBER),
        ("Kryterium wynosi 150% kwoty [1].", UNSUPPORTED_NUMBER),
        ("Odwołanie wnosi się w terminie 21 dni [1].", UNSUPPORTED_NUMBER),
        ("Odwołanie wnosi się w terminie dwudziestu jeden dni [1].", UNSUPPORTED_NUMBER),
        ("Kwoty obowiązują od 2026 roku [1].", UNSUPPORTED_NUMBER),
        ("Kwoty obowiązują od 2.01.2025 [1].", UNSUPPORTED_DATE),
        ("Kwoty obowiązują od 1 lutego 2025 r. [1].", UNSUPPORTED_DATE),
        ("Prawo do świadczeń określa art. 9 ustawy [1].", UNSUPPORTED_UNIT),
        ("Prawo do świadczeń określa § 4 rozporządzenia [1].", UNSUPPORTED_UNIT),
        ("Kwoty ogłoszono w Dz.U. 2024 poz. 1214 [1].", UNSUPPORTED_JOURNAL),
        # The figure is in a passage, but not in the one cited.
        ("Projekt przewiduje kryterium 823 zł [2].", UNSUPPORTED_NUMBER),
        ("Kryterium wynosi 823 zł [3].", UNKNOWN_SOURCE),
        # A draft told as law.
        ("Od 1.07.2026 zasiłek okresowy dla rodzin wielodzietnych jest wyższy [2].", DRAFT_AS_LAW),
        ("Kryterium wynosi 823 zł [1][3].", UNKNOWN_SOURCE),
        ("Kryterium wynosi 823 zł.", NO_CITATION),
        ("Stolicą Francji jest Paryż [1].", OFF_TOPIC),
        ("Mecz reprezentacji zakończył się remisem [1].", OFF_TOPIC),
        # Figures that happen to be in the passage do not carry a reply about something else.
        ("Mecz zakończył się wynikiem 823 do 130 [1].", OFF_TOPIC),
    ],
)
def test_unfaithful_sentences_are_dropped_with_the_reason(sentence, problem):
    assert one(sentence)[0] == problem


def test_each_sentence_is_judged_on_its_own():
    text = (
        "Dla osoby w rodzinie kryterium wynosi 823 zł [1]. Kryterium wynosi 999 zł [1]. "
        "Projekt przewiduje podwyższenie zasiłku okresowego [2]. Bez źródła."
    )
    checked = verify(text, passages())
    assert [c.problem for c in checked] == [None, UNSUPPORTED_NUMBER, None, NO_CITATION]
    assert checked[0].text == "Dla osoby w rodzinie kryterium wynosi 823 zł."
    assert checked[0].sources == (1,)


def test_markers_after_the_full_stop_stay_with_their_sentence():
    assert generated_sentences("Kryterium wynosi 823 zł. [1] Projekt przewiduje zmiany. [2][1]") == [
        "Kryterium wynosi 823 zł [1].",
        "Projekt przewiduje zmiany [2][1].",
    ]
    assert generated_sentences("**Kryterium** wynosi 823\u00a0zł [1].") == ["Kryterium wynosi 823 zł [1]."]


def test_a_list_of_sources_the_model_appends_is_not_an_answer_sentence():
    reply = (
        "Kryterium wynosi 823 zł [1].\n\nŹródła:\n[1] Ustawa o pomocy społecznej, art. 8\n[2] Projekt UD315"
    )
    assert generated_sentences(reply) == ["Kryterium wynosi 823 zł [1]."]


def test_normalisation_of_figures():
    assert sentence_facts("wynosi 1 010 zł") == sentence_facts("wynosi 1010 zł") == {Fact("number", "1010")}
    assert sentence_facts("1010,50 zł") == {Fact("number", "1010.5")}
    assert (
        sentence_facts("od 1.01.2025") == sentence_facts("od 1 stycznia 2025") == {Fact("date", "2025-01-01")}
    )
    assert sentence_facts("od 1 stycznia") == {Fact("date", "-01-01")}
    assert sentence_facts("Dz. U. z 2025 r. poz. 1214") == {Fact("journal", "dzu 2025/1214")}
    assert sentence_facts("M.P. 2023 poz. 296") == {Fact("journal", "mp 2023/296")}
    assert sentence_facts("art. 37 ust. 2 pkt 1") == {
        Fact("unit", "art 37"),
        Fact("unit", "ust 2"),
        Fact("unit", "pkt 1"),
    }
    assert sentence_facts("w ciągu siedmiu dni") == {Fact("number", "7")}
    assert sentence_facts("w ciągu dwudziestu jeden dni") == {Fact("number", "21")}
    assert sentence_facts("jeden z rodziców") == set()  # "jeden" is as often "one of" as a count


def test_passages_vouch_for_their_own_numbering_and_the_parts_of_dates():
    facts = passage_facts("Art. 37.\n1. Zasiłek stały …\n2) osobie w rodzinie od 1.01.2025 r.")
    assert {Fact("unit", "art 37"), Fact("unit", "ust 1"), Fact("unit", "pkt 2")} <= facts
    assert {Fact("number", "2025"), Fact("date", "2025-01-01"), Fact("date", "-01-01")} <= facts


def test_the_model_saying_it_does_not_know():
    assert says_unknown("Nie wiem.")
    assert says_unknown("Niestety, nie wiem — fragmenty o tym nie mówią.")
    assert not says_unknown("Zasiłek stały wynosi 1229 zł [1].")


# Two passages of knowledge/ summaries, and a reply written the way a model rephrases them.
APPEAL = (
    "Od decyzji w sprawie świadczenia z pomocy społecznej przysługuje odwołanie w terminie 14 dni od dnia "
    "doręczenia decyzji stronie, a gdy decyzję ogłoszono ustnie — od dnia jej ogłoszenia (art. 129 § 2 KPA). "
    "Przy liczeniu terminu 14 dni nie uwzględnia się dnia doręczenia decyzji; termin kończy się z upływem "
    "ostatniego dnia (art. 57 § 1 KPA). Jeżeli koniec terminu przypada na dzień ustawowo wolny od pracy lub "
    "na sobotę, termin upływa następnego dnia, który nie jest dniem wolnym od pracy ani sobotą (art. 57 § 4 KPA)."
)
APPEAL_BODY = (
    "Jeżeli organ nie wyda nowej decyzji, przesyła odwołanie wraz z aktami sprawy organowi odwoławczemu w "
    "terminie 7 dni od dnia otrzymania odwołania (art. 133 KPA). Organ odwoławczy, na przykład SKO, powinien "
    "rozpatrzyć odwołanie w ciągu miesiąca od dnia jego otrzymania (art. 35 § 3 KPA)."
)
REPHRASED = (
    "Na złożenie odwołania od decyzji ośrodka masz 14 dni od dnia jej doręczenia [1]. "
    "Dnia doręczenia nie wlicza się do terminu, a jeśli ostatni dzień wypada w sobotę lub święto, "
    "termin mija następnego dnia roboczego [1]. "
    "Ośrodek przekazuje odwołanie do SKO w ciągu 7 dni, jeśli sam nie zmieni decyzji [2]. "
    "SKO powinno rozpatrzyć odwołanie w ciągu miesiąca (art. 35 § 3 KPA) [2]. "
    "Odwołanie trzeba złożyć w ciągu 21 dni [1]. "
    "SKO rozpatruje odwołanie w ciągu miesiąca (art. 36 KPA) [2]."
)


def test_a_rephrased_answer_keeps_its_faithful_sentences_and_loses_the_wrong_ones():
    evidence = {1: Evidence.of(APPEAL, "Odwołanie od decyzji"), 2: Evidence.of(APPEAL_BODY, "Odwołanie")}
    checked = verify(REPHRASED, evidence, "ile dni na odwolanie od decyzji mops")
    assert [c.problem for c in checked] == [None, None, None, None, UNSUPPORTED_NUMBER, UNSUPPORTED_UNIT]
