"""Our ranking metrics agree with ranx on a small hand-made run."""

from __future__ import annotations

import math

import pytest

from index.metrics import mrr_at, ndcg_at, recall_at

# Per query: ranking (best first) and relevant ids; single- and multi-relevant.
RUN = {
    "q1": (["a", "b", "c", "d"], {"a"}),
    "q2": (["b", "c", "a", "d"], {"a"}),
    "q3": (["x", "y", "z"], {"a"}),
    "q4": (["b", "a", "d", "c", "e"], {"a", "c", "e"}),
    "q5": (["e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "c"], {"c", "e"}),
}


def test_single_relevant_hand_values() -> None:
    ranking, relevant = RUN["q2"]
    assert recall_at(ranking, relevant, 1) == 0.0
    assert recall_at(ranking, relevant, 3) == 1.0
    assert mrr_at(ranking, relevant, 10) == pytest.approx(1 / 3)
    assert mrr_at(ranking, relevant, 2) == 0.0
    assert ndcg_at(ranking, relevant, 10) == pytest.approx(1 / math.log2(4))


def test_multi_relevant_hand_values() -> None:
    ranking, relevant = RUN["q4"]
    assert recall_at(ranking, relevant, 2) == pytest.approx(1 / 3)
    dcg = 1 / math.log2(3) + 1 / math.log2(5) + 1 / math.log2(6)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at(ranking, relevant, 10) == pytest.approx(dcg / ideal)


def test_no_relevant_ids_scores_zero_and_duplicates_earn_once() -> None:
    assert recall_at(["a"], set(), 5) == 0.0
    assert ndcg_at(["a"], set(), 5) == 0.0
    assert ndcg_at(["a", "a"], {"a", "b"}, 2) == pytest.approx(1 / (1 + 1 / math.log2(3)))


@pytest.mark.slow  # ranx compiles its metrics with numba on first use: 10-60 s here
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda r, g: recall_at(r, g, 1), "recall@1"),
        (lambda r, g: recall_at(r, g, 5), "recall@5"),
        (lambda r, g: recall_at(r, g, 10), "recall@10"),
        (lambda r, g: mrr_at(r, g, 10), "mrr@10"),
        (lambda r, g: ndcg_at(r, g, 10), "ndcg@10"),
        (lambda r, g: ndcg_at(r, g, 3), "ndcg@3"),
    ],
)
def test_means_match_ranx(ours, theirs: str) -> None:
    ranx = pytest.importorskip("ranx")
    qrels = ranx.Qrels({q: {doc: 1 for doc in relevant} for q, (_, relevant) in RUN.items()})
    run = ranx.Run(
        {
            q: {doc: float(len(ranking) - i) for i, doc in enumerate(ranking)}
            for q, (ranking, _) in RUN.items()
        }
    )
    expected = ranx.evaluate(qrels, run, theirs)
    mean = sum(ours(ranking, relevant) for ranking, relevant in RUN.values()) / len(RUN)
    assert mean == pytest.approx(expected, abs=1e-9)
