"""Merging the dense and the lexical ranking into one.

Search uses ``learned_fuse``: a LightGBM LambdaRank model (``index/models/fusion.txt``,
trained by ``scripts/train_answerer.py`` on LQAD-PL train and the tune half of
the development questions, selected on LQAD-PL dev) scores each candidate from
general features of both retrievers (``fusion_features``). It decides the
order; the scores keep the [0, 1] scale search's boosts and shifts are set for.

The hand-weighted fusions stay as baselines for ``scripts/eval.py``:
``weighted_rrf`` (rank-based) and ``fuse`` (min-max score combination). Their constants
were tuned on LQAD-PL train+dev and on natural social-work questions by
``scripts/tune_retrieval.py`` (nDCG@10, dense = e5-small with act titles):
RRF(k=5, lexical 0.6) 0.896 / 0.876 vs BM25 alone 0.891 / 0.835, dense alone
0.865 / 0.760, plain RRF(60, equal) 0.889 / 0.839.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from index.learned import load_ranker

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


# ---------------------------------------------------------------- learned fusion

MODEL_FILE = Path(__file__).parent / "models" / "fusion.txt"
FUSION_FEATURES = (
    "dense_cos",  # cosine of query and passage (computed for every candidate)
    "dense_gap",  # best cosine among the candidates minus this one
    "dense_log_rank",  # log of the rank in the dense list (depth + 1 when absent)
    "bm25",  # raw BM25 score (0 when absent)
    "bm25_share",  # BM25 / best BM25 of the query
    "bm25_log_rank",
    "minmax_fused",  # the old hand-weighted fusion's score
    "query_words",  # words in the query (how much BM25 can know)
)


def fusion_features(
    dense: Sequence[tuple[str, float]],
    lexical: Sequence[tuple[str, float]],
    cosines: Mapping[str, float],
    query_words: int,
) -> tuple[list[str], np.ndarray]:
    """Candidate ids (both lists, first met first) and one row of ``FUSION_FEATURES`` each.

    ``cosines`` holds the query–passage cosine of every candidate, also of those
    only BM25 found.
    """
    ids = list(dict.fromkeys([doc_id for doc_id, _ in dense] + [doc_id for doc_id, _ in lexical]))
    dense_rank = {doc_id: rank for rank, (doc_id, _) in reversed(list(enumerate(dense, 1)))}
    lexical_rank = {doc_id: rank for rank, (doc_id, _) in reversed(list(enumerate(lexical, 1)))}
    bm25 = {doc_id: score for doc_id, score in reversed(list(lexical))}
    old = dict(fuse(dense, lexical))
    best_cos = max(cosines.values(), default=0.0)
    best_bm25 = max(bm25.values(), default=0.0) or 1.0
    depth = max(len(dense), len(lexical)) + 1
    rows = np.array(
        [
            (
                cosines.get(doc_id, 0.0),
                best_cos - cosines.get(doc_id, 0.0),
                math.log(dense_rank.get(doc_id, depth)),
                bm25.get(doc_id, 0.0),
                bm25.get(doc_id, 0.0) / best_bm25,
                math.log(lexical_rank.get(doc_id, depth)),
                old.get(doc_id, 0.0),
                float(query_words),
            )
            for doc_id in ids
        ],
        dtype=np.float64,
    ).reshape(len(ids), len(FUSION_FEATURES))
    return ids, rows


def learned_fuse(
    dense: Sequence[tuple[str, float]],
    lexical: Sequence[tuple[str, float]],
    cosines: Mapping[str, float],
    query_words: int,
    model_file: Path = MODEL_FILE,
) -> list[tuple[str, float]]:
    """(id, score in [0, 1]) best first, ordered by the learned fusion model.

    The model decides the order; the scores are those of the hand-weighted
    ``fuse`` at the same ranks (its sorted scores handed down the new order), so
    the gaps between neighbours keep the scale search's unit boost and status
    and year shifts were set for. Ties keep ``fuse``'s order.
    """
    ids, rows = fusion_features(dense, lexical, cosines, query_words)
    if not ids:
        return []
    scores = load_ranker(model_file, FUSION_FEATURES).score(rows)
    old = fuse(dense, lexical)
    old_order = {doc_id: i for i, (doc_id, _) in enumerate(old)}
    ranked = sorted(zip(ids, scores.tolist(), strict=True), key=lambda item: (-item[1], old_order[item[0]]))
    return [(doc_id, value) for (doc_id, _), (_, value) in zip(ranked, old, strict=True)]
