"""Versioned store: round trip, atomic CURRENT, unfinished versions, pruning, the build lock."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from index.errors import IndexNotBuilt, PomocnikError
from index.lexical import LexicalIndex
from index.records import Chunk, DocumentMeta, SentenceSpan
from index.store import FORMAT_VERSION, MANIFEST, IndexStore, chunk_from_json, chunk_to_json

META = DocumentMeta(
    title="Ustawa o pomocy społecznej — art. 7",
    kind="statute",
    status="in_force",
    source_url="https://example.org/ups",
    act="ustawa z dnia 12 marca 2004 r. o pomocy społecznej",
    date=date(2023, 5, 1),
    effective_from=date(2024, 1, 1),
    extra={"version": "t.j. 2023"},
)


def make_chunks(texts: list[str], doc_id: str = "ups.md") -> list[Chunk]:
    return [
        Chunk(
            id=f"{doc_id}#{i}",
            doc_id=doc_id,
            anchor=f"art. {i + 1}",
            text=text,
            embed_text=f"{META.title}\n{text}",
            meta=META,
            position=i,
            page=None if i else 3,
        )
        for i, text in enumerate(texts)
    ]


def write(store: IndexStore, texts: list[str], model_id: str = "m") -> str:
    chunks = make_chunks(texts)
    vectors = np.eye(len(texts), 8, dtype=np.float32)
    lexical = LexicalIndex.build([c.embed_text for c in chunks])
    return store.write_version(chunks, vectors, lexical, {"model_id": model_id, "dim": 8})


def test_chunk_json_round_trip_keeps_every_field() -> None:
    chunk = make_chunks(["Pomocy społecznej udziela się z powodu ubóstwa."])[0]
    assert chunk_from_json(chunk_to_json(chunk)) == chunk


def test_chunk_sentences_survive_the_store(tmp_path: Path) -> None:
    text = "Art. 7. Pomocy udziela się z powodu:\n1) ubóstwa;\n2) sieroctwa;"
    spans = (
        SentenceSpan(0, 36, "art. 7", page=2, page_end=2, items=(1, 2)),
        SentenceSpan(37, 48, "art. 7 pkt 1", page=2, page_end=2, stem=0),
        SentenceSpan(49, 62, "art. 7 pkt 2", page=2, page_end=3, stem=0),
    )
    chunk = Chunk("c", "ups.pdf", "art. 7", text, text, META, 0, page=2, sentences=spans)
    assert chunk_from_json(chunk_to_json(chunk)) == chunk
    store = IndexStore(tmp_path / "index")
    version = store.write_version([chunk], np.eye(1, 8, dtype=np.float32), LexicalIndex.build([text]), {})
    (loaded,) = store.read_chunks(version)
    assert loaded == chunk and loaded.sentence_text(2) == "2) sieroctwa;"


def test_written_version_loads_after_switch(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index")
    version = write(store, ["ubóstwo i sieroctwo", "bezdomność", "bezrobocie"])
    with pytest.raises(IndexNotBuilt):  # written but not yet serving
        store.load_current()
    store.switch(version)
    loaded = store.load_current()
    assert loaded.version == version == store.current_version()
    assert [c.text for c in loaded.chunks] == ["ubóstwo i sieroctwo", "bezdomność", "bezrobocie"]
    assert loaded.rows == {"ups.md#0": 0, "ups.md#1": 1, "ups.md#2": 2}
    assert loaded.manifest["vector_index"] == "flat" and loaded.manifest["model_id"] == "m"
    assert loaded.lexical.search("bezdomności", 3)[0][0] == 1
    assert loaded.vectors.search(np.eye(1, 8, 2, dtype=np.float32), 1)[1][0, 0] == 2
    assert not [p for p in store.root.iterdir() if p.name.endswith(".tmp")]


def test_no_index_yet_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(IndexNotBuilt, match="python -m index build"):
        IndexStore(tmp_path / "missing").load_current()


def test_unfinished_version_is_ignored_and_pruned(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index")
    good = write(store, ["ubóstwo"])
    store.switch(good)
    half = store.versions_dir / "99999999T000000000000Z-deadbeef"  # newest name, no manifest
    half.mkdir()
    (half / "chunks.jsonl").write_text('{"id": "x"', encoding="utf-8")
    assert store.finished_versions() == [good]
    with pytest.raises(IndexNotBuilt, match="niekompletna"):
        store.switch(half.name)
    assert store.load_current().version == good
    assert store.prune() == [half.name]
    assert not half.exists()


def test_prune_keeps_newest_and_never_the_current(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index")
    versions = [write(store, [f"tekst {i}"]) for i in range(5)]
    store.switch(versions[0])  # e.g. rolled back by hand
    removed = store.prune(keep=2)
    assert removed == versions[1:3]
    assert store.finished_versions() == [versions[0], *versions[3:]]
    assert store.load_current().version == versions[0]


def test_inconsistent_version_is_reported(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index")
    version = write(store, ["a", "b"])
    store.switch(version)
    (store.version_path(version) / "chunks.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(IndexNotBuilt, match="niespójna"):
        store.load_current()


def test_other_format_version_asks_for_a_rebuild(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index")
    version = write(store, ["a"])
    manifest = store.version_path(version) / MANIFEST
    manifest.write_text(manifest.read_text().replace(f'"format": {FORMAT_VERSION}', '"format": 1'))
    with pytest.raises(IndexNotBuilt, match="przebuduj"):
        store.read_manifest(version)


def test_second_build_lock_fails_at_once(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index")
    with (
        store.lock(),
        pytest.raises(PomocnikError, match="Inny proces"),
        IndexStore(tmp_path / "index").lock(),
    ):
        pass
    with store.lock():  # released
        pass


def test_mismatched_lengths_are_refused(tmp_path: Path) -> None:
    chunks = make_chunks(["a", "b"])
    with pytest.raises(ValueError):
        IndexStore(tmp_path).write_version(
            chunks, np.zeros((1, 8), np.float32), LexicalIndex.build(["a", "b"]), {}
        )
