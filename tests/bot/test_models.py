"""The committed model files load without any training data, and training is deterministic."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.evidence import EVIDENCE_FEATURES, GATE_FEATURES
from bot.ranking import EVIDENCE_MODEL, REFUSAL_MODEL, refusal_threshold
from index.fusion import FUSION_FEATURES, MODEL_FILE
from index.learned import LogisticGate, ModelFileError, RankModel, load_gate, load_ranker, neighbour_features
from index.records import QueryVector
from scripts.train_answerer import Group, accuracy_at_1, fit_gate, train_ranker


@pytest.mark.parametrize(
    ("path", "features"), [(EVIDENCE_MODEL, EVIDENCE_FEATURES), (MODEL_FILE, FUSION_FEATURES)]
)
def test_shipped_rankers_load_and_score_rows_with_missing_values(
    path: Path, features: tuple[str, ...]
) -> None:
    model = load_ranker(path, features)
    rows = np.random.default_rng(0).normal(size=(5, len(features)))
    rows[0, 0] = np.nan
    scores = model.score(rows)
    assert scores.shape == (5,) and np.all(np.isfinite(scores))
    assert path.stat().st_size < 3_000_000  # small enough to commit


def test_shipped_gate_gives_probabilities_and_has_a_threshold() -> None:
    assert 0.0 < refusal_threshold() < 1.0
    gate = load_gate(REFUSAL_MODEL, GATE_FEATURES)
    unknown = [float("nan")] * len(GATE_FEATURES)
    vector = np.random.default_rng(0).normal(size=gate.vector_dim)
    vector /= np.linalg.norm(vector)  # e5 vectors are unit length
    for p in (gate.probability(unknown, None), gate.probability(unknown, QueryVector(gate.embedder, vector))):
        assert 0.0 < p < 1.0
    size = REFUSAL_MODEL.stat().st_size + REFUSAL_MODEL.with_suffix(".npz").stat().st_size
    assert size < 2_000_000  # small enough to commit


def test_a_gate_of_other_features_or_inconsistent_weights_is_refused(tmp_path: Path) -> None:
    gate = load_gate(REFUSAL_MODEL, GATE_FEATURES)
    with pytest.raises(ModelFileError):
        LogisticGate.load(REFUSAL_MODEL, ("something", "else"))
    broken = tmp_path / "gate.json"
    replace(gate, coef=gate.coef[:-1]).save(broken)
    with pytest.raises(ModelFileError):
        LogisticGate.load(broken, GATE_FEATURES)
    replace(gate, references=gate.references[:, :-1]).save(broken)
    with pytest.raises(ModelFileError):
        LogisticGate.load(broken, GATE_FEATURES)
    gate.save(broken)
    assert LogisticGate.load(broken, GATE_FEATURES).threshold == gate.threshold
    broken.with_suffix(".npz").unlink()
    with pytest.raises(ModelFileError):  # the reference vectors are part of the model
        LogisticGate.load(broken, GATE_FEATURES)
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelFileError):
        LogisticGate.load(broken, GATE_FEATURES)


def test_a_model_of_other_features_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError):
        RankModel(EVIDENCE_MODEL, ("something", "else"))
    with pytest.raises(ModelFileError):
        load_ranker(tmp_path / "missing.txt", FUSION_FEATURES)


def synthetic_groups(seed: int, n: int = 60) -> list[Group]:
    """Groups where feature 0 (with noise) tells the positive: learnable, and fast."""
    rng = np.random.default_rng(seed)
    groups = []
    for g in range(n):
        rows = rng.normal(size=(8, len(FUSION_FEATURES)))
        labels = [0] * 8
        best = int(rng.integers(8))
        rows[best, 0] += 4.0
        labels[best] = 1
        groups.append(Group(str(g), rows, labels))
    return groups


def test_training_is_deterministic_given_the_seed(tmp_path: Path) -> None:
    train, dev = synthetic_groups(1, 200), synthetic_groups(2, 30)
    params = {"rounds": 30, "num_leaves": 7}
    first = train_ranker(train, FUSION_FEATURES, params, 13, tmp_path / "a.txt")
    second = train_ranker(train, FUSION_FEATURES, params, 13, tmp_path / "b.txt")
    assert (tmp_path / "a.txt").read_text() == (tmp_path / "b.txt").read_text()
    assert accuracy_at_1(first.score, dev) > 0.7 and accuracy_at_1(second.score, dev) > 0.7


def test_gate_threshold_balances_both_errors_and_is_deterministic(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    rows = np.vstack(
        [
            rng.normal(1.0, 1.0, size=(100, len(GATE_FEATURES))),
            rng.normal(-1.0, 1.0, size=(100, len(GATE_FEATURES))),
        ]
    )
    rows[::7, 0] = np.nan  # missing values are read as the mean
    vectors = rng.normal(size=(200, 8))
    vectors[:100, 0] += 3.0  # the "topic" also tells them apart
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = np.array([1] * 100 + [0] * 100)
    first = fit_gate(rows, vectors, labels, labels.astype(bool), 13, "toy")
    second = fit_gate(rows, vectors, labels, labels.astype(bool), 13, "toy")
    first.save(tmp_path / "a.json")
    second.save(tmp_path / "b.json")
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    gate = LogisticGate.load(tmp_path / "a.json", GATE_FEATURES)
    p = np.array([gate.probability(r, QueryVector("toy", v)) for r, v in zip(rows, vectors, strict=True)])
    answered, refused = p[:100] >= gate.threshold, p[100:] < gate.threshold
    assert answered.mean() > 0.9 and refused.mean() > 0.9
    # Without the vector, or with another model's, the evidence alone still decides most questions.
    alone = np.array([gate.probability(r, None) for r in rows])
    assert (alone[:100] >= gate.threshold).mean() > 0.8
    other = [gate.probability(r, QueryVector("another-model", v)) for r, v in zip(rows, vectors, strict=True)]
    assert other == alone.tolist()


def test_neighbour_features_measure_closeness_to_each_label() -> None:
    references = np.eye(4, dtype=np.float32)  # four orthogonal "questions"
    labels = np.array([1, 1, 0, 0])
    near = neighbour_features(references[:1], references, labels, k=1)
    assert near.tolist() == [[1.0, 0.0, 1.0]]  # itself answerable, nothing refused nearby
    # Left out of its own neighbours (training), the same question is close to nothing.
    assert neighbour_features(references, references, labels, k=1, exclude_self=True)[0].tolist() == [0, 0, 0]
