"""Anchors of generated documents: every sentence knows its page, unit, heading or paragraph."""

from __future__ import annotations

from pathlib import Path

from index.chunking import chunk_document, page_anchor
from index.documents import load_document
from index.records import Chunk
from tests.generated_docs import HEADER, Fact, sidecar_for, write, write_knowledge

MAX = 5_000_000


def where(chunk: Chunk, index: int) -> str:
    """A sentence's own anchor: its pages in a PDF, else its unit, heading or paragraph."""
    span = chunk.sentences[index]
    return page_anchor(span.page, span.page_end) if span.page is not None else span.anchor


def chunks_of(folder: Path, name: str) -> list[Chunk]:
    return chunk_document(load_document(folder / name, folder, MAX))


def assert_facts_placed(chunks: list[Chunk], facts: tuple[Fact, ...]) -> None:
    placed = {
        chunk.sentence_text(i): where(chunk, i) for chunk in chunks for i in range(len(chunk.sentences))
    }
    for fact in facts:
        assert placed.get(fact.text) == fact.anchor, (fact, placed)


def test_every_generated_sentence_has_its_true_anchor(tmp_path: Path) -> None:
    facts = write_knowledge(tmp_path)
    for name, expected in facts.items():
        assert_facts_placed(chunks_of(tmp_path, name), expected)


def test_pdf_chunks_name_all_their_pages_and_drop_running_headers(tmp_path: Path) -> None:
    write_knowledge(tmp_path)
    (two,) = chunks_of(tmp_path, "opłaty.pdf")
    assert two.anchor == "s. 1–2" and two.page == 1
    (three,) = chunks_of(tmp_path, "poradnik.pdf")
    assert three.anchor == "s. 1–3"
    assert HEADER not in three.text and "Kancelaria" not in three.text and "- 2 -" not in three.text


def test_docx_sections_and_paragraph_numbers(tmp_path: Path) -> None:
    write_knowledge(tmp_path)
    assert [c.anchor for c in chunks_of(tmp_path, "zasilki.docx")] == [
        "§ Zasiłek celowy",
        "§ Usługi opiekuńcze",
    ]
    assert [c.anchor for c in chunks_of(tmp_path, "zespol.docx")] == ["akapit 1–4"]


def test_html_headings_are_section_anchors(tmp_path: Path) -> None:
    page = (
        "<html><body><nav>Menu</nav><h1>Dodatek mieszkaniowy</h1><p>Dodatek przyznaje wójt lub burmistrz.</p>"
        "<h2>Wniosek</h2><p>Wniosek składa się w urzędzie gminy.</p><p>Do wniosku dołącza się deklarację.</p>"
        "</body></html>"
    )
    path = write(tmp_path / "dodatek.html", page)
    sidecar_for(path, "Dodatek mieszkaniowy")
    chunks = chunk_document(load_document(path, tmp_path, MAX))
    assert_facts_placed(
        chunks,
        (
            Fact("Dodatek przyznaje wójt lub burmistrz.", "§ Dodatek mieszkaniowy"),
            Fact("Wniosek składa się w urzędzie gminy.", "§ Wniosek"),
            Fact("Do wniosku dołącza się deklarację.", "§ Wniosek"),
        ),
    )


def test_statute_lists_keep_stem_and_items(tmp_path: Path) -> None:
    write_knowledge(tmp_path)
    chunks = chunks_of(tmp_path, "ustawa.md")
    art7 = next(c for c in chunks if c.anchor == "art. 7")
    stem = art7.sentences[0]
    assert art7.sentence_text(0).endswith("z powodu:") and stem.items == (1, 2, 3, 4, 5)
    assert all(art7.sentences[i].stem == 0 for i in stem.items)
