"""faiss vector index: kind by size, exact and approximate search, persistence, threads."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from index import vectors
from index.vectors import (
    HNSW_EF_SEARCH,
    IVF_NPROBE,
    VectorIndex,
    configure_threads,
    ivf_cells,
)

KINDS = ["flat", "ivf", "hnsw"]


def unit_vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    matrix = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def clustered_vectors(n: int, dim: int = 32, seed: int = 0, topics: int = 40) -> np.ndarray:
    """Unit vectors near mixtures of a few topic directions, as passage embeddings are.

    Row i blends two topics plus noise; the topics are the same for every seed, so
    two calls with different seeds give a corpus and queries from one distribution.
    """
    centres = unit_vectors(topics, dim, seed=12345)
    rng = np.random.default_rng(seed)
    first, second = rng.integers(0, topics, n), rng.integers(0, topics, n)
    mixed = centres[first] + 0.5 * centres[second] + 0.15 * rng.standard_normal((n, dim))
    return (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)


def recall_at_10(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a[:10]) & set(e[:10])) / 10 for a, e in zip(found, exact, strict=True)]))


def test_kind_follows_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors, "FLAT_LIMIT", 100)
    assert VectorIndex.build(unit_vectors(100)).kind == "flat"
    assert VectorIndex.build(unit_vectors(101)).kind == "ivf"


@pytest.mark.parametrize("kind", KINDS)
def test_search_returns_cosine_and_rows_best_first(kind: str) -> None:
    data = unit_vectors(500)
    index = VectorIndex.build(data, kind)  # type: ignore[arg-type]  # parametrized kind name
    scores, rows = index.search(data[[7, 42]], 5)
    assert rows[:, 0].tolist() == [7, 42]
    assert scores[:, 0] == pytest.approx([1.0, 1.0], abs=1e-5)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)
    expected = data[rows[0]] @ data[7]
    assert scores[0] == pytest.approx(expected, abs=1e-5)


def test_k_is_capped_by_size_and_empty_index_finds_nothing() -> None:
    _, rows = VectorIndex.build(unit_vectors(3)).search(unit_vectors(1, seed=1), 10)
    assert rows.shape == (1, 3) and sorted(rows[0].tolist()) == [0, 1, 2]
    _, rows = VectorIndex.build(np.zeros((0, 32), np.float32)).search(unit_vectors(1), 5)
    assert rows.shape == (1, 0)


@pytest.mark.parametrize("kind", KINDS)
def test_save_load_round_trip(tmp_path: Path, kind: str) -> None:
    data = unit_vectors(300)
    index = VectorIndex.build(data, kind)  # type: ignore[arg-type]  # parametrized kind name
    index.save(tmp_path / "v.faiss")
    loaded = VectorIndex.load(tmp_path / "v.faiss", kind)  # type: ignore[arg-type]  # parametrized kind name
    assert (loaded.kind, loaded.dim, len(loaded)) == (kind, 32, 300)
    query = unit_vectors(3, seed=5)
    assert np.array_equal(loaded.search(query, 10)[1], index.search(query, 10)[1])
    np.testing.assert_allclose(loaded.vectors_at([0, 299]), data[[0, 299]], atol=1e-6)
    if kind == "hnsw":  # efSearch is not stored by faiss: it must be set again on load
        assert faiss.downcast_index(loaded._index).hnsw.efSearch == HNSW_EF_SEARCH
    assert loaded.search_params == index.search_params


def test_ivf_search_params_are_set_again_on_load(tmp_path: Path) -> None:
    index = VectorIndex.build(clustered_vectors(20_000), "ivf")
    cells = ivf_cells(20_000)
    assert cells > IVF_NPROBE  # otherwise every cell is scanned and nprobe means nothing
    assert index.search_params == {"nlist": cells, "nprobe": IVF_NPROBE}
    # A file written with another nprobe and no row map (as faiss.write_index allows)…
    faiss.extract_index_ivf(index._index).nprobe = 1
    faiss.extract_index_ivf(index._index).set_direct_map_type(faiss.DirectMap.NoMap)
    index.save(tmp_path / "v.faiss")
    # …still searches with the current nprobe and can look rows up.
    loaded = VectorIndex.load(tmp_path / "v.faiss", "ivf")
    assert loaded.search_params == {"nlist": cells, "nprobe": IVF_NPROBE}
    np.testing.assert_allclose(loaded.vectors_at([3]), clustered_vectors(20_000)[[3]], atol=1e-6)


def test_ivf_recall_against_exact_search_on_clustered_vectors() -> None:
    data, queries = clustered_vectors(20_000), clustered_vectors(100, seed=9)
    exact = VectorIndex.build(data, "flat").search(queries, 10)[1]
    approx = VectorIndex.build(data, "ivf").search(queries, 10)[1]
    assert recall_at_10(approx, exact) >= 0.9


def test_hnsw_recall_against_exact_search() -> None:
    data, queries = unit_vectors(3000, 64), unit_vectors(50, 64, seed=9)
    exact = VectorIndex.build(data, "flat").search(queries, 10)[1]
    approx = VectorIndex.build(data, "hnsw").search(queries, 10)[1]
    assert recall_at_10(approx, exact) >= 0.95


def test_ivf_build_is_deterministic() -> None:
    data, queries = clustered_vectors(5000), clustered_vectors(20, seed=3)
    first = VectorIndex.build(data, "ivf").search(queries, 20)
    second = VectorIndex.build(data, "ivf").search(queries, 20)
    assert np.array_equal(first[1], second[1]) and np.array_equal(first[0], second[0])


def test_ivf_cells_follow_size_and_training_data() -> None:
    assert ivf_cells(1_000_000) == 2000  # 2·√n
    assert ivf_cells(1000) == 25  # 40 training vectors per cell at least
    assert ivf_cells(10) == 1  # one cell: an exact scan


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="allowed: flat, ivf, hnsw"):
        VectorIndex.build(unit_vectors(3), "pq")  # type: ignore[arg-type]  # deliberately unknown kind


def test_threads_sized_to_request_and_machine() -> None:
    try:
        assert configure_threads(1) == 1 and faiss.omp_get_max_threads() == 1
        machine = configure_threads()
        assert machine >= 1 and faiss.omp_get_max_threads() == machine
    finally:
        configure_threads()
