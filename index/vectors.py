"""The dense side's store: a faiss index over L2-normalised vectors scored by inner product.

Small collections get an exact ``IndexFlatIP``; past ``FLAT_LIMIT`` vectors an
exhaustive scan costs more than a query embedding, so an ``IndexHNSWFlat``
(approximate, inner product) takes over. The kind chosen is recorded in the
manifest by ``index.store``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Literal

import faiss
import numpy as np

log = logging.getLogger(__name__)

VectorKind = Literal["flat", "hnsw"]
VECTOR_KINDS: tuple[str, ...] = VectorKind.__args__  # type: ignore[attr-defined]

# At 50k × 384 floats a flat scan reads 77 MB per query (about 10 ms here); HNSW
# stays near 1 ms at any size, but its graph costs build time worth paying only
# for large collections. scripts/bench_index.py measures both.
FLAT_LIMIT = 50_000
# Graph degree and beam widths. efConstruction 40 instead of 80 builds 30 % faster
# on these 2-core machines; efSearch is the recall/latency knob measured in
# scripts/bench_index.py (recall@10 against the flat index on random vectors).
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 128


def configure_threads(threads: int | None = None) -> int:
    """Size faiss's OpenMP pool to the machine (or ``threads``); returns the count set.

    faiss defaults to every hardware thread it sees, which oversubscribes small
    containers that also run torch.
    """
    if threads is None:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    count = max(1, int(threads or 1))
    faiss.omp_set_num_threads(count)
    return count


class VectorIndex:
    """Row-numbered vectors; ``search`` returns cosine scores and row numbers."""

    def __init__(self, index: faiss.Index, kind: VectorKind) -> None:
        if kind not in VECTOR_KINDS:
            raise ValueError(f"unknown vector index kind {kind!r} (allowed: {', '.join(VECTOR_KINDS)})")
        self._index = index
        self.kind: VectorKind = kind

    @classmethod
    def build(cls, vectors: np.ndarray, kind: VectorKind | None = None) -> VectorIndex:
        """Index ``vectors`` (shape (n, dim), already L2-normalised); row i is vector i.

        ``kind`` defaults to "flat" up to ``FLAT_LIMIT`` vectors and "hnsw" above.
        """
        matrix = _as_matrix(vectors)
        chosen: VectorKind = kind or ("flat" if len(matrix) <= FLAT_LIMIT else "hnsw")
        dim = matrix.shape[1]
        if chosen == "flat":
            index = faiss.IndexFlatIP(dim)
        elif chosen == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        else:
            raise ValueError(f"unknown vector index kind {chosen!r} (allowed: {', '.join(VECTOR_KINDS)})")
        if len(matrix):
            index.add(matrix)
        result = cls(index, chosen)
        result._tune()
        log.debug("Built %s vector index: %d × %d", chosen, len(matrix), dim)
        return result

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest rows per query as (scores, rows), both shape (len(queries), k').

        ``k'`` is ``min(k, len(self))``; an approximate index may leave row -1
        (score -inf) where it found fewer neighbours.
        """
        matrix = _as_matrix(queries)
        k = min(k, len(self))
        if k <= 0:
            empty = np.zeros((len(matrix), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        scores, rows = self._index.search(matrix, k)
        return scores, rows

    def vectors_at(self, rows: np.ndarray | list[int]) -> np.ndarray:
        """The stored vectors of ``rows`` (both flat and HNSW keep the full vectors)."""
        ids = np.asarray(rows, dtype=np.int64)
        if len(ids) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._index.reconstruct_batch(ids)

    def save(self, path: Path) -> None:
        """Write the faiss index to ``path``."""
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, kind: VectorKind) -> VectorIndex:
        """Read an index written by ``save``; ``kind`` comes from the manifest."""
        result = cls(faiss.read_index(str(path)), kind)
        result._tune()
        return result

    def _tune(self) -> None:
        # efSearch is not persisted by write_index, so set it after every build/load.
        if self.kind == "hnsw":
            self._index.hnsw.efSearch = HNSW_EF_SEARCH


def _as_matrix(vectors: np.ndarray) -> np.ndarray:
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim != 2:
        raise ValueError(f"expected a 2-d array of vectors, got shape {matrix.shape}")
    return matrix
