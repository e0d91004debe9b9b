"""scripts/eval.py and scripts/bench.py in --quick mode, run as an operator would (subprocesses).

They need the real model; passage vectors go to the repository's data/cache
(a cache: reruns are fast), saved runs to a temporary folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED

pytestmark = pytest.mark.slow

LQAD_DIR = SHARED / "sources" / "eval" / "lqad_pl"
METRIC_KEYS = {"ndcg@10", "recall@1", "recall@5", "recall@10", "mrr@10", "latency_ms_p50", "latency_ms_p95"}


def _run(script: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _check_systems(summary: dict) -> None:
    assert set(summary["systems"]) >= {"bm25", "dense", "hybrid"}
    for name, figures in summary["systems"].items():
        assert set(figures) == METRIC_KEYS, name
        assert 0 <= figures["recall@1"] <= figures["recall@5"] <= figures["recall@10"] <= 1, name
        assert figures["recall@1"] <= figures["mrr@10"] <= figures["recall@10"], name
        assert 0 < figures["latency_ms_p50"] <= figures["latency_ms_p95"], name


def test_eval_retrieval_lqad_quick_saves_and_diffs(model_dir: Path, tmp_path: Path) -> None:
    if not LQAD_DIR.is_dir():
        pytest.skip(f"LQAD-PL not found at {LQAD_DIR}")
    args = (
        "retrieval",
        "--dataset",
        "lqad-pl",
        "--split",
        "dev",
        "--quick",
        "--json",
        "--out-dir",
        str(tmp_path),
    )
    first = _run("eval.py", *args)
    summary = json.loads(first.stdout)
    assert (summary["dataset"], summary["split"], summary["queries"]) == ("lqad-pl", "dev", 50)
    _check_systems(summary)
    # Floors well below what each system reaches on these 50 queries (~0.9), far above chance.
    assert summary["systems"]["hybrid"]["ndcg@10"] >= 0.75
    assert summary["systems"]["bm25"]["ndcg@10"] >= 0.7
    assert summary["systems"]["dense"]["ndcg@10"] >= 0.7
    saved = json.loads((tmp_path / "lqad-pl-dev-quick.json").read_text(encoding="utf-8"))
    assert len(saved["ranks"]["hybrid"]) == 50
    second = _run("eval.py", *args)
    assert "Per-query diff against" in second.stderr  # compared with the first run


def test_eval_retrieval_dev_questions(model_dir: Path, tmp_path: Path) -> None:
    done = _run("eval.py", "retrieval", "--dataset", "dev-questions", "--json", "--out-dir", str(tmp_path))
    summary = json.loads(done.stdout)
    assert summary["dataset"] == "dev-questions" and summary["queries"] >= 40
    _check_systems(summary)
    assert summary["systems"]["hybrid"]["recall@10"] >= 0.7


def test_eval_answers_quick(model_dir: Path, tmp_path: Path) -> None:
    done = _run(
        "eval.py", "answers", "--dataset", "dev-questions", "--quick", "--json", "--out-dir", str(tmp_path)
    )
    summary = json.loads(done.stdout)
    assert summary["questions"] == 23
    for key in ("fact_rate", "citation_rate", "citation_precision", "refusal_rate"):
        assert 0 <= summary[key] <= 1, key
    assert summary["citation_rate"] >= 0.3  # 0.45 on this subset, 0.71 on all questions
    assert summary["false_refusals"] <= 10
    assert isinstance(summary["failing"], list)
    saved = json.loads((tmp_path / "dev-questions-answers-quick.json").read_text(encoding="utf-8"))
    rows = saved["per_question"]
    assert len(rows) == 23 and sum("fact" not in row for row in rows.values()) == 3  # 3 off-topic


def test_bench_quick(model_dir: Path) -> None:
    report = json.loads(_run("bench.py", "--quick", "--json").stdout)
    build, search = report["build"], report["search"]
    assert build["documents"] == 6 and build["chunks"] >= 10
    assert build["rebuild_one_file_embedded"] >= 1
    assert build["rebuild_unchanged_s"] < build["cold_s"]
    assert report["model"]["query_backend"] == "onnx"
    for step in ("embedding", "embedding_pytorch", "floor", "lexical", "dense", "hybrid", "answer"):
        assert 0 < search[step]["p50_ms"] <= search[step]["p95_ms"], step
    assert isinstance(search["hybrid_meets_target"], bool)
    assert search["lexical"]["p50_ms"] < search["floor"]["p50_ms"]  # BM25 on 20 chunks beats a model call
    assert search["hybrid_over_floor_p50"] > 0.5
    kinds = {(row["vectors"], row["kind"]) for row in report["scaling"]}
    assert kinds == {(2000, "flat"), (2000, "ivf"), (10000, "flat"), (10000, "ivf")}
    assert all(row["recall@10"] == 1.0 for row in report["scaling"] if row["kind"] == "flat")
    throughput = report["throughput"]
    assert "error" not in throughput, throughput
    assert throughput["lost"] == 0 and throughput["replies"] == throughput["questions"] == 10


@pytest.mark.parametrize(("case", "drop_share"), [("good", 0.0), ("invented_amount", 0.5)])
def test_eval_answers_quick_with_a_language_model(
    model_dir: Path, tmp_path: Path, case: str, drop_share: float
) -> None:
    from tests.fake_llm import CASES, FakeLlm

    with FakeLlm(CASES[case][0]) as llm:
        args = ("answers", "--quick", "--json", "--out-dir", str(tmp_path), "--llm", llm.url)
        done = _run("eval.py", *args, "--llm-model", "fake")
        asked = len(llm.requests)
    summary = json.loads(done.stdout)
    assert summary["questions"] == 23 and summary["refusal_rate"] == 1.0
    figures = summary["llm"]
    assert figures["model"] == "fake" and figures["asked"] == asked > 0
    assert figures["generated_answers"] == asked  # every answer had a verified sentence
    assert figures["drop_share"] == drop_share
    assert figures["fallbacks"] == {}
    assert (tmp_path / "dev-questions-answers-llm-quick.json").is_file()
