"""Evaluate retrieval (bm25, dense, hybrid side by side) or whole answers; save and diff each run.

    python scripts/eval.py retrieval --dataset lqad-pl --split dev|test [--json] [--quick]
    python scripts/eval.py retrieval --dataset dev-questions [--json]
    python scripts/eval.py answers --dataset dev-questions [--json] [--quick] [--half tune|holdout]
    python scripts/eval.py answers --llm http://localhost:11434/v1 --llm-model NAME [--quick]
    python scripts/eval.py answers --dataset blind|offtopic-eval [--json]
    python scripts/eval.py evidence --dataset lqad-pl --split dev|test [--json]

Each run is saved to data/eval/<dataset>-<split>.json (answers:
data/eval/dev-questions-answers[-<half>].json) and compared query by query with the run
saved before it. ``--half`` scores one fixed half of the development
questions (bot.evaluation.half_of): tune answer heuristics on "tune", then
check that "holdout" improves or holds. ``blind`` (tests/data/blind_questions) and
``offtopic-eval`` (tests/data/offtopic_eval) are held-out sets: never tune on them.
``evidence`` scores answer-sentence accuracy@1 on LQAD-PL: is the unit holding the
gold answer span ranked first among the units of the top 10 passages? The learned
ranker is compared with "first sentence of the top passage" and plain e5 cosine.
``--llm URL`` answers through an OpenAI-compatible model as the bot does with
POMOCNIK_LLM_URL (bot.generate) and adds the share of generated sentences dropped by
verification and the fallbacks, saved as <dataset>-answers-llm[...].json.
With ``--json`` stdout holds only the JSON summary; the diff
goes to stderr. Passage vectors are cached under data/cache/, so reruns only
embed the queries. LQAD-PL is read from ../shared/sources/eval/lqad_pl.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from bot.evaluation import (
    EARLY_CHARS,
    HALVES,
    DevQuestion,
    anchor_holds,
    anchor_precision,
    answer_body,
    citation_precision,
    cites_expected,
    contains_fact,
    half_of,
    load_dev_questions,
    score_answers,
)
from index import evaluation as ev
from index.metrics import percentile
from index.records import Chunk
from index.settings import IndexSettings

log = logging.getLogger("eval")

LQAD_DIR = ROOT.parent / "shared" / "sources" / "eval" / "lqad_pl"
QUESTIONS_DIR = ROOT / "tests" / "data" / "dev_questions"
HELD_OUT = {
    "blind": ROOT / "tests" / "data" / "blind_questions",
    "offtopic-eval": ROOT / "tests" / "data" / "offtopic_eval",
}
ANSWER_ONLY = tuple(HELD_OUT)
QUICK_ANSWER_QUESTIONS = 20  # --quick: the first 20 answerable questions …
QUICK_OFF_TOPIC = 3  # … and the first 3 off-topic ones


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "answers" and args.dataset == "lqad-pl":
        parser.error("answers are evaluated on dev-questions, blind or offtopic-eval")
    if args.command in ("retrieval",) and args.dataset in ANSWER_ONLY:
        parser.error(f"{args.dataset} has no retrieval targets: use `answers`")
    if args.command == "evidence" and args.dataset != "lqad-pl":
        parser.error("evidence is evaluated on --dataset lqad-pl")
    if args.llm and args.command != "answers":
        parser.error("--llm applies to answers only")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    settings = IndexSettings()
    embedder = _embedder(args, settings)
    if args.command == "retrieval":
        record, label = _retrieval(args, settings, embedder)
    elif args.command == "evidence":
        record, label = _evidence(args, embedder)
    else:
        record, label = _answers(args, settings, embedder)
    path = args.out_dir / f"{label}.json"
    previous = ev.load_run(path)
    if args.json:
        print(
            json.dumps(
                {k: v for k, v in record.items() if k not in ("ranks", "per_question")},
                ensure_ascii=False,
                indent=1,
            )
        )
    else:
        print(_table(record))
    diff = _diff(previous, record, path)
    print(diff, file=sys.stderr if args.json else sys.stdout)
    if not args.no_save:
        ev.save_run(path, record)
    return 0


# ---------------------------------------------------------------- retrieval


def _retrieval(
    args: argparse.Namespace, settings: IndexSettings, embedder: Any
) -> tuple[dict[str, Any], str]:
    if args.dataset == "lqad-pl":
        dataset = ev.load_lqad(args.lqad_dir, args.split, quick=args.quick)
        cache_key = ev.corpus_key(args.lqad_dir / "lqad_pl_retrieval_corpus.jsonl")
    else:
        questions = load_dev_questions(args.questions)
        dataset = ev.dev_questions_dataset(questions, _knowledge_chunks(args, settings))
        cache_key = "knowledge"  # passages change with every edit: the cache is per text anyway
    loaded = ev.cached_build(
        dataset.chunks,
        embedder,
        args.cache_dir,
        cache_key,
        batch_size=settings.embed_batch_size,
        sentences=False,
    )
    results = ev.evaluate(dataset, ev.retrieval_systems(loaded, embedder, today=args.today))
    record = ev.run_record(
        dataset, results, model=embedder.model_id, quick=args.quick, passages=len(loaded.chunks)
    )
    suffix = "-quick" if args.quick else ""
    return record, f"{dataset.name}-{dataset.split}{suffix}"


def _knowledge_chunks(args: argparse.Namespace, settings: IndexSettings) -> list[Chunk]:
    return ev.knowledge_chunks(args.knowledge, int(settings.max_file_mb * 1024 * 1024))


# ---------------------------------------------------------------- answers


def _answers(args: argparse.Namespace, settings: IndexSettings, embedder: Any) -> tuple[dict[str, Any], str]:
    from bot.generate import GenerationResult, Writer, respond
    from bot.plain import answer_to_json
    from bot.settings import Settings
    from index.search import Searcher

    every = load_dev_questions(HELD_OUT.get(args.dataset, args.questions))
    by_id = {q.id: q for q in every}  # a follow-up's parent may lie outside the subset
    questions = every
    if args.half:
        questions = [q for q in every if half_of(q, by_id) == args.half]
    if args.quick:
        questions = [q for q in questions if q.answerable][:QUICK_ANSWER_QUESTIONS] + [
            q for q in questions if not q.answerable
        ][:QUICK_OFF_TOPIC]
    loaded = ev.cached_build(
        _knowledge_chunks(args, settings),
        embedder,
        args.cache_dir,
        "knowledge",
        batch_size=settings.embed_batch_size,
    )
    searcher = Searcher(loaded, embedder)
    chunk_of = {chunk.id: chunk for chunk in loaded.chunks}
    writer = None
    if args.llm:
        llm = Settings(llm_url=args.llm, llm_model=args.llm_model, llm_timeout=args.llm_timeout)
        writer = Writer(llm)
    pairs, rows, latencies, anchors = [], [], [], []
    generations: list[GenerationResult] = []
    searcher.search(questions[0].question, k=8, on=args.today)  # warm-up, untimed
    for question in questions:
        parent = by_id.get(question.follow_up_of or "")
        started = time.perf_counter()
        response = respond(
            question.question,
            searcher,
            history=[parent.question] if parent else [],
            today=args.today,
            writer=writer,
        )
        latencies.append((time.perf_counter() - started) * 1000)
        result = response.answer
        generations.append(response)
        reply = answer_to_json(result)
        # The JSON form names chunks only; scoring the expected document needs doc ids.
        cited_list = reply["citations"] if isinstance(reply["citations"], list) else []
        by_number = {citation.n: citation for citation in result.citations}
        for cited in cited_list:
            citation = by_number[cited["n"]]
            cited.setdefault("doc_id", citation.doc_id)
        pairs.append((question, reply))
        rows.append(_question_row(question, reply))
        if response.attempted:
            rows[-1].update(
                generated=response.generated, dropped=response.dropped, fallback=response.fallback
            )
        # Anchor precision: does each citation's anchor hold the sentences it cites?
        held = [
            anchor_holds(c.anchor, chunk_of[c.chunk_id], c.sentences)
            for c in result.citations
            if c.chunk_id in chunk_of
        ]
        anchors += held
        if held:
            rows[-1]["anchors"] = [c.anchor for c in result.citations]
            rows[-1]["anchors_held"] = all(held)
    scores = score_answers(pairs)
    record = {
        "dataset": args.dataset,
        "split": "answers",
        "questions": scores.questions,
        "fact_rate": round(scores.fact_rate, 4),
        "fact_early_rate": round(scores.fact_early_rate, 4),
        "citation_rate": round(scores.citation_rate, 4),
        "citation_precision": round(scores.citation_precision, 4),
        "anchor_precision": round(anchor_precision(anchors), 4),
        "anchor_citations": len(anchors),
        "refusal_rate": round(scores.refusal_rate, 4),
        "false_refusals": scores.false_refusals,
        "false_refusal_rate": round(scores.false_refusal_rate, 4),
        "dated_citations": round(scores.dated_citations, 4),
        "latency_ms_p50": round(percentile(latencies, 50), 2),
        "latency_ms_p95": round(percentile(latencies, 95), 2),
        "failing": [row["id"] for row in rows if not row["passed"]],
        "model": embedder.model_id,
        "quick": args.quick,
        "half": args.half,
        "per_question": {row.pop("id"): row for row in rows},
    }
    if writer is not None:
        writer.close()
        record["llm"] = _generation_figures(generations, args.llm_model)
    label = f"{args.dataset}-answers" + ("-llm" if args.llm else "") + (f"-{args.half}" if args.half else "")
    return record, label + ("-quick" if args.quick else "")


def _generation_figures(generations: list[Any], model: str) -> dict[str, Any]:
    """What the model did: answers it wrote, sentences it wrote and how many verification dropped."""
    attempted = [g for g in generations if g.attempted]
    sentences = sum(g.sentences for g in attempted)
    dropped = sum(g.dropped for g in attempted)
    fallbacks: dict[str, int] = {}
    for g in attempted:
        if g.fallback:
            fallbacks[g.fallback] = fallbacks.get(g.fallback, 0) + 1
    return {
        "model": model,
        "asked": len(attempted),
        "generated_answers": sum(g.generated for g in attempted),
        "sentences": sentences,
        "dropped": dropped,
        "drop_share": round(dropped / sentences, 4) if sentences else 0.0,
        "fallbacks": dict(sorted(fallbacks.items())),
    }


def _question_row(question: DevQuestion, reply: dict[str, Any]) -> dict[str, Any]:
    """What went right or wrong for one question; ``passed`` needs everything expected."""
    answered = bool(reply["answered"])
    row: dict[str, Any] = {"id": question.id, "answered": answered}
    if not question.answerable:
        row["passed"] = not answered
        return row
    row["fact"] = (
        answered
        and bool(question.expected_fact)
        and contains_fact(reply["text"], question.expected_fact or "")
    )
    row["early"] = (
        answered
        and bool(question.expected_fact)
        and contains_fact(answer_body(str(reply["text"]))[:EARLY_CHARS], question.expected_fact or "")
    )
    row["cited"] = cites_expected(reply["citations"], question.expected_doc, question.expected_anchor)
    row["precision"] = round(citation_precision(reply), 3) if answered else None
    row["passed"] = (
        answered
        and (row["fact"] or not question.expected_fact)
        and (row["cited"] or not question.expected_doc)
    )
    return row


# ---------------------------------------------------------------- evidence


def _evidence(args: argparse.Namespace, embedder: Any) -> tuple[dict[str, Any], str]:
    """Answer-sentence accuracy@1 on LQAD-PL: learned ranker vs first sentence vs plain cosine."""
    import numpy as np
    from train_answerer import EVIDENCE_DEPTH, lqad_evidence, lqad_index, lqad_queries

    from bot.evidence import EVIDENCE_FEATURES
    from bot.ranking import EVIDENCE_MODEL
    from index.learned import load_ranker
    from index.search import Searcher

    loaded = lqad_index(args.lqad_dir, embedder, args.cache_dir)
    searcher = Searcher(loaded, embedder)
    rows = lqad_queries(args.lqad_dir, args.split)
    ranker = load_ranker(EVIDENCE_MODEL, EVIDENCE_FEATURES)
    from bot.evidence import unit_features

    cos_col = EVIDENCE_FEATURES.index("unit_cos")
    systems: dict[str, list[bool]] = {
        "learned ranker": [],
        "first sentence of top passage": [],
        "plain e5 cosine": [],
    }
    per_question: dict[str, dict[str, bool]] = {}
    reachable = 0
    for row in rows:
        query, cands, labels = lqad_evidence(searcher, row)
        if not cands:
            picks = dict.fromkeys(systems, False)
        else:
            features = unit_features(query, cands)
            learned = int(np.argmax(ranker.score(features)))
            cosine = int(np.argmax(np.nan_to_num(features[:, cos_col], nan=-1.0)))
            picks = {
                "learned ranker": labels[learned] > 0,
                "first sentence of top passage": labels[0] > 0,
                "plain e5 cosine": labels[cosine] > 0,
            }
        reachable += any(labels)
        for name, ok in picks.items():
            systems[name].append(ok)
        per_question[row["id"]] = picks
    record = {
        "dataset": "lqad-pl",
        "split": args.split,
        "queries": len(rows),
        "reachable": reachable,
        "depth": EVIDENCE_DEPTH,
        "evidence": {
            name: {
                "all": round(sum(oks) / max(1, len(oks)), 4),
                "reachable": round(sum(oks) / max(1, reachable), 4),
            }
            for name, oks in systems.items()
        },
        "model": embedder.model_id,
        "per_question": per_question,
    }
    return record, f"lqad-pl-{args.split}-evidence"


# ---------------------------------------------------------------- output


def _table(record: dict[str, Any]) -> str:
    if "evidence" in record:
        lines = [
            f"answer-sentence accuracy@1, {record['dataset']} / {record['split']}: "
            f"{record['queries']} queries ({record['reachable']} with the gold unit among "
            f"the candidates of the top {record['depth']} passages)",
            "",
            "| system | acc@1 (all) | acc@1 (reachable) |",
            "|---|---|---|",
        ]
        for name, m in record["evidence"].items():
            lines.append(f"| {name} | {m['all']:.3f} | {m['reachable']:.3f} |")
        return "\n".join(lines)
    if "systems" in record:
        head = (
            f"{record['dataset']} / {record['split']}: {record['queries']} queries, "
            f"{record.get('passages')} passages"
        )
        lines = [
            head,
            "",
            "| system | nDCG@10 | R@1 | R@5 | R@10 | MRR@10 | p50 ms | p95 ms |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, m in record["systems"].items():
            lines.append(
                f"| {name} | {m['ndcg@10']:.3f} | {m['recall@1']:.3f} | {m['recall@5']:.3f} | "
                f"{m['recall@10']:.3f} | {m['mrr@10']:.3f} | {m['latency_ms_p50']:.1f} | "
                f"{m['latency_ms_p95']:.1f} |"
            )
        return "\n".join(lines)
    half = f" ({record['half']} half)" if record.get("half") else ""
    lines = [
        f"answers on {record['questions']} questions of {record['dataset']}{half}",
        f"fact rate {record['fact_rate']:.3f}, fact in the first {EARLY_CHARS} characters "
        f"{record['fact_early_rate']:.3f}, citation rate {record['citation_rate']:.3f}, "
        f"citation precision {record['citation_precision']:.3f}",
        f"anchor precision {record.get('anchor_precision', 1.0):.3f} "
        f"over {record.get('anchor_citations', 0)} citations",
        f"off-topic refused {record['refusal_rate']:.3f}, false refusals {record['false_refusals']} "
        f"({record['false_refusal_rate']:.3f})",
        f"citations with status and a date {record.get('dated_citations', 0.0):.3f}",
        f"latency p50 {record['latency_ms_p50']:.1f} ms, p95 {record['latency_ms_p95']:.1f} ms",
    ]
    if "llm" in record:
        llm = record["llm"]
        lines.append(
            f"language model {llm['model'] or '(default)'}: {llm['generated_answers']} of {llm['asked']} "
            f"answers generated; {llm['dropped']} of {llm['sentences']} generated sentences dropped "
            f"({llm['drop_share']:.1%}); fallbacks {llm['fallbacks'] or 'none'}"
        )
    for qid in record["failing"]:
        row = record["per_question"][qid]
        lines.append(f"  FAIL {qid}: " + ", ".join(f"{k}={v}" for k, v in row.items() if k != "passed"))
    return "\n".join(lines)


def _diff(previous: dict[str, Any] | None, current: dict[str, Any], path: Path) -> str:
    if previous is None:
        return f"No previous run at {path}: nothing to compare."
    if "ranks" in current:
        return ev.format_changes(ev.rank_changes(previous, current), str(path))
    if "evidence" in current:
        old_rows, new_rows = previous.get("per_question", {}), current["per_question"]
        moved = [q for q in new_rows if q in old_rows and old_rows[q] != new_rows[q]]
        if not moved:
            return f"Per-question diff against {path}: no question changed."
        return f"Per-question diff against {path}: {len(moved)} changed\n" + "\n".join(
            f"    {q}: {old_rows[q]} -> {new_rows[q]}" for q in moved
        )
    old = previous.get("per_question", {})
    fixed = [
        q for q, row in current["per_question"].items() if row["passed"] and q in old and not old[q]["passed"]
    ]
    broken = [
        q for q, row in current["per_question"].items() if not row["passed"] and q in old and old[q]["passed"]
    ]
    if not fixed and not broken:
        return f"Per-question diff against {path}: no question changed."
    return (
        f"Per-question diff against {path}: {len(fixed)} now pass, {len(broken)} now fail\n"
        + "".join(f"    fixed  {q}\n" for q in fixed)
        + "".join(f"    broken {q}\n" for q in broken)
    ).rstrip()


# ---------------------------------------------------------------- set-up


def _embedder(args: argparse.Namespace, settings: IndexSettings) -> Any:
    from index.embedder import load_embedder
    from index.vectors import configure_threads

    configure_threads()
    return load_embedder(args.model or settings.model_name_or_path, onnx=settings.onnx_queries)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("retrieval", "answers", "evidence"))
    parser.add_argument(
        "--dataset", choices=("lqad-pl", "dev-questions", *ANSWER_ONLY), default="dev-questions"
    )
    parser.add_argument("--split", choices=("dev", "test"), default="dev", help="LQAD-PL split")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--quick", action="store_true", help="a small subset, for CI")
    parser.add_argument(
        "--half",
        choices=HALVES,
        default=None,
        help="answers: score only this fixed half of the development questions",
    )
    parser.add_argument("--model", help="embedding model (default: the configured one)")
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="ISO date the bot lives on")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "data" / "eval")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "data" / "cache")
    parser.add_argument("--lqad-dir", type=Path, default=LQAD_DIR)
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--questions", type=Path, default=QUESTIONS_DIR)
    parser.add_argument(
        "--llm", metavar="URL", help="answers: an OpenAI-compatible base URL (as POMOCNIK_LLM_URL)"
    )
    parser.add_argument("--llm-model", default="", help="answers: the model name the server knows")
    parser.add_argument(
        "--llm-timeout", type=float, default=20.0, help="answers: seconds per model call (default 20)"
    )
    parser.add_argument("--no-save", action="store_true", help="do not save this run")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


if __name__ == "__main__":
    sys.exit(main())
