"""Fusion: pure properties of weighted RRF and the score-based fuse()."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.fusion import CANDIDATES, DENSE_WEIGHT, LEXICAL_WEIGHT, RRF_K, fuse, weighted_rrf

ids = st.lists(st.sampled_from("abcdefgh"), max_size=8)


def test_rrf_scores_are_weighted_reciprocal_ranks() -> None:
    fused = dict(weighted_rrf([["a", "b"], ["b", "c"]], [1.0, 2.0], k=10))
    assert fused["a"] == pytest.approx(1 / 11)
    assert fused["b"] == pytest.approx(1 / 12 + 2 / 11)
    assert fused["c"] == pytest.approx(2 / 12)


def test_rrf_weight_decides_between_two_top_hits() -> None:
    dense, lexical = ["d", "x"], ["l", "y"]
    assert weighted_rrf([dense, lexical], [0.7, 0.3])[0][0] == "d"
    assert weighted_rrf([dense, lexical], [0.3, 0.7])[0][0] == "l"


def test_rrf_ties_keep_first_met_order() -> None:
    assert [d for d, _ in weighted_rrf([["a", "b"], ["b", "a"]], [1.0, 1.0])] == ["a", "b"]
    assert [d for d, _ in weighted_rrf([["c"], ["d"]], [1.0, 1.0])] == ["c", "d"]


def test_rrf_rejects_mismatched_weights() -> None:
    with pytest.raises(ValueError):
        weighted_rrf([["a"], ["b"]], [1.0])


@given(st.lists(ids, min_size=1, max_size=3), st.data())
def test_rrf_output_is_deduplicated_sorted_and_complete(rankings, data) -> None:
    weights = data.draw(st.lists(st.floats(0.1, 3.0), min_size=len(rankings), max_size=len(rankings)))
    fused = weighted_rrf(rankings, weights)
    found = [doc for doc, _ in fused]
    assert len(found) == len(set(found))
    assert set(found) == {doc for ranking in rankings for doc in ranking}
    scores = [score for _, score in fused]
    assert scores == sorted(scores, reverse=True)


def test_rrf_repeated_id_counts_once_at_best_place() -> None:
    assert weighted_rrf([["a", "b", "a"]], [1.0], k=0) == [("a", 1.0), ("b", 0.5)]


def test_fuse_keeps_score_margins_that_rrf_would_flatten() -> None:
    # BM25 is far surer of "l" than of anything else; dense barely prefers "d".
    dense = [("d", 0.85), ("l", 0.84), ("x", 0.80)]
    lexical = [("l", 30.0), ("d", 2.0), ("x", 1.0)]
    assert fuse(dense, lexical, 0.5, 0.5)[0][0] == "l"


def test_fuse_weights_and_missing_ids() -> None:
    dense = [("d", 0.9), ("x", 0.5)]
    lexical = [("l", 12.0), ("x", 3.0)]
    assert fuse(dense, lexical, 0.8, 0.2)[0][0] == "d"
    assert fuse(dense, lexical, 0.2, 0.8)[0][0] == "l"
    fused = dict(fuse(dense, lexical, 0.5, 0.5))
    assert set(fused) == {"d", "l", "x"}
    assert fused["x"] == pytest.approx(0.0)  # the bottom of both lists


def test_fuse_handles_empty_and_single_lists() -> None:
    assert fuse([], []) == []
    assert fuse([("a", 0.3)], []) == [("a", pytest.approx(DENSE_WEIGHT))]
    assert [d for d, _ in fuse([], [("b", 5.0), ("c", 1.0)])] == ["b", "c"]


@given(
    st.dictionaries(st.sampled_from("abcdef"), st.floats(-1, 1), max_size=6),
    st.dictionaries(st.sampled_from("defghi"), st.floats(0, 50), max_size=6),
)
def test_fuse_is_deduplicated_sorted_and_bounded(dense, lexical) -> None:
    fused = fuse(list(dense.items()), list(lexical.items()))
    found = [doc for doc, _ in fused]
    assert len(found) == len(set(found)) and set(found) == set(dense) | set(lexical)
    scores = [score for _, score in fused]
    assert scores == sorted(scores, reverse=True)
    assert all(-1e-9 <= s <= DENSE_WEIGHT + LEXICAL_WEIGHT + 1e-9 for s in scores)


def test_tuned_constants_are_sane() -> None:
    assert RRF_K >= 0 and CANDIDATES >= 10
    assert DENSE_WEIGHT > 0 and LEXICAL_WEIGHT > 0
