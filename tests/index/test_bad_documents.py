"""A folder of broken knowledge files: each gets exactly one clear error, the good ones load."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from index.documents import load_folder

MAX = 50_000
FRONT = "---\ntitle: {title}\nkind: guide\nstatus: in_force\nsource_url: https://example.org\ndate: 2025-01-01\n---\n"
GOOD_FRONT = FRONT.format(title="Dobry dokument")
SIDECAR = (
    "title: Dokument\nkind: guide\nstatus: in_force\nsource_url: https://example.org\ndate: 2025-01-01\n"
)
TEXT = "Zasiłek okresowy przysługuje osobie samotnie gospodarującej.\n"


def _pdf_with_text(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)  # ASCII only: no font file needed
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


def _blank_pdf(pages: int = 2) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf_with_text("Poufne dane osobowe."))))
    writer.encrypt(user_password="tajne", owner_password="wlasciciel")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _docx(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _zip_without_word_document() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "nie jestem dokumentem Worda")
    return buffer.getvalue()


# name → (bytes of the file, sidecar text or None, words the error must contain)
BAD: dict[str, tuple[bytes, str | None, tuple[str, ...]]] = {
    "empty.md": (b"", None, ("pusty plik",)),
    "whitespace.txt": (b"  \n\t\n  ", None, ("pusty plik",)),
    "no_title.md": (
        GOOD_FRONT.replace("title: Dobry dokument\n", "").encode() + TEXT.encode(),
        None,
        ("'title'",),
    ),
    "no_source.md": (
        GOOD_FRONT.replace("source_url: https://example.org\n", "").encode() + TEXT.encode(),
        None,
        ("'source_url'",),
    ),
    "bad_status.md": (
        GOOD_FRONT.replace("in_force", "obowiązuje").encode() + TEXT.encode(),
        None,
        ("'status'",),
    ),
    "bad_kind.md": (
        GOOD_FRONT.replace("kind: guide", "kind: ustawa").encode() + TEXT.encode(),
        None,
        ("'kind'",),
    ),
    "bad_date.md": (
        GOOD_FRONT.replace("---\n", "---\neffective_from: 31.12.2024\n", 1).encode() + TEXT.encode(),
        None,
        ("'effective_from'",),
    ),
    "broken_yaml.md": (
        b"---\ntitle: [niedomkniete\nkind: guide\n---\n" + TEXT.encode(),
        None,
        ("błędny yaml", "nagłówku"),
    ),
    "list_front_matter.md": (b"---\n- title\n- kind\n---\n" + TEXT.encode(), None, ("nie są polami",)),
    "no_front_matter.md": (
        TEXT.encode(),
        None,
        ("brak metadanych", "nagłówka yaml", "no_front_matter.md.meta.yaml"),
    ),
    "only_front_matter.md": (GOOD_FRONT.encode() + b"\n\n", None, ("nie zostaje żaden tekst",)),
    "binary.txt": (bytes(range(256)) * 4, None, ("binarna",)),
    "undecodable.txt": (
        GOOD_FRONT.encode() + bytes(range(0x80, 0x100)) * 3,
        None,
        ("nie da się odczytać kodowania",),
    ),
    "too_big.md": (GOOD_FRONT.encode() + b"a " * MAX, None, ("ponad limit",)),
    "corrupt.pdf": (b"%PDF-1.7\n" + bytes(range(256)) * 8, SIDECAR, ("uszkodzony pdf",)),
    "not_a_pdf.pdf": (b"<html>To nie jest PDF</html>", SIDECAR, ("uszkodzony pdf",)),
    "encrypted.pdf": (b"", SIDECAR, ("zaszyfrowany pdf", "bez hasła")),  # bytes built in the fixture
    "scanned.pdf": (b"", SIDECAR, ("bez warstwy tekstowej", "ocr")),
    "no_sidecar.pdf": (b"", None, ("brak pliku metadanych",)),
    "bad_sidecar.pdf": (
        b"",
        "title: Bez rodzaju\nstatus: in_force\nsource_url: x\n",
        ("pliku metadanych bad_sidecar.pdf.meta.yaml", "'kind'"),
    ),
    "broken_sidecar.html": (b"<p>Tekst strony.</p>", "title: [zle\n", ("pliku metadanych", "błędny yaml")),
    "no_sidecar.html": (b"<p>Tekst strony.</p>", None, ("brak pliku metadanych",)),
    "only_scripts.html": (
        b"<nav>Menu</nav><script>alert(1)</script><footer>stopka</footer>",
        SIDECAR,
        ("nie zostaje żaden tekst",),
    ),
    "empty.docx": (b"", SIDECAR, ("nie zostaje żaden tekst",)),
    "garbage.docx": (b"PK\x03\x04" + bytes(200), SIDECAR, ("uszkodzony docx",)),
    "not_word.docx": (_zip_without_word_document(), SIDECAR, ("uszkodzony docx",)),
    "table.xlsx": (b"PK\x03\x04 arkusz", SIDECAR, ("nieobsługiwany typ pliku", "'.xlsx'")),
}

GOOD = [
    "good.md",
    "good.txt",
    "good.pdf",
    "good.html",
    "good.docx",
    "sub/good_cp1250.txt",
    "sub/good_utf16.txt",
]


@pytest.fixture(scope="module")
def knowledge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("knowledge")
    built = {
        "encrypted.pdf": _encrypted_pdf(),
        "scanned.pdf": _blank_pdf(),
        "no_sidecar.pdf": _pdf_with_text("Tekst bez metadanych."),
        "bad_sidecar.pdf": _pdf_with_text("Tekst ze zlymi metadanymi."),
        "empty.docx": _docx([]),
    }
    for name, (data, sidecar, _) in BAD.items():
        (root / name).write_bytes(built.get(name, data))
        if sidecar is not None:
            (root / f"{name}.meta.yaml").write_text(sidecar, encoding="utf-8")
    (root / "good.md").write_text(GOOD_FRONT + "# Zasiłek\n\n" + TEXT, encoding="utf-8")
    (root / "good.txt").write_text(GOOD_FRONT + TEXT, encoding="utf-8")
    (root / "good.pdf").write_bytes(_pdf_with_text("Zasilek celowy przyznaje sie na potrzeby bytowe."))
    (root / "good.meta.yaml").write_text(SIDECAR, encoding="utf-8")  # good.pdf and good.html share it
    (root / "good.html").write_text("<h1>Zasiłek</h1><p>" + TEXT + "</p>", encoding="utf-8")
    (root / "good.docx").write_bytes(_docx([TEXT]))
    (root / "good.docx.meta.yaml").write_text(SIDECAR, encoding="utf-8")
    (root / "sub").mkdir()
    (root / "sub" / "good_cp1250.txt").write_bytes((GOOD_FRONT + "Świadczenia — źródło.").encode("cp1250"))
    # Notepad's "Unicode": UTF-16 with a BOM, full of NUL bytes, still text.
    (root / "sub" / "good_utf16.txt").write_bytes((GOOD_FRONT + "Zażółć gęślą jaźń.").encode("utf-16"))
    return root


@pytest.fixture(scope="module")
def result(knowledge: Path):
    return load_folder(knowledge, MAX)


def test_there_are_enough_distinct_bad_files():
    assert len(BAD) >= 20


def test_every_good_document_loads(result):
    assert sorted(d.id for d in result.documents) == sorted(GOOD)
    cp1250 = next(d for d in result.documents if d.id == "sub/good_cp1250.txt")
    assert cp1250.text == "Świadczenia — źródło."
    utf16 = next(d for d in result.documents if d.id == "sub/good_utf16.txt")
    assert utf16.text == "Zażółć gęślą jaźń."


def test_each_bad_file_gets_exactly_one_error_naming_it(result):
    by_name = {}
    for error in result.errors:
        name = Path(error.path).name
        assert name not in by_name, f"two errors for {name}"
        by_name[name] = error
    assert sorted(by_name) == sorted(BAD)


@pytest.mark.parametrize("name", sorted(BAD))
def test_the_error_says_what_is_wrong(result, name: str):
    errors = {Path(e.path).name: e for e in result.errors}
    message = str(errors[name])
    assert name in message
    for words in BAD[name][2]:
        assert words in message.lower(), message
