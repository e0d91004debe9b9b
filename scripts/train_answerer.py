"""Train the answer engine's three small models from data, deterministically (seeded).

    python scripts/train_answerer.py [--seed 13] [--quick]

Writes (all committed; loading them never needs the data):
- ``index/models/fusion.txt``   LightGBM LambdaRank: passage fusion of dense and BM25 candidates;
- ``bot/models/evidence.txt``   LightGBM LambdaRank: which evidence unit answers;
- ``bot/models/refusal.json``   logistic regression: answer or refuse, over the gate features,
  the question's nearest training questions and its e5 vector, with its threshold (Youden's J
  on cross-validated probabilities); ``refusal.npz`` the training questions' vectors.

Data (strict discipline):
- LQAD-PL **train** (read from ../shared/sources/eval/lqad_pl at run time) for fusion and
  evidence: the gold passage is relevant, the unit holding the answer span is the
  positive, other retrieved units are negatives. LQAD-PL **dev** selects the model
  settings. LQAD-PL test is never read here.
- The **tune** half of tests/data/dev_questions (``bot.evaluation.half_of``): colloquial
  questions; the unit holding the expected fact is the positive (graded higher when it
  comes from the expected document). The holdout half is never read here.
- Refusal gate: positives are tune questions that are answerable and LQAD-PL train
  questions about the KPA (the knowledge base holds the whole KPA); negatives are
  tests/data/offtopic_train, the tune half's off-topic questions and LQAD-PL train
  questions about acts the base does not hold. All of them are searched in the
  knowledge base, as the bot would.

Passage and unit vectors are cached under data/cache/ (as scripts/eval.py does).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np

from bot.evaluation import DevQuestion, fold, half_of, load_dev_questions
from bot.evidence import EVIDENCE_FEATURES, GATE_FEATURES, Candidate, candidates, unit_features
from bot.ranking import Ranked, gate_row
from index import evaluation as ev
from index import fusion
from index.learned import LogisticGate, RankModel, neighbour_features
from index.query import Query
from index.records import Chunk
from index.search import Searcher
from index.store import LoadedIndex

log = logging.getLogger("train_answerer")

LQAD_DIR = ROOT.parent / "shared" / "sources" / "eval" / "lqad_pl"
QUESTIONS_DIR = ROOT / "tests" / "data" / "dev_questions"
OFFTOPIC_DIR = ROOT / "tests" / "data" / "offtopic_train"
TODAY = date(2026, 12, 1)  # the legal state the training questions are asked on (fixed: reproducible)
EVIDENCE_DEPTH = 10  # passages whose units are candidates (the answer engine uses the same)
TUNE_REPEAT = 4  # each tune question counts as this many LQAD ones (colloquial style is what users type)
LQAD_NEGATIVES = 600  # LQAD-PL train questions about other acts sampled as refusal negatives
KPA = "kodeks postępowania administracyjnego"
MAX_BYTES = 50 * 1024 * 1024  # knowledge files larger than this are left out, as the index build does


@dataclass
class Group:
    """One query's candidates: feature rows and relevance labels (0, 1, 2)."""

    qid: str
    rows: np.ndarray
    labels: list[int]


# ---------------------------------------------------------------- data


def lqad_queries(folder: Path, split: str) -> list[dict[str, Any]]:
    """LQAD-PL retrieval queries of ``split`` (with answers and relevant passage ids)."""
    path = folder / "lqad_pl_retrieval_queries.jsonl"
    with path.open(encoding="utf-8") as lines:
        return [q for q in map(json.loads, lines) if q["split"] == split]


def lqad_index(folder: Path, embedder: Any, cache_dir: Path) -> LoadedIndex:
    """The LQAD-PL corpus as an in-memory index with unit vectors (vectors cached on disk)."""
    corpus = ev.load_lqad(folder, "train").chunks
    return ev.cached_build(
        corpus, embedder, cache_dir, ev.corpus_key(folder / "lqad_pl_retrieval_corpus.jsonl")
    )


def dev_split(folder: Path, half: str) -> tuple[list[DevQuestion], dict[str, DevQuestion]]:
    """The questions of one half, and every question by id (for follow-up parents)."""
    every = load_dev_questions(folder)
    by_id = {q.id: q for q in every}
    return [q for q in every if half_of(q, by_id) == half], by_id


# ---------------------------------------------------------------- fusion


def fusion_group(searcher: Searcher, query: Query, relevant: frozenset[str], qid: str) -> Group:
    """Fusion features of one query's dense ∪ BM25 candidates, labelled by relevance."""
    ids, feats = searcher.fusion_candidates(query)
    chunks = searcher.loaded.chunks
    return Group(qid, feats, [int(chunks[int(i)].id in relevant) for i in ids])


# ---------------------------------------------------------------- evidence


def lqad_evidence(searcher: Searcher, query_row: dict[str, Any]) -> tuple[Query, list[Candidate], list[int]]:
    """Candidates of one LQAD-PL query's top passages; label 1 = a gold passage's unit holding an answer."""
    query = searcher.read(query_row["question"], today=TODAY)
    hits = searcher.search(query, k=EVIDENCE_DEPTH, on=TODAY)
    cands = candidates(hits, TODAY)
    answers = [fold(a) for a in query_row["answers"] if a.strip()]
    gold = set(query_row["relevant_passage_ids"])
    labels = []
    for c in cands:
        text = fold(c.unit.text)
        inside = any(a in text or (len(text) >= 20 and text in a) for a in answers)
        labels.append(int(c.hit.chunk.id in gold and inside))
    return query, cands, labels


def dev_evidence(
    searcher: Searcher, question: DevQuestion, by_id: dict[str, DevQuestion]
) -> tuple[Query, list[Candidate], list[int]]:
    """Candidates of one dev question; 2 = holds the fact in the expected document, 1 = holds the fact."""
    parent = by_id.get(question.follow_up_of or "")
    query = searcher.read(question.question, parent.question if parent else "", TODAY)
    hits = searcher.search(query, k=EVIDENCE_DEPTH, on=TODAY)
    cands = candidates(hits, TODAY)
    labels = []
    for c in cands:
        holds = bool(question.expected_fact) and fold(question.expected_fact or "") in fold(c.unit.embed_text)
        expected = bool(question.expected_doc) and c.hit.chunk.doc_id == question.expected_doc
        labels.append(2 if holds and expected else int(holds))
    return query, cands, labels


# ---------------------------------------------------------------- training


def train_ranker(
    train: Sequence[Group], features: Sequence[str], params: dict[str, Any], seed: int, path: Path
) -> RankModel:
    """Fit a LightGBM LambdaRank model on groups with at least one positive; save it to ``path``."""
    import lightgbm

    kept = [g for g in train if any(g.labels) and len(g.labels) > 1]
    data = lightgbm.Dataset(
        np.vstack([g.rows for g in kept]),
        label=[label for g in kept for label in g.labels],
        group=[len(g.labels) for g in kept],
        feature_name=list(features),
        free_raw_data=False,
    )
    settings = {
        "objective": "lambdarank",
        "metric": "ndcg",
        "eval_at": [1, 10],
        "learning_rate": 0.05,
        "min_data_in_leaf": 20,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambdarank_truncation_level": 20,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "verbosity": -1,
        **{k: v for k, v in params.items() if k != "rounds"},
    }
    booster = lightgbm.train(settings, data, num_boost_round=params["rounds"])
    path.parent.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(path))
    return RankModel(path, features)


def accuracy_at_1(model_scores: Callable[[np.ndarray], np.ndarray], groups: Sequence[Group]) -> float:
    """Share of groups (with a positive) whose best-scored candidate is a positive."""
    hits = [g.labels[int(np.argmax(model_scores(g.rows)))] > 0 for g in groups if any(g.labels)]
    return sum(hits) / max(1, len(hits))


def ndcg_at_10(model_scores: Callable[[np.ndarray], np.ndarray], groups: Sequence[Group]) -> float:
    """Mean binary nDCG@10 of the candidates as ranked by the scores (first relevant counts)."""
    total = 0.0
    for g in groups:
        order = np.argsort(-model_scores(g.rows), kind="stable")[:10]
        rank = next((r for r, i in enumerate(order, 1) if g.labels[i] > 0), None)
        total += 1 / math.log2(rank + 1) if rank else 0.0
    return total / max(1, len(groups))


def select(
    name: str,
    train: Sequence[Group],
    dev: Sequence[Group],
    features: Sequence[str],
    grid: Sequence[dict[str, Any]],
    metric: Callable[[Callable[[np.ndarray], np.ndarray], Sequence[Group]], float],
    seed: int,
    path: Path,
) -> tuple[dict[str, Any], float]:
    """Train every setting of ``grid``, keep the best on ``dev`` (first best wins), save it to ``path``."""
    best: tuple[float, dict[str, Any]] | None = None
    for params in grid:
        model = train_ranker(train, features, params, seed, path)
        score = metric(model.score, dev)
        log.info("%s %s: dev %.4f", name, params, score)
        if best is None or score > best[0] + 1e-9:
            best = (score, params)
    assert best is not None
    train_ranker(train, features, best[1], seed, path)
    return best[1], best[0]


# ---------------------------------------------------------------- refusal gate


GATE_C = (0.1, 0.3, 1.0)  # inverse regularisation strengths tried
GATE_K = (3, 10)  # neighbours tried; the cross-validated best pair is kept


def _standardise(inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = np.nan_to_num(np.nanmean(inputs, axis=0))
    scale = np.nan_to_num(np.nanstd(inputs, axis=0))
    scale[scale < 1e-9] = 1.0
    return mean, scale


def _z(inputs: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    z: np.ndarray = np.nan_to_num((inputs - mean) / scale, nan=0.0)
    return z


def _gate_inputs(rows: np.ndarray, vectors: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Inputs in ``LogisticGate`` order: evidence features, neighbour features, the vector."""
    return np.hstack([rows, neighbours, vectors]).astype(np.float64)


def fit_gate(
    rows: np.ndarray,
    vectors: np.ndarray,
    labels: np.ndarray,
    tune_positive: np.ndarray,
    seed: int,
    embedder: str,
    about: dict[str, object] | None = None,
) -> LogisticGate:
    """A logistic regression over the evidence features, the question's nearest training
    questions and its vector, with its threshold.

    Inputs are standardised (a missing value becomes the mean). ``k``, the
    regularisation strength and the threshold come from 5-fold cross-validated
    probabilities over the training questions only (neighbours found within the
    training folds): the threshold maximises Youden's J between the tune half's
    answerable questions and every negative (the share answered plus the share
    refused, minus one); both errors count alike.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    def model(c: float) -> Any:
        return LogisticRegression(C=c, class_weight="balanced", max_iter=5000)

    folds = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=seed).split(rows, labels))
    best: tuple[float, int, float, float, float, float] | None = (
        None  # (J, k, C, threshold, answered, refused)
    )
    for k in GATE_K:
        for c in GATE_C:
            probabilities = np.zeros(len(labels))
            for train, held in folds:
                near_train = neighbour_features(
                    vectors[train], vectors[train], labels[train], k, exclude_self=True
                )
                near_held = neighbour_features(vectors[held], vectors[train], labels[train], k)
                fitted = _gate_inputs(rows[train], vectors[train], near_train)
                mean, scale = _standardise(fitted)
                classifier = model(c).fit(_z(fitted, mean, scale), labels[train])
                held_inputs = _gate_inputs(rows[held], vectors[held], near_held)
                probabilities[held] = classifier.predict_proba(_z(held_inputs, mean, scale))[:, 1]
            positives, negatives = probabilities[tune_positive], probabilities[labels == 0]
            cuts = np.unique(probabilities)
            j = [np.mean(positives >= t) + np.mean(negatives < t) - 1 for t in cuts]
            threshold = float(cuts[int(np.argmax(j))])
            answered, refused = float(np.mean(positives >= threshold)), float(np.mean(negatives < threshold))
            log.info(
                "gate k=%d C=%s: threshold %.4f, cross-validated tune answered %.3f, negatives refused %.3f",
                k,
                c,
                threshold,
                answered,
                refused,
            )
            if best is None or max(j) > best[0] + 1e-9:
                best = (float(max(j)), k, c, threshold, answered, refused)
    assert best is not None
    _, k, c, threshold, answered, refused = best
    inputs = _gate_inputs(rows, vectors, neighbour_features(vectors, vectors, labels, k, exclude_self=True))
    mean, scale = _standardise(inputs)
    classifier = model(c).fit(_z(inputs, mean, scale), labels)
    return LogisticGate(
        features=tuple(GATE_FEATURES),
        vector_dim=vectors.shape[1],
        mean=mean,
        scale=scale,
        coef=classifier.coef_[0],
        intercept=float(classifier.intercept_[0]),
        threshold=threshold,
        neighbours=k,
        embedder=embedder,
        references=vectors.astype(np.float32),
        reference_labels=labels.astype(np.int64),
        about={
            "C": c,
            "cross_validated": {"tune_answered": round(answered, 4), "negatives_refused": round(refused, 4)},
            **(about or {}),
        },
    )


# ---------------------------------------------------------------- main


FUSION_GRID = [
    {"rounds": 150, "num_leaves": 7},
    {"rounds": 300, "num_leaves": 15},
]
EVIDENCE_GRID = [
    {"rounds": 150, "num_leaves": 7},
    {"rounds": 300, "num_leaves": 15},
    {"rounds": 300, "num_leaves": 15, "min_data_in_leaf": 50},  # fewer, broader leaves: less over-fit
]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", force=True)
    random.seed(args.seed)
    from index.embedder import load_embedder
    from index.settings import IndexSettings
    from index.vectors import configure_threads

    configure_threads()
    settings = IndexSettings()
    embedder = load_embedder(settings.model_name_or_path, onnx=settings.onnx_queries)
    fusion_file = args.index_models / "fusion.txt"
    evidence_file = args.bot_models / "evidence.txt"
    refusal_file = args.bot_models / "refusal.json"

    lqad = lqad_index(args.lqad_dir, embedder, args.cache_dir)
    train_rows = lqad_queries(args.lqad_dir, "train")
    dev_rows = lqad_queries(args.lqad_dir, "dev")
    if args.quick:
        train_rows, dev_rows = train_rows[:200], dev_rows[:60]
    kchunks = ev.knowledge_chunks(args.knowledge, MAX_BYTES)
    knowledge = ev.cached_build(kchunks, embedder, args.cache_dir, "knowledge")
    tune, by_id = dev_split(args.questions, "tune")

    if not args.gate_only:
        train_fusion_and_evidence(args, lqad, knowledge, kchunks, tune, by_id, embedder, train_rows, dev_rows)
    ksearch = Searcher(knowledge, embedder, fusion_model=fusion_file)
    train_gate(args, ksearch, tune, by_id, train_rows, evidence_file, refusal_file)
    log.info("wrote %s, %s, %s", fusion_file, evidence_file, refusal_file)
    return 0


def train_fusion_and_evidence(
    args: argparse.Namespace,
    lqad: LoadedIndex,
    knowledge: LoadedIndex,
    kchunks: list[Chunk],
    tune: list[DevQuestion],
    by_id: dict[str, DevQuestion],
    embedder: Any,
    train_rows: list[dict[str, Any]],
    dev_rows: list[dict[str, Any]],
) -> None:
    """Stages 1 and 2: the fusion model, then the evidence ranker over what it finds."""
    fusion_file = args.index_models / "fusion.txt"
    evidence_file = args.bot_models / "evidence.txt"
    # 1. Fusion: LQAD-PL train + tune questions; selected on LQAD-PL dev.
    plain = Searcher(lqad, embedder, fusion_model=None)
    kplain = Searcher(knowledge, embedder, fusion_model=None)

    def lqad_fusion(rows: Sequence[dict[str, Any]]) -> list[Group]:
        return [
            fusion_group(
                plain, plain.read(q["question"], today=TODAY), frozenset(q["relevant_passage_ids"]), q["id"]
            )
            for q in rows
        ]

    fusion_train = lqad_fusion(train_rows)
    for q in tune:
        relevant = ev.relevant_chunk_ids(q, kchunks)
        if q.answerable and relevant:
            parent = by_id.get(q.follow_up_of or "")
            query = kplain.read(q.question, parent.question if parent else "", TODAY)
            fusion_train += [fusion_group(kplain, query, relevant, q.id)] * TUNE_REPEAT
    fusion_dev = lqad_fusion(dev_rows)
    baseline = ndcg_at_10(lambda r: r[:, fusion.FUSION_FEATURES.index("minmax_fused")], fusion_dev)
    params, score = select(
        "fusion",
        fusion_train,
        fusion_dev,
        fusion.FUSION_FEATURES,
        FUSION_GRID,
        ndcg_at_10,
        args.seed,
        fusion_file,
    )
    log.info(
        "fusion: chose %s, LQAD-PL dev nDCG@10 over candidates %.4f (hand fusion %.4f)",
        params,
        score,
        baseline,
    )

    # 2. Evidence ranker, over the passages the learned fusion finds.
    lsearch = Searcher(lqad, embedder, fusion_model=fusion_file)
    ksearch = Searcher(knowledge, embedder, fusion_model=fusion_file)

    def groups_of(items: Sequence[tuple[str, tuple[Query, list[Candidate], list[int]]]]) -> list[Group]:
        return [Group(qid, unit_features(query, cands), labels) for qid, (query, cands, labels) in items]

    evidence_train = groups_of([(q["id"], lqad_evidence(lsearch, q)) for q in train_rows])
    tune_groups = groups_of(
        [(q.id, dev_evidence(ksearch, q, by_id)) for q in tune if q.answerable and q.expected_fact]
    )
    evidence_train += [g for g in tune_groups for _ in range(TUNE_REPEAT)]
    evidence_dev = groups_of([(q["id"], lqad_evidence(lsearch, q)) for q in dev_rows])
    cos_col = EVIDENCE_FEATURES.index("unit_cos")
    plain_cos = accuracy_at_1(lambda r: np.nan_to_num(r[:, cos_col], nan=-1.0), evidence_dev)
    params, score = select(
        "evidence",
        evidence_train,
        evidence_dev,
        EVIDENCE_FEATURES,
        EVIDENCE_GRID,
        accuracy_at_1,
        args.seed,
        evidence_file,
    )
    log.info(
        "evidence: chose %s, LQAD-PL dev accuracy@1 %.4f (plain e5 cosine %.4f)", params, score, plain_cos
    )


def train_gate(
    args: argparse.Namespace,
    ksearch: Searcher,
    tune: list[DevQuestion],
    by_id: dict[str, DevQuestion],
    train_rows: list[dict[str, Any]],
    evidence_file: Path,
    refusal_file: Path,
) -> None:
    """Stage 3: the refusal gate, every question searched in the knowledge base."""
    from bot.ranking import rank_evidence

    vectors: list[np.ndarray] = []

    def gate_example(question: str, previous: str = "") -> list[float]:
        query = ksearch.read(question, previous, TODAY)
        hits = ksearch.search(query, k=EVIDENCE_DEPTH, on=TODAY)
        ranked: Ranked = rank_evidence(query, candidates(hits, TODAY), evidence_file)
        vectors.append(ksearch.embed(query).values)
        return gate_row(query, ranked)

    rows, labels, tune_flags = [], [], []
    for q in tune:
        parent = by_id.get(q.follow_up_of or "")
        rows.append(gate_example(q.question, parent.question if parent else ""))
        labels.append(int(q.answerable))
        tune_flags.append(q.answerable)
    offtopic = load_dev_questions(args.offtopic) if args.offtopic.is_dir() else []
    if not offtopic:
        log.info("no off-topic training questions in %s", args.offtopic)
    for q in offtopic:
        rows.append(gate_example(q.question))
        labels.append(0)
        tune_flags.append(False)
    kpa = [q for q in train_rows if KPA in q["act_title"].lower()]
    other = [q for q in train_rows if KPA not in q["act_title"].lower()]
    other = random.Random(args.seed).sample(
        other, min(len(other), LQAD_NEGATIVES // (4 if args.quick else 1))
    )
    for row, label in [(r, 1) for r in kpa] + [(r, 0) for r in other]:
        rows.append(gate_example(row["question"]))
        labels.append(label)
        tune_flags.append(False)
    trained_on = {
        "tune_questions": len(tune),
        "offtopic_train": len(offtopic),
        "lqad_kpa_positives": len(kpa),
        "lqad_other_negatives": len(other),
        "seed": args.seed,
    }
    gate = fit_gate(
        np.array(rows, dtype=np.float64),
        np.vstack(vectors),
        np.array(labels),
        np.array(tune_flags),
        args.seed,
        str(ksearch.loaded.manifest.get("model_id")),
        {"trained_on": trained_on},
    )
    gate.save(refusal_file)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--gate-only", action="store_true", help="retrain only the refusal gate (over the committed rankers)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a small run (200 LQAD-PL train questions), for tests"
    )
    parser.add_argument("--lqad-dir", type=Path, default=LQAD_DIR)
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--questions", type=Path, default=QUESTIONS_DIR)
    parser.add_argument("--offtopic", type=Path, default=OFFTOPIC_DIR)
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "data" / "cache")
    parser.add_argument("--index-models", type=Path, default=ROOT / "index" / "models")
    parser.add_argument("--bot-models", type=Path, default=ROOT / "bot" / "models")
    return parser


if __name__ == "__main__":
    sys.exit(main())
