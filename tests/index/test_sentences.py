"""Polish sentence splitting keeps legal references, abbreviations, dates and amounts whole."""

from __future__ import annotations

import pytest

from index.sentences import sentences, split_sentences


@pytest.mark.parametrize(
    "text",
    [
        "Zgodnie z art. 8 ust. 1 pkt 2 ustawy kryterium dochodowe wynosi 1010 zł.",
        "Ustawa została ogłoszona w Dz.U. 2025 poz. 1214 i obowiązuje od 1.01.2025 r. w całości.",
        "Ustawa z dnia 12 marca 2004 r. o pomocy społecznej (Dz. U. z 2023 r. poz. 901) reguluje m.in. zasiłki.",
        "Świadczenia, tj. zasiłki i usługi, np. posiłek, przyznaje się decyzją.",
        "Decyzję doręczono 1.01.2025 r. Wiśniewskiemu.",
    ],
)
def test_one_sentence_is_not_broken(text: str) -> None:
    assert split_sentences(text) == [text]


def test_real_sentence_ends_split_and_amount_stays_whole() -> None:
    text = "Kryterium dochodowe wynosi 1010 zł. Od 1.01.2025 r. obowiązują nowe kwoty! Czy to dużo? Tak."
    assert split_sentences(text) == [
        "Kryterium dochodowe wynosi 1010 zł.",
        "Od 1.01.2025 r. obowiązują nowe kwoty!",
        "Czy to dużo?",
        "Tak.",
    ]


def test_unit_labels_do_not_end_sentences() -> None:
    text = (
        "Art. 129. § 1. Odwołanie wnosi się za pośrednictwem organu, który wydał decyzję. "
        "§ 2. Odwołanie wnosi się w terminie czternastu dni."
    )
    assert split_sentences(text) == [
        "Art. 129. § 1. Odwołanie wnosi się za pośrednictwem organu, który wydał decyzję.",
        "§ 2. Odwołanie wnosi się w terminie czternastu dni.",
    ]


def test_list_items_are_sentences_with_their_lead() -> None:
    text = "Art. 7. Pomocy udziela się z powodu:\n1) ubóstwa;\n2) sieroctwa;\n7) przemocy domowej;"
    result = sentences(text)
    assert [s.text for s in result] == [
        "Art. 7. Pomocy udziela się z powodu:",
        "1) ubóstwa;",
        "2) sieroctwa;",
        "7) przemocy domowej;",
    ]
    assert result[0].lead is None
    assert {s.lead for s in result[1:]} == {"Art. 7. Pomocy udziela się z powodu:"}
    assert [s.position for s in result] == [0, 1, 2, 3]


def test_headings_are_skipped_and_paragraphs_split() -> None:
    text = "# Konferencja\n\nPierwszy akapit\nciągnie się dalej.\n\n## Tematy\n\nDrugi akapit."
    assert split_sentences(text) == ["Pierwszy akapit ciągnie się dalej.", "Drugi akapit."]


def test_numbered_paragraphs_are_not_list_items() -> None:
    text = "Art. 106. 1. Świadczenia przyznaje się na wniosek.\n2. Pomoc może być udzielana z urzędu."
    result = sentences(text)
    assert [s.text for s in result] == [
        "Art. 106. 1. Świadczenia przyznaje się na wniosek.",
        "2. Pomoc może być udzielana z urzędu.",
    ]
    assert all(s.lead is None for s in result)


def test_spans_point_into_the_text_and_lists_know_their_stems() -> None:
    text = (
        "Art. 8. 1. Prawo do świadczeń przysługuje:\n"
        "1) osobie samotnie gospodarującej,\n"
        "2) osobie w rodzinie:\n"
        "a) pierwszej,\n"
        "b) drugiej;\n"
        "3) rodzinie.\n"
        "2. Kwoty podlegają weryfikacji. Co trzy lata."
    )
    result = sentences(text)
    for sentence in result:
        assert " ".join(text[sentence.start : sentence.end].split()) == sentence.text
    texts = [s.text for s in result]
    assert texts[0] == "Art. 8. 1. Prawo do świadczeń przysługuje:"
    assert result[0].items == (1, 2, 5)
    assert [result[i].stem for i in (1, 2, 5)] == [0, 0, 0]
    assert result[2].items == (3, 4)
    assert [result[i].stem for i in (3, 4)] == [2, 2]
    assert result[3].lead == "2) osobie w rodzinie:"
    assert result[6].stem is None and result[7].stem is None
    assert texts[6:] == ["2. Kwoty podlegają weryfikacji.", "Co trzy lata."]


def test_a_sentence_running_over_lines_keeps_one_span() -> None:
    text = "Opłata za kserokopie\ndokumentacji wynosi 17 zł za stronę. Płaci się z góry."
    first, second = sentences(text)
    assert (first.start, text[first.end - 1]) == (0, ".")
    assert first.text == "Opłata za kserokopie dokumentacji wynosi 17 zł za stronę."
    assert text[second.start : second.end] == "Płaci się z góry."


def test_monitor_polski_reference_does_not_end_a_sentence() -> None:
    text = "Kwoty ogłoszono w obwieszczeniu (M.P. 2024 poz. 230). Obowiązują od 1 czerwca."
    assert split_sentences(text) == [
        "Kwoty ogłoszono w obwieszczeniu (M.P. 2024 poz. 230).",
        "Obowiązują od 1 czerwca.",
    ]
