"""Loading knowledge files: formats, sidecars, encodings, PDF page map and cleaning."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from index.chunking import chunk_document
from index.documents import decode_text, discover, load_document, load_folder
from index.errors import InvalidDocument
from tests.generated_docs import make_pdf

MAX = 1_000_000
FRONT = "---\ntitle: Poradnik\nkind: guide\nstatus: in_force\nsource_url: https://mops.example.pl\ndate: 2025-01-01\n---\n"
SIDECAR = (
    "title: {title}\nkind: {kind}\nstatus: in_force\nsource_url: https://example.org\ndate: 2025-01-01\n"
)
POLISH = "Zażółć gęślą jaźń. ŚWIĘTY ŹRÓDŁO. Świadczenia z pomocy społecznej."


def write(path: Path, data: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def sidecar_for(path: Path, title: str = "Dokument", kind: str = "guide", name: str | None = None) -> Path:
    return write(path.with_name(name or f"{path.stem}.meta.yaml"), SIDECAR.format(title=title, kind=kind))


STATUTE_PAGES = [
    [
        "Art. 1. Ustawa określa zadania w zakresie pomocy społecznej1) oraz",
        "rodzaje świad-",
    ],
    [
        "czeń z pomocy społecznej.",
        "Art. 2. 1. Pomoc społeczna jest instytucją polityki społecznej.",
        "2. Pomoc organizują organy administracji i organizacje społeczno-",
        "zawodowe.",
    ],
    [
        "Art. 3. Osoby korzystające z pomocy są obowiązane do współdziałania.",
        "Art. 4. Ustawa wchodzi w życie z dniem 1 maja 2004 r.",
    ],
]


@pytest.fixture
def statute_pdf(tmp_path: Path) -> Path:
    path = write(
        tmp_path / "ustawy" / "ups.pdf", make_pdf(STATUTE_PAGES, header="Dziennik Ustaw – 2023 poz. 901")
    )
    sidecar_for(path, "Ustawa o pomocy społecznej", "statute", name="ups.pdf.meta.yaml")
    return path


def test_pdf_is_cleaned_and_keeps_a_page_map(statute_pdf: Path, tmp_path: Path):
    doc = load_document(statute_pdf, tmp_path, MAX)
    assert doc.id == "ustawy/ups.pdf"
    assert doc.meta.kind == "statute"
    for debris in ("Dziennik Ustaw", "Kancelaria", "- 2 -", "społecznej1)"):
        assert debris not in doc.text
    assert "rodzaje świadczeń\nz pomocy społecznej." in doc.text  # joined across the page break
    assert doc.text.startswith("Art. 1.")
    assert "społeczno-zawodowe." in doc.text
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert doc.page_at(doc.text.index("Art. 2.")) == 2
    assert doc.page_at(doc.text.index("Art. 4.")) == 3


def test_pdf_chunks_cite_units_and_pages(statute_pdf: Path, tmp_path: Path):
    chunks = chunk_document(load_document(statute_pdf, tmp_path, MAX))
    assert [(c.anchor, c.page) for c in chunks] == [
        ("art. 1", 1),
        ("art. 2", 2),
        ("art. 3", 3),
        ("art. 4", 3),
    ]
    assert (
        chunks[0].text
        == "Art. 1. Ustawa określa zadania w zakresie pomocy społecznej oraz\nrodzaje świadczeń\nz pomocy społecznej."
    )
    # The sentence runs from page 1 over the break (its hyphenated word rejoined on page 1) to page 2.
    (first,) = chunks[0].sentences
    assert (first.anchor, first.page, first.page_end) == ("art. 1", 1, 2)
    assert [(s.anchor, s.page) for s in chunks[1].sentences] == [("art. 2 ust. 1", 2), ("art. 2 ust. 2", 2)]


def test_prose_pdf_chunks_are_anchored_by_page(tmp_path: Path):
    pages = [
        [f"Strona pierwsza, zdanie {i} o usługach społecznych." for i in range(5)],
        [f"Strona druga, zdanie {i} o usługach społecznych." for i in range(5)],
    ]
    path = write(tmp_path / "raport.pdf", make_pdf(pages, footer=False))
    sidecar_for(path, "Raport", "guide")
    (chunk,) = chunk_document(load_document(path, tmp_path, MAX))
    assert chunk.anchor == "s. 1–2"  # one passage over two pages says so
    assert "zdanie 4 o usługach" in chunk.text
    for i, sentence in enumerate(chunk.sentences):
        expected = 1 if chunk.sentence_text(i).startswith("Strona pierwsza") else 2
        assert sentence.page == sentence.page_end == expected


def test_markdown_with_front_matter(tmp_path: Path):
    path = write(tmp_path / "poradnik.md", FRONT + "\n# Zasiłek\n\n" + POLISH + "\n")
    doc = load_document(path, tmp_path, MAX)
    assert doc.meta.title == "Poradnik"
    assert doc.text == "# Zasiłek\n\n" + POLISH
    assert doc.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert doc.pages == ()


def test_utf8_with_bom(tmp_path: Path):
    path = write(tmp_path / "bom.txt", "\ufeff" + FRONT + POLISH)
    assert load_document(path, tmp_path, MAX).text == POLISH


@pytest.mark.parametrize("encoding", ["cp1250", "iso-8859-2"])
def test_central_european_code_pages_are_told_apart(tmp_path: Path, encoding: str):
    path = write(tmp_path / f"{encoding}.txt", FRONT + POLISH, encoding=encoding)
    assert load_document(path, tmp_path, MAX).text == POLISH


def test_code_pages_really_differ_on_polish_letters():
    # Otherwise the test above could pass by accident.
    assert POLISH.encode("cp1250") != POLISH.encode("iso-8859-2")
    assert decode_text("śąź".encode("cp1250"), "x") == "śąź"
    assert decode_text("śąź".encode("iso-8859-2"), "x") == "śąź"


def test_html_drops_chrome_and_keeps_headings(tmp_path: Path):
    html = """<html><head><title>t</title><style>p{}</style></head><body>
    <nav><a href="/">Start</a> <a href="/o-nas">O nas</a></nav>
    <header>Miejski Ośrodek Pomocy Społecznej</header>
    <script>var x = "ukryty skrypt";</script>
    <h1>Konferencja „Razem”</h1>
    <ul><li>Drukuj zawartość bieżącej strony</li></ul>
    <p>W dniach 13-15 czerwca 2024 w <b>Zakopanem</b> odbyła się konferencja.</p>
    <h2>Program</h2><ul><li>deinstytucjonalizacja</li><li>usługi społeczne</li></ul>
    <footer>© 2024 MOPS</footer></body></html>"""
    path = write(tmp_path / "konferencja.html", html)
    sidecar_for(path, "Konferencja Razem", "conference")
    doc = load_document(path, tmp_path, MAX)
    assert doc.text == (
        "# Konferencja „Razem”\n\nW dniach 13-15 czerwca 2024 w Zakopanem odbyła się konferencja.\n\n"
        "## Program\n\n- deinstytucjonalizacja\n- usługi społeczne"
    )
    assert [c.anchor for c in chunk_document(doc)] == ["§ Konferencja „Razem”", "§ Program"]


def test_docx_headings_become_sections(tmp_path: Path):
    import docx

    document = docx.Document()
    document.add_heading("Zasiłek okresowy", level=1)
    document.add_paragraph("Zasiłek okresowy przysługuje w szczególności ze względu na długotrwałą chorobę.")
    document.add_heading("Wniosek", level=2)
    document.add_paragraph("Wniosek składa się w ośrodku.")
    document.add_paragraph("dowód osobisty", style="List Bullet")
    document.add_paragraph("zaświadczenie o dochodach", style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    path = write(tmp_path / "zasilek.docx", buffer.getvalue())
    sidecar_for(path, "Zasiłek okresowy", "guide", name="zasilek.docx.meta.yaml")
    doc = load_document(path, tmp_path, MAX)
    assert doc.text == (
        "# Zasiłek okresowy\n\nZasiłek okresowy przysługuje w szczególności ze względu na długotrwałą chorobę.\n\n"
        "## Wniosek\n\nWniosek składa się w ośrodku.\n\n- dowód osobisty\n- zaświadczenie o dochodach"
    )
    assert [c.anchor for c in chunk_document(doc)] == ["§ Zasiłek okresowy", "§ Wniosek"]


def test_content_hash_covers_the_sidecar(statute_pdf: Path, tmp_path: Path):
    before = load_document(statute_pdf, tmp_path, MAX).content_hash
    sidecar = statute_pdf.with_name("ups.pdf.meta.yaml")
    sidecar.write_text(sidecar.read_text() + "published: Dz.U. 2023 poz. 901\n")
    after = load_document(statute_pdf, tmp_path, MAX)
    assert after.content_hash != before
    assert after.meta.published == "Dz.U. 2023 poz. 901"


def test_specific_sidecar_wins_over_the_stem_one(tmp_path: Path):
    path = write(tmp_path / "a.html", "<p>Treść dokumentu.</p>")
    sidecar_for(path, "Ogólny", name="a.meta.yaml")
    sidecar_for(path, "Dokładny", name="a.html.meta.yaml")
    assert load_document(path, tmp_path, MAX).meta.title == "Dokładny"


def test_discover_skips_sidecars_hidden_files_and_root_readme(tmp_path: Path):
    for name in [
        "README.md",
        "b.md",
        "a/c.pdf",
        "a/c.pdf.meta.yaml",
        "a/README.md",
        ".git/x.md",
        "a/.hidden.md",
    ]:
        write(tmp_path / name, "x")
    assert [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path)] == [
        "a/README.md",
        "a/c.pdf",
        "b.md",
    ]


def test_discover_skips_yaml_data_files(tmp_path: Path):
    """Tables such as facts/amounts.yaml are data about documents, not documents."""
    for name in ["facts/amounts.yaml", "acts.yml", "b.md", "c.json"]:
        write(tmp_path / name, "x")
    assert [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path)] == ["b.md", "c.json"]


def test_the_amounts_table_is_not_indexed_and_raises_no_error():
    knowledge = Path(__file__).resolve().parents[2] / "knowledge"
    assert (knowledge / "facts" / "amounts.yaml").exists()
    found = [p.relative_to(knowledge).as_posix() for p in discover(knowledge)]
    assert not [name for name in found if name.startswith("facts/")]
    errors = [str(error) for error in load_folder(knowledge, MAX).errors]
    assert not [e for e in errors if "amounts" in e]


def test_load_folder_keeps_going_past_a_bad_file(tmp_path: Path):
    write(tmp_path / "a.md", "bez metadanych")
    write(tmp_path / "b.md", FRONT + POLISH)
    result = load_folder(tmp_path, MAX)
    assert [d.id for d in result.documents] == ["b.md"]
    assert [Path(e.path).name for e in result.errors] == ["a.md"]


def test_error_names_the_file(tmp_path: Path):
    path = write(tmp_path / "zly.md", FRONT.replace("kind: guide", "kind: ustawa") + POLISH)
    with pytest.raises(InvalidDocument) as info:
        load_document(path, tmp_path, MAX)
    assert str(info.value).startswith(str(path))
    assert "'kind'" in str(info.value)


def test_html_in_a_declared_code_page(tmp_path: Path):
    html = '<html><head><meta charset="windows-1250"></head><body><p>' + POLISH + "</p></body></html>"
    path = write(tmp_path / "stara.htm", html, encoding="cp1250")
    sidecar_for(path)
    assert load_document(path, tmp_path, MAX).text == POLISH
