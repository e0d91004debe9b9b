"""The dense side's store: a faiss index over L2-normalised vectors scored by inner product.

Small collections get an exact ``IndexFlatIP``; past ``FLAT_LIMIT`` vectors an
exhaustive scan starts to cost as much as the query embedding, so an inverted-file
index (``IndexIVFFlat``: k-means cells, only the ``IVF_NPROBE`` cells nearest the
query are scanned) takes over. It keeps the full vectors, so its scores are exact
cosines of the passages it finds. ``IndexHNSWFlat`` ("hnsw") is still built on
request and loaded from older manifests. The kind chosen is recorded in the
manifest by ``index.store``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Literal, get_args

import faiss
import numpy as np

log = logging.getLogger(__name__)

VectorKind = Literal["flat", "ivf", "hnsw"]
VECTOR_KINDS: tuple[VectorKind, ...] = get_args(VectorKind)

# At 50k × 384 floats a flat scan reads 77 MB per query (about 8 ms here, 15–17 ms
# at 100k, ~190 ms at 1M); below that the exact answer is cheap enough to keep.
FLAT_LIMIT = 50_000
# IVF cells: 2·√n (≈ 450 at 50k, 2,000 at 1M), trained on IVF_TRAIN_PER_CELL
# vectors per cell (faiss wants ≥ 39). Scanning the 64 cells nearest the query
# (≈ 32·√n vectors) gave recall@10 0.97 against exact search at 100k, 200k and 1M
# vectors shaped like the shipped passages' at 1–4 ms per query; 4·√n cells
# needed 128 probes for the same recall and twice the build time (train + add
# ≈ 70 s at 1M on two cores). Random vectors, which have no clusters, are far
# worse for every approximate index. scripts/bench_index.py measures all this.
IVF_CELLS_PER_SQRT_N = 2
IVF_TRAIN_PER_CELL = 40
IVF_NPROBE = 64
IVF_SEED = 1234  # training sample and k-means seed: the same vectors give the same index
# HNSW (kept for indexes built before IVF): graph degree and beam widths. On
# passage-like vectors it reached only recall@10 0.83 at 100k with efSearch 128,
# and at 1M its build takes ~10 minutes on two cores against ~1 for IVF.
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

        ``kind`` defaults to "flat" up to ``FLAT_LIMIT`` vectors and "ivf" above.
        """
        matrix = _as_matrix(vectors)
        chosen: VectorKind = kind or ("flat" if len(matrix) <= FLAT_LIMIT else "ivf")
        dim = matrix.shape[1]
        index: faiss.Index
        if chosen == "flat":
            index = faiss.IndexFlatIP(dim)
        elif chosen == "ivf":
            index = _trained_ivf(matrix)
        elif chosen == "hnsw":
            hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index = hnsw
        else:
            raise ValueError(f"unknown vector index kind {chosen!r} (allowed: {', '.join(VECTOR_KINDS)})")
        if len(matrix):
            index.add(matrix)
        if chosen == "ivf":
            faiss.extract_index_ivf(index).make_direct_map()  # row → vector lookups for ``vectors_at``
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
        """The stored vectors of ``rows`` (every kind keeps the full vectors)."""
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
        # Search-time parameters are set after every build and load rather than
        # trusted to the file: faiss does not store efSearch, and a file written
        # under other constants should search with the current ones.
        if self.kind == "hnsw":
            self._hnsw().hnsw.efSearch = HNSW_EF_SEARCH
        elif self.kind == "ivf":
            ivf = faiss.extract_index_ivf(self._index)
            ivf.nprobe = min(IVF_NPROBE, ivf.nlist)
            if ivf.direct_map.no():  # written without one: rebuild it for ``vectors_at``
                ivf.make_direct_map()

    def _hnsw(self) -> faiss.IndexHNSWFlat:
        """The index as the HNSW graph it is (``kind == "hnsw"``)."""
        index = faiss.downcast_index(self._index)
        if not isinstance(index, faiss.IndexHNSWFlat):
            raise TypeError(f"a {self.kind} vector index is not an HNSW graph")
        return index

    @property
    def search_params(self) -> dict[str, int]:
        """The search-time parameters in force (efSearch or nprobe), for checks and reports."""
        if self.kind == "hnsw":
            return {"efSearch": int(self._hnsw().hnsw.efSearch)}
        if self.kind == "ivf":
            ivf = faiss.extract_index_ivf(self._index)
            return {"nlist": int(ivf.nlist), "nprobe": int(ivf.nprobe)}
        return {}


def ivf_cells(count: int) -> int:
    """How many IVF cells ``count`` vectors get: 2·√n, fewer when too few to train them."""
    cells = int(IVF_CELLS_PER_SQRT_N * np.sqrt(count))
    return max(1, min(cells, count // IVF_TRAIN_PER_CELL))


def _trained_ivf(matrix: np.ndarray) -> faiss.IndexIVFFlat:
    """An empty ``IndexIVFFlat`` whose cells are trained on a fixed sample of ``matrix``."""
    count, dim = matrix.shape
    cells = ivf_cells(count)
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, cells, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = IVF_SEED
    sample_size = min(count, cells * IVF_TRAIN_PER_CELL)
    if count:
        # A seeded sample, sorted so training reads rows in order: same vectors, same cells.
        rows = np.sort(np.random.default_rng(IVF_SEED).choice(count, sample_size, replace=False))
        index.train(matrix[rows])
    return index


def _as_matrix(vectors: np.ndarray) -> np.ndarray:
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim != 2:
        raise ValueError(f"expected a 2-d array of vectors, got shape {matrix.shape}")
    return matrix
