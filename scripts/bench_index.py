"""Benchmark the index: search latency, one-file rebuild time, and search at scale.

Each figure is printed beside a reference measured in the same run:

- shipped search p50/p95 (warm) vs its floor: one query embedding + one flat scan;
- one-file rebuild vs a rebuild with nothing changed and the full first build;
- synthetic dense side: each approximate kind's latency, recall@10 and memory vs
  the exact flat scan at the same size, on random unit vectors (the worst case:
  no clusters) and on realistic ones (mixtures of the shipped passage vectors,
  queried with real question embeddings);
- full hybrid search (``Searcher.search``) over ``--full-search-size`` chunks: the
  shipped chunks replicated under new ids, realistic vectors, a real BM25 index
  over the replicated token lists; beside it the query embedding, dense search
  and BM25 alone, the flat scan at the same size, and memory.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_index.py [--sizes 10000,100000,1000000]
        [--kinds flat,ivf,hnsw] [--full-search-size 1000000] [--quick]

Targets: shipped p95 ≤ 30 ms; search over 1M chunks p95 ≤ 50 ms; one-file rebuild ≤ 5 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import itertools
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.evaluation import load_dev_questions
from index.build import build_index
from index.embedder import load_embedder
from index.lexical import K1, B, LexicalIndex
from index.metrics import percentile
from index.polish import tokenize
from index.search import Searcher
from index.settings import IndexSettings
from index.store import IndexStore, LoadedIndex
from index.vectors import VectorIndex, configure_threads

ROOT = Path(__file__).resolve().parents[1]
DEV_QUESTIONS = ROOT / "tests" / "data" / "dev_questions"
# Realistic synthetic vectors: normalise(v_i + MIX·v_j + NOISE·gaussian) over the
# shipped passage vectors v. With these values the nearest-neighbour cosines
# (median 0.92 among 446 of them, 0.86 between any two) and the cosines of real
# questions to their top 1 / 10 / 100 passages (0.87 / 0.86 / 0.85 at 20k) sit at
# or just below the shipped index's (0.95, 0.87; 0.87 / 0.85 / 0.82): neighbours
# are a little less distinct than real ones, so recall errs on the low side.
MIX = 0.5
NOISE = 0.02

QUESTIONS = [
    "Z jakich powodów udziela się pomocy społecznej?",
    "komu przysluguje pomoc spoleczna z powodu bezdomnosci",
    "art. 7 ustawy o pomocy społecznej",
    "art 106 ups decyzja administracyjna",
    "Jak długo organ ma na załatwienie sprawy w postępowaniu administracyjnym?",
    "odwołanie od decyzji termin",
    "Czym jest przedsiębiorstwo społeczne?",
    "co zmieniła nowelizacja w 2024 r.",
    "konferencja o dziedziczeniu ubóstwa",
    "kto prowadził szkolenie w Braniewie",
    "art. 35 kpa",
    "przemoc domowa a pomoc społeczna",
    "zasady pomocy spolecznej dobro osoby",
    "wszczęcie postępowania na żądanie strony",
    "świadczenia z pomocy społecznej dla cudzoziemców",
    "ekonomia społeczna definicja",
    "pieczy zastępczej zmiany 2022",
    "bezpieczeństwo pracowników socjalnych",
    "art. 17 ust. 1 ustawy o pomocy społecznej zadania własne gminy",
    "§ 2",
]


def percentiles(samples_ms: list[float]) -> str:
    """'p50 x ms, p95 y ms' of a list of milliseconds."""
    p50, p95 = percentile(samples_ms, 50), percentile(samples_ms, 95)
    return f"p50 {p50:6.2f} ms, p95 {p95:6.2f} ms"


def timed(fn: Callable[[], object], repeat: int, warmup: int = 5) -> list[float]:
    """Milliseconds per call of ``fn`` over ``repeat`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_shipped(settings: IndexSettings, repeat: int) -> None:
    """Full build, search latency, and one-file rebuild on a copy of the knowledge folder."""
    print("\n## Shipped knowledge (real model)\n")
    embedder = load_embedder(settings.model_name_or_path)
    max_bytes = int(settings.max_file_mb * 1_000_000)
    with tempfile.TemporaryDirectory(prefix="bench_index_") as tmp:
        knowledge = Path(tmp) / "knowledge"
        shutil.copytree(settings.knowledge_dir, knowledge)
        store = IndexStore(Path(tmp) / "index")
        full = build_index(knowledge, store, embedder, max_bytes)
        same = build_index(knowledge, store, embedder, max_bytes)
        target = knowledge / full.added[0]  # a file that really is indexed
        with target.open("a", encoding="utf-8") as out:
            out.write("\n\nDopisany akapit do pomiaru przebudowy jednego pliku.\n")
        touched = build_index(knowledge, store, embedder, max_bytes)
        print(f"full build:             {full.seconds:6.2f} s ({full.chunks} chunks embedded)")
        print(f"rebuild, nothing new:   {same.seconds:6.2f} s ({same.reused} reused)  <- reference")
        print(
            f"rebuild, one file:      {touched.seconds:6.2f} s ({touched.embedded} embedded, "
            f"{touched.reused} reused, changed {touched.changed}; target ≤ 5 s)"
        )

        loaded = store.load_current()
        searcher = Searcher(loaded, embedder)
        questions = itertools.cycle(QUESTIONS)
        vector_cycle = itertools.cycle([embedder.encode_queries([q]) for q in QUESTIONS])
        embed = timed(lambda: embedder.encode_queries([next(questions)]), repeat)
        pytorch = timed(lambda: embedder.encode_queries_with_model([next(questions)]), repeat)
        scan = timed(lambda: loaded.vectors.search(next(vector_cycle), 50), repeat)
        floor = [a + b for a, b in zip(embed, scan, strict=True)]
        lexical = timed(lambda: loaded.lexical.search(next(questions), 50), repeat)
        search = timed(lambda: searcher.search(next(questions), k=5), repeat)
        print(f"\n{len(loaded.chunks)} chunks, {loaded.vectors.kind} index, {repeat} searches, warm\n")
        print(f"query embedding:        {percentiles(embed)}  (via {embedder.query_backend})")
        print(f"  the same via PyTorch: {percentiles(pytorch)}  <- reference")
        print(f"flat scan (top 50):     {percentiles(scan)}")
        print(f"BM25 (top 50):          {percentiles(lexical)}")
        print(f"floor = embed + scan:   {percentiles(floor)}  <- reference")
        print(f"Searcher.search (k=5):  {percentiles(search)}  (target p95 ≤ 30 ms)")


def realistic_vectors(base: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """``count`` unit vectors shaped like ``base`` (the shipped passage vectors).

    Row r < len(base) is ``base[r]`` itself; row r ≥ len(base) mixes ``base[r % len(base)]``
    with a random other row and Gaussian noise (``MIX``, ``NOISE``), so a replicated
    chunk table can give row r the text of chunk ``r % len(base)``.
    """
    rng = np.random.default_rng(seed)
    base = np.ascontiguousarray(base, dtype=np.float32)
    out = np.empty((count, base.shape[1]), dtype=np.float32)
    step = 100_000  # bounded temporaries at 1M rows
    for start in range(0, count, step):
        rows = np.arange(start, min(count, start + step))
        mixed = base[rows % len(base)] + MIX * base[rng.integers(0, len(base), len(rows))]
        mixed += NOISE * rng.standard_normal(mixed.shape, dtype=np.float32)
        out[rows] = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
    head = min(count, len(base))
    out[:head] = base[:head]
    return out


def random_vectors(count: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` random unit vectors: no cluster structure, the worst case for approximate search."""
    data = rng.standard_normal((count, dim), dtype=np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    return data


def measure_synthetic(
    sizes: list[int],
    dim: int,
    repeat: int,
    k: int = 10,
    kinds: tuple[str, ...] = ("flat", "ivf"),
    base: np.ndarray | None = None,
    queries: np.ndarray | None = None,
) -> Iterator[dict[str, Any]]:
    """The flat scan vs approximate kinds, on random vectors or (given ``base``) realistic ones.

    Without ``base`` the corpus and the queries are random unit vectors; with it the
    corpus is ``realistic_vectors(base, size)`` and ``queries`` (real question
    embeddings) are cycled. Yields one row per (size, kind) as soon as it is
    measured: build seconds, single-query latency at depth ``k`` (p50/p95 ms),
    recall@10 against the flat scan, and the RSS growth of building it.
    """
    rng = np.random.default_rng(0)
    label = "random" if base is None else "realistic"
    for size in sizes:
        if base is None:
            data = random_vectors(size, dim, rng)
            probe = random_vectors(repeat, dim, rng)
        else:
            data = realistic_vectors(base, size)
            probe = np.resize(np.asarray(queries, dtype=np.float32), (repeat, dim))
        exact = np.asarray(VectorIndex.build(data, "flat").search(probe, 10)[1])
        for kind in kinds:
            before = rss_mb()
            start = time.perf_counter()
            index = VectorIndex.build(data, kind)  # type: ignore[arg-type]  # a --kinds name: build() checks it
            build_s = time.perf_counter() - start
            grown = rss_mb() - before
            singles = iter([probe[i : i + 1] for i in range(repeat)])
            latency = timed(partial(_search_next, index, singles, k), repeat, warmup=0)
            found = index.search(probe, 10)[1]
            recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact, strict=True)])
            p50, p95 = percentile(latency, 50), percentile(latency, 95)
            yield {
                "vectors": size,
                "data": label,
                "kind": kind,
                "params": index.search_params,
                "build_s": round(build_s, 2),
                "p50_ms": round(float(p50), 2),
                "p95_ms": round(float(p95), 2),
                "recall@10": round(float(recall), 3),
                "rss_growth_mb": round(grown),
                "rss_mb": round(rss_mb()),
            }
            del index
        del data


def bench_synthetic(
    sizes: list[int], dim: int, repeat: int, kinds: tuple[str, ...], base: np.ndarray, queries: np.ndarray
) -> None:
    """Print ``measure_synthetic``'s rows, random then realistic, as a Markdown table."""
    print(f"\n## Synthetic dense side (dim {dim}, single-query latency at depth 100, {repeat} queries)\n")
    print("| data | vectors | kind | params | build s | p50 ms | p95 ms | recall@10 | +RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for vectors in (None, base):
        for row in measure_synthetic(sizes, dim, repeat, 100, kinds, vectors, queries):
            params = " ".join(f"{key} {value}" for key, value in row["params"].items()) or "–"
            print(
                f"| {row['data']} | {row['vectors']:,} | {row['kind']} | {params} | {row['build_s']:.1f} | "
                f"{row['p50_ms']:.2f} | {row['p95_ms']:.2f} | {row['recall@10']:.3f} | "
                f"{row['rss_growth_mb']} |"
            )
            sys.stdout.flush()


def question_texts() -> list[str]:
    """``QUESTIONS`` plus every development question (tests/data/dev_questions)."""
    return list(QUESTIONS) + [question.question for question in load_dev_questions(DEV_QUESTIONS)]


def replicated_index(
    shipped: LoadedIndex, size: int, model_id: str, dim: int
) -> tuple[LoadedIndex, dict[str, Any]]:
    """An in-memory ``LoadedIndex`` of ``size`` chunks built from the shipped one.

    Row r holds shipped chunk ``r % n`` under a new id, a realistic vector
    (``realistic_vectors``) and that chunk's tokens in a real BM25 index. Returns
    the index and the seconds/RSS growth of each part.
    """
    base_chunks = shipped.chunks
    n = len(base_chunks)
    costs: dict[str, float] = {}

    before, start = rss_mb(), time.perf_counter()
    chunks = [
        base_chunks[r]
        if r < n
        else dataclasses.replace(base_chunks[r % n], id=f"{base_chunks[r % n].id}~{r // n}")
        for r in range(size)
    ]
    rows = {chunk.id: row for row, chunk in enumerate(chunks)}
    costs.update(chunks_s=time.perf_counter() - start, chunks_mb=rss_mb() - before)

    before, start = rss_mb(), time.perf_counter()
    tokens = [tokenize(chunk.embed_text) for chunk in base_chunks]  # what index.build indexes
    bm25 = bm25s.BM25(k1=K1, b=B, method="lucene")
    bm25.index([tokens[r % n] for r in range(size)], show_progress=False)
    lexical = LexicalIndex(bm25, size)
    gc.collect()
    costs.update(lexical_s=time.perf_counter() - start, lexical_mb=rss_mb() - before)

    before, start = rss_mb(), time.perf_counter()
    base = shipped.vectors.vectors_at(np.arange(n))
    matrix = realistic_vectors(base, size)
    vectors = VectorIndex.build(matrix)
    costs["vectors_s"] = time.perf_counter() - start
    del matrix
    gc.collect()
    costs["vectors_mb"] = rss_mb() - before

    manifest = {"model_id": model_id, "dim": dim, "vector_index": vectors.kind}
    return LoadedIndex(f"synthetic-{size}", chunks, rows, vectors, lexical, manifest), costs


def _search_next(index: Any, queries: Iterator[Any], k: int) -> object:
    """One search with the next query; bound with partial, so ``del`` can free the index later."""
    return index.search(next(queries), k)


def bench_full_search(settings: IndexSettings, size: int, repeat: int) -> None:
    """``Searcher.search`` over ``size`` replicated chunks, beside its parts and the flat scan."""
    print(f"\n## Full hybrid search over {size:,} synthetic chunks (real model, real BM25)\n")
    start_rss = rss_mb()
    embedder = load_embedder(settings.model_name_or_path)
    shipped = IndexStore(settings.index_path).load_current()
    model_rss = rss_mb()
    loaded, costs = replicated_index(shipped, size, embedder.model_id, embedder.dim)
    searcher = Searcher(loaded, embedder)
    depth = min(size, 100)  # fusion.CANDIDATES: the depth Searcher asks each side for
    questions = itertools.cycle(QUESTIONS)
    vector_cycle = itertools.cycle([embedder.encode_queries([q]).astype(np.float32) for q in QUESTIONS])
    embed = timed(lambda: embedder.encode_queries([next(questions)]), repeat)
    dense = timed(partial(_search_next, loaded.vectors, vector_cycle, depth), repeat)
    lexical = timed(partial(_search_next, loaded.lexical, questions, depth), repeat)
    search = timed(partial(_search_next, searcher, questions, 5), repeat)
    searched_rss = rss_mb()
    params = " ".join(f"{key} {value}" for key, value in loaded.vectors.search_params.items())
    kind = f"{loaded.vectors.kind} {params}".strip()
    del searcher, loaded
    gc.collect()
    before = rss_mb()
    flat = VectorIndex.build(
        realistic_vectors(shipped.vectors.vectors_at(np.arange(len(shipped.chunks))), size), "flat"
    )
    flat_mb = rss_mb() - before
    flat_repeat = min(repeat, 20) if size > 200_000 else repeat  # ~0.2 s a query at 1M
    scan = timed(partial(_search_next, flat, vector_cycle, depth), flat_repeat, warmup=2)
    del flat

    print(
        f"{size:,} chunks ({len(shipped.chunks)} shipped ones replicated), "
        f"{repeat} searches over {len(QUESTIONS)} questions, warm, faiss threads {configure_threads()}\n"
    )
    print("| step | p50 ms | p95 ms |")
    print("|---|---|---|")
    print(
        f"| query embedding (via {embedder.query_backend}) | {percentile(embed, 50):.2f} | "
        f"{percentile(embed, 95):.2f} |"
    )
    print(
        f"| dense search alone ({kind}, top {depth}) | {percentile(dense, 50):.2f} | "
        f"{percentile(dense, 95):.2f} |"
    )
    print(f"| BM25 alone (top {depth}) | {percentile(lexical, 50):.2f} | {percentile(lexical, 95):.2f} |")
    print(
        f"| flat scan, same vectors (top {depth}, {flat_repeat} queries) <- reference | "
        f"{percentile(scan, 50):.2f} | {percentile(scan, 95):.2f} |"
    )
    print(
        f"| **Searcher.search (k=5)** (target p95 ≤ 50 ms) | {percentile(search, 50):.2f} | "
        f"{percentile(search, 95):.2f} |"
    )
    print("\n| memory / build | seconds | RSS growth MB |")
    print("|---|---|---|")
    print(f"| model + shipped index loaded | – | {model_rss - start_rss:,.0f} |")
    print(
        f"| chunk table (Chunk objects + id → row map) | {costs['chunks_s']:.1f} | "
        f"{costs['chunks_mb']:,.0f} |"
    )
    print(
        f"| lexical (bm25s over replicated token lists) | {costs['lexical_s']:.1f} | "
        f"{costs['lexical_mb']:,.0f} |"
    )
    print(f"| vectors ({kind}) | {costs['vectors_s']:.1f} | {costs['vectors_mb']:,.0f} |")
    print(f"| flat index over the same vectors (reference) | – | {flat_mb:,.0f} |")
    print(f"\nprocess RSS after searching: {searched_rss:,.0f} MB")


def main() -> None:
    """Parse arguments and run the benchmarks."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,1000000", help="synthetic sizes, comma-separated")
    parser.add_argument("--kinds", default="flat,ivf", help="vector index kinds to compare (flat,ivf,hnsw)")
    parser.add_argument(
        "--full-search-size",
        type=int,
        default=1_000_000,
        help="chunks in the full hybrid search measurement (--quick: 20000)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes and fewer queries")
    parser.add_argument("--repeat", type=int, default=200, help="searches per measurement")
    parser.add_argument("--skip-shipped", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--skip-full-search", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sizes = [2000, 20000] if args.quick else [int(s) for s in args.sizes.split(",")]
    repeat = 50 if args.quick else args.repeat
    full_size = 20_000 if args.quick else args.full_search_size
    kinds = tuple(kind.strip() for kind in args.kinds.split(",") if kind.strip())
    print(f"faiss threads: {configure_threads()}")
    settings = IndexSettings()
    dim = 384
    if not args.skip_shipped:
        bench_shipped(settings, repeat)
    if not args.skip_synthetic:
        shipped = IndexStore(settings.index_path).load_current()
        base = shipped.vectors.vectors_at(np.arange(len(shipped.chunks)))
        queries = load_embedder(settings.model_name_or_path).encode_queries(question_texts())
        bench_synthetic(sizes, dim, repeat, kinds, base, queries)
    if not args.skip_full_search:
        bench_full_search(settings, full_size, repeat)


if __name__ == "__main__":
    main()
