"""The benchmark of record: every figure beside a reference measured in the same run.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench.py [--json] [--quick]

1. Index build on a temporary copy of knowledge/: cold build (time, docs/s),
   rebuild with nothing changed (reference) and after one file changed.
2. Search over that index. The floor is one query embedding plus one flat faiss
   scan (top 50, what search asks for); lexical, dense and hybrid search and
   full ``bot.answer`` calls are timed interleaved with it, query by query, so
   background load hits all alike. The query embedding is timed on both paths
   (ONNX Runtime, which search uses, and PyTorch as the reference). Targets:
   hybrid search p95 ≤ 30 ms; answer p95 ≤ 100 ms and ≤ 3× floor.
3. Scaling of the dense side on synthetic passage-like vectors (10k, 100k, 1M)
   queried with real question embeddings: flat vs IVF build time, latency,
   recall@10 against flat, RSS growth.
4. Bot throughput: scripts/load_test.py (50 users × 4 questions through the
   real Application and a fake Bot API) in its own process, so its peak RSS is
   the bot's alone.

--quick uses six knowledge files, 20 queries, 2k/10k vectors and 5 users × 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from bench_index import measure_synthetic

from bot.evaluation import load_dev_questions
from index.build import build_index
from index.fusion import CANDIDATES
from index.metrics import percentile
from index.search import Searcher
from index.settings import IndexSettings
from index.store import IndexStore
from index.vectors import VectorIndex, configure_threads

log = logging.getLogger("bench")

# --quick indexes these (about 20 chunks) instead of the whole folder.
QUICK_FILES = (
    "statutes/ups-art-1-4.md",
    "statutes/ups-art-7.md",
    "statutes/ups-art-106.md",
    "summaries/zasilek-staly.md",
    "summaries/odwolanie-od-decyzji.md",
    "conferences/rops-olsztyn-szkolenie-braniewo-2013.md",
)
SEARCH_P95_TARGET_MS = 30.0
ANSWER_P95_TARGET_MS = 100.0
ANSWER_FLOOR_RATIO_TARGET = 3.0


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark and print a report (or JSON)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from index.embedder import load_embedder

    settings = IndexSettings()
    report: dict[str, Any] = {
        "quick": args.quick,
        "cpus": len(os.sched_getaffinity(0)),
        "faiss_threads": configure_threads(),
    }
    started = time.perf_counter()
    embedder = load_embedder(args.model or settings.model_name_or_path)
    report["model"] = {
        "id": embedder.model_id,
        "load_s": round(time.perf_counter() - started, 2),
        "query_backend": embedder.query_backend,
    }
    with tempfile.TemporaryDirectory(prefix="pomocnik-bench-") as tmp:
        work = Path(tmp)
        knowledge = _knowledge_copy(args.knowledge, work / "knowledge", args.quick)
        store = IndexStore(work / "index")
        report["build"] = bench_build(knowledge, store, embedder, int(settings.max_file_mb * 1_000_000))
        queries = _queries(args.questions, 20 if args.quick else args.repeat)
        report["search"] = bench_search(store, embedder, queries)
        report["throughput"] = bench_throughput(store.root, args.quick)
        loaded = store.load_current()
        base = loaded.vectors.vectors_at(list(range(len(loaded.chunks))))
    sizes = [2_000, 10_000] if args.quick else [10_000, 100_000, 1_000_000]
    report["scaling"] = bench_scaling(
        sizes, base, embedder.encode_queries(queries), 50 if args.quick else 200
    )
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        print(format_report(report))
    return 0


# ---------------------------------------------------------------- build


def bench_build(knowledge: Path, store: IndexStore, embedder: Any, max_bytes: int) -> dict[str, Any]:
    """Cold build, no-change rebuild (reference) and one-file rebuild."""
    cold = build_index(knowledge, store, embedder, max_bytes)
    same = build_index(knowledge, store, embedder, max_bytes)
    # A document inside a subfolder: a top-level README.md is not indexed.
    target = sorted(knowledge.glob("*/*.md"))[0]
    with target.open("a", encoding="utf-8") as out:
        out.write("\n\nDopisany akapit do pomiaru przebudowy jednego pliku.\n")
    one = build_index(knowledge, store, embedder, max_bytes)
    return {
        "documents": cold.documents,
        "chunks": cold.chunks,
        "cold_s": round(cold.seconds, 2),
        "docs_per_s": round(cold.documents / cold.seconds, 2),
        "chunks_per_s": round(cold.chunks / cold.seconds, 2),
        "rebuild_unchanged_s": round(same.seconds, 2),
        "rebuild_one_file_s": round(one.seconds, 2),
        "rebuild_one_file_embedded": one.embedded,
    }


# ---------------------------------------------------------------- search and answers


def bench_search(store: IndexStore, embedder: Any, queries: list[str]) -> dict[str, Any]:
    """Floor, lexical, dense, hybrid and full answers, timed query by query in turn."""
    from bot.answer import answer

    loaded = store.load_current()
    searcher = Searcher(loaded, embedder)
    flat = VectorIndex.build(loaded.vectors.vectors_at(list(range(len(loaded.chunks)))), "flat")
    today = date.today()

    def floor(q: str) -> object:
        return flat.search(embedder.encode_queries([q]), CANDIDATES)

    def dense(q: str) -> object:
        return loaded.vectors.search(embedder.encode_queries([q]), 10)

    steps: dict[str, Callable[[str], object]] = {
        "embedding": lambda q: embedder.encode_queries([q]),
        "embedding_pytorch": lambda q: embedder.encode_queries_with_model([q]),
        "floor": floor,
        "lexical": lambda q: loaded.lexical.search(q, 10),
        "dense": dense,
        "hybrid": lambda q: searcher.search(q, k=5, on=today),
        "answer": lambda q: answer(q, searcher, today=today),
    }
    for step in steps.values():  # warm-up: dictionaries, unit table, first-call costs
        step(queries[0])
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for query in queries:
        for name, step in steps.items():
            started = time.perf_counter()
            step(query)
            samples[name].append((time.perf_counter() - started) * 1000)
    out: dict[str, Any] = {
        "chunks": len(loaded.chunks),
        "vector_index": loaded.vectors.kind,
        "queries": len(queries),
    }
    for name, values in samples.items():
        out[name] = _stats(values)
    for name in ("hybrid", "answer"):
        out[f"{name}_over_floor_p50"] = round(out[name]["p50_ms"] / out["floor"]["p50_ms"], 2)
        out[f"{name}_over_floor_p95"] = round(out[name]["p95_ms"] / out["floor"]["p95_ms"], 2)
    out["hybrid_meets_target"] = out["hybrid"]["p95_ms"] <= SEARCH_P95_TARGET_MS
    out["answer_meets_target"] = (
        out["answer"]["p95_ms"] <= ANSWER_P95_TARGET_MS
        and out["answer_over_floor_p95"] <= ANSWER_FLOOR_RATIO_TARGET
    )
    return out


def _stats(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(values, 50), 2), "p95_ms": round(percentile(values, 95), 2)}


# ---------------------------------------------------------------- scaling


def bench_scaling(
    sizes: list[int], base: np.ndarray, queries: np.ndarray, repeat: int
) -> list[dict[str, Any]]:
    """Flat vs IVF at each size, at the depth search really asks for (``CANDIDATES``).

    The corpus is passage-like (``realistic_vectors`` mixed from ``base``, the
    bench index's own vectors) and the queries are real question embeddings:
    random vectors have no neighbourhoods and say nothing about recall.
    """
    rows = []
    for row in measure_synthetic(
        sizes, base.shape[1], repeat, k=CANDIDATES, kinds=("flat", "ivf"), base=base, queries=queries
    ):
        log.info("scaling %s", row)
        rows.append(row)
    return rows


# ---------------------------------------------------------------- throughput


def bench_throughput(index_dir: Path, quick: bool) -> dict[str, Any]:
    """scripts/load_test.py in a child process over the bench's index; its JSON report."""
    command = [
        sys.executable,
        str(ROOT / "scripts" / "load_test.py"),
        "--json",
        "--index-dir",
        str(index_dir),
    ]
    if quick:
        command.append("--quick")
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    try:
        report: dict[str, Any] = json.loads(done.stdout)
        return report
    except ValueError:
        log.error("load_test failed (exit %s): %s", done.returncode, done.stderr[-2000:])
        return {"error": f"load_test exited {done.returncode}", "stderr_tail": done.stderr[-500:]}


# ---------------------------------------------------------------- set-up and output


def _knowledge_copy(source: Path, target: Path, quick: bool) -> Path:
    if not quick:
        shutil.copytree(source, target)
        return target
    for name in QUICK_FILES:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, target / name)
    return target


def _queries(folder: Path, count: int) -> list[str]:
    """Stand-alone development questions, repeated up to ``count``."""
    pool = [q.question for q in load_dev_questions(folder) if not q.follow_up_of]
    return [pool[i % len(pool)] for i in range(count)]


def format_report(report: dict[str, Any]) -> str:
    """The report as markdown tables."""
    b, s, t = report["build"], report["search"], report["throughput"]
    lines = [
        f"model {report['model']['id']} loaded in {report['model']['load_s']} s, "
        f"queries via {report['model']['query_backend']}; "
        f"{report['cpus']} CPUs, faiss threads {report['faiss_threads']}",
        "",
        "## Index build",
        "",
        f"cold: {b['cold_s']} s for {b['documents']} documents / {b['chunks']} chunks "
        f"({b['docs_per_s']} docs/s, {b['chunks_per_s']} chunks/s)",
        f"rebuild, nothing changed: {b['rebuild_unchanged_s']} s (reference); "
        f"one file changed: {b['rebuild_one_file_s']} s ({b['rebuild_one_file_embedded']} chunks embedded)",
        "",
        f"## Search and answers ({s['chunks']} chunks, {s['vector_index']}, {s['queries']} queries)",
        "",
        "| step | p50 ms | p95 ms |",
        "|---|---|---|",
    ]
    for name in ("embedding", "embedding_pytorch", "floor", "lexical", "dense", "hybrid", "answer"):
        lines.append(f"| {name} | {s[name]['p50_ms']} | {s[name]['p95_ms']} |")
    lines += [
        "",
        f"hybrid / floor: p50 {s['hybrid_over_floor_p50']}×, p95 {s['hybrid_over_floor_p95']}× "
        f"(target p95 ≤ {SEARCH_P95_TARGET_MS:.0f} ms: {'met' if s['hybrid_meets_target'] else 'NOT met'})",
        f"answer / floor: p50 {s['answer_over_floor_p50']}×, p95 {s['answer_over_floor_p95']}× "
        f"(target p95 ≤ {ANSWER_P95_TARGET_MS:.0f} ms and ≤ {ANSWER_FLOOR_RATIO_TARGET:.0f}× floor: "
        f"{'met' if s['answer_meets_target'] else 'NOT met'})",
        "",
        "## Dense side at scale (synthetic passage-like vectors, real questions, top 100)",
        "",
        "| vectors | kind | build s | p50 ms | p95 ms | recall@10 | +RSS MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in report["scaling"]:
        lines.append(
            f"| {row['vectors']:,} | {row['kind']} | {row['build_s']} | {row['p50_ms']} | "
            f"{row['p95_ms']} | {row['recall@10']} | {row['rss_growth_mb']} |"
        )
    lines += ["", "## Bot throughput (scripts/load_test.py)", ""]
    if "error" in t:
        lines.append(f"FAILED: {t['error']}")
    else:
        lines.append(
            f"{t['questions']} questions ({t['users']} users × {t['questions_per_user']}), "
            f"lost {t['lost']}; latency p50 {t['latency_p50_s']} s, p95 {t['latency_p95_s']} s; "
            f"{t['throughput_qps']} answers/s; peak RSS {t['peak_rss_mb']} MB"
        )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--repeat", type=int, default=200, help="queries per search measurement")
    parser.add_argument("--model", help="embedding model (default: the configured one)")
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--questions", type=Path, default=ROOT / "tests" / "data" / "dev_questions")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


if __name__ == "__main__":
    sys.exit(main())
