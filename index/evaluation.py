"""Retrieval evaluation: datasets, the systems compared, metrics, saved runs and per-query diffs.

A dataset is a corpus of ``Chunk``s plus queries that each name their relevant
chunk ids. Relevance is binary and a query is satisfied by any one of its
relevant chunks: a ranking is scored by where its first relevant chunk lies
(``collapse``), so a statute cut into fine units does not dilute recall.

Systems compared on the same in-memory index (``index.build.build_in_memory``):
``bm25`` (the shipped ``LexicalIndex``), ``dense`` (query embedding + faiss),
``hybrid`` (the shipped ``Searcher``: learned fusion, unit boosts, status rules) and
``hybrid-hand`` (the same with the hand-weighted fusion it replaced, as the reference).

``scripts/eval.py`` is the command line over this module.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.build import build_in_memory
from index.chunking import chunk_document, text_sentences
from index.documents import load_folder
from index.legal_units import anchor_matches
from index.metrics import mrr_at, ndcg_at, percentile, recall_at
from index.records import Chunk, DocumentMeta
from index.search import QueryEmbedder, Searcher
from index.store import LoadedIndex

if TYPE_CHECKING:  # index does not import bot at run time; the type only documents the input
    from bot.evaluation import DevQuestion

log = logging.getLogger(__name__)

DEPTH = 10  # every metric is computed on the top 10
METRICS = ("ndcg@10", "recall@1", "recall@5", "recall@10", "mrr@10")
QUICK_QUERIES = 50  # --quick: the first 50 queries of the split …
QUICK_DISTRACTORS = 150  # … over their own passages plus this many others
_RELEVANT = "\x00relevant"  # the one id every relevant chunk collapses to

Ranker = Callable[[str, int], list[str]]  # (query, k) → chunk ids, best first


# ---------------------------------------------------------------- datasets


@dataclass(frozen=True)
class EvalQuery:
    """One query with the ids of the chunks that answer it."""

    id: str
    text: str
    relevant: frozenset[str]


@dataclass(frozen=True)
class Dataset:
    """A corpus and its queries; ``split`` is "dev", "test" or "all"."""

    name: str
    split: str
    chunks: list[Chunk]
    queries: list[EvalQuery]


def passage_chunk(passage_id: str, title: str, text: str, position: int = 0) -> Chunk:
    """A bare chunk for an evaluation passage; the embedder sees "title\\ntext"."""
    meta = DocumentMeta(title=title, kind="statute", status="in_force", source_url="")
    return Chunk(
        id=passage_id,
        doc_id=title,
        anchor="",
        text=text,
        embed_text=f"{title}\n{text}",
        meta=meta,
        position=position,
        sentences=text_sentences(text),
    )


def load_lqad(folder: Path, split: str, quick: bool = False) -> Dataset:
    """LQAD-PL retrieval queries of ``split`` over its 2,214 statute passages.

    ``quick`` keeps the first ``QUICK_QUERIES`` queries, their passages and the
    first ``QUICK_DISTRACTORS`` other passages of the corpus.
    """
    corpus = _read_jsonl(folder / "lqad_pl_retrieval_corpus.jsonl")
    rows = [q for q in _read_jsonl(folder / "lqad_pl_retrieval_queries.jsonl") if q["split"] == split]
    if not rows:
        raise ValueError(f"LQAD-PL has no queries in split {split!r}")
    if quick:
        rows = rows[:QUICK_QUERIES]
        wanted = {pid for q in rows for pid in q["relevant_passage_ids"]}
        others = [p["id"] for p in corpus if p["id"] not in wanted][:QUICK_DISTRACTORS]
        keep = wanted | set(others)
        corpus = [p for p in corpus if p["id"] in keep]
    chunks = [passage_chunk(p["id"], p["act_title"], p["text"], i) for i, p in enumerate(corpus)]
    queries = [EvalQuery(q["id"], q["question"], frozenset(q["relevant_passage_ids"])) for q in rows]
    return Dataset("lqad-pl", split, chunks, queries)


def dev_questions_dataset(questions: Sequence[DevQuestion], chunks: Sequence[Chunk]) -> Dataset:
    """Answerable development questions over the knowledge chunks.

    A chunk is relevant when it comes from ``expected_doc`` and, if an anchor is
    expected, lies on the expected unit's path (``anchor_matches``). A follow-up
    is searched the way the bot searches it: its parent's question, then its own.
    Questions without an expected document, or whose target is in no chunk
    (logged), are left out.
    """
    by_id = {q.id: q for q in questions}
    queries: list[EvalQuery] = []
    for question in questions:
        if not question.answerable or not question.expected_doc:
            continue
        relevant = relevant_chunk_ids(question, chunks)
        if not relevant:
            log.warning(
                "No chunk holds the target of %s (%s %s): left out",
                question.id,
                question.expected_doc,
                question.expected_anchor or "",
            )
            continue
        text = question.question
        parent = by_id.get(question.follow_up_of or "")
        if parent is not None:
            text = f"{parent.question} {text}"
        queries.append(EvalQuery(question.id, text, relevant))
    return Dataset("dev-questions", "all", list(chunks), queries)


def relevant_chunk_ids(question: DevQuestion, chunks: Sequence[Chunk]) -> frozenset[str]:
    """Ids of the chunks holding a development question's target: from ``expected_doc``
    and, when an anchor is expected, on the expected unit's path (``anchor_matches``)."""
    if not question.expected_doc:
        return frozenset()
    return frozenset(
        c.id
        for c in chunks
        if c.doc_id == question.expected_doc and anchor_matches(c.anchor, question.expected_anchor)
    )


def knowledge_chunks(folder: Path, max_bytes: int) -> list[Chunk]:
    """The chunks of a knowledge folder as an index build makes them (documents by id);
    files that cannot be read are logged and left out."""
    result = load_folder(folder, max_bytes)
    for error in result.errors:
        log.warning("Skipped %s", error)
    return [chunk for doc in sorted(result.documents, key=lambda d: d.id) for chunk in chunk_document(doc)]


def cached_build(
    chunks: Sequence[Chunk], embedder: Any, cache_dir: Path, key: str, **options: Any
) -> LoadedIndex:
    """``index.build.build_in_memory`` of ``chunks`` with their vectors cached under ``cache_dir``
    (per text, in the file of ``key``), so a rerun embeds only what changed."""
    cached = CachedPassageEmbedder(
        embedder, CachedPassageEmbedder.file_for(cache_dir, embedder.model_id, key)
    )
    started = time.perf_counter()
    loaded = build_in_memory(chunks, cached, **options)
    cached.save()
    log.info(
        "Index of %d passages in %.1f s (%d embedded, %d cached)",
        len(loaded.chunks),
        time.perf_counter() - started,
        cached.misses,
        cached.hits,
    )
    return loaded


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


# ---------------------------------------------------------------- systems


def retrieval_systems(
    loaded: LoadedIndex, embedder: QueryEmbedder, today: date | None = None
) -> dict[str, Ranker]:
    """The systems compared, by name: each maps (query, k) to chunk ids, best first."""
    chunks = loaded.chunks
    searcher = Searcher(loaded, embedder)
    hand = Searcher(loaded, embedder, fusion_model=None)

    def bm25(query: str, k: int) -> list[str]:
        return [chunks[row].id for row, _ in loaded.lexical.search(query, k)]

    def dense(query: str, k: int) -> list[str]:
        vector = embedder.encode_queries([query]).astype(np.float32, copy=False)
        _, rows = loaded.vectors.search(vector, k)
        return [chunks[int(row)].id for row in rows[0] if row >= 0]

    def hybrid(query: str, k: int) -> list[str]:
        return [hit.chunk.id for hit in searcher.search(query, k=k, on=today)]

    def hybrid_hand(query: str, k: int) -> list[str]:
        return [hit.chunk.id for hit in hand.search(query, k=k, on=today)]

    return {"bm25": bm25, "dense": dense, "hybrid": hybrid, "hybrid-hand": hybrid_hand}


# ---------------------------------------------------------------- running


@dataclass
class SystemResult:
    """One system's scores on a dataset, with the rank of the first relevant hit per query."""

    metrics: dict[str, float]
    latency_ms_p50: float
    latency_ms_p95: float
    ranks: dict[str, int | None] = field(default_factory=dict)  # query id → 1..DEPTH or None

    def summary(self) -> dict[str, float]:
        """The figures printed by ``--json``, rounded."""
        out = {name: round(value, 4) for name, value in self.metrics.items()}
        out["latency_ms_p50"] = round(self.latency_ms_p50, 2)
        out["latency_ms_p95"] = round(self.latency_ms_p95, 2)
        return out


def collapse(ranking: Sequence[str], relevant: frozenset[str]) -> list[str]:
    """The ranking with every relevant id replaced by one shared id (see the module docstring)."""
    return [_RELEVANT if doc_id in relevant else doc_id for doc_id in ranking]


def first_relevant_rank(ranking: Sequence[str], relevant: frozenset[str]) -> int | None:
    """1-based rank of the first relevant id, or None."""
    return next((rank for rank, doc_id in enumerate(ranking, 1) if doc_id in relevant), None)


def score_rankings(rankings: Sequence[Sequence[str]], queries: Sequence[EvalQuery]) -> dict[str, float]:
    """Mean nDCG@10, recall@1/5/10 and MRR@10 over queries (``index.metrics``)."""
    totals = dict.fromkeys(METRICS, 0.0)
    for ranking, query in zip(rankings, queries, strict=True):
        ids, gold = collapse(ranking, query.relevant), {_RELEVANT}
        totals["ndcg@10"] += ndcg_at(ids, gold, 10)
        totals["recall@1"] += recall_at(ids, gold, 1)
        totals["recall@5"] += recall_at(ids, gold, 5)
        totals["recall@10"] += recall_at(ids, gold, 10)
        totals["mrr@10"] += mrr_at(ids, gold, 10)
    count = max(1, len(queries))
    return {name: total / count for name, total in totals.items()}


def run_system(ranker: Ranker, queries: Sequence[EvalQuery]) -> SystemResult:
    """Rank every query once (after one untimed warm-up) and score the rankings."""
    if queries:
        ranker(queries[0].text, DEPTH)  # lazy set-up (dictionary, unit table) is not query latency
    rankings, latencies = [], []
    for query in queries:
        started = time.perf_counter()
        rankings.append(ranker(query.text, DEPTH))
        latencies.append((time.perf_counter() - started) * 1000)
    return SystemResult(
        metrics=score_rankings(rankings, queries),
        latency_ms_p50=percentile(latencies, 50),
        latency_ms_p95=percentile(latencies, 95),
        ranks={q.id: first_relevant_rank(r, q.relevant) for q, r in zip(queries, rankings, strict=True)},
    )


def evaluate(dataset: Dataset, systems: Mapping[str, Ranker]) -> dict[str, SystemResult]:
    """Every system on every query of ``dataset``, by system name."""
    results = {}
    for name, ranker in systems.items():
        log.info("Evaluating %s on %d queries", name, len(dataset.queries))
        results[name] = run_system(ranker, dataset.queries)
    return results


def run_record(dataset: Dataset, results: Mapping[str, SystemResult], **extra: Any) -> dict[str, Any]:
    """The JSON of one run: the summary ``--json`` prints plus per-query ranks for diffs."""
    return {
        "systems": {name: result.summary() for name, result in results.items()},
        "queries": len(dataset.queries),
        "dataset": dataset.name,
        "split": dataset.split,
        **extra,
        "ranks": {name: result.ranks for name, result in results.items()},
    }


# ---------------------------------------------------------------- saved runs and diffs


@dataclass(frozen=True)
class Change:
    """A query whose outcome moved between two runs of one system."""

    system: str
    query_id: str
    before: int | None  # rank of the first relevant hit, None = not in the top 10
    after: int | None

    @property
    def better(self) -> bool:
        """Whether the relevant hit moved up (or appeared)."""
        return (self.after or DEPTH + 1) < (self.before or DEPTH + 1)


def rank_changes(previous: Mapping[str, Any], current: Mapping[str, Any]) -> list[Change]:
    """Per system and query present in both runs, every change of first-relevant rank."""
    changes = []
    for system, ranks in current.get("ranks", {}).items():
        old = previous.get("ranks", {}).get(system)
        if old is None:
            continue
        for query_id, after in ranks.items():
            if query_id in old and old[query_id] != after:
                changes.append(Change(system, query_id, old[query_id], after))
    return changes


def format_changes(changes: Iterable[Change], previous_label: str) -> str:
    """A short report: per system, counts of better/worse and the queries concerned."""
    by_system: dict[str, list[Change]] = {}
    for change in changes:
        by_system.setdefault(change.system, []).append(change)
    if not by_system:
        return f"Per-query diff against {previous_label}: no query changed rank."
    lines = [f"Per-query diff against {previous_label} (rank of first relevant hit, - = not in top {DEPTH}):"]
    for system, items in by_system.items():
        better = [c for c in items if c.better]
        worse = [c for c in items if not c.better]
        lines.append(f"  {system}: {len(better)} better, {len(worse)} worse")
        for label, group in (("better", better), ("worse", worse)):
            for c in group:
                lines.append(f"    {label:6} {c.query_id}: {_rank(c.before)} -> {_rank(c.after)}")
    return "\n".join(lines)


def _rank(rank: int | None) -> str:
    return "-" if rank is None else str(rank)


def load_run(path: Path) -> dict[str, Any] | None:
    """A saved run, or None when there is none (or it cannot be read)."""
    try:
        run: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return run


def save_run(path: Path, record: Mapping[str, Any]) -> None:
    """Write a run as indented JSON (creating the folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- cached passage vectors


class CachedPassageEmbedder:
    """An embedder whose passage vectors are kept on disk, keyed by model id and text.

    ``build_in_memory`` embeds in batches; each text is looked up by its hash and
    only the missing ones reach the model. ``save`` writes the cache back, so a
    rerun of an evaluation embeds nothing. Queries are never cached: their
    embedding is part of the latency measured.
    """

    def __init__(self, embedder: Any, cache_file: Path) -> None:
        self._embedder = embedder
        self.model_id: str = embedder.model_id
        self.dim: int = embedder.dim
        self.cache_file = cache_file
        self._vectors: dict[str, np.ndarray] = {}
        self._dirty = False
        if cache_file.is_file():
            with np.load(cache_file) as stored:
                self._vectors = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
        self.hits = 0
        self.misses = 0

    @staticmethod
    def file_for(cache_dir: Path, model_id: str, corpus_key: str) -> Path:
        """The cache file of one model and corpus: ``<dir>/<slug>-<hash>.npz``."""
        slug = re.sub(r"[^A-Za-z0-9.]+", "-", model_id).strip("-")[-40:]
        digest = hashlib.sha256(f"{model_id}\n{corpus_key}".encode()).hexdigest()[:16]
        return cache_dir / f"vectors-{slug}-{digest}.npz"

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Delegated to the model, uncached."""
        vectors: np.ndarray = self._embedder.encode_queries(texts)
        return vectors

    def encode_passages(
        self, texts: Sequence[str], batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        """Vectors of ``texts``: from the cache where known, else from the model."""
        keys = [hashlib.sha256(text.encode()).hexdigest() for text in texts]
        missing = [i for i, key in enumerate(keys) if key not in self._vectors]
        if missing:
            fresh = self._embedder.encode_passages([texts[i] for i in missing], batch_size=batch_size)
            for i, vector in zip(missing, fresh, strict=True):
                self._vectors[keys[i]] = np.asarray(vector, dtype=np.float32)
            self._dirty = True
        self.misses += len(missing)
        self.hits += len(texts) - len(missing)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vectors[key] for key in keys]).astype(np.float32, copy=False)

    def save(self) -> None:
        """Write the cache if anything new was embedded."""
        if not self._dirty:
            return
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self._vectors)
        temporary = self.cache_file.with_suffix(".tmp.npz")
        np.savez(temporary, keys=np.array(keys), vectors=np.stack([self._vectors[k] for k in keys]))
        temporary.replace(self.cache_file)
        self._dirty = False


def corpus_key(path: Path) -> str:
    """A content hash of a corpus file (or of every file under a folder)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()
