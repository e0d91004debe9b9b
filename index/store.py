"""The versioned on-disk index: one directory per build and an atomic ``CURRENT`` pointer.

Layout under ``root``::

    CURRENT                       the serving version's id (one line)
    versions/<id>/chunks.jsonl    the chunk table: row i is vector i and BM25 document i
    versions/<id>/vectors.npy     raw vectors, reused by the next incremental build
    versions/<id>/vectors.faiss   the search index over them (``index.vectors``)
    versions/<id>/lexical/        ``LexicalIndex.save``
    versions/<id>/sentence_vectors.npz  vectors of the evidence units (``index.evidence``)
    versions/<id>/manifest.json   written last: a version without it is unfinished

A build writes a fresh directory and only then replaces ``CURRENT`` (temporary
file, fsync, ``os.replace``), so a crash at any moment leaves the previous
version serving; unfinished directories are removed by the next build.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import IndexNotBuilt, PomocnikError
from index.evidence import SentenceVectors
from index.lexical import LexicalIndex
from index.records import Chunk, DocumentMeta, SentenceSpan
from index.vectors import VectorIndex, VectorKind, configure_threads

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: chunks carry their sentences (span, page, unit anchor, list structure)
KEEP_VERSIONS = 3  # the current one plus two to fall back on by hand
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
VECTORS_RAW = "vectors.npy"
VECTORS_FAISS = "vectors.faiss"
LEXICAL = "lexical"
_META_DATES = ("date", "effective_from", "effective_to")


@dataclass(frozen=True)
class LoadedIndex:
    """One index version in memory: row ``i`` is ``chunks[i]`` on both search sides."""

    version: str
    chunks: list[Chunk]
    rows: dict[str, int]  # chunk id → row
    vectors: VectorIndex
    lexical: LexicalIndex
    manifest: dict[str, Any]
    sentences: SentenceVectors | None = None  # vectors of evidence units; None in versions built before them


class IndexStore:
    """Index versions under ``root``; see the module docstring for the layout."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.versions_dir = self.root / "versions"
        self._pointer = self.root / "CURRENT"

    # ------------------------------------------------------------ reading

    def current_version(self) -> str | None:
        """The id in ``CURRENT`` (a cheap read, for polling), or None before the first build."""
        try:
            text = self._pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    def version_path(self, version: str) -> Path:
        """The directory of ``version``."""
        return self.versions_dir / version

    def read_manifest(self, version: str) -> dict[str, Any]:
        """The manifest of a finished version; raises ``IndexNotBuilt`` if it is missing."""
        path = self.version_path(version) / MANIFEST
        try:
            manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IndexNotBuilt(
                f"Wersja indeksu {version} w {self.root} jest niekompletna: zbuduj indeks ponownie "
                "(`python -m index build`)."
            ) from None
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexNotBuilt(
                f"Indeks w {self.root} ma format {manifest.get('format')!r}, a ten program czyta "
                f"format {FORMAT_VERSION}: przebuduj indeks (`python -m index build`)."
            )
        return manifest

    def read_chunks(self, version: str) -> list[Chunk]:
        """The chunk table of ``version``, in row order."""
        with (self.version_path(version) / CHUNKS).open(encoding="utf-8") as lines:
            return [chunk_from_json(json.loads(line)) for line in lines if line.strip()]

    def read_vectors(self, version: str) -> np.ndarray:
        """The raw vectors of ``version``, memory-mapped (read-only)."""
        vectors: np.ndarray = np.load(self.version_path(version) / VECTORS_RAW, mmap_mode="r")
        return vectors

    def load_current(self) -> LoadedIndex:
        """Load the serving version.

        Raises:
            IndexNotBuilt: no version was built yet, or the current one cannot be read.
        """
        version = self.current_version()
        if version is None:
            raise IndexNotBuilt(f"Brak indeksu w {self.root}: zbuduj go poleceniem `python -m index build`.")
        return self.load_version(version)

    def load_version(self, version: str) -> LoadedIndex:
        """Load a finished version by id (see ``load_current``)."""
        manifest = self.read_manifest(version)
        path = self.version_path(version)
        configure_threads()
        try:
            chunks = self.read_chunks(version)
            vectors = VectorIndex.load(path / VECTORS_FAISS, manifest["vector_index"])
        except (OSError, RuntimeError, ValueError, KeyError) as exc:  # faiss raises RuntimeError
            raise IndexNotBuilt(
                f"Nie można wczytać wersji indeksu {version} z {self.root} "
                f"({exc.__class__.__name__}: {exc}): zbuduj indeks ponownie."
            ) from exc
        lexical = LexicalIndex.load(path / LEXICAL)
        try:
            sentences = SentenceVectors.load(path)
        except (OSError, ValueError, KeyError) as exc:  # answers fall back to passage features
            log.warning("Index version %s: sentence vectors unreadable (%s)", version, exc)
            sentences = None
        if not (len(chunks) == len(vectors) == len(lexical)):
            raise IndexNotBuilt(
                f"Wersja indeksu {version} jest niespójna ({len(chunks)} fragmentów, "
                f"{len(vectors)} wektorów, {len(lexical)} w BM25): zbuduj indeks ponownie."
            )
        rows = {chunk.id: row for row, chunk in enumerate(chunks)}
        return LoadedIndex(version, chunks, rows, vectors, lexical, manifest, sentences)

    def finished_versions(self) -> list[str]:
        """Ids of versions with a manifest, oldest first (ids sort by build time)."""
        if not self.versions_dir.is_dir():
            return []
        return sorted(p.name for p in self.versions_dir.iterdir() if p.is_dir() and (p / MANIFEST).is_file())

    # ------------------------------------------------------------ writing

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store's build lock; a second concurrent build fails at once.

        Raises:
            PomocnikError: another process is building into this store.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "build.lock").open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise PomocnikError(
                    f"Inny proces buduje właśnie indeks w {self.root}: poczekaj, aż skończy."
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def write_version(
        self,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        lexical: LexicalIndex,
        manifest: dict[str, Any],
        vector_kind: VectorKind | None = None,
        sentences: SentenceVectors | None = None,
    ) -> str:
        """Write a finished version (not yet serving) and return its id.

        ``manifest`` holds the caller's fields (files, model id, counts …); this
        adds the format, version id, build time and vector index kind.
        """
        if not (len(chunks) == len(vectors) == len(lexical)):
            raise ValueError(f"{len(chunks)} chunks, {len(vectors)} vectors, {len(lexical)} BM25 rows")
        now = datetime.now(UTC)
        version = f"{now:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"
        path = self.version_path(version)
        path.mkdir(parents=True)
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        with (path / CHUNKS).open("w", encoding="utf-8") as out:
            for chunk in chunks:
                out.write(json.dumps(chunk_to_json(chunk), ensure_ascii=False) + "\n")
        np.save(path / VECTORS_RAW, matrix)
        configure_threads()
        vector_index = VectorIndex.build(matrix, vector_kind)
        vector_index.save(path / VECTORS_FAISS)
        lexical.save(path / LEXICAL)
        if sentences is not None:
            sentences.save(path)
        full = {
            "format": FORMAT_VERSION,
            "version": version,
            "built_at": now.isoformat(timespec="seconds"),
            "vector_index": vector_index.kind,
            **manifest,
        }
        _fsync_tree(path)
        # The manifest goes last: its presence is what marks the version finished.
        _write_atomic(path / MANIFEST, json.dumps(full, ensure_ascii=False, indent=1))
        return version

    def switch(self, version: str) -> None:
        """Make ``version`` the serving one, atomically."""
        self.read_manifest(version)  # never point at an unfinished version
        _write_atomic(self._pointer, version + "\n")
        log.info("Index version %s is now current", version)

    def prune(self, keep: int = KEEP_VERSIONS) -> list[str]:
        """Remove all but the newest ``keep`` finished versions and every unfinished one.

        The current version is never removed. Call it under ``lock()`` so no
        version being written counts as unfinished. Returns the removed ids.
        """
        if not self.versions_dir.is_dir():
            return []
        current = self.current_version()
        finished = self.finished_versions()
        kept = set(finished[-keep:]) | {current}
        removed = []
        for path in self.versions_dir.iterdir():
            if path.name not in kept:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        for stale in self.root.glob(f".{self._pointer.name}.*.tmp"):  # left by a killed switch
            stale.unlink(missing_ok=True)
        if removed:
            log.info("Pruned index versions: %s", ", ".join(sorted(removed)))
        return sorted(removed)


# ---------------------------------------------------------------- chunk table rows


def chunk_to_json(chunk: Chunk) -> dict[str, Any]:
    """A JSON-ready dict of every Chunk field, metadata dates as ISO strings."""
    row = asdict(chunk)
    for name in _META_DATES:
        value = row["meta"][name]
        row["meta"][name] = value.isoformat() if value is not None else None
    return row


def chunk_from_json(row: dict[str, Any]) -> Chunk:
    """The inverse of ``chunk_to_json``."""
    meta = dict(row["meta"])
    for name in _META_DATES:
        if meta.get(name):
            meta[name] = date.fromisoformat(meta[name])
    known = {f.name for f in fields(Chunk)}
    values = {key: value for key, value in row.items() if key in known}
    values["meta"] = DocumentMeta(**meta)
    values["sentences"] = tuple(
        SentenceSpan(**{**span, "items": tuple(span.get("items", ()))}) for span in row.get("sentences", ())
    )
    return Chunk(**values)


# ---------------------------------------------------------------- durable writes


def _write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so readers see the old or the new file, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_tree(path: Path) -> None:
    for item in path.rglob("*"):
        if item.is_file():
            with item.open("rb") as handle:
                os.fsync(handle.fileno())
    for directory in [*(p for p in path.rglob("*") if p.is_dir()), path, path.parent]:
        _fsync_dir(directory)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
