"""From a Polish question to an extractive, cited ``Answer`` (no language model involved).

    question ─ searcher.read (index.query.read_query, typos against the index) ─▶ Query ─ search ─▶ Hit[]
      ─ bot.evidence.candidates ─▶ units with their list context
      ─ bot.ranking.rank_evidence (learned ranker) ─▶ ranked units
      ─ bot.ranking.answerable (calibrated refusal gate) ─▶ answer or refuse
      ─ bot.compose.compose (answer first, ≤ 700 characters, "Więcej") ─▶ Answer

No weight, threshold, word or phrase here was chosen by looking at a question:
the decisions are the two learned models' (``scripts/train_answerer.py``) and
the structural rules of composition.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import date
from typing import Protocol

from bot.compose import compose
from bot.evidence import candidates
from bot.ranking import answerable as gate_probability
from bot.ranking import rank_evidence, refusal_threshold
from bot.records import Answer
from index.query import Query, is_follow_up
from index.records import Hit, QueryVector

NO_ANSWER = "Nie znalazłem w bazie wiedzy wiarygodnej odpowiedzi na to pytanie."
EVIDENCE_DEPTH = 10  # passages whose units compete (the ranker was trained on this depth)
SUGGESTIONS = 3  # nearest topics named in a refusal

__all__ = ["NO_ANSWER", "SearchesPassages", "answer", "is_follow_up"]


class SearchesPassages(Protocol):
    """What ``answer`` needs from ``index.search.Searcher`` / ``HotSearcher``: reading a
    question (typos corrected against the index's vocabulary), its query vector (None
    from a stand-in without a model) and the search itself."""

    def read(self, question: str, previous: str = "", today: date | None = None) -> Query: ...

    def embed(self, query: Query) -> QueryVector | None: ...

    def search(
        self,
        query: str | Query,
        k: int = 5,
        kinds: Collection[str] | None = None,
        statuses: Collection[str] | None = None,
        on: date | None = None,
    ) -> list[Hit]: ...


def answer(
    question: str,
    searcher: SearchesPassages,
    *,
    history: Sequence[str] = (),
    today: date | None = None,
    k: int = EVIDENCE_DEPTH,
) -> Answer:
    """Answer ``question`` from the passages ``searcher`` finds, citing every sentence.

    ``history`` holds the chat's earlier questions, oldest first; a short elliptic
    question ("a dla rodziny?") is read together with the last of them. Returns
    ``Answer(answered=False, notice=NO_ANSWER, suggestions=…)`` with no citations
    when the refusal gate finds the evidence too weak.
    """
    today = today or date.today()
    question = question.strip()
    previous = history[-1].strip() if history else ""
    query = searcher.read(question, previous, today)
    extra: dict[str, object] = {}
    hits = searcher.search(query, k=k, on=today) if question else []
    ranked = rank_evidence(query, candidates(hits, today))
    probability = gate_probability(query, ranked, searcher.embed(query) if hits else None)
    extra["answerable"] = round(probability, 4)
    if probability < refusal_threshold():
        result = _no_answer(question, hits, extra, probability)
    else:
        order = [ranked.candidates[i] for i in ranked.order()]
        result = replace(compose(query, order, today, round(probability, 3), question), extra=extra)
    return replace(result, query=query.text, follow_up=query.follow_up)


def _no_answer(question: str, hits: list[Hit], extra: dict[str, object], confidence: float) -> Answer:
    """A refusal naming the nearest topics (titles only, no citation numbers)."""
    titles = list(dict.fromkeys(hit.chunk.meta.title for hit in hits))[:SUGGESTIONS]
    return Answer(
        question=question,
        answered=False,
        notice=NO_ANSWER,
        suggestions=tuple(titles),
        confidence=round(confidence, 3),
        extra=extra,
    )
