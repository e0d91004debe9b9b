"""Merging the dense and the lexical ranking into one.

Two pure functions: ``weighted_rrf`` (rank-based) and ``fuse`` (min-max score
combination, the one search uses: equal within noise on LQAD-PL, and its scores
lie in [0, 1], the scale search's boosts and shifts are set for). The constants
were tuned on LQAD-PL train+dev and on natural social-work questions by
``scripts/tune_retrieval.py`` (nDCG@10, dense = e5-small with act titles):
RRF(k=5, lexical 0.6) 0.896 / 0.876 vs BM25 alone 0.891 / 0.835, dense alone
0.865 / 0.760, plain RRF(60, equal) 0.889 / 0.839.
"""

from __future__ import annotations

from collections.abc import Sequence

# Reciprocal-rank fusion scores an id sum(w / (RRF_K + rank)). The constant damps
# the head of each list: with the classic 60 the 1st and the 5th place differ by
# only 6 %, so a confident top hit is drowned by the other list's mediocre ones.
# With 5 the 1st place is worth 1.7x the 5th: each retriever's top hits decide.
# k in 2..20 scored within 0.002 on LQAD-PL; 5 was best on natural questions.
RRF_K = 5
# How much each retriever counts (both fusions). Lexical leads: Polish legal
# questions reuse the statute's words; 0.6 beat 0.5, 0.7 and 0.8 on both sets.
DENSE_WEIGHT = 0.4
LEXICAL_WEIGHT = 0.6
# How many candidates each retriever contributes before fusion (as measured).
CANDIDATES = 100


def weighted_rrf(
    rankings: Sequence[Sequence[str]], weights: Sequence[float], k: int = RRF_K
) -> list[tuple[str, float]]:
    """Fuse rankings (ids, best first) into (id, score), best first.

    An id repeated within one ranking counts once, at its best place. Ties keep
    the order in which ids were first met (earlier rankings first).
    """
    if len(rankings) != len(weights):
        raise ValueError(f"{len(rankings)} rankings but {len(weights)} weights")
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        seen: set[str] = set()
        for rank, doc_id in enumerate(ranking, start=1):
            if doc_id in seen:
                continue
            seen.add(doc_id)
            scores[doc_id] = scores.get(doc_id, 0.0) + weight / (k + rank)
    # sorted() is stable and dicts keep insertion order: ties stay first-met first.
    return sorted(scores.items(), key=lambda item: -item[1])


def fuse(
    dense: Sequence[tuple[str, float]],
    lexical: Sequence[tuple[str, float]],
    dense_weight: float = DENSE_WEIGHT,
    lexical_weight: float = LEXICAL_WEIGHT,
) -> list[tuple[str, float]]:
    """Convex combination of min-max normalised scores, best first.

    Each list is (id, score) as its retriever returned it. Scores are rescaled to
    [0, 1] within their own list so cosine and BM25 become comparable; an id
    missing from a list gets 0 from it. Unlike RRF this keeps *how much* better
    the top hit is, which is what BM25 knows best on exact legal wording.
    """
    combined: dict[str, float] = {}
    for results, weight in ((dense, dense_weight), (lexical, lexical_weight)):
        for doc_id, score in _min_max(results).items():
            combined[doc_id] = combined.get(doc_id, 0.0) + weight * score
    return sorted(combined.items(), key=lambda item: -item[1])


def _min_max(results: Sequence[tuple[str, float]]) -> dict[str, float]:
    """Scores rescaled to [0, 1]; a single result, or all equal, count as 1."""
    best: dict[str, float] = {}
    for doc_id, score in results:
        best[doc_id] = max(score, best.get(doc_id, score))
    if not best:
        return {}
    low, high = min(best.values()), max(best.values())
    if high == low:
        return {doc_id: 1.0 for doc_id in best}
    return {doc_id: (score - low) / (high - low) for doc_id, score in best.items()}
