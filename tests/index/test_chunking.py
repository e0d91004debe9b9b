"""Chunking of acts, amendments, summaries and prose into citable chunks.

The act texts are verbatim fragments from shared/sources/law/statute_fragments.jsonl
(public domain, art. 4 pkt 1 ustawy o prawie autorskim).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.chunking import chunk_document
from index.records import Document, DocumentMeta, Page

# ups-2023-tj-art7: https://sip.lex.pl/akty-prawne/dzu-dziennik-ustaw/pomoc-spoleczna-17087802/art-7
ART_7 = """\
Art. 7. [Przyczyny udzielania pomocy]
Pomocy społecznej udziela się osobom i rodzinom w szczególności z powodu:
1) ubóstwa;
2) sieroctwa;
3) bezdomności;
4) bezrobocia;
5) niepełnosprawności;
6) długotrwałej lub ciężkiej choroby;
7) przemocy domowej;
7a) potrzeby ochrony ofiar handlu ludźmi;
8) potrzeby ochrony macierzyństwa lub wielodzietności;
9) bezradności w sprawach opiekuńczo-wychowawczych i prowadzenia gospodarstwa domowego, zwłaszcza w rodzinach niepełnych lub wielodzietnych;
10) (uchylony);
11) trudności w integracji cudzoziemców, którzy uzyskali w Rzeczypospolitej Polskiej status uchodźcy, ochronę uzupełniającą lub zezwolenie na pobyt czasowy udzielone w związku z okolicznością, o której mowa w art. 159 ust. 1 pkt 1 lit. c lub d ustawy z dnia 12 grudnia 2013 r. o cudzoziemcach;
12) trudności w przystosowaniu do życia po zwolnieniu z zakładu karnego;
13) alkoholizmu lub narkomanii;
14) zdarzenia losowego i sytuacji kryzysowej;
15) klęski żywiołowej lub ekologicznej."""

# ups-2025-tj-art1-4: https://www.infor.pl/akt-prawny/DZU.2025.246.0001214,ustawa-o-pomocy-spolecznej.html
ART_1_4 = """\
Załącznik do obwieszczenia Marszałka Sejmu Rzeczypospolitej Polskiej
z dnia 22 sierpnia 2025 r. (Dz. U. poz. 1214)

USTAWA
z dnia 12 marca 2004 r.
o pomocy społecznej

DZIAŁ I
Przepisy ogólne

Rozdział 1
Zasady ogólne i zakres podmiotowy ustawy

Art. 1. Ustawa określa:
1) zadania w zakresie pomocy społecznej;
2) rodzaje świadczeń z pomocy społecznej oraz zasady i tryb ich udzielania;
3) organizację pomocy społecznej;
4) zasady i tryb postępowania kontrolnego w zakresie pomocy społecznej.

Art. 2. 1. Pomoc społeczna jest instytucją polityki społecznej państwa, mającą na celu umożliwienie osobom i rodzinom przezwyciężanie trudnych sytuacji życiowych, których nie są one w stanie pokonać, wykorzystując własne uprawnienia, zasoby i możliwości.
2. Pomoc społeczną organizują organy administracji rządowej i samorządowej, współpracując w tym zakresie, na zasadzie partnerstwa, z organizacjami społecznymi i pozarządowymi, Kościołem Katolickim, innymi kościołami, związkami wyznaniowymi oraz osobami fizycznymi i prawnymi.

Art. 3. 1. Pomoc społeczna wspiera osoby i rodziny w wysiłkach zmierzających do zaspokojenia niezbędnych potrzeb i umożliwia im życie w warunkach odpowiadających godności człowieka.
2. Zadaniem pomocy społecznej jest zapobieganie sytuacjom, o których mowa w art. 2 ust. 1, przez podejmowanie działań zmierzających do życiowego usamodzielnienia osób i rodzin oraz ich integracji ze środowiskiem.
3. Rodzaj, forma i rozmiar świadczenia powinny być odpowiednie do okoliczności uzasadniających udzielenie pomocy.
4. Potrzeby osób i rodzin korzystających z pomocy powinny zostać uwzględnione, jeżeli odpowiadają celom i mieszczą się w możliwościach pomocy społecznej.

Art. 4. Osoby i rodziny korzystające z pomocy społecznej są obowiązane do współdziałania w rozwiązywaniu ich trudnej sytuacji życiowej."""

# ups-2023-tj-art106-ust1-3a: https://arslege.pl/ustawa-o-pomocy-spolecznej/k101/a7086/
ART_106 = """\
Art. 106. [Forma przyznania i wypłata świadczeń z pomocy społecznej]
1. Przyznanie świadczeń z pomocy społecznej następuje w formie decyzji administracyjnej.
2. Udzielenie świadczeń w postaci interwencji kryzysowej, pracy socjalnej, poradnictwa, uczestnictwa w zajęciach klubu samopomocy, klubu samopomocy dla osób z zaburzeniami psychicznymi, schronienia w formie ogrzewalni i noclegowni, sprawienia pogrzebu, a także przyznanie biletu kredytowanego nie wymaga wydania decyzji administracyjnej.
3. Świadczenia pieniężne z pomocy społecznej przyznaje się i wypłaca za okres miesiąca kalendarzowego, począwszy od miesiąca, w którym został złożony wniosek wraz z wymaganą dokumentacją, z zastrzeżeniem ust. 7–11. W przypadku gdy uprawnienie do świadczenia nie obejmuje pełnego miesiąca, świadczenie przyznaje się za niepełny miesiąc, a kwotę świadczenia ustala się, dzieląc pełne kwoty przez liczbę dni kalendarzowych tego miesiąca i mnożąc przez liczbę dni objętych świadczeniem.
3a. Zmiana dochodu osoby samotnie gospodarującej lub rodziny w okresie pobierania świadczenia pieniężnego nie wpływa na wysokość świadczenia pieniężnego, jeżeli kwota zmiany nie przekroczyła 10 % odpowiednio kryterium dochodowego osoby samotnie gospodarującej lub kryterium dochodowego na osobę w rodzinie."""

# ups-amend-2024-743-art1: https://www.prawo.pl/akty/dz-u-2024-743,21978193.html
AMENDMENT_2024 = """\
USTAWA
z dnia 26 kwietnia 2024 r.
o zmianie ustawy o pomocy społecznej oraz niektórych innych ustaw

Art. 1. W ustawie z dnia 12 marca 2004 r. o pomocy społecznej (Dz. U. z 2023 r. poz. 901, 1693, 1938 i 2760) w art. 24 dodaje się ust. 3-10 w brzmieniu:
"3. Rada Ministrów może przyjąć rządowy program dofinansowania wynagrodzeń oraz kosztów składek od tych wynagrodzeń pracowników określonych w tym programie, zatrudnionych w jednostkach organizacyjnych pomocy społecznej prowadzonych przez jednostki samorządu terytorialnego lub na ich zlecenie.
4. Dofinansowanie wynagrodzeń, o którym mowa w ust. 3, może być wypłacane także w formie dodatku motywacyjnego.
5. Program, o którym mowa w ust. 3, Rada Ministrów przyjmuje w drodze uchwały.
6. Program, o którym mowa w ust. 3, jest finansowany z dotacji celowej z budżetu państwa.
7. Do udzielania dotacji celowej z budżetu państwa na realizację programu, o którym mowa w ust. 3, stosuje się przepis art. 115 ust. 2.
8. Środki z programu, o którym mowa w ust. 3, przeznacza się w całości na zwiększenie wynagrodzeń pracowników oraz pokrycie kosztów składek od tych wynagrodzeń.
9. Dofinansowanie, o którym mowa w ust. 3, nie stanowi podstawy naliczania świadczeń, odszkodowań i innych wypłat, wynikających z odrębnych przepisów, w tym dodatkowego wynagrodzenia rocznego i nagród rocznych.
10. Dofinansowanie, o którym mowa w ust. 3, nie jest uwzględniane przy wyliczaniu średniego miesięcznego kosztu utrzymania w domu pomocy społecznej."."""

# uwrspz-amend-2022-2140-art1-pkt1-2: https://przepisy.gofin.pl/przepisy,4,42,42,7385,,20221019,art-19.html
AMENDMENT_2022 = """\
Art. 1. W ustawie z dnia 9 czerwca 2011 r. o wspieraniu rodziny i systemie pieczy zastępczej (Dz. U. z 2022 r. poz. 447 i 1700) wprowadza się następujące zmiany:
1) w art. 5 w ust. 1 w pkt 5 kropkę zastępuje się średnikiem i dodaje się pkt 6 w brzmieniu:
"6) mających miejsce zamieszkania na terytorium Rzeczypospolitej Polskiej obywateli Zjednoczonego Królestwa Wielkiej Brytanii i Irlandii Północnej oraz członków ich rodzin, o których mowa w art. 10 ust. 1 lit. b, d, e lub f Umowy o wystąpieniu Zjednoczonego Królestwa Wielkiej Brytanii i Irlandii Północnej z Unii Europejskiej i Europejskiej Wspólnoty Energii Atomowej (Dz. Urz. UE L 29 z 31.01.2020, str. 7, z późn. zm.), posiadających prawo pobytu lub prawo stałego pobytu na terytorium Rzeczypospolitej Polskiej.";
2) po art. 7 dodaje się art. 7a i art. 7b w brzmieniu:
"Art. 7a. Posiedzenia zespołów, o których mowa w niniejszej ustawie, oraz inne spotkania, w szczególności dotyczące kwalifikowania dziecka do przysposobienia, dokonywania wstępnej oceny kandydata do przysposobienia dziecka oraz wydawania opinii kwalifikacyjnej o kandydacie do przysposobienia dziecka, mogą się odbywać z wykorzystaniem środków porozumiewania się na odległość.
[Art. 7b — tekst ucięty w przechowanej kopii]"""


def make_doc(
    text: str, kind: str = "statute", title: str = "Ustawa o pomocy społecznej", **extra
) -> Document:
    meta = DocumentMeta(
        title=title,
        kind=kind,
        status="in_force",
        source_url="https://example.org",
        act=extra.pop("act", None),
    )
    return Document(id=extra.pop("doc_id", "ustawy/ups.md"), text=text, meta=meta, content_hash="x", **extra)


def anchors(chunks) -> list[str]:
    return [c.anchor for c in chunks]


def test_a_short_article_is_one_chunk():
    chunks = chunk_document(make_doc(ART_7))
    assert anchors(chunks) == ["art. 7"]
    assert chunks[0].text == ART_7
    assert chunks[0].embed_text.startswith("Ustawa o pomocy społecznej\nart. 7\nArt. 7. [Przyczyny")


def test_a_long_article_splits_into_pkt_with_its_leading_sentence():
    chunks = chunk_document(make_doc(ART_7), max_unit_words=60)
    assert anchors(chunks)[:8] == [f"art. 7 pkt {n}" for n in ("1", "2", "3", "4", "5", "6", "7", "7a")]
    assert len(chunks) == 16
    first = chunks[0]
    assert first.text == (
        "Art. 7. [Przyczyny udzielania pomocy]\n"
        "Pomocy społecznej udziela się osobom i rodzinom w szczególności z powodu:\n"
        "1) ubóstwa;"
    )
    assert "art. 7 pkt 1\n" in first.embed_text


def test_articles_split_into_ust_with_chapter_context():
    chunks = chunk_document(make_doc(ART_1_4), max_unit_words=40)
    assert anchors(chunks) == [
        "art. 1",
        "art. 2 ust. 1",
        "art. 2 ust. 2",
        "art. 3 ust. 1",
        "art. 3 ust. 2",
        "art. 3 ust. 3",
        "art. 3 ust. 4",
        "art. 4",
    ]
    assert "Rozdział 1 Zasady ogólne i zakres podmiotowy ustawy — art. 2 ust. 2" in chunks[2].embed_text
    assert chunks[2].text.startswith("Art. 2.\n2. Pomoc społeczną organizują")
    # The title block before Art. 1 is not a passage of its own.
    assert all("Załącznik do obwieszczenia" not in c.text for c in chunks)


def test_ust_with_letter_suffix():
    chunks = chunk_document(make_doc(ART_106), max_unit_words=100)
    assert anchors(chunks) == ["art. 106 ust. 1", "art. 106 ust. 2", "art. 106 ust. 3", "art. 106 ust. 3a"]


def test_single_change_amendment_names_the_amended_units():
    doc = make_doc(AMENDMENT_2024, kind="amendment", title="Nowelizacja ustawy o pomocy społecznej 2024")
    chunks = chunk_document(doc)
    assert anchors(chunks) == ["art. 1"]
    assert "art. 1 — zmiana art. 24 ust. 3–10 ustawy o pomocy społecznej" in chunks[0].embed_text
    # The quoted new "3." … "10." are not units of the amending act.
    assert chunks[0].text.endswith('w domu pomocy społecznej.".')


def test_each_change_of_an_amending_act_is_a_chunk():
    doc = make_doc(AMENDMENT_2022, kind="amendment", title="Nowelizacja u.w.r.s.p.z. 2022")
    chunks = chunk_document(doc)
    assert anchors(chunks) == ["art. 1 pkt 1", "art. 1 pkt 2"]
    act = "ustawy o wspieraniu rodziny i systemie pieczy zastępczej"
    assert f"art. 1 pkt 1 — zmiana art. 5 ust. 1 pkt 6 {act}" in chunks[0].embed_text
    assert f"art. 1 pkt 2 — zmiana art. 7a {act}" in chunks[1].embed_text
    # Each change carries the article's leading sentence; the quoted "Art. 7a." stays inside.
    assert all(c.text.startswith("Art. 1. W ustawie z dnia 9 czerwca 2011 r.") for c in chunks)
    assert '"Art. 7a. Posiedzenia zespołów' in chunks[1].text


def test_regulation_is_split_by_paragraphs():
    text = "§ 1. Kryterium dochodowe wynosi:\n1) 1010 zł dla osoby samotnie gospodarującej;\n2) 823 zł na osobę w rodzinie.\n§ 2. Rozporządzenie wchodzi w życie z dniem 1 stycznia 2025 r."
    assert anchors(chunk_document(make_doc(text, kind="regulation"))) == ["§ 1", "§ 2"]


SUMMARY = """# Ustawa o pomocy społecznej — omówienie

Krótki wstęp do omówienia.

## Art. 8 — kryterium dochodowe

Prawo do świadczeń pieniężnych przysługuje, gdy dochód nie przekracza kryterium (art. 8 ust. 1 pkt 1).

## Jak złożyć wniosek

Wniosek składa się w ośrodku pomocy społecznej (art. 102).
"""


def test_summary_sections_are_anchored_to_units_or_headings():
    chunks = chunk_document(make_doc(SUMMARY, kind="statute_summary", title="Omówienie u.p.s."))
    assert anchors(chunks) == ["§ Ustawa o pomocy społecznej — omówienie", "art. 8", "§ Jak złożyć wniosek"]
    assert chunks[1].text.startswith("Prawo do świadczeń")
    assert "Ustawa o pomocy społecznej — omówienie > Art. 8 — kryterium dochodowe" in chunks[1].embed_text


def _prose(paragraphs: int, sentences: int = 8) -> str:
    return "\n\n".join(
        " ".join(
            f"Zdanie {p}.{s} o pomocy społecznej dla rodzin w gminie i powiecie." for s in range(sentences)
        )
        for p in range(paragraphs)
    )


def test_prose_is_split_into_windows_with_overlap():
    text = "## Sprawozdanie\n\n" + _prose(6)
    chunks = chunk_document(make_doc(text, kind="news", title="Sprawozdanie MOPS"))
    assert len(chunks) >= 3
    assert all(c.anchor == "§ Sprawozdanie" for c in chunks)
    assert all(len(c.text.split()) <= 250 for c in chunks)
    # Every sentence is somewhere; windows that break mid-paragraph repeat a sentence.
    for p in range(6):
        for s in range(8):
            assert any(f"Zdanie {p}.{s} " in c.text for c in chunks)
    first_sentences = [re.match(r"Zdanie \d+\.\d+ ", c.text).group() for c in chunks]
    assert len(set(first_sentences)) == len(chunks)
    assert first_sentences[1] in chunks[0].text  # overlap when a paragraph is cut
    assert first_sentences[-1].startswith("Zdanie 5.0")  # a clean paragraph break: no overlap
    assert first_sentences[-1] not in chunks[-2].text


def test_abbreviations_do_not_end_sentences():
    text = (
        "Zob. art. 8 ust. 1 ustawy z dnia 12 marca 2004 r. o pomocy społecznej (Dz. U. z 2025 r. poz. 1214). "
        * 30
    )
    chunks = chunk_document(make_doc(text, kind="guide"))
    assert all(not c.text.startswith(("U.", "poz.", "1 ustawy")) for c in chunks)


def test_pdf_prose_chunks_cite_their_page():
    page1 = _prose(1, 12)
    page2 = _prose(1, 12).replace("Zdanie", "Punkt")
    text = page1 + "\n\n" + page2
    pages = (Page(1, 0, len(page1) + 2), Page(2, len(page1) + 2, len(text)))
    chunks = chunk_document(make_doc(text, kind="guide", pages=pages))
    assert chunks[0].anchor.startswith("s. 1") and chunks[0].page == 1
    assert chunks[-1].anchor == "s. 2" and chunks[-1].page == 2
    assert any(c.page == 2 and c.text.startswith("Punkt") for c in chunks)
    for chunk in chunks:
        pages_held = {s.page for s in chunk.sentences}
        # A chunk spanning the page break says so: "s. 1–2".
        expected = "s. 1–2" if pages_held == {1, 2} else f"s. {pages_held.pop()}"
        assert chunk.anchor == expected
        for i, sentence in enumerate(chunk.sentences):
            words = chunk.sentence_text(i)
            assert words.startswith("Punkt" if sentence.page == 2 else "Zdanie")


def test_plain_text_without_headings_or_pages_has_empty_anchor():
    (chunk,) = chunk_document(make_doc("Krótka notatka o konferencji.", kind="conference"))
    assert chunk.anchor == "" and chunk.page is None


def test_ids_are_stable_unique_and_ignore_whitespace_and_case():
    text = "## A\n\nTo samo zdanie.\n\n## A\n\nTo samo zdanie."
    first = chunk_document(make_doc(text, kind="guide"))
    again = chunk_document(make_doc(text, kind="guide"))
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == 2 and all(len(c.id) == 16 for c in first)
    respaced = chunk_document(make_doc("## A\n\nTO  samo\nzdanie.", kind="guide"))
    assert respaced[0].id == first[0].id
    other_doc = chunk_document(make_doc(text, kind="guide", doc_id="inny.md"))
    assert other_doc[0].id != first[0].id


def test_positions_follow_reading_order():
    chunks = chunk_document(make_doc(ART_1_4), max_unit_words=40)
    assert [c.position for c in chunks] == list(range(len(chunks)))


@pytest.mark.parametrize("kind", ["statute", "amendment", "regulation"])
def test_legal_kind_without_units_falls_back_to_sections(kind):
    chunks = chunk_document(make_doc("## Wstęp\n\nTekst bez artykułów.", kind=kind))
    assert anchors(chunks) == ["§ Wstęp"]


ARTICLES = "Art. 1. Pierwszy przepis projektu.\n\nArt. 2. Ustawa wchodzi w życie po upływie 14 dni."


def test_draft_with_articles_is_chunked_by_units_without_its_title_block():
    text = "Projekt\n\nUSTAWA\nz dnia … 2025 r.\no zmianie ustawy o pomocy społecznej\n\n" + ARTICLES
    assert anchors(chunk_document(make_doc(text, kind="draft"))) == ["art. 1", "art. 2"]


def test_text_before_the_first_article_is_kept_unless_it_is_the_title():
    chunks = chunk_document(make_doc("Wstęp od redakcji serwisu.\n\n" + ARTICLES))
    assert (chunks[0].anchor, chunks[0].text) == ("", "Wstęp od redakcji serwisu.")


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Art. 1.",
                "Art. 2a. 1.",
                "§ 3.",
                "1)",
                "a)",
                "2.",
                "„",
                "”",
                '"',
                "## Nagłówek",
                "Rozdział 2",
                "w art. 5 dodaje się ust. 2",
                "zdanie o pomocy.",
                "W ustawie z dnia 1 maja 2004 r. o x (Dz. U.)",
            ]
        ),
        max_size=40,
    ).map(" \n".join),
    st.sampled_from(["statute", "amendment", "draft", "statute_summary", "news"]),
)
def test_any_text_gives_unique_ids_and_non_empty_chunks(text, kind):
    chunks = chunk_document(make_doc(text, kind=kind))
    assert len({c.id for c in chunks}) == len(chunks)
    assert all(c.text.strip() for c in chunks)
    words_in = set(re.findall(r"\w+", text))
    words_out = set(re.findall(r"\w+", " ".join(c.embed_text for c in chunks)))
    # Nothing is lost: chapter headings live on as context in embed_text. Only a
    # heading with nothing under it may vanish, with the title line that follows it.
    assert words_in - words_out <= {"Rozdział", "2", "Nagłówek"} | _dangling_heading_titles(text)


def _dangling_heading_titles(text: str) -> set[str]:
    lines = [line.strip() for line in text.split("\n")]
    unit = re.compile(r"(Art\.|§|\d+[.)]|[a-z]\))")
    words: set[str] = set()
    for i, line in enumerate(lines[:-1]):
        if line == "Rozdział 2" and not any(unit.match(rest) for rest in lines[i + 2 :]):
            words |= set(re.findall(r"\w+", lines[i + 1]))
    return words


def test_notes_under_a_heading_between_articles_are_kept_in_order():
    text = "Art. 1. Pierwszy.\n\n## Komentarz\n\nUwaga redakcji o art. 1.\n\nArt. 2. Drugi."
    chunks = chunk_document(make_doc(text))
    assert [(c.anchor, c.text) for c in chunks] == [
        ("art. 1", "Art. 1. Pierwszy."),
        ("§ Komentarz", "Uwaga redakcji o art. 1."),
        ("art. 2", "Art. 2. Drugi."),
    ]


# --- sentences stored on chunks -------------------------------------------------------

KPA_129 = """\
Art. 129. § 1. Odwołanie wnosi się do właściwego organu odwoławczego za pośrednictwem organu, który wydał decyzję.
§ 2. Odwołanie wnosi się w terminie czternastu dni od dnia doręczenia decyzji stronie, a gdy decyzja została ogłoszona ustnie – od dnia jej ogłoszenia stronie.
§ 3. Przepisy szczególne mogą przewidywać inne terminy do wniesienia odwołania."""


def sentence_anchors(chunk) -> list[tuple[str, str]]:
    return [(chunk.sentence_text(i), s.anchor) for i, s in enumerate(chunk.sentences)]


def test_list_items_cite_their_pkt_and_the_stem_its_article():
    for max_words in (300, 60):  # the article whole, and split into pkt chunks with the lead
        for chunk in chunk_document(make_doc(ART_7), max_unit_words=max_words):
            stem, *items = chunk.sentences
            assert stem.anchor == "art. 7" and chunk.sentence_text(0).endswith("z powodu:")
            assert stem.items == tuple(range(1, len(items) + 1))
            for i, item in enumerate(items, start=1):
                label = chunk.sentence_text(i).split(")")[0]
                assert item.anchor == f"art. 7 pkt {label}" and item.stem == 0


def test_ust_and_code_paragraphs_are_sentence_anchors():
    (kpa,) = chunk_document(make_doc(KPA_129, act="Kodeks postępowania administracyjnego"))
    assert [a for _, a in sentence_anchors(kpa)] == ["art. 129 § 1", "art. 129 § 2", "art. 129 § 3"]
    chunks = chunk_document(make_doc(ART_106))
    found = dict(sentence_anchors(chunks[0]))
    assert found[
        "1. Przyznanie świadczeń z pomocy społecznej następuje w formie decyzji administracyjnej."
    ] == ("art. 106 ust. 1")
    assert [a for t, a in sentence_anchors(chunks[0]) if t.startswith("W przypadku gdy")] == [
        "art. 106 ust. 3"
    ]
    assert [a for t, a in sentence_anchors(chunks[0]) if t.startswith("3a.")] == ["art. 106 ust. 3a"]


def test_regulation_points_are_sentence_anchors():
    text = "§ 1. Kryterium dochodowe wynosi:\n1) 1010 zł dla osoby samotnie gospodarującej;\n2) 823 zł na osobę w rodzinie.\n§ 2. Rozporządzenie wchodzi w życie z dniem 1 stycznia 2025 r."
    first, second = chunk_document(make_doc(text, kind="regulation"))
    assert [a for _, a in sentence_anchors(first)] == ["§ 1", "§ 1 pkt 1", "§ 1 pkt 2"]
    assert [a for _, a in sentence_anchors(second)] == ["§ 2"]


def test_sentences_of_headed_text_cite_their_heading():
    chunks = chunk_document(make_doc(SUMMARY, kind="guide"))
    for chunk in chunks:
        assert all(s.anchor == chunk.anchor for s in chunk.sentences)
    assert any(s.anchor == "§ Jak złożyć wniosek" for c in chunks for s in c.sentences)
