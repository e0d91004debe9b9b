"""Load the files of the knowledge folder into cleaned ``Document`` records.

Markdown and text files carry YAML front matter; PDF, HTML and DOCX files a
sidecar ``NAME.meta.yaml`` (or ``NAME.pdf.meta.yaml``). Every problem with a
file becomes an ``InvalidDocument`` naming it, with a Polish reason (the
maintainers read it), and ``load_folder`` reports it without stopping the others.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import charset_normalizer
import yaml

from index.cleaning import clean_pdf_pages, clean_text
from index.errors import InvalidDocument
from index.metadata import parse_meta
from index.records import Document, DocumentMeta, Page

log = logging.getLogger(__name__)

TEXT_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
SIDECAR_SUFFIXES = frozenset({".pdf", ".html", ".htm", ".docx"})
SIDECAR_ENDING = ".meta.yaml"
# YAML under knowledge/ is data about documents (sidecars, knowledge/facts/amounts.yaml,
# knowledge/acts.yaml), never a document itself.
DATA_SUFFIXES = frozenset({".yaml", ".yml"})
# A PDF page with fewer letters than this has no usable text layer.
_MIN_PDF_CHARS = 20
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_POLISH_LETTERS = frozenset("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
_TYPOGRAPHY = frozenset("„”“«»–—…§°’‘•·€")
# Page chrome, never content.
_HTML_DROP = (
    "script",
    "style",
    "nav",
    "header",
    "footer",
    "noscript",
    "form",
    "aside",
    "iframe",
    "svg",
    "button",
)
# Paragraph-like blocks are set apart by a blank line, list items and rows by a line break.
_HTML_PARAGRAPHS = ("p", "div", "section", "article", "blockquote", "pre", "table", "ul", "ol", "main")
_HTML_LINES = ("li", "br", "tr", "dd", "dt")


@dataclass
class LoadResult:
    """What ``load_folder`` read: the good documents and one error per bad file."""

    documents: list[Document] = field(default_factory=list)
    errors: list[InvalidDocument] = field(default_factory=list)


def discover(root: Path) -> list[Path]:
    """Candidate document files under ``root``, sorted.

    Skips hidden files and folders, the folder's own README.md and YAML files
    (metadata sidecars and data tables such as ``facts/amounts.yaml``).
    Files of other unsupported types are returned, so that loading reports them.
    """
    root = Path(root)
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        if path.suffix.lower() in DATA_SUFFIXES or relative.as_posix() == "README.md":
            continue
        found.append(path)
    return sorted(found)


def load_folder(root: Path, max_bytes: int) -> LoadResult:
    """Load every file ``discover`` finds; a bad file is reported, never fatal."""
    result = LoadResult()
    for path in discover(root):
        try:
            result.documents.append(load_document(path, root, max_bytes))
        except InvalidDocument as error:
            log.warning("skipping %s", error)
            result.errors.append(error)
    return result


def load_document(path: Path, root: Path, max_bytes: int) -> Document:
    """Read, decode, clean and validate one file.

    Raises:
        InvalidDocument: the file is empty, too large, of an unsupported type,
            unreadable (corrupt, encrypted, scanned without text, undecodable),
            has no text, or its metadata is missing or invalid.
    """
    path, root = Path(path), Path(root)
    doc_id = path.relative_to(root).as_posix()
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES | SIDECAR_SUFFIXES:
        supported = ", ".join(sorted(TEXT_SUFFIXES | SIDECAR_SUFFIXES))
        raise InvalidDocument(
            path, f"nieobsługiwany typ pliku '{suffix or path.name}' (obsługiwane: {supported})"
        )
    size = path.stat().st_size
    if size > max_bytes:
        over = f"plik ma {_size(size, max_bytes)}, ponad limit {_size(max_bytes, max_bytes)}"
        raise InvalidDocument(path, over)
    data = path.read_bytes()
    if not data.strip():
        raise InvalidDocument(path, "pusty plik")
    sidecar = _find_sidecar(path)
    sidecar_bytes = sidecar.read_bytes() if sidecar else b""
    pages: tuple[Page, ...] = ()
    paragraphs: tuple[Page, ...] = ()
    if suffix in TEXT_SUFFIXES:
        front_matter, body = _split_front_matter(decode_text(data, path))
        if front_matter is not None:
            meta = parse_meta(_load_yaml(front_matter, path, " w nagłówku (front matter)"), path)
        elif sidecar is not None:
            meta = _sidecar_meta(path, sidecar, sidecar_bytes)
        else:
            raise InvalidDocument(
                path,
                "brak metadanych: na początku pliku nie ma nagłówka YAML (--- … ---), "
                f"a obok nie ma pliku {path.name}{SIDECAR_ENDING}",
            )
        text = clean_text(body)
    else:
        if sidecar is None:
            raise InvalidDocument(
                path,
                f"brak pliku metadanych {path.name}{SIDECAR_ENDING} "
                f"(albo {path.stem}{SIDECAR_ENDING}) obok dokumentu",
            )
        meta = _sidecar_meta(path, sidecar, sidecar_bytes)
        text, pages = _READERS[suffix](data, path)
        if suffix == ".docx" and not re.search(r"^#{1,6} ", text, re.MULTILINE):
            paragraphs = _docx_paragraphs(data, text)
    if not re.search(r"\w", text):
        raise InvalidDocument(path, "po oczyszczeniu nie zostaje żaden tekst do zindeksowania")
    return Document(
        id=doc_id,
        text=text,
        meta=meta,
        content_hash=hashlib.sha256(data + sidecar_bytes).hexdigest(),
        pages=pages,
        paragraphs=paragraphs,
    )


def _size(n: int, limit: int) -> str:
    """Sizes in the unit that suits the limit, so the two read alike (Polish decimal comma)."""
    return f"{n / 1e6:.1f} MB".replace(".", ",") if limit >= 1_000_000 else f"{n} B"


# --- text and metadata -----------------------------------------------------------------


def decode_text(data: bytes, path: Path | str) -> str:
    """Decode UTF-8 (with or without BOM), else whichever of cp1250 and ISO-8859-2 reads as Polish.

    The two Central European code pages differ exactly on ą ś ź Ą Ś Ź (and a
    few symbols), so the one that yields more Polish letters wins; charset-normalizer
    cannot tell them apart (it reads ISO-8859-2 Polish as cp1252), so it is asked
    only about files with NUL bytes, which are text only in UTF-16/32 (Windows
    "Unicode" saves) and which it recognises reliably.

    Raises:
        InvalidDocument: binary content, or bytes that read as Polish in neither.
    """
    if b"\x00" in data:
        guess = charset_normalizer.from_bytes(data).best()
        if guess is not None and guess.encoding.startswith(("utf_16", "utf_32")):
            log.debug("%s decoded as %s", path, guess.encoding)
            return str(guess)
        raise InvalidDocument(path, "zawartość binarna (bajty NUL), to nie jest plik tekstowy")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    candidates = []
    for encoding in ("cp1250", "iso-8859-2"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        candidates.append((_polish_score(text), encoding, text))
    if candidates:
        score, encoding, text = max(candidates, key=lambda c: c[0])
        if score >= 0.5:
            log.debug("%s decoded as %s", path, encoding)
            return text
    raise InvalidDocument(
        path,
        "nie da się odczytać kodowania: to nie UTF-8 ani polski tekst w cp1250/ISO-8859-2 — "
        "zapisz plik w UTF-8",
    )


def _polish_score(text: str) -> float:
    """Share of non-ASCII characters that are Polish letters or common typography."""
    foreign = [c for c in text if ord(c) > 127 or (unicodedata.category(c) == "Cc" and c not in "\n\r\t\f")]
    if not foreign:
        return 1.0
    good = sum(c in _POLISH_LETTERS or c in _TYPOGRAPHY for c in foreign)
    return good / len(foreign)


def _split_front_matter(text: str) -> tuple[str | None, str]:
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    match = _FRONT_MATTER.match(text)
    if not match:
        return None, text
    return match.group(1) or "", text[match.end() :]


def _load_yaml(text: str, path: Path, where: str) -> dict[str, Any]:
    """Parse metadata YAML; ``where`` (" w nagłówku …" or "") says where it sits, in Polish."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f", wiersz {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or error  # PyYAML's own (English) words
        raise InvalidDocument(path, f"błędny YAML{where}{line}: {problem}") from None
    if not isinstance(raw, dict):
        raise InvalidDocument(
            path,
            f"metadane{where} nie są polami w postaci 'pole: wartość' "
            "(brak wymaganego pola metadanych 'title')",
        )
    return raw


def _sidecar_meta(path: Path, sidecar: Path, data: bytes) -> DocumentMeta:
    """Metadata from a sidecar; errors name the document and mention the sidecar."""
    try:
        return parse_meta(_load_yaml(decode_text(data, sidecar), sidecar, ""), sidecar)
    except InvalidDocument as error:
        raise InvalidDocument(path, f"w pliku metadanych {sidecar.name}: {error.reason}") from None


def _find_sidecar(path: Path) -> Path | None:
    """``report.pdf.meta.yaml`` (preferred: unambiguous) or ``report.meta.yaml``."""
    for candidate in (path.with_name(path.name + SIDECAR_ENDING), path.with_name(path.stem + SIDECAR_ENDING)):
        if candidate.is_file():
            return candidate
    return None


# --- binary formats ------------------------------------------------------------------------


def _read_pdf(data: bytes, path: Path) -> tuple[str, tuple[Page, ...]]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InvalidDocument(path, "zaszyfrowany PDF: potrzebne hasło — zapisz wersję bez hasła")
        raw_pages = [page.extract_text() or "" for page in reader.pages]
    except InvalidDocument:
        raise
    except (DependencyError, FileNotDecryptedError):
        raise InvalidDocument(
            path, "zaszyfrowany PDF: nie da się go odszyfrować bez hasła — zapisz wersję bez hasła"
        ) from None
    except PdfReadError as error:
        raise InvalidDocument(path, f"uszkodzony PDF: {error}") from None
    except Exception as error:  # pypdf raises many kinds of errors on broken files
        raise InvalidDocument(path, f"uszkodzony PDF ({type(error).__name__}: {error})") from None
    if not raw_pages:
        raise InvalidDocument(path, "PDF nie ma żadnej strony")
    pages = clean_pdf_pages(raw_pages)
    if sum(len(re.findall(r"\w", page)) for page in pages) < _MIN_PDF_CHARS:
        raise InvalidDocument(
            path, "PDF bez warstwy tekstowej (skan?): przepuść go przez OCR i dodaj wersję tekstową"
        )
    # Pages join with a plain line break: a sentence running over a page break
    # stays one paragraph. A page's range includes the break that follows it.
    page_map, offset = [], 0
    for number, page in enumerate(pages, start=1):
        page_map.append(Page(number=number, start=offset, end=offset + len(page) + 1))
        offset += len(page) + 1
    return "\n".join(pages), tuple(page_map)


def _read_html(data: bytes, path: Path) -> tuple[str, tuple[Page, ...]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(list(_HTML_DROP)):
        tag.decompose()
    body = soup.body or soup
    for heading in body.find_all(re.compile(r"^h[1-6]$")):
        level = int(heading.name[1])
        heading.replace_with(f"\n\n{'#' * level} {heading.get_text(' ', strip=True)}\n\n")
    for item in body.find_all("li"):
        item.insert(0, "- ")
    for block in body.find_all(list(_HTML_LINES)):
        block.insert_before("\n")
    for block in body.find_all(list(_HTML_PARAGRAPHS)):
        block.insert_before("\n\n")
        block.insert_after("\n\n")
    return clean_text(body.get_text()), ()


def _read_docx(data: bytes, path: Path) -> tuple[str, tuple[Page, ...]]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise InvalidDocument(path, f"uszkodzony DOCX (to nie dokument Worda: {error})") from None
    lines = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = [cell.text.strip() for cell in row.cells]
                lines.append(" | ".join(c for c in cells if c))
            lines.append("")
            continue
        text = block.text.strip()
        style = (block.style.name if block.style is not None else "").lower()
        level = re.search(r"(?:heading|nagłówek)\s*(\d)", style)
        if level and text:
            lines.append(f"\n{'#' * int(level.group(1))} {text}\n")
        elif style == "title" and text:
            lines.append(f"\n# {text}\n")
        elif style.startswith("list") and text:
            lines.append(f"- {text}")
            continue
        else:
            lines.append(text)
        lines.append("")  # a paragraph ends; consecutive list items stay together
    return clean_text("\n".join(lines)), ()


def _docx_paragraphs(data: bytes, text: str) -> tuple[Page, ...]:
    """Where each non-empty paragraph of a DOCX (a table counts as one) lies in its cleaned ``text``.

    Cleaning only changes whitespace and drops debris lines, so each paragraph is
    found, in order, by its words; one that cleaning removed keeps its number unused.
    """
    import docx
    from docx.table import Table

    found: list[Page] = []
    cursor, number = 0, 0
    for block in docx.Document(io.BytesIO(data)).iter_inner_content():
        if isinstance(block, Table):
            rows = [" | ".join(c.text.strip() for c in row.cells if c.text.strip()) for row in block.rows]
            words = "\n".join(rows).split()
        else:
            words = block.text.split()
        if not words:
            continue
        number += 1
        match = re.compile(r"\s+".join(map(re.escape, words))).search(text, cursor)
        if match:
            found.append(Page(number=number, start=match.start(), end=match.end()))
            cursor = match.end()
    return tuple(found)


_READERS: dict[str, Callable[[bytes, Path], tuple[str, tuple[Page, ...]]]] = {
    ".pdf": _read_pdf,
    ".html": _read_html,
    ".htm": _read_html,
    ".docx": _read_docx,
}
