"""Evidence candidates of the top passages and their features (pure functions).

A candidate is one evidence unit (``index.evidence``: a sentence, or a list item
with its stem) of one retrieved passage. ``unit_features`` describes each with
general features only (no word or phrase of any evaluation question):

- meaning: cosine of question and unit (``Hit.unit_cosines``, e5 ``passage:``
  vectors stored at build), its gap to the best unit, the passage's cosine;
- words: BM25 of the unit over the candidate pool on Morfeusz lemmas, lemma
  overlap with the question (plain and IDF-weighted), the same for the unit with
  its stem and the passage title;
- the passage: hybrid rank and score, a unit named in the question;
- answer type: what the question asks for (``index.query.QUESTION_TYPES``)
  beside what the unit holds (an amount, a period, a date, a body, a list);
- time: the passage's status on the day, the question's scope (past, changes)
  and whether the passage's period of application holds a year it names;
- shape: position, length, list item or stem, negation at the start.

``gate_features`` sums a question's ranked candidates up for the refusal gate.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

import numpy as np

from index.evidence import EvidenceUnit, chunk_units
from index.metadata import effective_status
from index.polish import CARDINALS, LEMMA_MARK, fold_diacritics, text_key, word_tokens, words
from index.query import QUESTION_TYPES, STOPWORDS, Query
from index.records import PLANNED_STATUSES, Hit

_BM25_K1, _BM25_B = 1.2, 0.75

# What a unit holds, read from general Polish forms.
_UNIT_REFERENCE = re.compile(
    r"^\s*\d+[a-z]?[.)]|\b(?:art|ust|pkt|lit|poz|nr|§)\.?\s*\d+[a-z]*(?:\s*[-–]\s*\d+[a-z]*)?|"
    r"\bDz\.\s?U\.[^,;)]*|§|\b(?:19|20)\d\d\s*r\b",
    re.IGNORECASE,
)
_MONEY = re.compile(r"\d\s*(?:zł|złotych|%|procent)|kwot|wysokoś", re.IGNORECASE)
_DATE = re.compile(
    r"\b\d{1,2}\.\d{1,2}\.\d{4}\b|\b\d{4}\s?r\.|\b\d{1,2}\s+(?:stycz|lut|mar|kwiet|maj|czerw|lip|"
    r"sierp|wrze|pa[zź]dzier|listopad|grud)\w*|\bod dnia\b|\bz dniem\b",
    re.IGNORECASE,
)
_TIME_UNITS = frozenset(["dzien", "tydzien", "miesiac", "rok", "godzina"])
# Nouns that name who acts in administrative law (bodies, offices, officials): Polish
# legal vocabulary in general, as lemmas.
_BODY_LEMMAS = frozenset(
    [
        "organ",
        "osrodek",
        "kierownik",
        "wojt",
        "burmistrz",
        "prezydent",
        "starosta",
        "wojewoda",
        "marszalek",
        "minister",
        "sad",
        "rada",
        "kolegium",
        "centrum",
        "dyrektor",
        "zespol",
        "pracownik",
        "komisja",
        "urzad",
        "gmina",
        "powiat",
        "samorzad",
        "sejmik",
        "prokurator",
        "policja",
        "asystent",
        "koordynator",
        "kurator",
    ]
)
_NEGATED = re.compile(r"^\W*(?:\d+[a-z]?[.)]\s*)?(?:[^\s]+\s+){0,3}nie\b", re.IGNORECASE)

EVIDENCE_FEATURES = (
    "unit_cos",
    "unit_cos_gap",
    "unit_cos_rank",
    "passage_cos",
    "passage_rank",
    "passage_score_share",
    "named_unit",
    "bm25",
    "bm25_share",
    "overlap",
    "overlap_idf",
    "context_overlap_idf",
    "passage_overlap_idf",
    *(f"asks_{name}" for name in QUESTION_TYPES),
    "has_amount",
    "has_number",
    "has_duration",
    "has_date",
    "has_body",
    "is_item",
    "is_stem",
    "negated",
    "position",
    "relative_position",
    "length_words",
    "status_future",
    "status_historical",
    "asks_past",
    "asks_changes",
    "year_fit",
)

# The gate reads the evidence, not the ranker's scores: the ranker was trained on the tune
# questions the gate is also trained on, so its scores there are optimistic and a gate
# reading them learnt to refuse unseen questions (20 % false refusals on the holdout).
GATE_FEATURES = (
    "best_unit_cos",
    "best_passage_cos",
    "best_overlap_idf",
    "passage_coverage_idf",
    "unknown_share",
    "best_bm25",
    "type_fit",
    "content_words",
    "years_unmatched",
)
# Gate features that are cosines of the embedding model: they mean nothing for another model.
MODEL_GATE_FEATURES = frozenset({"best_unit_cos", "best_passage_cos"})


@dataclass(frozen=True)
class Candidate:
    """One evidence unit of one retrieved passage."""

    hit_rank: int  # 1-based rank of the passage
    hit: Hit
    unit: EvidenceUnit
    cosine: float | None  # question–unit cosine, None when the index stores no unit vectors
    status: str  # the passage's status on the day asked


def candidates(hits: Sequence[Hit], today: date) -> list[Candidate]:
    """Every evidence unit of every hit, in rank and reading order (repeated texts once)."""
    result: list[Candidate] = []
    seen: set[str] = set()
    for rank, hit in enumerate(hits, 1):
        status = effective_status(hit.chunk.meta, today)
        units = chunk_units(hit.chunk)
        cosines = hit.unit_cosines if hit.unit_cosines and len(hit.unit_cosines) == len(units) else None
        for i, unit in enumerate(units):
            key = text_key(unit.embed_text)
            if key in seen:
                continue
            seen.add(key)
            result.append(Candidate(rank, hit, unit, cosines[i] if cosines else None, status))
    return result


def _tokens(text: str) -> list[str]:
    """Marked lemmas of the content words (folded forms for words without a lemma, e.g. numbers)."""
    out: list[str] = []
    for word in words(text):
        if fold_diacritics(word) in STOPWORDS:
            continue
        tokens = word_tokens(word)
        out.extend(tokens[1:] or tokens[:1])
    return out


def _query_tokens(query: Query) -> set[str]:
    return {t for t in query.lemmas if t.startswith(LEMMA_MARK) or any(ch.isdigit() for ch in t)}


def unit_features(query: Query, cands: Sequence[Candidate]) -> np.ndarray:
    """One row of ``EVIDENCE_FEATURES`` per candidate (NaN where a value is unknown)."""
    if not cands:
        return np.zeros((0, len(EVIDENCE_FEATURES)))
    qtokens = _query_tokens(query)
    unit_tokens = [_tokens(c.unit.text) for c in cands]
    context_tokens = [
        set(_tokens(f"{c.unit.stem or ''} {c.hit.chunk.meta.title} {c.hit.chunk.anchor}")) | set(t)
        for c, t in zip(cands, unit_tokens, strict=False)
    ]
    passage_tokens = {id(c.hit): set(_tokens(c.hit.chunk.embed_text or c.hit.chunk.text)) for c in cands}
    idf = _pool_idf(unit_tokens)
    bm25 = _bm25(qtokens, unit_tokens, idf)
    best_bm25 = max(bm25) or 1.0
    # math.fsum: sums over sets must not depend on their (hash-seeded) order, or training
    # would not be reproducible to the last bit.
    q_weight = math.fsum(idf.get(t, _max_idf(idf)) for t in qtokens) or 1.0
    cos = [c.cosine for c in cands]
    known = [x for x in cos if x is not None]
    best_cos = max(known) if known else None
    order = sorted(known, reverse=True)
    best_score = max(c.hit.score for c in cands) or 1.0
    per_hit = Counter(id(c.hit) for c in cands)
    rows = []
    for c, tokens, context, score in zip(cands, unit_tokens, context_tokens, bm25, strict=False):
        tset = set(tokens)
        text = c.unit.text
        rows.append(
            [
                _nan(c.cosine),
                _nan(None if c.cosine is None or best_cos is None else best_cos - c.cosine),
                _nan(None if c.cosine is None else order.index(c.cosine) + 1),
                _nan(c.hit.dense_score),
                float(c.hit_rank),
                c.hit.score / best_score,
                float(c.hit.unit_boost),
                score,
                score / best_bm25,
                len(qtokens & tset) / max(1, len(qtokens)),
                math.fsum(idf.get(t, 0.0) for t in qtokens & tset) / q_weight,
                math.fsum(idf.get(t, 0.0) for t in qtokens & context) / q_weight,
                math.fsum(idf.get(t, 0.0) for t in qtokens & passage_tokens[id(c.hit)]) / q_weight,
                *(float(name in query.types) for name in QUESTION_TYPES),
                float(bool(_MONEY.search(text))),
                float(has_number(text)),
                float(has_duration(text)),
                float(bool(_DATE.search(text))),
                float(bool(set(tokens) & {LEMMA_MARK + b for b in _BODY_LEMMAS})),
                float(c.unit.stem is not None),
                float(c.unit.is_stem),
                float(bool(_NEGATED.match(text))),
                float(c.unit.position),
                c.unit.position / max(1, per_hit[id(c.hit)] - 1),
                float(len(words(text))),
                float(c.status in PLANNED_STATUSES),
                float(c.status == "historical"),
                float(query.past),
                float(query.changes),
                _year_fit(c.hit, query.years),
            ]
        )
    return np.array(rows, dtype=np.float64)


def gate_features(
    query: Query, cands: Sequence[Candidate], scores: np.ndarray, rows: np.ndarray, known_share: float
) -> list[float]:
    """One row of ``GATE_FEATURES``: how strong the best evidence is for this question."""
    if not cands:
        return [math.nan] * len(GATE_FEATURES)
    col = {name: i for i, name in enumerate(EVIDENCE_FEATURES)}
    order = np.argsort(-scores, kind="stable")
    best = int(order[0])
    unit_cos = rows[:, col["unit_cos"]]
    top_hits = rows[:, col["passage_rank"]] <= 3
    type_cols = [col[f"asks_{name}"] for name in QUESTION_TYPES]
    holds = {
        "amount": "has_amount",
        "duration": "has_duration",
        "date": "has_date",
        "body": "has_body",
        "list": "is_stem",
    }
    wanted = [
        name for name in QUESTION_TYPES if rows[best, type_cols[QUESTION_TYPES.index(name)]] and name in holds
    ]
    type_fit = float(any(rows[best, col[holds[name]]] for name in wanted)) if wanted else 0.5
    years_unmatched = float(
        bool(query.years) and not any(_year_fit(c.hit, query.years) > 0 for c in cands[:30])
    )
    return [
        float(np.nanmax(unit_cos)) if not np.all(np.isnan(unit_cos)) else math.nan,
        max((c.hit.dense_score or 0.0) for c in cands),
        float(rows[:, col["overlap_idf"]].max()),
        float(rows[top_hits, col["passage_overlap_idf"]].max()) if top_hits.any() else 0.0,
        1.0 - known_share,
        float(rows[:, col["bm25"]].max()),
        type_fit,
        float(len(query.words)),
        years_unmatched,
    ]


def has_number(text: str) -> bool:
    """An amount, count or period; unit labels ("art. 8", "3)") and years of acts do not count."""
    if re.search(r"\d", _UNIT_REFERENCE.sub(" ", text)):
        return True
    return any(t[1:] in CARDINALS for w in words(text) for t in word_tokens(w)[1:])


def has_duration(text: str) -> bool:
    """A period of time: a count (digits or a numeral) before a unit of time ("14 dni", "trzech miesięcy")."""
    for count, unit in pairwise(words(text)):
        unit_lemmas = {t[1:] for t in word_tokens(unit)[1:]}
        if unit_lemmas & _TIME_UNITS and (
            count.isdigit() or any(t[1:] in CARDINALS for t in word_tokens(count)[1:])
        ):
            return True
    return False


def _year_fit(hit: Hit, years: frozenset[int]) -> float:
    """1 when the passage's period of application holds a named year, -1 when it does not, 0 otherwise."""
    if not years:
        return 0.0
    start, end = hit.chunk.meta.effective_from, hit.chunk.meta.effective_to
    if start is None and end is None:
        return 0.0
    holds = any((start is None or start.year <= y) and (end is None or end.year >= y) for y in years)
    return 1.0 if holds else -1.0


def _pool_idf(docs: Sequence[Sequence[str]]) -> dict[str, float]:
    df: Counter[str] = Counter()
    for tokens in docs:
        df.update(set(tokens))
    n = len(docs)
    return {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}


def _max_idf(idf: dict[str, float]) -> float:
    return max(idf.values(), default=1.0)


def _bm25(query: set[str], docs: Sequence[Sequence[str]], idf: dict[str, float]) -> list[float]:
    avg = sum(len(d) for d in docs) / max(1, len(docs)) or 1.0
    out = []
    for tokens in docs:
        tf = Counter(tokens)
        norm = _BM25_K1 * (1 - _BM25_B + _BM25_B * len(tokens) / avg)
        out.append(math.fsum(idf[t] * tf[t] * (_BM25_K1 + 1) / (tf[t] + norm) for t in query if t in tf))
    return out


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)
