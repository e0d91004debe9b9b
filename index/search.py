"""Hybrid search: dense ∪ BM25 → fusion → unit boost → filters → status tie-break → no duplicates.

``Searcher`` answers over one loaded index version. ``HotSearcher`` holds the
current ``Searcher`` of a store and swaps in a newer version without failing
searches already running.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from index import fusion
from index.errors import IndexNotBuilt, PomocnikError
from index.evidence import chunk_units
from index.legal_units import parse_anchor, parse_unit_refs
from index.metadata import effective_status
from index.polish import fold_diacritics, text_key, word_tokens, words
from index.query import Query, Vocabulary, read_query
from index.records import Chunk, Hit, QueryVector
from index.store import IndexStore, LoadedIndex

log = logging.getLogger(__name__)

# Naming a unit ("art. 37") is the most precise thing a user can say, so a
# matching unit outranks any passage found by wording alone (fused scores lie in
# [0, 1], ± the status shift below); among matching units the fused score decides.
UNIT_BOOST = 2.0
# A historical passage loses this much, or gains it when the question asks about
# the past: enough to decide a near-tie with an in-force passage, too little to
# hide a clearly better one.
HISTORICAL_SHIFT = 0.05
# A passage whose period of application covers a year the question names
# ("kryterium w 2013") gains this much: enough to beat today's wording of the
# same rule, which would otherwise win on words alone.
YEAR_SHIFT = 0.15
# A unit named without its act ("art. 7") matches that article in every act, and
# in a large collection that is thousands of passages. Only this many compete:
# those the dense or lexical search found (best fused first), then those nearest
# the query by meaning, so the cost of a query stays flat with collection size.
UNIT_BOOST_LIMIT = 32
# With filters the best candidates may all be filtered out, so look deeper.
FILTERED_DEPTH_FACTOR = 4

_DOTTED_ABBREVIATION = re.compile(r"\b(?:[^\W\d_]\.\s?){2,6}", re.UNICODE)


class QueryEmbedder(Protocol):
    """What search needs from ``index.embedder.Embedder``."""

    model_id: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...


class Searcher:
    """Search over one ``LoadedIndex``; safe to share between threads."""

    def __init__(
        self,
        loaded: LoadedIndex,
        embedder: QueryEmbedder,
        candidates: int = fusion.CANDIDATES,
        fusion_model: Path | None = fusion.MODEL_FILE,
    ) -> None:
        """Raises ``IndexNotBuilt`` when ``loaded`` was built by another model than ``embedder``.

        ``fusion_model=None`` fuses with the hand-weighted ``fusion.fuse`` (the baseline).
        """
        built_with = (loaded.manifest.get("model_id"), loaded.manifest.get("dim"))
        if built_with != (embedder.model_id, embedder.dim):
            raise IndexNotBuilt(
                f"Indeks {loaded.version} zbudowano modelem {built_with[0]!r} (wymiar {built_with[1]}), "
                f"a wczytany jest {embedder.model_id!r} (wymiar {embedder.dim}): "
                "przebuduj indeks (`python -m index build`)."
            )
        self.loaded = loaded
        self._embedder = embedder
        self._candidates = candidates
        self._fusion_model = fusion_model
        self._vocabulary: Vocabulary | None = None  # built on first use
        self._units: UnitTable | None = None  # built on first unit query
        self._acts = {act: _ActName.of(act) for act in {c.meta.act for c in loaded.chunks} if act}
        # BM25 runs here while the calling thread embeds the query: both release
        # the GIL, and at a million passages BM25 costs as much as the embedding.
        self._lexical_worker = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bm25")
        # The search and the refusal gate both need the question's vector: encode it once.
        self._encode = lru_cache(maxsize=64)(self._encode_text)

    @property
    def version(self) -> str:
        """The index version this searcher answers from."""
        return self.loaded.version

    @property
    def vocabulary(self) -> Vocabulary:
        """The folded word forms of the index, for typo tolerance (``index.query``)."""
        if self._vocabulary is None:  # racing threads build equal vocabularies: harmless
            self._vocabulary = Vocabulary(self.loaded.lexical.vocabulary())
        return self._vocabulary

    def read(self, question: str, previous: str = "", today: date | None = None) -> Query:
        """``question`` read into a ``Query`` with this index's vocabulary."""
        return read_query(question, previous=previous, today=today, vocabulary=self.vocabulary)

    def embed(self, query: Query) -> QueryVector:
        """The query vector of ``query`` as searched (shape (dim,), read-only, cached)."""
        return QueryVector(self._embedder.model_id, self._encode(query.search_text.strip()))

    def _encode_text(self, text: str) -> np.ndarray:
        vector: np.ndarray = self._embedder.encode_queries([text]).astype(np.float32, copy=False)[0]
        vector.setflags(write=False)
        return vector

    def search(
        self,
        query: str | Query,
        k: int = 5,
        kinds: Collection[str] | None = None,
        statuses: Collection[str] | None = None,
        on: date | None = None,
    ) -> list[Hit]:
        """The ``k`` best passages for ``query``, best first, no two with the same text.

        A plain string is read with ``read`` first (typos, shorthand, years).
        ``kinds`` and ``statuses`` keep only passages of those kinds and of those
        statuses on ``on`` (default: today). ``Hit.dense_score`` is the cosine of
        query and passage for every hit, whichever list found it;
        ``Hit.unit_cosines`` those of its evidence units, when the index stores them.
        """
        chunks = self.loaded.chunks
        today = on or date.today()
        if isinstance(query, str):
            if not query.strip():
                return []
            query = self.read(query, today=today)
        text = query.search_text.strip()
        if not text or k <= 0 or not chunks:
            return []
        filtered = kinds is not None or statuses is not None
        depth = self._candidates * (FILTERED_DEPTH_FACTOR if filtered else 1)
        depth = min(len(chunks), max(depth, k))

        dense, lexical, query_vector = self._retrieve(query, depth)
        dense_rank = {row: rank for rank, (row, _) in enumerate(dense, start=1)}
        lexical_rank = {row: rank for rank, (row, _) in enumerate(lexical, start=1)}
        fused = {int(row): score for row, score in self._fuse(dense, lexical, query_vector, query)}
        boosted = self._unit_rows(query.text)
        if len(boosted) > UNIT_BOOST_LIMIT:
            boosted = self._closest(boosted, fused, query_vector)
        past = query.past
        years = set(query.years)

        ranked: list[tuple[float, int, int]] = []  # (score, recency, row)
        for row in fused.keys() | boosted:
            chunk = chunks[row]
            status = effective_status(chunk.meta, today)
            if kinds is not None and chunk.meta.kind not in kinds:
                continue
            if statuses is not None and status not in statuses:
                continue
            score = fused.get(row, 0.0) + (UNIT_BOOST if row in boosted else 0.0)
            if status == "historical":
                score += HISTORICAL_SHIFT if past else -HISTORICAL_SHIFT
            if years and _applies_in(chunk, years):
                score += YEAR_SHIFT
            ranked.append((score, _recency(chunk), row))
        # Equal scores: the more recent passage first (the older one for questions
        # about the past), then the earlier row.
        direction = 1 if past else -1
        ranked.sort(key=lambda item: (-item[0], direction * item[1], item[2]))

        picked: list[tuple[float, int]] = []
        seen_texts: set[str] = set()
        for score, _, row in ranked:
            text = text_key(chunks[row].text)
            if text in seen_texts:
                continue
            seen_texts.add(text)
            picked.append((score, row))
            if len(picked) == k:
                break
        cosines = self.loaded.vectors.vectors_at([row for _, row in picked]) @ query_vector
        units = self.loaded.sentences
        return [
            Hit(
                chunk=chunks[row],
                score=float(score),
                dense_rank=dense_rank.get(row),
                lexical_rank=lexical_rank.get(row),
                unit_boost=row in boosted,
                dense_score=float(cosine),
                unit_cosines=None
                if units is None
                else tuple(units.cosines(chunk_units(chunks[row]), query_vector)),
            )
            for (score, row), cosine in zip(picked, cosines, strict=True)
        ]

    def fusion_candidates(self, query: Query) -> tuple[list[str], np.ndarray]:
        """What the learned fusion sees for ``query``: the dense ∪ BM25 candidate rows (as str)
        and one ``fusion.FUSION_FEATURES`` row each (``scripts/train_answerer.py`` labels them)."""
        depth = min(len(self.loaded.chunks), self._candidates)
        dense, lexical, query_vector = self._retrieve(query, depth)
        return fusion.fusion_features(*self._fusion_inputs(dense, lexical, query_vector, query))

    def _retrieve(
        self, query: Query, depth: int
    ) -> tuple[list[tuple[int, float]], list[tuple[int, float]], np.ndarray]:
        """Dense and BM25 candidates (row, score), and the query vector."""
        lexical_job = self._lexical_worker.submit(
            self.loaded.lexical.search, query.search_text.strip(), depth
        )
        query_vector = self.embed(query).values.copy()  # faiss wants a writable array
        scores, rows = self.loaded.vectors.search(query_vector[None, :], depth)
        dense = [(int(r), float(s)) for s, r in zip(scores[0], rows[0], strict=True) if r >= 0]
        return dense, lexical_job.result(), query_vector

    def _fusion_inputs(
        self,
        dense: list[tuple[int, float]],
        lexical: list[tuple[int, float]],
        query_vector: np.ndarray,
        query: Query,
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]], dict[str, float], int]:
        """The learned fusion's inputs: both lists by str id, the cosine of every candidate
        (also of those only BM25 found) and the number of query words."""
        cosines = {str(r): s for r, s in dense}
        missing = sorted({r for r, _ in lexical} - {r for r, _ in dense})
        if missing:
            extra = self.loaded.vectors.vectors_at(missing) @ query_vector
            cosines.update({str(r): float(c) for r, c in zip(missing, extra, strict=False)})
        dense_ids = [(str(r), s) for r, s in dense]
        lexical_ids = [(str(r), s) for r, s in lexical]
        return dense_ids, lexical_ids, cosines, len(words(query.search_text))

    def _fuse(
        self,
        dense: list[tuple[int, float]],
        lexical: list[tuple[int, float]],
        query_vector: np.ndarray,
        query: Query,
    ) -> list[tuple[str, float]]:
        """Dense and BM25 candidates fused: by the learned model, or by hand weights without one."""
        if self._fusion_model is None:
            return fusion.fuse([(str(r), s) for r, s in dense], [(str(r), s) for r, s in lexical])
        return fusion.learned_fuse(
            *self._fusion_inputs(dense, lexical, query_vector, query), self._fusion_model
        )

    def _closest(self, rows: set[int], fused: dict[int, float], query_vector: np.ndarray) -> set[int]:
        """``UNIT_BOOST_LIMIT`` of ``rows``: those in ``fused`` by score, then the nearest by cosine."""
        found = sorted(rows & fused.keys(), key=lambda row: (-fused[row], row))
        chosen = found[:UNIT_BOOST_LIMIT]
        rest = np.array(sorted(rows - fused.keys()), dtype=np.int64)
        room = UNIT_BOOST_LIMIT - len(chosen)
        if room > 0 and len(rest):
            cosines = self.loaded.vectors.vectors_at(rest) @ query_vector
            chosen += rest[np.argsort(-cosines, kind="stable")[:room]].tolist()
        return set(chosen)

    def _unit_rows(self, query: str) -> set[int]:
        """Rows whose anchor lies on a unit the query names, in the act it names if any."""
        refs = parse_unit_refs(query)
        if not refs:
            return set()
        if self._units is None:  # racing threads build identical tables: harmless
            self._units = _unit_table(self.loaded.chunks)
        named = {act for act, name in self._acts.items() if name.named_in(query)}
        matching: set[int] = set()
        in_named: set[int] = set()
        for ref in refs:
            level = "article" if ref.article is not None else "section"
            label = ref.article if ref.article is not None else ref.section
            for (anchor, act), rows in self._units.get((level, label or ""), {}).items():
                if ref.matches(anchor):
                    matching.update(rows)
                    if act in named:
                        in_named.update(rows)
        # Prefer the named act; if it holds no such unit, every match still counts.
        return in_named or matching


class HotSearcher:
    """The current version's ``Searcher``, swapped when ``CURRENT`` changes.

    A swap replaces one reference, so a search already running finishes on the
    version it started with. ``refresh`` is cheap when nothing changed (one
    small file read).
    """

    def __init__(self, store: IndexStore, embedder: QueryEmbedder) -> None:
        self._store = store
        self._embedder = embedder
        self._searcher: Searcher | None = None
        self._load_error: PomocnikError | OSError | ValueError | None = None  # why the last version failed
        self._reported: str | None = None  # the problem last logged, so a watch logs it once
        self._refresh_lock = threading.Lock()
        self.refresh()

    @property
    def searcher(self) -> Searcher:
        """The serving ``Searcher``; raises ``IndexNotBuilt`` when none could be loaded."""
        searcher = self._searcher
        if searcher is None:
            if self.refresh() and self._searcher is not None:
                return self._searcher
            if self._load_error is not None:
                raise IndexNotBuilt(str(self._load_error))
            raise IndexNotBuilt(
                f"Brak indeksu w {self._store.root}: zbuduj go poleceniem `python -m index build`."
            )
        return searcher

    @property
    def version(self) -> str | None:
        """The version being served, or None."""
        searcher = self._searcher
        return searcher.version if searcher else None

    def refresh(self) -> bool:
        """Load the version in ``CURRENT`` if it is not the one served; True if swapped.

        A version that fails to load is logged and the old one keeps serving. A
        watch calls this every few seconds: the same problem is logged once, again
        only when it changes, and its end is logged too.
        """
        with self._refresh_lock:
            wanted = self._store.current_version()
            if wanted is None or wanted == self.version:
                self._report(None)
                return False
            try:
                searcher = Searcher(self._store.load_version(wanted), self._embedder)
            except (PomocnikError, OSError, ValueError) as exc:  # ValueError: a NUL in CURRENT
                self._report(f"Keeping index version {self.version}: cannot load {wanted}: {exc}")
                self._load_error = exc
                return False
            self._searcher, self._load_error = searcher, None
            self._report(None)
            log.info("Now serving index version %s", wanted)
            return True

    def _report(self, problem: str | None) -> None:
        """Log ``problem`` if it is new; log that the last one cleared when it is None."""
        if problem == self._reported:
            return
        if problem is not None:
            log.warning("%s", problem)
        else:
            log.info("Index problem cleared: %s", self._reported)
        self._reported = problem

    def read(self, question: str, previous: str = "", today: date | None = None) -> Query:
        """``Searcher.read`` on the version being served."""
        return self.searcher.read(question, previous, today)

    def embed(self, query: Query) -> QueryVector:
        """``Searcher.embed`` on the version being served."""
        return self.searcher.embed(query)

    def search(
        self,
        query: str | Query,
        k: int = 5,
        kinds: Collection[str] | None = None,
        statuses: Collection[str] | None = None,
        on: date | None = None,
    ) -> list[Hit]:
        """``Searcher.search`` on the version being served."""
        return self.searcher.search(query, k=k, kinds=kinds, statuses=statuses, on=on)


# ---------------------------------------------------------------- helpers


def _recency(chunk: Chunk) -> int:
    meta = chunk.meta
    when = meta.effective_from or meta.date
    return when.toordinal() if when else 0


def _applies_in(chunk: Chunk, years: set[int]) -> bool:
    """Whether the chunk's stated period of application covers one of ``years``."""
    start, end = chunk.meta.effective_from, chunk.meta.effective_to
    if start is None and end is None:
        return False
    return any((start is None or start.year <= year) and (end is None or end.year >= year) for year in years)


UnitTable = dict[tuple[str, str], dict[tuple[str, str | None], list[int]]]


def _unit_table(chunks: Sequence[Chunk]) -> UnitTable:
    """Rows by their top unit, then by (anchor, act): ("article", "7") → {("art. 7 ust. 1", act): rows}.

    A query's unit is compared once per distinct anchor and act, not once per
    row: in a large collection one anchor stands for thousands of passages.
    """
    table: UnitTable = {}
    for row, chunk in enumerate(chunks):
        ref = parse_anchor(chunk.anchor) if chunk.anchor else None
        if ref is None:
            continue
        if ref.article is not None:
            key = ("article", ref.article)
        elif ref.section is not None:
            key = ("section", ref.section)
        else:
            continue
        table.setdefault(key, {}).setdefault((chunk.anchor, chunk.meta.act), []).append(row)
    return table


@dataclass(frozen=True)
class _ActName:
    """How a query can name an act: its subject words ("pomocy społecznej") or initials ("ups")."""

    words: tuple[str, ...]
    abbreviation: str

    @classmethod
    def of(cls, act: str) -> _ActName:
        # "ustawa z dnia 12 marca 2004 r. o pomocy społecznej" → subject "pomocy społecznej";
        # "ustawa z dnia 14 czerwca 1960 r. — Kodeks postępowania administracyjnego" → the code's name.
        text = re.sub(r"^.*?\b\d{4}\s*r\.\s*[—–-]?\s*", "", act.strip())
        is_code = bool(re.match(r"(?i)kodeks\b", text))
        subject = text if is_code else re.split(r"\bo\s+", text)[-1]
        content = tuple(w for w in words(subject) if len(w) > 2)
        initials = "".join(fold_diacritics(w[0]) for w in content)
        prefix = "" if is_code else fold_diacritics(words(act)[0][0]) if words(act) else ""
        return cls(content, prefix + initials)

    def named_in(self, query: str) -> bool:
        """Whether ``query`` names this act by all its subject words or by its initials."""
        if not self.words:
            return False
        tokens = {token.lstrip("~") for word in words(query) for token in word_tokens(word)}
        if all(any(t.lstrip("~") in tokens for t in word_tokens(w)) for w in self.words):
            return True
        if len(self.abbreviation) < 3:
            return False
        dotted = {re.sub(r"[.\s]", "", m).lower() for m in _DOTTED_ABBREVIATION.findall(query)}
        plain = {fold_diacritics(w) for w in words(query)}
        return self.abbreviation in {fold_diacritics(d) for d in dotted} | plain
