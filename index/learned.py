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
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.errors import PomocnikError
from index.records import QueryVector


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


NEIGHBOUR_FEATURES = ("neighbours_answerable", "neighbours_refused", "neighbours_margin")


def neighbour_features(
    vectors: np.ndarray, references: np.ndarray, labels: np.ndarray, k: int, exclude_self: bool = False
) -> np.ndarray:
    """For each question vector: the mean cosine of its ``k`` nearest answerable and refused
    reference questions, and their difference (shape (n, 3)).

    ``exclude_self`` (training, when ``vectors`` are the references) leaves each
    question out of its own neighbours, as a new question would be.
    """
    similarity = np.asarray(vectors, dtype=np.float32) @ np.asarray(references, dtype=np.float32).T
    if exclude_self:
        np.fill_diagonal(similarity, -np.inf)
    near = []
    for label in (1, 0):
        of_label = similarity[:, labels == label]
        top = min(k, of_label.shape[1])
        near.append(np.sort(of_label, axis=1)[:, -top:].mean(axis=1) if top else np.zeros(len(similarity)))
    return np.stack([near[0], near[1], near[0] - near[1]], axis=1).astype(np.float64)


@dataclass(frozen=True)
class LogisticGate:
    """A logistic-regression classifier: standardised inputs, weights and a threshold.

    The inputs are ``features`` (the evidence), then ``NEIGHBOUR_FEATURES`` (how close
    the question is to the answerable and to the refused training questions, by
    their e5 vectors), then the question's ``vector_dim``-long vector itself. A
    missing input (NaN, or no vector at all) is read as the training mean, so it
    moves the probability neither way. Weights live in a JSON file, the reference
    questions' vectors in an ``.npz`` file beside it.
    """

    features: tuple[str, ...]
    vector_dim: int
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float  # probability at or above which the positive class is decided
    neighbours: int  # k of the neighbour features
    embedder: str  # model id of the vectors it was trained on; others are ignored
    references: np.ndarray  # (n, vector_dim) training question vectors
    reference_labels: np.ndarray  # (n,) 1 = answerable, 0 = refused
    about: dict[str, object]

    @property
    def width(self) -> int:
        """The number of inputs."""
        return len(self.features) + len(NEIGHBOUR_FEATURES) + self.vector_dim

    @classmethod
    def load(cls, path: Path, features: Sequence[str]) -> LogisticGate:
        """Read a gate written by ``save``; ``ModelFileError`` when unreadable or of other features."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            with np.load(path.with_suffix(".npz")) as stored:
                references, labels = stored["vectors"].astype(np.float32), stored["labels"].astype(np.int64)
            gate = cls(
                tuple(raw.pop("features")),
                int(raw.pop("vector_dim")),
                np.asarray(raw.pop("mean"), dtype=np.float64),
                np.asarray(raw.pop("scale"), dtype=np.float64),
                np.asarray(raw.pop("coef"), dtype=np.float64),
                float(raw.pop("intercept")),
                float(raw.pop("threshold")),
                int(raw.pop("neighbours")),
                str(raw.pop("embedder")),
                references,
                labels,
                raw,
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelFileError(f"Cannot read model {path}: {exc}") from exc
        if gate.features != tuple(features):
            raise ModelFileError(
                f"Model {path} was trained on features {gate.features}, the code builds {tuple(features)}"
            )
        if not (len(gate.mean) == len(gate.scale) == len(gate.coef) == gate.width) or (
            gate.references.shape[1:] != (gate.vector_dim,)
            or len(gate.references) != len(gate.reference_labels)
        ):
            raise ModelFileError(
                f"Model {path} is inconsistent: {gate.width} inputs, weights of other lengths"
            )
        return gate

    def save(self, path: Path) -> None:
        """Write the weights as JSON (rounded to 6 decimals) and the references as float16 ``.npz``."""

        def floats(values: np.ndarray) -> list[float]:
            return [round(float(v), 6) for v in values]

        data = {
            "threshold": round(self.threshold, 6),
            "features": list(self.features),
            "vector_dim": self.vector_dim,
            "neighbours": self.neighbours,
            "embedder": self.embedder,
            "intercept": round(self.intercept, 6),
            **self.about,
            "mean": floats(self.mean),
            "scale": floats(self.scale),
            "coef": floats(self.coef),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        with path.with_suffix(".npz").open("wb") as out:
            np.savez_compressed(
                out, vectors=self.references.astype(np.float16), labels=self.reference_labels.astype(np.int8)
            )

    def inputs(
        self, row: Sequence[float], query: QueryVector | None, model_features: Collection[str] = ()
    ) -> np.ndarray:
        """The raw inputs of one question, NaN where unknown.

        A vector from another model than the gate's is unknown, and so are the
        ``model_features`` of ``row`` (values that model computed, on its own scale).
        """
        values = np.full(self.width, np.nan)
        values[: len(self.features)] = np.asarray(row, dtype=np.float64)
        if query is not None and query.model_id != self.embedder:
            for i, name in enumerate(self.features):
                if name in model_features:
                    values[i] = np.nan
            return values
        if query is not None and len(query.values) == self.vector_dim:
            start = len(self.features)
            values[start : start + len(NEIGHBOUR_FEATURES)] = neighbour_features(
                query.values[None, :], self.references, self.reference_labels, self.neighbours
            )[0]
            values[start + len(NEIGHBOUR_FEATURES) :] = query.values
        return values

    def probability(
        self, row: Sequence[float], query: QueryVector | None, model_features: Collection[str] = ()
    ) -> float:
        """P(positive) for one row of ``features`` and the question's vector (None: unknown)."""
        z = (self.inputs(row, query, model_features) - self.mean) / self.scale
        z[np.isnan(z)] = 0.0  # the training mean
        logit = float(z @ self.coef) + self.intercept
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))


@lru_cache(maxsize=4)
def load_gate(path: Path, features: tuple[str, ...]) -> LogisticGate:
    """A ``LogisticGate``, loaded once per process."""
    if not path.is_file():
        raise ModelFileError(f"Model file {path} is missing: run scripts/train_answerer.py")
    return LogisticGate.load(path, features)
