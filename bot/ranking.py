"""The learned answer models: the evidence ranker and the refusal gate.

Both are small files in ``bot/models/`` written by ``scripts/train_answerer.py``
(LightGBM LambdaRank over ``EVIDENCE_FEATURES``; a LightGBM classifier over
``GATE_FEATURES`` whose decision threshold, picked on cross-validated
probabilities of the training questions, sits in ``refusal.json``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.evidence import EVIDENCE_FEATURES, GATE_FEATURES, Candidate, gate_features, unit_features
from index.learned import Threshold, load_ranker
from index.query import Query

MODELS = Path(__file__).parent / "models"
EVIDENCE_MODEL = MODELS / "evidence.txt"
REFUSAL_MODEL = MODELS / "refusal.txt"
REFUSAL_THRESHOLD = MODELS / "refusal.json"


@dataclass(frozen=True)
class Ranked:
    """A question's candidates with their features and ranker scores (same order)."""

    candidates: tuple[Candidate, ...]
    rows: np.ndarray
    scores: np.ndarray

    def order(self) -> list[int]:
        """Candidate indexes, best first (ties: passage rank, then reading order)."""
        return sorted(
            range(len(self.candidates)),
            key=lambda i: (-self.scores[i], self.candidates[i].hit_rank, self.candidates[i].unit.position),
        )


def rank_evidence(query: Query, cands: Sequence[Candidate], model: Path = EVIDENCE_MODEL) -> Ranked:
    """Score every candidate with the evidence ranker."""
    rows = unit_features(query, cands)
    scores = load_ranker(model, EVIDENCE_FEATURES).score(rows) if len(rows) else np.zeros(0)
    return Ranked(tuple(cands), rows, scores)


@lru_cache(maxsize=4)
def refusal_threshold(path: Path = REFUSAL_THRESHOLD) -> float:
    """The gate's probability threshold: below it the question is refused."""
    return Threshold.load(path).threshold


def gate_row(query: Query, ranked: Ranked) -> list[float]:
    """The refusal gate's features for a ranked question."""
    known = 1.0 - query.unknown_words / max(1, len(query.words))
    return gate_features(query, ranked.candidates, ranked.scores, ranked.rows, known)


def answerable(query: Query, ranked: Ranked, path: Path = REFUSAL_MODEL) -> float:
    """P(the evidence answers the question) by the gate; 0 without candidates."""
    if not ranked.candidates:
        return 0.0
    row = np.array([gate_row(query, ranked)], dtype=np.float64)
    return float(load_ranker(path, GATE_FEATURES).score(row)[0])
