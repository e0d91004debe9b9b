"""Benchmark the index: search latency, one-file rebuild time, and the dense side at scale.

Each figure is printed beside a reference measured in the same run:

- shipped search p50/p95 (warm) vs its floor: one query embedding + one flat scan;
- one-file rebuild vs a rebuild with nothing changed and the full first build;
- synthetic dense side (random unit vectors, dim of the model): HNSW latency,
  recall@10 and memory vs the exact flat scan at the same size.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_index.py [--sizes 10000,100000,1000000] [--quick]

Targets: shipped p95 ≤ 30 ms; 1M synthetic p95 ≤ 50 ms; one-file rebuild ≤ 5 s.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index.build import build_index  # noqa: E402
from index.embedder import load_embedder  # noqa: E402
from index.search import Searcher  # noqa: E402
from index.settings import IndexSettings  # noqa: E402
from index.store import IndexStore  # noqa: E402
from index.vectors import VectorIndex, configure_threads  # noqa: E402

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
    p50, p95 = np.percentile(samples_ms, [50, 95])
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
        print(f"rebuild, one file:      {touched.seconds:6.2f} s ({touched.embedded} embedded, "
              f"{touched.reused} reused, changed {touched.changed}; target ≤ 5 s)")

        loaded = store.load_current()
        searcher = Searcher(loaded, embedder)
        questions = itertools.cycle(QUESTIONS)
        vector_cycle = itertools.cycle([embedder.encode_queries([q]) for q in QUESTIONS])
        embed = timed(lambda: embedder.encode_queries([next(questions)]), repeat)
        scan = timed(lambda: loaded.vectors.search(next(vector_cycle), 50), repeat)
        floor = [a + b for a, b in zip(embed, scan)]
        lexical = timed(lambda: loaded.lexical.search(next(questions), 50), repeat)
        search = timed(lambda: searcher.search(next(questions), k=5), repeat)
        print(f"\n{len(loaded.chunks)} chunks, {loaded.vectors.kind} index, {repeat} searches, warm\n")
        print(f"query embedding:        {percentiles(embed)}")
        print(f"flat scan (top 50):     {percentiles(scan)}")
        print(f"BM25 (top 50):          {percentiles(lexical)}")
        print(f"floor = embed + scan:   {percentiles(floor)}  <- reference")
        print(f"Searcher.search (k=5):  {percentiles(search)}  (target p95 ≤ 30 ms)")


def measure_synthetic(sizes: list[int], dim: int, repeat: int, k: int = 10) -> Iterator[dict]:
    """Flat vs HNSW over random unit vectors (the hardest case for HNSW recall).

    Yields one row per (size, kind) as soon as it is measured: build seconds,
    single-query latency at depth ``k`` (p50/p95 ms), recall@10 against the flat
    scan, and the RSS growth of building it.
    """
    rng = np.random.default_rng(0)
    for size in sizes:
        data = rng.standard_normal((size, dim), dtype=np.float32)
        data /= np.linalg.norm(data, axis=1, keepdims=True)
        queries = rng.standard_normal((repeat, dim), dtype=np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        exact: np.ndarray | None = None
        for kind in ("flat", "hnsw"):
            before = rss_mb()
            start = time.perf_counter()
            index = VectorIndex.build(data, kind)  # type: ignore[arg-type]
            build_s = time.perf_counter() - start
            grown = rss_mb() - before
            singles = iter([queries[i : i + 1] for i in range(repeat)])
            latency = timed(lambda: index.search(next(singles), k), repeat, warmup=0)
            found = index.search(queries, 10)[1]
            if kind == "flat":
                exact = found
            recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact)])  # type: ignore[arg-type]
            p50, p95 = np.percentile(latency, [50, 95])
            yield {
                "vectors": size, "kind": kind, "build_s": round(build_s, 2),
                "p50_ms": round(float(p50), 2), "p95_ms": round(float(p95), 2),
                "recall@10": round(float(recall), 3), "rss_growth_mb": round(grown),
                "rss_mb": round(rss_mb()),
            }
            del index
        del data


def bench_synthetic(sizes: list[int], dim: int, repeat: int) -> None:
    """Print ``measure_synthetic``'s rows as a Markdown table."""
    print(f"\n## Synthetic dense side (dim {dim}, single-query latency, {repeat} queries)\n")
    print("| vectors | kind | build s | p50 ms | p95 ms | recall@10 | +RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for row in measure_synthetic(sizes, dim, repeat):
        print(f"| {row['vectors']:,} | {row['kind']} | {row['build_s']:.1f} | {row['p50_ms']:.2f} | "
              f"{row['p95_ms']:.2f} | {row['recall@10']:.3f} | {row['rss_growth_mb']} |")
        sys.stdout.flush()


def main() -> None:
    """Parse arguments and run the benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="synthetic sizes, comma-separated")
    parser.add_argument("--quick", action="store_true", help="small sizes and fewer queries")
    parser.add_argument("--repeat", type=int, default=200, help="searches per measurement")
    parser.add_argument("--skip-shipped", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sizes = [2000, 20000] if args.quick else [int(s) for s in args.sizes.split(",")]
    repeat = 50 if args.quick else args.repeat
    print(f"faiss threads: {configure_threads()}")
    settings = IndexSettings()
    dim = 384
    if not args.skip_shipped:
        bench_shipped(settings, repeat)
    if not args.skip_synthetic:
        bench_synthetic(sizes, dim, repeat)


if __name__ == "__main__":
    main()
