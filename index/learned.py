"""Small learned models shipped with the code: LightGBM rankers and classifiers.

Each model is one text file under ``models/`` (``index/models`` for search,
``bot/models`` for answers), written by ``scripts/train_answerer.py`` from the
training data and committed. Loading needs only the file: never the data.
A model names its features; callers build rows in that order (``FEATURES``
tuples next to each feature function), and a mismatch fails at load time.
"""

from __future__ import annotations

import json
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


@dataclass(frozen=True)
class Threshold:
    """A classifier's decision threshold with its provenance (a small JSON file beside the model)."""

    threshold: float  # probability at or above which the positive class is decided
    about: dict[str, object]

    @classmethod
    def load(cls, path: Path) -> Threshold:
        """Read a threshold written by ``save``; raises ``ModelFileError`` when unreadable."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(float(raw.pop("threshold")), raw)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelFileError(f"Cannot read {path}: {exc}") from exc

    def save(self, path: Path) -> None:
        """Write the threshold and its provenance as indented JSON."""
        data = {"threshold": round(self.threshold, 6), **self.about}
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


@lru_cache(maxsize=8)
def load_ranker(path: Path, features: tuple[str, ...]) -> RankModel:
    """A ``RankModel``, loaded once per process."""
    if not path.is_file():
        raise ModelFileError(f"Model file {path} is missing: run scripts/train_answerer.py")
    return RankModel(path, features)
