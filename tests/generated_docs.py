"""Generated multi-page documents with known truth: which page and unit holds each sentence.

Shared by the anchor tests of ``index`` (chunk and sentence anchors) and ``bot``
(answers, citations and the passage view over a real index).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

SIDECAR = "title: {title}\nkind: {kind}\nstatus: in_force\nsource_url: {url}\ndate: 2025-01-01\n"
FONT_CANDIDATES = [
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    *Path(__file__)
    .resolve()
    .parents[1]
    .glob(".venv/lib/python3*/site-packages/matplotlib/mpl-data/fonts/ttf/DejaVuSans.ttf"),
]


def polish_font() -> Path:
    """A TTF font with Polish letters, or skip the test."""
    for path in FONT_CANDIDATES:
        if path.exists():
            return path
    pytest.skip("no TTF font with Polish letters (DejaVuSans) found")


def make_pdf(pages: list[list[str]], header: str | None = None, footer: bool = True) -> bytes:
    """A PDF whose pages hold ``pages`` lines, with an optional running header and footer."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.add_font("DejaVu", fname=str(polish_font()))
    pdf.set_font("DejaVu", size=11)
    for number, lines in enumerate(pages, start=1):
        pdf.add_page()
        if header:
            pdf.cell(0, 8, header, new_x="LMARGIN", new_y="NEXT")
        for line in lines:
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
        if footer:
            pdf.set_y(-25)
            pdf.cell(0, 8, f"©Kancelaria Sejmu s. {number}/{len(pages)}", new_x="LMARGIN", new_y="NEXT")
            pdf.cell(0, 8, f"- {number} -", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def make_docx(paragraphs: list[tuple[str, str]]) -> bytes:
    """A DOCX of ``(style, text)`` paragraphs; style "h1"/"h2" makes a heading, "" a body paragraph."""
    import docx

    document = docx.Document()
    for style, text in paragraphs:
        if style.startswith("h"):
            document.add_heading(text, level=int(style[1:]))
        else:
            document.add_paragraph(text, style=style or None)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def sidecar_for(path: Path, title: str, kind: str = "guide", url: str = "https://example.org") -> Path:
    """The ``NAME.ext.meta.yaml`` sidecar of ``path``."""
    return write(path.with_name(path.name + ".meta.yaml"), SIDECAR.format(title=title, kind=kind, url=url))


@dataclass(frozen=True)
class Fact:
    """A sentence placed in a generated document, and where it truly stands."""

    text: str
    anchor: str  # "s. 2", "s. 1–2", "§ Zasiłek celowy", "akapit 3", "art. 7 pkt 3"


# --- the reproduction: two pages, the fee on page 2 -------------------------------

TWO_PAGE_FACTS = (
    Fact(
        "Wniosek o pomoc składa się w ośrodku pomocy społecznej właściwym dla miejsca zamieszkania.", "s. 1"
    ),
    Fact("Wniosek można złożyć osobiście, pocztą albo przez pełnomocnika.", "s. 1"),
    Fact("Opłata za kserokopie dokumentacji wynosi 17 zł za stronę.", "s. 2"),
    Fact("Kserokopie wydaje się w terminie siedmiu dni od złożenia prośby.", "s. 2"),
)
TWO_PAGES = [[f.text for f in TWO_PAGE_FACTS[:2]], [f.text for f in TWO_PAGE_FACTS[2:]]]

# --- three pages with a running header, page numbers, and a sentence over a page break -----

HEADER = "Poradnik MOPS w Przykładowie — świadczenia i odwołania"
BROKEN = (
    "Decyzję w sprawie zasiłku okresowego wydaje się",
    "w terminie jednego miesiąca od dnia złożenia wniosku.",
)
THREE_PAGE_FACTS = (
    Fact(
        "Zasiłek stały przysługuje pełnoletniej osobie całkowicie niezdolnej do pracy z powodu wieku.", "s. 1"
    ),
    Fact("Wysokość zasiłku stałego ustala się jako różnicę między kryterium a dochodem osoby.", "s. 1"),
    Fact(f"{BROKEN[0]} {BROKEN[1]}", "s. 1–2"),
    Fact("Posiłek dla dziecka w szkole finansuje gmina w ramach programu osłonowego.", "s. 2"),
    Fact("Schronienie dla osób bezdomnych przyznaje się w formie decyzji administracyjnej.", "s. 2"),
    Fact("Odwołanie od decyzji wnosi się do samorządowego kolegium odwoławczego w ciągu 14 dni.", "s. 3"),
    Fact("Odwołanie składa się za pośrednictwem ośrodka, który wydał decyzję.", "s. 3"),
)
THREE_PAGES = [
    [THREE_PAGE_FACTS[0].text, THREE_PAGE_FACTS[1].text, BROKEN[0]],
    [BROKEN[1], THREE_PAGE_FACTS[3].text, THREE_PAGE_FACTS[4].text],
    [THREE_PAGE_FACTS[5].text, THREE_PAGE_FACTS[6].text],
]

# --- DOCX with headings and without ---------------------------------------------------------

DOCX_HEADED = [
    ("h1", "Zasiłek celowy"),
    ("", "Zasiłek celowy przyznaje się na zakup żywności, leków, opału i odzieży."),
    ("", "Zasiłek celowy może być przyznany w formie biletu kredytowanego."),
    ("h1", "Usługi opiekuńcze"),
    ("", "Usługi opiekuńcze przysługują osobie samotnej wymagającej pomocy innych osób."),
    ("", "Ośrodek ustala zakres usług opiekuńczych, okres ich świadczenia i miejsce."),
]
DOCX_HEADED_FACTS = (
    Fact(DOCX_HEADED[1][1], "§ Zasiłek celowy"),
    Fact(DOCX_HEADED[2][1], "§ Zasiłek celowy"),
    Fact(DOCX_HEADED[4][1], "§ Usługi opiekuńcze"),
    Fact(DOCX_HEADED[5][1], "§ Usługi opiekuńcze"),
)
DOCX_PLAIN = [
    ("", "Notatka ze spotkania zespołu interdyscyplinarnego w Przykładowie."),
    ("", "Zespół interdyscyplinarny spotyka się co najmniej raz na trzy miesiące."),
    ("", "W skład zespołu wchodzą przedstawiciele ośrodka, policji, oświaty i ochrony zdrowia."),
    ("", "Posiedzenia zespołu mogą się odbywać z wykorzystaniem środków porozumiewania się na odległość."),
]
DOCX_PLAIN_FACTS = tuple(Fact(text, f"akapit {n}") for n, (_, text) in enumerate(DOCX_PLAIN, start=1))

# --- a statute with lists, ust. and § ------------------------------------------------------

STATUTE_LINES = (
    ("Art. 7. Pomocy społecznej udziela się osobom i rodzinom w szczególności z powodu:", "art. 7"),
    ("1) ubóstwa;", "art. 7 pkt 1"),
    ("2) sieroctwa;", "art. 7 pkt 2"),
    ("3) bezdomności;", "art. 7 pkt 3"),
    ("4) bezrobocia;", "art. 7 pkt 4"),
    ("5) klęski żywiołowej lub ekologicznej.", "art. 7 pkt 5"),
    ("Art. 8. 1. Prawo do świadczeń pieniężnych przysługuje:", "art. 8 ust. 1"),
    ("1) osobie samotnie gospodarującej, której dochód nie przekracza kwoty 1010 zł;", "art. 8 ust. 1 pkt 1"),
    ("2) osobie w rodzinie, w której dochód na osobę nie przekracza kwoty 823 zł.", "art. 8 ust. 1 pkt 2"),
    ("2. Kwoty kryteriów dochodowych podlegają weryfikacji co trzy lata.", "art. 8 ust. 2"),
    (
        "Art. 129. § 1. Odwołanie wnosi się do właściwego organu odwoławczego za pośrednictwem organu, "
        "który wydał decyzję.",
        "art. 129 § 1",
    ),
    (
        "§ 2. Odwołanie wnosi się w terminie czternastu dni od dnia doręczenia decyzji stronie.",
        "art. 129 § 2",
    ),
)
STATUTE_TEXT = "\n".join(line for line, _ in STATUTE_LINES)
STATUTE_FACTS = tuple(Fact(line, anchor) for line, anchor in STATUTE_LINES)


def write_knowledge(folder: Path) -> dict[str, tuple[Fact, ...]]:
    """Write every generated document into ``folder``; returns the facts of each document id."""
    write(folder / "opłaty.pdf", make_pdf(TWO_PAGES, footer=False))
    sidecar_for(folder / "opłaty.pdf", "Opłaty i wnioski w MOPS", url="https://mops.example.pl/oplaty")
    write(folder / "poradnik.pdf", make_pdf(THREE_PAGES, header=HEADER))
    sidecar_for(folder / "poradnik.pdf", "Poradnik świadczeń MOPS", url="https://mops.example.pl/poradnik")
    write(folder / "zasilki.docx", make_docx(DOCX_HEADED))
    sidecar_for(folder / "zasilki.docx", "Zasiłki i usługi — informator")
    write(folder / "zespol.docx", make_docx(DOCX_PLAIN))
    sidecar_for(folder / "zespol.docx", "Notatka o zespole interdyscyplinarnym")
    statute = "---\ntitle: Ustawa przykładowa o pomocy\nkind: statute\nstatus: in_force\n"
    statute += "source_url: https://example.org/ustawa\ndate: 2025-01-01\n---\n" + STATUTE_TEXT + "\n"
    write(folder / "ustawa.md", statute)
    return {
        "opłaty.pdf": TWO_PAGE_FACTS,
        "poradnik.pdf": THREE_PAGE_FACTS,
        "zasilki.docx": DOCX_HEADED_FACTS,
        "zespol.docx": DOCX_PLAIN_FACTS,
        "ustawa.md": STATUTE_FACTS,
    }


# Questions as users type them, the fact sentence that answers each, and its true anchor.
CASES = [
    (
        "ile kosztuje kserokopia dokumentacji",
        "Opłata za kserokopie dokumentacji wynosi 17 zł za stronę.",
        "s. 2",
    ),
    (
        "gdzie sie sklada wniosek o pomoc spoleczna",
        "Wniosek o pomoc składa się w ośrodku pomocy społecznej właściwym dla miejsca zamieszkania.",
        "s. 1",
    ),
    (
        "w jakim terminie wydaje sie decyzje w sprawie zasilku okresowego",
        " ".join(BROKEN),  # printed over the break between pages 1 and 2
        "s. 1–2",
    ),
    (
        "do kogo wnosi sie odwolanie od decyzji mops",
        "Odwołanie od decyzji wnosi się do samorządowego kolegium odwoławczego w ciągu 14 dni.",
        "s. 3",
    ),
    (
        "na co mozna dostac zasilek celowy",
        "Zasiłek celowy przyznaje się na zakup żywności, leków, opału i odzieży.",
        "§ Zasiłek celowy",
    ),
    (
        "jak czesto spotyka sie zespol interdyscyplinarny",
        "Zespół interdyscyplinarny spotyka się co najmniej raz na trzy miesiące.",
        "akapit 2",
    ),
    ("czy bezdomnosc jest powodem udzielenia pomocy", "3) bezdomności;", "art. 7 pkt 3"),
    (
        "jaki dochod ma miec osoba samotnie gospodarujaca zeby dostac swiadczenie",
        "1) osobie samotnie gospodarującej, której dochód nie przekracza kwoty 1010 zł;",
        "art. 8 ust. 1 pkt 1",
    ),
    (
        "w jakim terminie wnosi sie odwolanie od doreczenia decyzji",
        "§ 2. Odwołanie wnosi się w terminie czternastu dni od dnia doręczenia decyzji stronie.",
        "art. 129 § 2",
    ),
]
CASE_DOCS = ("opłaty.pdf", "opłaty.pdf", "poradnik.pdf", "poradnik.pdf", "zasilki.docx", "zespol.docx") + (
    "ustawa.md",
) * 3


def write_questions(folder: Path) -> Path:
    """``CASES`` as a development-question file, for ``scripts/eval.py answers --questions``."""
    rows = [
        {
            "id": f"anchor-{n:02d}",
            "question": question,
            "answerable": True,
            "expected_fact": fact,
            "expected_doc": doc,
            "expected_anchor": anchor,
        }
        for n, ((question, fact, anchor), doc) in enumerate(zip(CASES, CASE_DOCS, strict=True), start=1)
    ]
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return write(folder / "generated.jsonl", text)
