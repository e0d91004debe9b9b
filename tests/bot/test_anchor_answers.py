"""Answers over generated multi-page documents cite the page, unit, heading or paragraph of their words.

A real index (the real e5 model) over the documents of ``tests.generated_docs``,
whose truth is known: which page, unit, heading or paragraph holds each sentence.
Each question asserts the anchor of the citation holding the fact, every
citation's anchor against that truth, and the bold sentence in the passage view.
"""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

import pytest

from bot.answer import answer
from bot.citations import common_unit
from bot.evaluation import anchor_holds, unit_holds
from bot.records import Answer, Citation
from bot.render import render_passage
from index.chunking import page_anchor
from index.records import Chunk
from tests.generated_docs import CASES, Fact, write_knowledge

TODAY = date(2026, 1, 15)
PAGE = re.compile(r"s\. (\d+)(?:–(\d+))?$")


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory, real_embedder: Any) -> Any:
    from index.build import build_index
    from index.search import Searcher
    from index.store import IndexStore

    root = tmp_path_factory.mktemp("anchors")
    facts = write_knowledge(root / "knowledge")
    store = IndexStore(root / "index")
    build_index(root / "knowledge", store, real_embedder, max_bytes=5_000_000)
    loaded = store.load_current()
    return Searcher(loaded, real_embedder), {c.id: c for c in loaded.chunks}, facts


def truth(facts: dict[str, tuple[Fact, ...]], doc_id: str, text: str) -> str | None:
    return next((f.anchor for f in facts.get(doc_id, ()) if f.text == text), None)


def own_sentences(citation: Citation, chunk: Chunk) -> list[int]:
    """The cited sentences less a list stem quoted as the context of its cited items."""
    chosen = set(citation.sentences)
    return [i for i in citation.sentences if not set(chunk.sentences[i].items) & chosen] or list(chosen)


def check_every_citation(
    result: Answer, chunks: dict[str, Chunk], facts: dict[str, tuple[Fact, ...]]
) -> None:
    """Each anchor is the one the generator's truth gives for its cited sentences (and holds them)."""
    assert result.answered and result.citations, result
    for citation in result.citations:
        chunk = chunks[citation.chunk_id]
        assert citation.sentences, citation
        assert anchor_holds(citation.anchor, chunk, citation.sentences), citation
        known = [truth(facts, chunk.doc_id, chunk.sentence_text(i)) for i in own_sentences(citation, chunk)]
        assert all(known), (citation.anchor, [chunk.sentence_text(i) for i in citation.sentences])
        pages = [PAGE.fullmatch(a) for a in known if a]
        if all(pages):  # a PDF: the pages its cited sentences were printed on
            first = min(int(m.group(1)) for m in pages if m)
            last = max(int(m.group(2) or m.group(1)) for m in pages if m)
            assert citation.anchor == page_anchor(first, last), (citation.anchor, known)
        else:
            assert citation.anchor == common_unit([a for a in known if a]), (citation.anchor, known)


def cited_for(result: Answer, text: str) -> Citation:
    """The citation whose bold sentences include ``text``."""
    for citation in result.citations:
        bold = [citation.passage[a:b] for a, b in citation.highlights]
        if any(" ".join(b.split()) == text for b in bold):
            return citation
    raise AssertionError(f"no citation quotes {text!r}: {[c.anchor for c in result.citations]}")


def assert_passage_view(citation: Citation, text: str) -> None:
    view = "\n".join(render_passage(citation))
    bold = [piece.split("</b>")[0] for piece in view.split("<b>")[1:]]
    assert any(" ".join(b.split()) == html.escape(text, quote=False) for b in bold), view
    assert html.escape(citation.anchor, quote=False) in view
    assert f'Źródło: <a href="{citation.source_url}">' in view


@pytest.mark.slow
@pytest.mark.parametrize(("question", "fact", "anchor"), CASES, ids=[c[2] for c in CASES])
def test_answer_cites_where_the_words_are(kb: Any, question: str, fact: str, anchor: str) -> None:
    searcher, chunks, facts = kb
    result = answer(question, searcher, today=TODAY)
    check_every_citation(result, chunks, facts)
    citation = cited_for(result, fact)
    if [
        chunks[citation.chunk_id].sentence_text(i) for i in own_sentences(citation, chunks[citation.chunk_id])
    ] == [fact]:
        assert citation.anchor == anchor
    else:  # more sentences quoted: their common anchor (checked above) holds this one's
        pages, expected = PAGE.fullmatch(citation.anchor), PAGE.fullmatch(anchor)
        if pages and expected:
            assert int(pages.group(1)) <= int(expected.group(1))
            assert int(expected.group(2) or expected.group(1)) <= int(pages.group(2) or pages.group(1))
        else:
            assert unit_holds(citation.anchor, anchor), (citation.anchor, anchor)
    assert_passage_view(citation, fact)
