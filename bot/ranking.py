"""The learned answer models: the evidence ranker and the refusal gate.

Both are small files in ``bot/models/`` written by ``scripts/train_answerer.py``:
LightGBM LambdaRank over ``EVIDENCE_FEATURES`` (``evidence.txt``), and a logistic
regression over ``GATE_FEATURES`` and the question's e5 vector (``refusal.json``,
with its decision threshold picked on cross-validated probabilities).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.evidence import (
    EVIDENCE_FEATURES,
    GATE_FEATURES,
    MODEL_GATE_FEATURES,
    Candidate,
    gate_features,
    unit_features,
)
from index.learned import load_gate, load_ranker
from index.query import Query
from index.records import QueryVector

MODELS = Path(__file__).parent / "models"
EVIDENCE_MODEL = MODELS / "evidence.txt"
REFUSAL_MODEL = MODELS / "refusal.json"


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


def refusal_threshold(path: Path = REFUSAL_MODEL) -> float:
    """The gate's probability threshold: below it the question is refused."""
    return load_gate(path, GATE_FEATURES).threshold


def gate_row(query: Query, ranked: Ranked) -> list[float]:
    """The refusal gate's features for a ranked question."""
    known = 1.0 - query.unknown_words / max(1, len(query.words))
    return gate_features(query, ranked.candidates, ranked.scores, ranked.rows, known)


def answerable(
    query: Query, ranked: Ranked, vector: QueryVector | None = None, path: Path = REFUSAL_MODEL
) -> float:
    """P(the evidence answers the question) by the gate; 0 without candidates.

    ``vector`` is the question's query vector (``Searcher.embed``): what the
    question is about, beside how well the evidence matches it. Without it the
    gate reads the evidence alone; from another model than the gate was trained
    on, it also leaves out the evidence's cosines (that model's too).
    """
    if not ranked.candidates:
        return 0.0
    gate = load_gate(path, GATE_FEATURES)
    return gate.probability(gate_row(query, ranked), vector, MODEL_GATE_FEATURES)
