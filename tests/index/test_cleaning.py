"""Cleaning rules for PDF page furniture, hyphenation, footnotes and web debris."""

from __future__ import annotations

from index.cleaning import (
    clean_pdf_pages,
    clean_text,
    dehyphenate,
    normalize_whitespace,
    remove_footnote_markers,
    remove_page_furniture,
)

BODIES = ["Ala ma kota.\nKot ma Alę.", "Pomoc społeczna.\nŚwiadczenia.", "Zasiłek stały.", "Art. 4. Koniec."]


def test_running_header_footer_and_page_numbers_are_removed():
    pages = [
        f"Dziennik Ustaw – 2023 poz. 901\n{body}\nRaport roczny 2024 | {n}\n- {n} -"
        for n, body in enumerate(BODIES, start=1)
    ]
    assert remove_page_furniture(pages) == BODIES


def test_a_line_repeated_only_on_few_pages_is_kept():
    pages = [f"Nagłówek\n{body}" for body in BODIES[:2]] + BODIES[2:]
    assert remove_page_furniture(pages)[0] == f"Nagłówek\n{BODIES[0]}"


def test_page_number_forms():
    pages = ["Strona 1 z 3\nAla ma kota.", "Tekst.\n2/3", "Tekst drugi.\n3"]
    assert remove_page_furniture(pages) == ["Ala ma kota.", "Tekst.", "Tekst drugi."]


def test_numbers_inside_a_page_are_kept():
    page = "Nagłówek\nKwota:\n1010\nzł miesięcznie\nkoniec\nstrony"
    assert "1010" in remove_page_furniture([page])[0]


def test_publisher_lines_are_removed():
    page = "Opracowano na podstawie: Dz. U. z 2023 r. poz. 901, 1693.\nArt. 1. Ustawa określa:"
    assert remove_page_furniture([page]) == ["Art. 1. Ustawa określa:"]


def test_footnote_markers_glued_to_words_go_but_enumerations_stay():
    text = "o pomocy społecznej1) oraz ustaw2).\n1) ubóstwa;\nw pkt 1) lit. a"
    assert remove_footnote_markers(text) == "o pomocy społecznej oraz ustaw.\n1) ubóstwa;\nw pkt 1) lit. a"


def test_dehyphenation_joins_words_and_keeps_line_starts():
    text = "Przyznanie świad-\nczenia pieniężnego\nArt. 5. Wnio-\nsek składa się"
    assert dehyphenate(text) == "Przyznanie świadczenia\npieniężnego\nArt. 5. Wniosek\nskłada się"


def test_dehyphenation_keeps_adjectival_compounds():
    assert dehyphenate("reintegracji społeczno-\nzawodowej") == "reintegracji społeczno-zawodowej\n"
    assert dehyphenate("w sprawach opiekuńczo-\nwychowawczych.") == "w sprawach opiekuńczo-wychowawczych.\n"


def test_dehyphenation_leaves_capitalised_next_line():
    assert dehyphenate("Bielsko-\nBiała") == "Bielsko-\nBiała"


def test_pdf_pages_join_a_word_split_across_pages():
    pages = ["Pomoc obejmuje świad-", "czenia pieniężne.\nArt. 2. Dalej."]
    assert clean_pdf_pages(pages) == ["Pomoc obejmuje świadczenia", "pieniężne.\nArt. 2. Dalej."]


def test_web_debris_and_cookie_notices_are_removed():
    text = (
        "Konferencja „Razem”\n  • Drukuj zawartość bieżącej strony\n  • Zapisz tekst bieżącej strony do PDF\n"
        "Powiększ zdjęcie\nAccessibility\nTa strona używa plików cookies w celu świadczenia usług.\n"
        "W dniach 13-15 czerwca 2024 odbyła się konferencja."
    )
    assert clean_text(text) == "Konferencja „Razem”\nW dniach 13-15 czerwca 2024 odbyła się konferencja."


def test_whitespace_and_unicode_are_normalised():
    decomposed = "Pomoc spo\u0142eczna: s\u0301wiadczenia\u00a0 i\u00adnne\r\n\n\n\nkoniec  "
    assert normalize_whitespace(decomposed) == "Pomoc społeczna: świadczenia inne\n\nkoniec"


def test_footnotes_at_the_bottom_of_an_isap_page_are_dropped_and_pkt_kept() -> None:
    from index.cleaning import remove_footnotes

    page = "\n".join(
        [
            "o pomocy społecznej1)",
            "Art. 1. 1. Ustawa określa:",
            "1) zadania w zakresie pomocy społecznej;",
            "2) organizację pomocy społecznej.",
            "____________________",
            "1) Niniejsza ustawa wdraża dyrektywy Unii Europejskiej;",
            "ciąg dalszy przypisu.",
        ]
    )
    assert remove_footnotes(page).split("\n") == [
        "o pomocy społecznej1)",
        "Art. 1. 1. Ustawa określa:",
        "1) zadania w zakresie pomocy społecznej;",
        "2) organizację pomocy społecznej.",
    ]
    # Without a marker glued to a word, "1)" lines are pkt: nothing is dropped.
    plain = "Art. 7. Pomocy udziela się z powodu:\n1) ubóstwa;\n2) sieroctwa."
    assert remove_footnotes(plain) == plain
