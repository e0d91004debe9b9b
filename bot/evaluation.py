"""Scoring of answers against the development questions (pure functions).

Answers are scored in their JSON form (``{"answered", "text", "citations"}``, as
printed by ``python -m bot ask --json``), so any build of the bot can be scored.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from bot.citations import has_status_and_date
from index.legal_units import LEVELS, anchor_matches, parse_anchor
from index.polish import fold_diacritics
from index.records import Chunk

_CITE = re.compile(r"\[(\d+)\]")
_NUMBER = re.compile(r"\d+(?:[ \u00a0.,]\d+)*")
_WORD = re.compile(r"\w+", re.UNICODE)
_ANCHOR_PAGES = re.compile(r"(?:^|,\s*)s\. (\d+)(?:–(\d+))?$")
_PARAGRAPHS = re.compile(r"akapit (\d+)(?:–(\d+))?")


@dataclass(frozen=True)
class DevQuestion:
    """One development question with what a correct answer must show."""

    id: str
    question: str
    answerable: bool
    expected_fact: str | None = None
    expected_doc: str | None = None
    expected_anchor: str | None = None
    topic: str | None = None
    follow_up_of: str | None = None


def load_dev_questions(folder: Path) -> list[DevQuestion]:
    """Read every ``*.jsonl`` file in ``folder`` (sorted), one question a line."""
    questions = []
    for path in sorted(folder.glob("*.jsonl")):
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            raw = json.loads(line)
            try:
                questions.append(
                    DevQuestion(**{k: raw.get(k) for k in DevQuestion.__dataclass_fields__ if k in raw})
                )
            except TypeError as exc:
                raise ValueError(f"{path}:{line_no}: {exc}") from exc
    ids = [q.id for q in questions]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate development question ids")
    return questions


HALVES = ("tune", "holdout")
EARLY_CHARS = 300  # what a phone shows before scrolling


def half_of(question: DevQuestion, by_id: Mapping[str, DevQuestion]) -> str:
    """ "tune" or "holdout": a fixed split of the questions, so tuning can be checked on unseen ones.

    The split hashes the id of the conversation's first question (CRC-32, odd →
    "tune"), so a follow-up always lands in its parent's half and the split never
    depends on answers or on the order of the files. Over the 195 questions of
    2025-11 it gives 85 answerable + 9 off-topic to tune and 90 + 11 to holdout.
    """
    root = question
    seen = {root.id}
    while root.follow_up_of and root.follow_up_of in by_id and root.follow_up_of not in seen:
        root = by_id[root.follow_up_of]
        seen.add(root.id)
    return HALVES[0] if zlib.crc32(root.id.encode("utf-8")) % 2 else HALVES[1]


def fold(text: str) -> str:
    """Lowercase, strip diacritics (ł → l), and drop spaces inside numbers: "1 010 zł" → "1010 zl"."""
    text = fold_diacritics(text).lower()
    text = re.sub(r"(?<=\d)[ \u00a0\u202f](?=\d{3}\b)", "", text)
    return re.sub(r"\s+", " ", text).strip()


def contains_fact(text: str, fact: str) -> bool:
    """True when ``fact`` occurs in ``text`` after folding both."""
    return fold(fact) in fold(text)


def cites_expected(
    citations: Sequence[Mapping[str, object]], expected_doc: str | None, expected_anchor: str | None
) -> bool:
    """True when a citation points at the expected document (and anchor, when one is given)."""
    for citation in citations:
        doc = str(citation.get("doc_id") or citation.get("chunk_id") or "")
        if expected_doc and not doc.endswith(expected_doc) and expected_doc not in doc:
            continue
        if expected_anchor is None:
            return True
        if anchor_matches(str(citation.get("anchor") or ""), expected_anchor):
            return True
    return False


def _key_terms(sentence: str) -> set[str]:
    numbers = {re.sub(r"\D", "", n) for n in _NUMBER.findall(sentence)}
    words = {w for w in _WORD.findall(fold(sentence)) if len(w) >= 5 and not w.isdigit()}
    return {n for n in numbers if n} | words


def _citations(answer: Mapping[str, object]) -> list[Mapping[str, object]]:
    """The citations of an answer in ``answer_to_json`` form ([] when it has none)."""
    citations = answer.get("citations")
    return [c for c in citations if isinstance(c, Mapping)] if isinstance(citations, list) else []


def citation_precision(answer: Mapping[str, object]) -> float:
    """Share of cited sentences whose every [n] resolves and whose cited passage supports them.

    A passage supports a sentence when it holds all the sentence's numbers and at
    least half of its longer words. Returns 1.0 for an answer with no cited sentence.
    """
    passages = {int(str(c["n"])): fold(str(c.get("passage", ""))) for c in _citations(answer)}
    body = str(answer.get("text", "")).split("\nŹródła:")[0]
    checked = supported = 0
    for sentence in re.split(r"(?<=[.!?\]])\s+|\n+", body):
        numbers = [int(n) for n in _CITE.findall(sentence)]
        if not numbers:
            continue
        checked += 1
        clean = _CITE.sub("", sentence)
        terms = _key_terms(clean)
        digits = {t for t in terms if t.isdigit()}
        words = terms - digits
        ok = True
        for n in numbers:
            passage = passages.get(n)
            if passage is None:
                ok = False
                break
            passage_digits = re.sub(r"(?<=\d)[ .,](?=\d)", "", passage)
            has_digits = all(d in passage_digits for d in digits)
            has_words = not words or sum(w in passage for w in words) >= len(words) / 2
            ok = ok and has_digits and has_words
        supported += ok
    return supported / checked if checked else 1.0


@dataclass(frozen=True)
class AnswerScores:
    """Aggregate answer-quality figures over a question set."""

    questions: int
    fact_rate: float  # answerable questions whose answer holds the expected fact
    fact_early_rate: float  # … within the first ``EARLY_CHARS`` characters of the answer body
    citation_rate: float  # answerable questions citing the expected document/anchor
    citation_precision: float  # mean over answered questions
    refusal_rate: float  # unanswerable questions correctly refused
    false_refusals: int  # answerable questions refused
    false_refusal_rate: float = 0.0  # share of answerable questions refused
    dated_citations: float = 0.0  # share of all shown citations whose line has a status and a date


def score_answers(pairs: Iterable[tuple[DevQuestion, Mapping[str, object]]]) -> AnswerScores:
    """Score (question, answer JSON) pairs."""
    pairs = list(pairs)
    answerable = [(q, a) for q, a in pairs if q.answerable]
    refused = [not a.get("answered") for q, a in pairs if not q.answerable]
    facts = [
        bool(a.get("answered")) and contains_fact(str(a.get("text", "")), q.expected_fact)
        for q, a in answerable
        if q.expected_fact
    ]
    early = [
        bool(a.get("answered"))
        and contains_fact(answer_body(str(a.get("text", "")))[:EARLY_CHARS], q.expected_fact)
        for q, a in answerable
        if q.expected_fact
    ]
    cited = [
        cites_expected(_citations(a), q.expected_doc, q.expected_anchor)
        for q, a in answerable
        if q.expected_doc
    ]
    precision = [citation_precision(a) for _, a in pairs if a.get("answered")]
    dated = [
        has_status_and_date(str(c.get("line", "")))
        for _, a in pairs
        for c in cast("list[Mapping[str, object]]", a.get("citations", []))
    ]
    return AnswerScores(
        questions=len(pairs),
        fact_rate=_mean(facts),
        fact_early_rate=_mean(early),
        citation_rate=_mean(cited),
        citation_precision=_mean(precision),
        refusal_rate=_mean(refused),
        false_refusals=sum(not a.get("answered") for _, a in answerable),
        false_refusal_rate=_mean([not a.get("answered") for _, a in answerable]),
        dated_citations=_mean(dated),
    )


def answer_body(text: str) -> str:
    """The answer text without its sources list (what a phone shows first)."""
    return text.split("\nŹródła:")[0]


def _mean(values: Sequence[float | bool]) -> float:
    return sum(values) / len(values) if values else 0.0


# ---------------------------------------------------------------- anchor precision


def anchor_holds(anchor: str, chunk: Chunk, sentence_indexes: Sequence[int]) -> bool:
    """Whether a citation's ``anchor`` points exactly where its cited sentences stand.

    Checked against the chunk's page and unit map (``Chunk.sentences``): the pages
    named must be the pages the sentences stand on, no more and no fewer; the unit
    named must hold every sentence ("art. 7" holds "art. 7 pkt 11", not the other
    way round; a list's stem cited with its items counts as their context); a
    heading or paragraph anchor must be the sentences' own. No sentence indexes:
    every sentence of the chunk is cited.
    """
    spans = chunk.sentences
    chosen = sorted({i for i in sentence_indexes if 0 <= i < len(spans)}) or list(range(len(spans)))
    if not chosen:
        return True  # a chunk without sentences has nothing to point at
    cited = [spans[i] for i in chosen]
    pages = _ANCHOR_PAGES.search(anchor)
    unit = anchor[: pages.start()] if pages else anchor
    starts = [s.page for s in cited if s.page is not None]
    ends = [s.page_end or s.page for s in cited if s.page is not None]
    if starts:
        if not pages:
            return False
        first, last = int(pages.group(1)), int(pages.group(2) or pages.group(1))
        wanted = (min(starts), max(ends))
        if (first, last) != wanted:
            return False
    elif pages:
        return False
    own = [s for s in cited if not (s.items and set(s.items) & set(chosen))] or cited
    return all(unit_holds(unit.strip(), s.anchor) for s in own)


def unit_holds(unit: str, sentence_anchor: str) -> bool:
    """Whether the anchor ``unit`` holds a sentence whose own anchor is ``sentence_anchor``."""
    if not sentence_anchor:
        return not unit
    outer, inner = parse_anchor(unit) if unit else None, parse_anchor(sentence_anchor)
    if inner is not None:
        if outer is None:
            return False
        named = [(getattr(outer, level), getattr(inner, level)) for level in LEVELS]
        return any(mine for mine, _ in named) and all(mine in (None, theirs) for mine, theirs in named)
    wide, narrow = _PARAGRAPHS.fullmatch(unit), _PARAGRAPHS.fullmatch(sentence_anchor)
    if wide and narrow:
        low, high = int(wide.group(1)), int(wide.group(2) or wide.group(1))
        return low <= int(narrow.group(1)) <= high
    return unit == sentence_anchor


def anchor_precision(checks: Iterable[bool]) -> float:
    """Share of citations whose anchor holds their cited sentences (1.0 when there are none)."""
    values = list(checks)
    return sum(values) / len(values) if values else 1.0
