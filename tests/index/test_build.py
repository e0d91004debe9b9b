"""Incremental builds: reuse of unchanged vectors, changed/removed files, model changes, failures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from index.build import build_in_memory, build_index
from index.errors import PomocnikError
from index.records import Chunk, DocumentMeta
from index.search import Searcher
from index.store import IndexStore
from tests.fakes import HashingEmbedder

MAX_BYTES = 1_000_000


class CountingEmbedder(HashingEmbedder):
    """Records every passage it embeds."""

    def __init__(self, model_id: str = "fake-hashing", dim: int = 64) -> None:
        super().__init__(dim=dim, model_id=model_id)
        self.embedded: list[str] = []

    def encode_passages(
        self, texts: Sequence[str], batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        self.embedded.extend(texts)
        return super().encode_passages(texts)

    @property
    def passages(self) -> list[str]:
        """The passages it embedded (title line + text); evidence units have no line break."""
        return [text for text in self.embedded if "\n" in text]


@pytest.fixture
def knowledge(tmp_path: Path, write_doc: Callable[..., Path]) -> Path:
    root = tmp_path / "knowledge"
    write_doc(
        root,
        "zasilek.md",
        "## Zasiłek stały\n\nZasiłek stały przysługuje pełnoletniej osobie "
        "całkowicie niezdolnej do pracy z powodu wieku.\n\n## Wysokość\n\nKwota zależy od dochodu.",
    )
    write_doc(
        root,
        "odwolanie.md",
        "Od decyzji służy odwołanie do samorządowego kolegium odwoławczego w terminie czternastu dni.",
    )
    write_doc(root, "sub/mieszkanie.md", "Mieszkanie chronione zapewnia warunki samodzielnego życia.")
    return root


def build(root: Path, store: IndexStore, embedder: HashingEmbedder):
    return build_index(root, store, embedder, MAX_BYTES)


def test_first_build_embeds_everything_and_serves(knowledge: Path, tmp_path: Path) -> None:
    store, embedder = IndexStore(tmp_path / "index"), CountingEmbedder()
    report = build(knowledge, store, embedder)
    assert report.documents == 3 and report.chunks == len(embedder.passages) == report.embedded
    assert report.reused == 0 and report.errors == [] and report.removed == []
    assert report.added == ["odwolanie.md", "sub/mieszkanie.md", "zasilek.md"]
    loaded = store.load_current()
    assert loaded.version == report.version and len(loaded.chunks) == report.chunks
    assert set(loaded.manifest["files"]) == set(report.added)
    assert loaded.manifest["model_id"] == "fake-hashing" and loaded.manifest["dim"] == 64


def test_unchanged_rebuild_reuses_every_vector(knowledge: Path, tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index")
    first = build(knowledge, store, CountingEmbedder())
    embedder = CountingEmbedder()
    second = build(knowledge, store, embedder)
    assert embedder.embedded == [] and second.reused == first.chunks and second.embedded == 0
    assert second.version != first.version
    assert [c.id for c in store.load_current().chunks] == [
        c.id for c in store.load_version(first.version).chunks
    ]


def test_an_index_of_an_older_format_is_rebuilt_whole(knowledge: Path, tmp_path: Path) -> None:
    import json

    from index.errors import IndexNotBuilt
    from index.store import FORMAT_VERSION, MANIFEST

    store = IndexStore(tmp_path / "index")
    old = build(knowledge, store, CountingEmbedder())
    manifest = store.version_path(old.version) / MANIFEST
    data = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps({**data, "format": FORMAT_VERSION - 1}), encoding="utf-8")
    with pytest.raises(IndexNotBuilt, match="przebuduj"):
        store.load_current()
    embedder = CountingEmbedder()
    new = build(knowledge, store, embedder)
    assert new.reused == 0 and new.embedded == new.chunks == old.chunks  # nothing trusted from the old one
    assert all(chunk.sentences for chunk in store.load_current().chunks)


def test_touching_one_file_embeds_only_its_new_chunks(knowledge: Path, tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index")
    build(knowledge, store, CountingEmbedder())
    before = {c.id for c in store.load_current().chunks}
    path = knowledge / "zasilek.md"
    path.write_text(
        path.read_text(encoding="utf-8") + "\n## Wypłata\n\nZasiłek wypłaca ośrodek pomocy.\n",
        encoding="utf-8",
    )
    embedder = CountingEmbedder()
    report = build(knowledge, store, embedder)
    loaded = store.load_current()
    new_ids = {c.id for c in loaded.chunks} - before
    assert report.changed == ["zasilek.md"] and report.added == [] == report.removed
    assert report.embedded == len(new_ids) == len(embedder.passages) >= 1
    assert all(c.doc_id == "zasilek.md" for c in loaded.chunks if c.id in new_ids)
    # reused vectors are the ones the embedder gives for their own text
    expected = HashingEmbedder().encode_passages([c.embed_text for c in loaded.chunks])
    np.testing.assert_allclose(loaded.vectors.vectors_at(range(len(loaded.chunks))), expected, atol=1e-6)


def test_deleted_file_vanishes_from_both_sides(knowledge: Path, tmp_path: Path) -> None:
    store, embedder = IndexStore(tmp_path / "index"), HashingEmbedder()
    build(knowledge, store, embedder)
    (knowledge / "sub/mieszkanie.md").unlink()
    report = build(knowledge, store, embedder)
    loaded = store.load_current()
    assert report.removed == ["sub/mieszkanie.md"]
    assert all(c.doc_id != "sub/mieszkanie.md" for c in loaded.chunks)
    assert "sub/mieszkanie.md" not in loaded.manifest["files"]
    assert loaded.lexical.search("mieszkanie chronione", 10) == []
    hits = Searcher(loaded, embedder).search("Mieszkanie chronione samodzielnego życia", k=10)
    assert hits and all(h.chunk.doc_id != "sub/mieszkanie.md" for h in hits)


def test_replaced_content_leaves_no_stale_chunks(
    knowledge: Path, tmp_path: Path, write_doc: Callable[..., Path]
) -> None:
    store, embedder = IndexStore(tmp_path / "index"), HashingEmbedder()
    build(knowledge, store, embedder)
    write_doc(knowledge, "odwolanie.md", "Skargę na decyzję wnosi się do sądu administracyjnego.")
    build(knowledge, store, embedder)
    loaded = store.load_current()
    texts = " ".join(c.text for c in loaded.chunks if c.doc_id == "odwolanie.md")
    assert "sądu administracyjnego" in texts and "kolegium" not in texts
    assert loaded.lexical.search("kolegium odwoławczego", 5) == []


def test_changed_model_re_embeds_everything(knowledge: Path, tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index")
    first = build(knowledge, store, CountingEmbedder())
    for other in (CountingEmbedder(model_id="other-model"), CountingEmbedder(model_id="other-model", dim=32)):
        report = build(knowledge, store, other)
        assert report.embedded == first.chunks == len(other.passages) and report.reused == 0
    assert store.load_current().vectors.dim == 32


def test_retitled_document_is_re_embedded(
    knowledge: Path, tmp_path: Path, write_doc: Callable[..., Path]
) -> None:
    store = IndexStore(tmp_path / "index")
    build(knowledge, store, CountingEmbedder())
    write_doc(
        knowledge,
        "sub/mieszkanie.md",
        "Mieszkanie chronione zapewnia warunki samodzielnego życia.",
        title="Mieszkania chronione — poradnik",
    )
    embedder = CountingEmbedder()
    report = build(knowledge, store, embedder)
    assert report.changed == ["sub/mieszkanie.md"] and report.embedded >= 1
    assert all("Mieszkania chronione — poradnik" in text for text in embedder.passages)


def test_bad_file_is_reported_and_the_rest_indexed(knowledge: Path, tmp_path: Path) -> None:
    (knowledge / "zly.md").write_text("---\ntitle: Bez rodzaju\n---\n\nTekst.\n", encoding="utf-8")
    report = build(knowledge, IndexStore(tmp_path / "index"), HashingEmbedder())
    assert report.documents == 3
    assert len(report.errors) == 1 and report.errors[0].startswith(str(knowledge / "zly.md") + ": ")
    assert "kind" in report.errors[0]


def test_nothing_usable_keeps_the_old_version(knowledge: Path, tmp_path: Path) -> None:
    store, embedder = IndexStore(tmp_path / "index"), HashingEmbedder()
    good = build(knowledge, store, embedder)
    for path in knowledge.rglob("*.md"):
        path.write_text("", encoding="utf-8")
    with pytest.raises(PomocnikError, match=r"nie nadaje się do indeksu.*poprzedni indeks"):
        build(knowledge, store, embedder)
    assert store.load_current().version == good.version
    with pytest.raises(PomocnikError, match="nie istnieje"):
        build(tmp_path / "missing", store, embedder)


def test_build_in_memory_searches_like_a_stored_index() -> None:
    meta = DocumentMeta(title="LQAD", kind="statute", status="in_force", source_url="https://example.org")
    chunks = [
        Chunk(id=f"p{i}", doc_id="lqad", anchor="", text=text, embed_text=text, meta=meta, position=i)
        for i, text in enumerate(
            ["Zasiłek celowy na leki.", "Termin odwołania wynosi 14 dni.", "Zasiłek celowy na leki."]
        )
    ]
    embedder = HashingEmbedder()
    loaded = build_in_memory(chunks + chunks[:1], embedder)  # a repeated id is kept once
    assert loaded.rows == {"p0": 0, "p1": 1, "p2": 2}
    hits = Searcher(loaded, embedder).search("termin odwołania", k=3)
    assert hits[0].chunk.id == "p1"
    assert [h.chunk.id for h in hits].count("p0") + [h.chunk.id for h in hits].count("p2") <= 1
