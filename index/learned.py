"""Small learned models shipped with the code: LightGBM rankers and classifiers.

Each model is one text file under ``models/`` (``index/models`` for search,
``bot/models`` for answers), written by ``scripts/train_answerer.py`` from the
training data and committed. Loading needs only the file: never the data.
The refusal gate is a logistic regression kept as JSON (``LogisticGate``).
A model names its features; callers build rows in that order (``FEATURES``
tuples next to each feature function), and a mismatch fails at load time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.errors import PomocnikError


class ModelFileError(PomocnikError):
    """A shipped model file is missing, unreadable or was trained on other features."""


class RankModel:
    """A LightGBM model read from its text file: a ranker (higher = better) or a binary classifier
    (the score is the probability of the positive class)."""

    def __init__(self, path: Path, features: Sequence[str]) -> None:
        import lightgbm  # imported here: only processes that rank need it

        try:
            self._booster = lightgbm.Booster(model_file=str(path))
        except (OSError, lightgbm.basic.LightGBMError) as exc:
            raise ModelFileError(f"Cannot read model {path}: {exc}") from exc
        names = tuple(self._booster.feature_name())
        if names != tuple(features):
            raise ModelFileError(
                f"Model {path} was trained on features {names}, the code builds {tuple(features)}"
            )
        self.path = path
        self.features = tuple(features)

    def score(self, rows: np.ndarray) -> np.ndarray:
        """One score per row of ``rows`` (shape (n, len(features)); NaN = missing)."""
        if len(rows) == 0:
            return np.zeros(0)
        return np.asarray(self._booster.predict(rows, num_threads=1), dtype=np.float64)


@lru_cache(maxsize=8)
def load_ranker(path: Path, features: tuple[str, ...]) -> RankModel:
    """A ``RankModel``, loaded once per process."""
    if not path.is_file():
        raise ModelFileError(f"Model file {path} is missing: run scripts/train_answerer.py")
    return RankModel(path, features)


@dataclass(frozen=True)
class LogisticGate:
    """A logistic-regression classifier stored as JSON: standardised inputs, weights, threshold.

    The inputs are named ``features`` followed by a ``vector_dim``-long vector (the
    question's e5 embedding). A missing input (NaN, or no vector at all) is read as
    the training mean, so it moves the probability neither way.
    """

    features: tuple[str, ...]
    vector_dim: int
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float  # probability at or above which the positive class is decided
    about: dict[str, object]

    @classmethod
    def load(cls, path: Path, features: Sequence[str]) -> LogisticGate:
        """Read a gate written by ``save``; ``ModelFileError`` when unreadable or of other features."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            gate = cls(
                tuple(raw.pop("features")),
                int(raw.pop("vector_dim")),
                np.asarray(raw.pop("mean"), dtype=np.float64),
                np.asarray(raw.pop("scale"), dtype=np.float64),
                np.asarray(raw.pop("coef"), dtype=np.float64),
                float(raw.pop("intercept")),
                float(raw.pop("threshold")),
                raw,
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelFileError(f"Cannot read model {path}: {exc}") from exc
        width = len(gate.features) + gate.vector_dim
        if gate.features != tuple(features):
            raise ModelFileError(
                f"Model {path} was trained on features {gate.features}, the code builds {tuple(features)}"
            )
        if not (len(gate.mean) == len(gate.scale) == len(gate.coef) == width):
            raise ModelFileError(f"Model {path} is inconsistent: {width} inputs, weights of other lengths")
        return gate

    def save(self, path: Path) -> None:
        """Write the gate as JSON (weights rounded to 6 decimals: small, and diff-friendly)."""

        def floats(values: np.ndarray) -> list[float]:
            return [round(float(v), 6) for v in values]

        data = {
            "threshold": round(self.threshold, 6),
            "features": list(self.features),
            "vector_dim": self.vector_dim,
            "intercept": round(self.intercept, 6),
            **self.about,
            "mean": floats(self.mean),
            "scale": floats(self.scale),
            "coef": floats(self.coef),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    def probability(self, row: Sequence[float], vector: np.ndarray | None) -> float:
        """P(positive) for one row of ``features`` and the question vector (None: unknown)."""
        values = np.full(len(self.mean), np.nan)
        values[: len(self.features)] = np.asarray(row, dtype=np.float64)
        if vector is not None and len(vector) == self.vector_dim:
            values[len(self.features) :] = vector
        z = (values - self.mean) / self.scale
        z[np.isnan(z)] = 0.0  # the training mean
        logit = float(z @ self.coef) + self.intercept
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))


@lru_cache(maxsize=4)
def load_gate(path: Path, features: tuple[str, ...]) -> LogisticGate:
    """A ``LogisticGate``, loaded once per process."""
    if not path.is_file():
        raise ModelFileError(f"Model file {path} is missing: run scripts/train_answerer.py")
    return LogisticGate.load(path, features)
