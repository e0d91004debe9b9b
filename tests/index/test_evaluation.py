"""Retrieval evaluation: relevance rules, metrics over collapsed rankings, cache and run diffs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.evaluation import DevQuestion
from index import evaluation as ev
from index.build import build_in_memory
from index.records import Chunk, DocumentMeta


def _chunk(cid: str, doc: str, anchor: str, text: str) -> Chunk:
    meta = DocumentMeta(title=doc, kind="statute", status="in_force", source_url="")
    return Chunk(id=cid, doc_id=doc, anchor=anchor, text=text, embed_text=text, meta=meta, position=0)


CHUNKS = [
    _chunk(
        "k129",
        "statutes/kpa.md",
        "art. 129",
        "Odwołanie wnosi się w terminie czternastu dni od doręczenia decyzji.",
    ),
    _chunk(
        "k35",
        "statutes/kpa.md",
        "art. 35",
        "Załatwienie sprawy wymagającej postępowania wyjaśniającego do miesiąca.",
    ),
    _chunk("u7p1", "statutes/ups.md", "art. 7 pkt 1", "Pomocy społecznej udziela się z powodu ubóstwa."),
    _chunk("u7p2", "statutes/ups.md", "art. 7 pkt 2", "Pomocy społecznej udziela się z powodu sieroctwa."),
    _chunk(
        "c1", "conferences/zakopane.md", "§ Program konferencji", "Konferencja w Zakopanem o pracy socjalnej."
    ),
]


def test_dev_questions_dataset_relevance_follow_ups_and_skips() -> None:
    questions = [
        DevQuestion("a", "ile dni na odwołanie", True, "czternastu", "statutes/kpa.md", "art. 129 § 2"),
        DevQuestion("b", "a od kiedy?", True, None, "statutes/kpa.md", "art. 129 § 2", follow_up_of="a"),
        DevQuestion("c", "powody pomocy", True, None, "statutes/ups.md", "art. 7"),
        DevQuestion("d", "stolica Australii", False),
        DevQuestion("e", "artykuł którego nie ma", True, None, "statutes/kpa.md", "art. 999"),
        DevQuestion("f", "o konferencji", True, None, "conferences/zakopane.md", None),
    ]
    dataset = ev.dev_questions_dataset(questions, CHUNKS)
    by_id = {q.id: q for q in dataset.queries}
    assert set(by_id) == {"a", "b", "c", "f"}  # unanswerable and unmatched targets left out
    assert by_id["a"].relevant == {"k129"}
    assert by_id["b"].text == "ile dni na odwołanie a od kiedy?"  # searched with its parent
    assert by_id["c"].relevant == {"u7p1", "u7p2"}
    assert by_id["f"].relevant == {"c1"}


def test_scores_count_the_first_relevant_hit_once() -> None:
    query = ev.EvalQuery("q", "x", frozenset({"r1", "r2"}))
    # Two relevant chunks in the list: a query is answered by any one of them.
    scores = ev.score_rankings([["x", "r1", "r2"]], [query])
    assert scores["recall@1"] == 0.0
    assert scores["recall@5"] == 1.0
    assert scores["mrr@10"] == pytest.approx(0.5)
    assert scores["ndcg@10"] == pytest.approx(1 / 1.5849625, rel=1e-6)
    assert ev.first_relevant_rank(["x", "y"], query.relevant) is None


def test_run_system_measures_latency_and_ranks() -> None:
    queries = [ev.EvalQuery("q1", "a", frozenset({"1"})), ev.EvalQuery("q2", "b", frozenset({"9"}))]
    result = ev.run_system(lambda text, k: ["1", "2"] if text == "a" else ["2", "9"], queries)
    assert result.ranks == {"q1": 1, "q2": 2}
    assert result.metrics["mrr@10"] == pytest.approx(0.75)
    assert 0 <= result.latency_ms_p50 <= result.latency_ms_p95


def test_systems_on_an_in_memory_index_find_the_right_passage(fake_embedder) -> None:
    loaded = build_in_memory(CHUNKS, fake_embedder)
    dataset = ev.Dataset(
        "t",
        "all",
        CHUNKS,
        [
            ev.EvalQuery("odw", "termin odwołania od decyzji czternastu dni", frozenset({"k129"})),
            ev.EvalQuery("sier", "pomoc z powodu sieroctwa", frozenset({"u7p2"})),
        ],
    )
    results = ev.evaluate(dataset, ev.retrieval_systems(loaded, fake_embedder))
    assert set(results) == {"bm25", "dense", "hybrid", "hybrid-hand"}
    for name, result in results.items():
        assert result.metrics["recall@1"] == 1.0, name
    record = ev.run_record(dataset, results, model="fake")
    assert set(record["systems"]["hybrid"]) == {*ev.METRICS, "latency_ms_p50", "latency_ms_p95"}
    assert record["queries"] == 2 and record["ranks"]["bm25"] == {"odw": 1, "sier": 1}


def test_rank_changes_show_gains_and_losses(tmp_path: Path) -> None:
    before = {"ranks": {"hybrid": {"a": 1, "b": None, "c": 3, "d": 2}}}
    after = {"ranks": {"hybrid": {"a": 4, "b": 2, "c": 3, "e": 1}, "bm25": {"a": 1}}}
    ev.save_run(tmp_path / "run.json", before)
    changes = ev.rank_changes(ev.load_run(tmp_path / "run.json"), after)
    assert {(c.query_id, c.better) for c in changes} == {("a", False), ("b", True)}
    text = ev.format_changes(changes, "old.json")
    assert "hybrid: 1 better, 1 worse" in text and "worse  a: 1 -> 4" in text and "better b: - -> 2" in text
    assert ev.load_run(tmp_path / "missing.json") is None


def test_cached_embedder_embeds_each_text_once(tmp_path: Path, fake_embedder) -> None:
    path = ev.CachedPassageEmbedder.file_for(tmp_path, fake_embedder.model_id, "corpus-hash")
    first = ev.CachedPassageEmbedder(fake_embedder, path)
    vectors = first.encode_passages(["a b", "c d"])
    first.save()
    second = ev.CachedPassageEmbedder(fake_embedder, path)
    again = second.encode_passages(["c d", "a b", "e f"])
    assert (second.hits, second.misses) == (2, 1)
    assert again[0] == pytest.approx(vectors[1]) and again[1] == pytest.approx(vectors[0])
    other_model = ev.CachedPassageEmbedder.file_for(tmp_path, "another-model", "corpus-hash")
    assert other_model != path


def test_load_lqad_quick_keeps_relevant_passages_and_distractors(tmp_path: Path) -> None:
    corpus = [
        {"id": f"p{i}", "act_title": "Ustawa", "text": f"tekst {i}", "splits": ["dev"]} for i in range(400)
    ]
    queries = [
        {
            "id": f"q{i}",
            "split": "dev" if i % 2 else "test",
            "question": f"pytanie {i}",
            "relevant_passage_ids": [f"p{399 - i}"],
        }
        for i in range(200)
    ]
    (tmp_path / "lqad_pl_retrieval_corpus.jsonl").write_text("\n".join(map(json.dumps, corpus)))
    (tmp_path / "lqad_pl_retrieval_queries.jsonl").write_text("\n".join(map(json.dumps, queries)))
    full = ev.load_lqad(tmp_path, "dev")
    assert len(full.queries) == 100 and len(full.chunks) == 400
    assert full.chunks[0].embed_text == "Ustawa\ntekst 0"
    quick = ev.load_lqad(tmp_path, "dev", quick=True)
    ids = {c.id for c in quick.chunks}
    assert len(quick.queries) == ev.QUICK_QUERIES
    assert all(q.relevant <= ids for q in quick.queries)
    assert len(ids) == ev.QUICK_QUERIES + ev.QUICK_DISTRACTORS
    with pytest.raises(ValueError):
        ev.load_lqad(tmp_path, "train")
