"""Incremental index builds: load the knowledge folder, reuse unchanged vectors, write a version.

A chunk's vector is reused when the serving version holds a chunk with the same
id and the same embedder input, made by the same model; everything else is
embedded. The new version is written beside the old one and switched in only
when complete (``index.store``), so a failed or killed build changes nothing.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.chunking import chunk_document
from index.documents import load_folder
from index.errors import PomocnikError
from index.evidence import SentenceVectors
from index.lexical import LexicalIndex
from index.records import Chunk, Document
from index.store import IndexStore, LoadedIndex
from index.vectors import VectorIndex, configure_threads

log = logging.getLogger(__name__)


class PassageEmbedder(Protocol):
    """What a build needs from ``index.embedder.Embedder``."""

    model_id: str
    dim: int

    def encode_passages(
        self, texts: Sequence[str], batch_size: int = 32, progress: bool = False
    ) -> np.ndarray: ...


@dataclass(frozen=True)
class BuildReport:
    """What one build did."""

    version: str
    documents: int
    chunks: int
    embedded: int  # vectors computed in this build
    reused: int  # vectors taken from the previous version
    vector_index: str
    seconds: float
    added: list[str] = field(default_factory=list)  # document ids
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "path: reason"


def build_index(
    knowledge_dir: Path,
    store: IndexStore,
    embedder: PassageEmbedder,
    max_bytes: int,
    progress: bool = False,
    batch_size: int = 32,
) -> BuildReport:
    """Index ``knowledge_dir`` into a new version of ``store`` and make it current.

    Files that cannot be read are listed in ``BuildReport.errors`` and skipped.

    Raises:
        PomocnikError: no document could be indexed (the previous version keeps
            serving), or another build holds the store's lock.
    """
    started = time.perf_counter()
    with store.lock():
        loaded = load_folder(Path(knowledge_dir), max_bytes)
        errors = [str(error) for error in loaded.errors]
        if not loaded.documents:
            raise PomocnikError(_nothing_to_index(Path(knowledge_dir), errors))
        documents = sorted(loaded.documents, key=lambda doc: doc.id)
        chunks = _chunk_all(documents)
        previous = _previous(store, embedder)
        vectors, reused = _vectors(chunks, previous, embedder, progress, batch_size)
        old_files: dict[str, Any] = previous.files if previous else {}
        files: dict[str, Any] = {doc.id: {"hash": doc.content_hash, "chunks": []} for doc in documents}
        for chunk in chunks:
            files[chunk.doc_id]["chunks"].append(chunk.id)
        manifest = {
            "model_id": embedder.model_id,
            "dim": embedder.dim,
            "counts": {"documents": len(documents), "chunks": len(chunks)},
            "files": files,
            "errors": errors,
        }
        lexical = LexicalIndex.build([chunk.embed_text for chunk in chunks])
        sentences = SentenceVectors.build(chunks, embedder, _previous_sentences(store, embedder), batch_size)
        version = store.write_version(chunks, vectors, lexical, manifest, sentences=sentences)
        store.switch(version)
        store.prune()
    report = BuildReport(
        version=version,
        documents=len(documents),
        chunks=len(chunks),
        embedded=len(chunks) - reused,
        reused=reused,
        vector_index=store.read_manifest(version)["vector_index"],
        seconds=time.perf_counter() - started,
        added=sorted(set(files) - set(old_files)),
        changed=sorted(d for d in files if d in old_files and old_files[d]["hash"] != files[d]["hash"]),
        removed=sorted(set(old_files) - set(files)),
        errors=errors,
    )
    log.info(
        "Built index %s: %d documents, %d chunks (%d embedded, %d reused) in %.1f s",
        version,
        report.documents,
        report.chunks,
        report.embedded,
        report.reused,
        report.seconds,
    )
    return report


def build_in_memory(
    chunks: Sequence[Chunk],
    embedder: PassageEmbedder,
    batch_size: int = 32,
    progress: bool = False,
    sentences: bool = True,
) -> LoadedIndex:
    """An index over ``chunks`` held only in memory (evaluation corpora such as LQAD-PL).

    ``sentences=False`` leaves out the evidence-unit vectors (retrieval-only runs).
    """
    unique = _unique(chunks)
    configure_threads()
    vectors = _embed([c.embed_text for c in unique], embedder, batch_size, progress)
    manifest = {
        "model_id": embedder.model_id,
        "dim": embedder.dim,
        "counts": {"documents": len({c.doc_id for c in unique}), "chunks": len(unique)},
        "files": {},
    }
    vector_index = VectorIndex.build(vectors)
    manifest["vector_index"] = vector_index.kind
    return LoadedIndex(
        version="in-memory",
        chunks=unique,
        rows={chunk.id: row for row, chunk in enumerate(unique)},
        vectors=vector_index,
        lexical=LexicalIndex.build([c.embed_text for c in unique]),
        manifest=manifest,
        sentences=SentenceVectors.build(unique, embedder, batch_size=batch_size) if sentences else None,
    )


# ---------------------------------------------------------------- steps


def _previous_sentences(store: IndexStore, embedder: PassageEmbedder) -> SentenceVectors | None:
    """The serving version's unit vectors if built by the same model, for reuse; else None."""
    version = store.current_version()
    if version is None:
        return None
    try:
        if store.read_manifest(version).get("model_id") != embedder.model_id:
            return None
        return SentenceVectors.load(store.version_path(version))
    except (PomocnikError, OSError, ValueError, KeyError):
        return None


@dataclass(frozen=True)
class _Previous:
    """What the serving version offers for reuse: embedder input and row of each chunk id."""

    files: dict[str, Any]
    inputs: dict[str, tuple[str, int]]  # chunk id → (embed_text, row)
    vectors: np.ndarray | None  # None when the model changed: nothing is reusable


def _previous(store: IndexStore, embedder: PassageEmbedder) -> _Previous | None:
    version = store.current_version()
    if version is None:
        return None
    try:
        manifest = store.read_manifest(version)
        chunks = store.read_chunks(version)
        same_model = manifest.get("model_id") == embedder.model_id and manifest.get("dim") == embedder.dim
        vectors = store.read_vectors(version) if same_model else None
    except (PomocnikError, OSError, ValueError, KeyError) as exc:
        # A damaged previous version only costs a full re-embed, never the build.
        log.warning("Cannot reuse index version %s (%s): embedding everything", version, exc)
        return None
    if vectors is None:
        log.info(
            "Model changed (%s/%s → %s/%s): embedding everything",
            manifest.get("model_id"),
            manifest.get("dim"),
            embedder.model_id,
            embedder.dim,
        )
    elif len(vectors) != len(chunks):
        log.warning(
            "Index version %s has %d vectors for %d chunks: embedding everything",
            version,
            len(vectors),
            len(chunks),
        )
        vectors = None
    inputs = {chunk.id: (chunk.embed_text, row) for row, chunk in enumerate(chunks)}
    return _Previous(manifest.get("files", {}), inputs, vectors)


def _vectors(
    chunks: Sequence[Chunk],
    previous: _Previous | None,
    embedder: PassageEmbedder,
    progress: bool,
    batch_size: int,
) -> tuple[np.ndarray, int]:
    """Vectors in chunk order and how many were reused."""
    matrix = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
    missing: list[int] = []
    reusable = previous.vectors if previous else None
    for row, chunk in enumerate(chunks):
        old = previous.inputs.get(chunk.id) if previous and reusable is not None else None
        # The id hashes the passage text, not the title prepended for the embedder,
        # so a retitled document must be re-embedded even when its ids stay.
        if old is not None and reusable is not None and old[0] == chunk.embed_text:
            matrix[row] = reusable[old[1]]
        else:
            missing.append(row)
    if missing:
        matrix[missing] = _embed([chunks[row].embed_text for row in missing], embedder, batch_size, progress)
    return matrix, len(chunks) - len(missing)


def _embed(texts: Sequence[str], embedder: PassageEmbedder, batch_size: int, progress: bool) -> np.ndarray:
    """Embed in batches, with a tqdm bar when asked for and stderr is a terminal."""
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    bar = _progress_bar(len(texts), progress)
    parts = []
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        parts.append(embedder.encode_passages(batch, batch_size=batch_size))
        bar(len(batch))
    bar(0, close=True)
    return np.concatenate(parts).astype(np.float32, copy=False)


def _progress_bar(total: int, wanted: bool) -> Callable[..., None]:
    if not (wanted and sys.stderr.isatty()):
        return lambda n, close=False: None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="fragment", desc="Osadzanie", file=sys.stderr)

    def update(n: int, close: bool = False) -> None:
        bar.update(n)
        if close:
            bar.close()

    return update


def _chunk_all(documents: Sequence[Document]) -> list[Chunk]:
    return _unique([chunk for doc in documents for chunk in chunk_document(doc)])


def _unique(chunks: Sequence[Chunk]) -> list[Chunk]:
    """Chunks with the first of each id (ids must name one row in the index)."""
    seen: dict[str, Chunk] = {}
    for chunk in chunks:
        if chunk.id in seen:
            log.debug("Duplicate chunk id %s in %s: keeping the first", chunk.id, chunk.doc_id)
            continue
        seen[chunk.id] = chunk
    return list(seen.values())


def _nothing_to_index(root: Path, errors: list[str]) -> str:
    if not root.is_dir():
        return f"Folder wiedzy {root} nie istnieje; poprzedni indeks (jeśli jest) nadal działa."
    if not errors:
        return (
            f"W folderze wiedzy {root} nie ma żadnego dokumentu; poprzedni indeks (jeśli jest) nadal działa."
        )
    shown = "; ".join(errors[:3]) + ("; …" if len(errors) > 3 else "")
    return (
        f"Żaden z {len(errors)} plików w {root} nie nadaje się do indeksu ({shown}); "
        "poprzedni indeks (jeśli jest) nadal działa."
    )
