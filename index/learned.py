"""Small learned models shipped with the code: LightGBM rankers and logistic classifiers.

Each model is one text file under ``models/`` (``index/models`` for search,
``bot/models`` for answers), written by ``scripts/train_answerer.py`` from the
training data and committed. Loading needs only the file: never the data.
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
    """A LightGBM ranker (LambdaRank) read from its text file; higher score = better."""

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


@dataclass(frozen=True)
class LogisticModel:
    """A logistic classifier as JSON: feature names, means/scales, weights, bias and a threshold."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float  # probability at or above which the positive class is decided

    @classmethod
    def load(cls, path: Path, features: Sequence[str]) -> LogisticModel:
        """Read a model written by ``save``; raises ``ModelFileError`` on any mismatch."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            model = cls(
                tuple(raw["features"]),
                tuple(raw["mean"]),
                tuple(raw["scale"]),
                tuple(raw["weights"]),
                float(raw["bias"]),
                float(raw["threshold"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelFileError(f"Cannot read model {path}: {exc}") from exc
        if model.features != tuple(features):
            raise ModelFileError(
                f"Model {path} was trained on {model.features}, the code builds {tuple(features)}"
            )
        return model

    def save(self, path: Path, **about: object) -> None:
        """Write the model as indented JSON (``about``: provenance, figures)."""
        data = {
            "features": list(self.features),
            "mean": [round(v, 8) for v in self.mean],
            "scale": [round(v, 8) for v in self.scale],
            "weights": [round(v, 8) for v in self.weights],
            "bias": round(self.bias, 8),
            "threshold": round(self.threshold, 6),
            **about,
        }
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    def probability(self, row: Sequence[float]) -> float:
        """P(positive) for one row; a missing (NaN) feature counts as its training mean."""
        z = self.bias
        for value, mean, scale, weight in zip(row, self.mean, self.scale, self.weights, strict=True):
            x = 0.0 if value is None or math.isnan(value) else (value - mean) / scale
            z += weight * x
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@lru_cache(maxsize=8)
def load_ranker(path: Path, features: tuple[str, ...]) -> RankModel:
    """A ``RankModel``, loaded once per process."""
    if not path.is_file():
        raise ModelFileError(f"Model file {path} is missing: run scripts/train_answerer.py")
    return RankModel(path, features)
