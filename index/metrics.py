"""Ranking metrics for retrieval evaluation (recall@k, MRR@k, nDCG@k) and the one percentile helper.

``ranking`` is a list of ids, best first; ``relevant`` is the set of relevant ids
(binary relevance, one or many per query). Each function scores one query;
average over queries yourself.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, linearly interpolated; 0.0 for no values.

    Every latency figure (evaluation, benchmarks) goes through here, so p50/p95
    mean the same thing in every report.
    """
    return float(np.percentile(values, q)) if len(values) else 0.0


def recall_at(ranking: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the relevant ids found in the top ``k`` (0 when nothing is relevant)."""
    if not relevant:
        return 0.0
    return len(set(ranking[:k]) & set(relevant)) / len(relevant)


def mrr_at(ranking: Sequence[str], relevant: Collection[str], k: int) -> float:
    """1/rank of the first relevant id in the top ``k``, else 0."""
    for rank, doc_id in enumerate(ranking[:k], start=1):
        if doc_id in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranking: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Binary-gain nDCG@k: DCG of the ranking over DCG of an ideal one."""
    if not relevant:
        return 0.0
    seen: set[str] = set()
    dcg = 0.0
    for rank, doc_id in enumerate(ranking[:k], start=1):
        if doc_id in relevant and doc_id not in seen:  # a repeated id earns nothing
            dcg += 1.0 / math.log2(rank + 1)
        seen.add(doc_id)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(k, len(relevant)) + 1))
    return dcg / ideal
