"""From a Polish question to an extractive, cited ``Answer`` (no language model involved).

Steps: merge an elliptic follow-up with the previous question, search, decide
whether the evidence is strong enough, score the sentences of the top passages
against the question, keep the best few, group them by source and by status
(planned changes, in force, outdated) and number the sources by first use.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from itertools import pairwise
from typing import Protocol

from bot.citations import make_citation
from bot.records import Answer, AnswerBlock, Citation, CitedSentence
from bot.wording import EQUIVALENTS, is_topical, lemma_keys, phrase_words, years_named
from index.metadata import effective_status
from index.polish import LEMMA_MARK, fold_diacritics, word_tokens, words
from index.records import LEGAL_KINDS, PLANNED_STATUSES, PROPOSED_STATUSES, Hit
from index.search import asks_about_past
from index.sentences import Sentence, sentences

# --- No-answer thresholds ----------------------------------------------------
# Calibrated on the real multilingual-e5-small model over the whole knowledge/
# index (54 documents) with tests/data/dev_questions: 173 answerable and 29
# distinct off-topic or near-domain questions ("ile wynosi becikowe",
# "kryterium dochodowe w 2030"). e5 gives every Polish pair a high cosine
# (off-topic 0.76-0.91, on-topic 0.77-0.94), so the cosine only rules out the
# clearly foreign; the rarity-weighted share of the question's words found in
# one of the top passages separates the rest. With these values 151 of 173
# answerable questions are answered (124 with the expected fact) and 28 of 29
# unanswerable ones are refused ("jak wymienić dowód osobisty" slips through:
# every word of it occurs in the KPA). Coverage 0.35 would answer 6 more and
# refuse 2 fewer; 0.55 refuses 14 more answerable ones.
MIN_DENSE = 0.78  # best passage cosine; below it nothing was on topic
MIN_COVERAGE = 0.45  # rarity-weighted share of question words found in a top passage
COVERAGE_DEPTH = 3  # passages whose coverage counts (the top of the ranking)

# --- Selection limits --------------------------------------------------------
MAX_SENTENCES = 5
MAX_SOURCES = 4
RELATIVE_CUTOFF = 0.6  # keep sentences scoring at least this share of the best one
NUMBER_BONUS = 0.25  # "ile …?" and the sentence holds an amount or a count
DATE_BONUS = 0.25  # "kiedy …?" and the sentence holds a date
UNIT_BONUS = 0.2  # the question named this passage's legal unit
HISTORY_WEIGHT = 0.5  # words of the previous question count half in a follow-up
FUTURE_FACTOR_CHANGES = 1.2  # a change question prefers planned changes …
FUTURE_FACTOR_OTHER = 0.8  # … any other question prefers what is in force
HISTORICAL_FACTOR = 0.7  # outdated law loses a tie unless the question asks about the past
# A question naming a year ("kryterium w 2008r") wants the passage whose period
# of application (meta effective_from/effective_to) holds that year: the old
# amounts of that period, not today's. Passages of another period stay
# citable for context but lose against it; passages without a period are neutral.
YEAR_MATCH_FACTOR = 1.3
YEAR_MISMATCH_FACTOR = 0.5
# Words that cannot name a topic (verbs, adverbs, conjunctions: "trzyma", "idzie",
# "zanim") count this share of their weight in the coverage gate: passages hardly
# ever repeat the user's verb, and at full weight a rare verb alone refused
# on-topic questions ("do kogo idzie odwołanie"). Nouns, adjectives, numbers and
# unknown words keep full weight, so a missing topic ("becikowe") still refuses.
NON_TOPICAL_WEIGHT = 0.3

NO_ANSWER = "Nie znalazłem w bazie wiedzy wiarygodnej odpowiedzi na to pytanie."
DRAFT_NOTICE = "Projekt nie jest obowiązującym prawem."
UPCOMING_NOTICE = "Te przepisy jeszcze nie obowiązują."
HEADING_PLANNED = "Zmiany planowane i projekty:"
HEADING_CURRENT = "Obecnie:"
HEADING_PAST = "Przepisy nieaktualne:"


# Folded words that carry no topic: question words, pronouns, auxiliaries.
_STOPWORDS = frozenset(
    """
    a aby albo ale bo by byc byl byla bylo co czy czyli dla do gdy gdzie i ich ile im ja jak jaka
    jaki jakie jakich jakim jakiej jako je jego jej jest jesli jezeli juz kiedy kto ktora ktore
    ktory ktorych ma maja mam mi mie miec mnie moze mozna musi musimy my na nad nalezy nam nas nie
    niz no o od oraz po pod przez przy sa sie si sobie ta tak tam te tego tej ten to trzeba tu tylko
    tym u w we wg wiec z za ze zeby jaka jakiego prosze dzien dobry czyj ktorej ktorym mamy moj moja
    robic robimy zrobic kogo komu czym czego kim jakiego jakiemu wolno chce chcemy nasz nasza nasze
    naszej naszego
    """.split()
)
# Words users say about their own office and clients that statutes never use:
# they name no topic here, so they neither count for nor against coverage.
_DOMAIN_WORDS = frozenset(["mops", "gops", "ops", "klient", "klientka", "klienta", "klientowi", "klientce"])
_FOLLOW_UP_START = re.compile(r"^(?:a|i|to|oraz|no a|a co|a jak|a gdy|a jesli|a kiedy|a ile)\b")
_DEMONSTRATIVE = re.compile(r"\b(?:tej|tego|tym|tamtej|tamtego)\b")
_CHANGES = re.compile(
    r"zmieni|zmian|od kiedy|planowan|projekt|nowelizac|nowe przepisy|reform|"
    r"od (?:stycznia|lutego|marca|kwietnia|maja|czerwca|lipca|sierpnia|wrzesnia|pazdziernika|"
    r"listopada|grudnia|nowego roku)|bedzie obowiazywa|wejdzie w zycie|wchodzi w zycie"
)
_ASKS_NUMBER = re.compile(
    r"\bile\b|ilu\b|kwot|wysokos|wynosi|w jakim terminie|jaki termin|na jaki termin|termin|"
    r"po ilu|procent|limit|kryteri"
)
_ASKS_DURATION = re.compile(
    r"\bile (?:dni|tygodni|miesiecy|lat)\b|\bw ile\b|\bpo ilu\b|\bjak dlugo\b|\bna jak dlugo\b|"
    r"\bw jakim terminie\b|\bjaki (?:jest )?termin\b|\bna jaki (?:okres|czas)\b"
)
# Units of a period of time, folded: "14 dni", "siedmiu dni", "dwóch miesięcy", "dziesięć lat".
_TIME_UNITS = frozenset(
    """
    dni dnia tygodni tygodnia tygodnie miesiecy miesiaca miesiace lat lata
    """.split()
)
# Periods said without a count: "w ciągu miesiąca", "niezwłocznie".
_UNCOUNTED_PERIOD = re.compile(r"\bw ciagu (?:miesiaca|tygodnia|roku)\b|\bniezwlocznie\b")
_ASKS_DATE = re.compile(r"\bkiedy\b|od kiedy|do kiedy|od ktorego|data|dnia\b|w ktorym roku")
_NUMERAL_LEMMAS = frozenset(
    """
    jeden dwa trzy cztery piec szesc siedem osiem dziewiec dziesiec jedenascie dwanascie trzynascie
    czternascie pietnascie szesnascie dwadziescia trzydziesci czterdziesci piecdziesiat sto dwiescie
    trzysta tysiac pol polowa miesiac tydzien rok dzien zl zloty procent
    """.split()
)
_DIGIT = re.compile(r"\d")
_UNIT_REFERENCE = re.compile(
    r"^\s*\d+[a-z]?[.)]|\b(?:art|ust|pkt|lit|poz|nr|§)\.?\s*\d+[a-z]*(?:\s*[-–]\s*\d+[a-z]*)?|"
    r"\bDz\.\s?U\.[^,;)]*|§",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\b\d{1,2}\.\d{1,2}\.\d{4}\b|\b\d{4}\s?r\.|\b\d{1,2}\s+(?:stycz|lut|mar|kwiet|maj|czerw|lip|"
    r"sierp|wrze|pa[zź]dzier|listopad|grud)\w*|\bod dnia\b|\bz dniem\b|\bod miesi",
    re.IGNORECASE,
)


class SearchesPassages(Protocol):
    """What ``answer`` needs from ``index.search.Searcher`` / ``HotSearcher``."""

    def search(
        self,
        query: str,
        k: int = 5,
        kinds: Collection[str] | None = None,
        statuses: Collection[str] | None = None,
        on: date | None = None,
    ) -> list[Hit]: ...


@dataclass(frozen=True)
class Intent:
    """What kind of answer the question wants, read from its wording."""

    changes: bool = False
    past: bool = False
    number: bool = False
    when: bool = False
    duration: bool = False  # "w ile dni", "jak długo", "termin": a period of time
    years: frozenset[int] = frozenset()  # years the question names ("w 2008r")


@dataclass
class _Candidate:
    """A sentence of a hit with its score, before selection."""

    hit_rank: int
    hit: Hit
    sentence: Sentence
    score: float
    status: str


@dataclass
class _Terms:
    """The content words of a question: token sets with weights."""

    words: list[tuple[frozenset[str], str, float]] = field(default_factory=list)
    topical: list[bool] = field(default_factory=list)  # per word: can it name a topic?

    @property
    def total(self) -> float:
        return sum(weight for _, _, weight in self.words)

    def for_gate(self) -> _Terms:
        """The same words, those that cannot name a topic weighted down (``NON_TOPICAL_WEIGHT``)."""
        return _Terms(
            [
                (w, f, weight * (1.0 if topical else NON_TOPICAL_WEIGHT))
                for (w, f, weight), topical in zip(self.words, self.topical, strict=True)
            ],
            list(self.topical),
        )


def answer(
    question: str,
    searcher: SearchesPassages,
    *,
    history: Sequence[str] = (),
    today: date | None = None,
    k: int = 8,
) -> Answer:
    """Answer ``question`` from the passages ``searcher`` finds, citing every sentence.

    ``history`` holds the chat's earlier questions, oldest first; a short elliptic
    question ("a dla rodziny?") is searched together with the last of them.
    Returns ``Answer(answered=False, notice=NO_ANSWER, suggestions=…)`` with no
    citations when the evidence is weak. Only ``searcher.search`` is called.
    """
    today = today or date.today()
    question = question.strip()
    previous = history[-1].strip() if history else ""
    follow_up = bool(previous) and is_follow_up(question)
    query = f"{previous} {question}" if follow_up else question
    intent = read_intent(question, query, today)
    terms = _question_terms(question, previous if follow_up else "")
    extra: dict[str, object] = {}

    hits = searcher.search(query, k=k, on=today) if question else []
    if not hits or not terms.words:
        return replace(_no_answer(question, hits, extra, confidence=0.0), query=query, follow_up=follow_up)

    passages = [_passage_tokens(hit, intent.years, today) for hit in hits]
    terms = _weigh_by_rarity(terms, passages)
    candidates = [
        c
        for rank, (hit, tokens) in enumerate(zip(hits, passages, strict=True), 1)
        for c in _score_hit(rank, hit, tokens, terms, intent, today)
    ]
    top_dense = max((hit.dense_score or 0.0) for hit in hits)
    # Coverage of a whole passage with its title: a fact may span two sentences,
    # and the title often names what the question asks about ("szkolenie w Braniewie").
    gate = terms.for_gate()
    coverage = max(_coverage(gate, tokens) for tokens in passages[:COVERAGE_DEPTH])
    confidence = round(min(1.0, top_dense) * min(1.0, coverage + 0.25), 3)
    # A year the question names must be spoken for by a top passage (in its text
    # or its period of application): "kryterium dochodowe w 2030" has no source,
    # however well the other words match today's criterion.
    years_found = all(
        any(str(year) in tokens for tokens in passages[:COVERAGE_DEPTH]) for year in intent.years
    )
    extra.update(top_dense=round(top_dense, 4), coverage=round(coverage, 3), years_found=years_found)
    chosen = _select(candidates) if is_reliable(top_dense, coverage) and years_found else []
    if not chosen:
        result = _no_answer(question, hits, extra, confidence)
    else:
        result = _compose(question, chosen, intent, today, confidence, extra)
    return replace(result, query=query, follow_up=follow_up)


def is_reliable(top_dense: float, coverage: float) -> bool:
    """The no-answer rule: a plausible cosine and enough of the question's words in a top passage."""
    return top_dense >= MIN_DENSE and coverage >= MIN_COVERAGE


def is_follow_up(question: str) -> bool:
    """Whether ``question`` leans on the previous one ("a dla rodziny?", "a ile to jest?")."""
    text = fold_diacritics(question.lower()).strip()
    content = [w for w in words(text) if w not in _STOPWORDS]
    if _FOLLOW_UP_START.match(text) and len(content) < 5:
        return True
    if _DEMONSTRATIVE.search(text) and len(content) < 8:
        return True
    return len(content) <= 1


def read_intent(question: str, query: str, today: date) -> Intent:
    """Which answer the wording asks for: changes, the past, a number, a date."""
    asked = fold_diacritics(question.lower())
    merged = fold_diacritics(query.lower())
    # "a w 2019?" names its own year; "a dla rodziny?" keeps the year of the question it follows.
    years = years_named(question) or years_named(query)
    past = (
        asks_about_past(question, today)
        or bool(re.search(r"\bdawniej|wczesniej", asked))
        or any(year < today.year for year in years_named(question))
    )
    return Intent(
        changes=bool(_CHANGES.search(asked)) and not past,
        past=past,
        number=bool(_ASKS_NUMBER.search(merged)),
        when=bool(_ASKS_DATE.search(asked)),
        duration=bool(_ASKS_DURATION.search(merged)),
        years=frozenset(years),
    )


# ---------------------------------------------------------------- scoring


def _question_terms(question: str, previous: str) -> _Terms:
    terms = _Terms()
    seen: set[str] = set()
    # "co robi gops": when the office is all the question names, it is the topic.
    only_domain = all(fold_diacritics(w) in _DOMAIN_WORDS or _is_stopword(w) for w in words(question))
    for text, weight in ((question, 1.0), (previous, HISTORY_WEIGHT)):
        for word in words(text):
            folded = fold_diacritics(word)
            if folded in seen or _is_stopword(word) or (folded in _DOMAIN_WORDS and not only_domain):
                continue
            if len(word) < 2 and not word.isdigit():
                continue
            seen.add(folded)
            terms.words.append((_word_tokens(word), folded, weight))
            terms.topical.append(is_topical(word))
    return terms


def _word_tokens(word: str) -> frozenset[str]:
    """A question word's tokens: its forms and lemmas, also with Polish letters restored
    ("odebral" → "~odebrac"), and a year typed with its "r" ("2008r" → "2008")."""
    tokens = set(word_tokens(word)) | {LEMMA_MARK + key for key in lemma_keys(word)}
    tokens |= {str(year) for year in years_named(word)}
    return frozenset(tokens)


def _is_stopword(word: str) -> bool:
    folded = fold_diacritics(word)
    if folded in _STOPWORDS:
        return True
    lemmas = [token[1:] for token in word_tokens(word)[1:]]
    return bool(lemmas) and all(lemma in _STOPWORDS for lemma in lemmas)


def _token_set(text: str) -> frozenset[str]:
    return frozenset(token for word in words(text) for token in word_tokens(word))


def _text_tokens(text: str) -> frozenset[str]:
    """Tokens of a passage or sentence, plus the ``EQUIVALENTS`` keys of terms it spells out.

    A passage saying "powiatowe centrum pomocy rodzinie" or "130%" then holds
    "pcpr" or "procent", so a question using the shorthand finds it.
    """
    tokens = _token_set(text)
    extra = set()
    for key, parts in _equivalent_parts():
        if all(part in text if wanted is None else wanted & tokens for part, wanted in parts):
            extra |= {key, LEMMA_MARK + key}
    return tokens | extra


@lru_cache(maxsize=1)
def _equivalent_parts() -> tuple[tuple[str, tuple[tuple[str, frozenset[str] | None], ...]], ...]:
    """Each ``EQUIVALENTS`` key with its phrase's parts: (part, tokens that count as it).

    A symbol such as "%" has no tokens (None) and is looked for in the raw text.
    Computed once: this runs for every sentence of every candidate passage.
    """

    def wanted(part: str) -> frozenset[str] | None:
        if not any(ch.isalnum() for ch in part):
            return None
        return frozenset(word_tokens(part)[1:] or word_tokens(part))

    return tuple(
        (key, tuple((part, wanted(part)) for part in phrase_words(phrase)))
        for key, phrase in EQUIVALENTS.items()
    )


def _passage_tokens(hit: Hit, years: frozenset[int], today: date) -> frozenset[str]:
    """A passage's tokens with its title, plus each named past year its period of application holds.

    "kryterium dochodowe w 2008" is covered by the passage on the criteria of
    2006–2012 even though that passage names 2006 and 2012 only. The current
    year is held by what is in force today; future years are left to the text:
    a passage in force since 2025 says nothing certain about 2030.
    """
    tokens = _text_tokens(_passage_text(hit))
    covered = {str(year) for year in years if year <= today.year and _period_holds(hit, year) is True}
    return tokens | covered


def _period_holds(hit: Hit, year: int) -> bool | None:
    """Whether the passage's period of application holds ``year``; None when it states no period."""
    start, end = hit.chunk.meta.effective_from, hit.chunk.meta.effective_to
    if start is None and end is None:
        return None
    return (start is None or start.year <= year) and (end is None or end.year >= year)


def _passage_text(hit: Hit) -> str:
    """What a passage says including where it sits: the embedder's text, else title + text."""
    chunk = hit.chunk
    return chunk.embed_text or f"{chunk.meta.title}\n{chunk.text}"


def _found(word: frozenset[str], folded: str, tokens: frozenset[str]) -> bool:
    """A question word is in a text by form or lemma, or by a 6-letter prefix (typos: "odwolanei")."""
    if word & tokens:
        return True
    return len(folded) >= 6 and folded[:6] in _prefixes(tokens)


@lru_cache(maxsize=4096)
def _prefixes(tokens: frozenset[str]) -> frozenset[str]:
    """The 6-letter beginnings of a text's word forms (not lemmas), for ``_found``'s typo rule.

    Cached per token set (a frozenset keeps its hash): each passage is checked
    against every question word.
    """
    return frozenset(token[:6] for token in tokens if len(token) >= 6 and not token.startswith(LEMMA_MARK))


def _weigh_by_rarity(terms: _Terms, passages: list[frozenset[str]]) -> _Terms:
    """Multiply each word's weight by an IDF over the retrieved passages.

    A word found in few of them says what the question is about ("becikowe",
    "Braniewie"); one found in all of them ("zasiłek" among zasiłek passages)
    says little. A word found in none weighs most, so a question whose key word
    the knowledge base lacks cannot reach the coverage threshold.
    """
    count = len(passages)
    weighted = _Terms(topical=list(terms.topical))
    for word, folded, weight in terms.words:
        df = sum(1 for tokens in passages if _found(word, folded, tokens))
        weighted.words.append((word, folded, weight * math.log(1 + (count + 1) / (df + 0.5))))
    return weighted


def _coverage(terms: _Terms, tokens: frozenset[str]) -> float:
    """Weighted share of question words found among ``tokens``."""
    if not terms.words:
        return 0.0
    found = sum(weight for word, folded, weight in terms.words if _found(word, folded, tokens))
    return found / terms.total


def _score_hit(
    rank: int, hit: Hit, passage_tokens: frozenset[str], terms: _Terms, intent: Intent, today: date
) -> list[_Candidate]:
    status = effective_status(hit.chunk.meta, today)
    rank_weight = 1.0 / (1.0 + 0.25 * (rank - 1))
    factor = 1.0
    if status in PLANNED_STATUSES:
        factor = FUTURE_FACTOR_CHANGES if intent.changes else FUTURE_FACTOR_OTHER
    elif status == "historical" and hit.chunk.meta.kind in LEGAL_KINDS and not intent.past:
        factor = HISTORICAL_FACTOR
    holds = [_period_holds(hit, year) for year in intent.years]
    if True in holds:
        factor *= YEAR_MATCH_FACTOR
    elif False in holds:
        factor *= YEAR_MISMATCH_FACTOR
    # A sentence counts with its list lead and its passage (title, unit path):
    # "Szkolenie poprowadzili: …" answers "kto prowadził szkolenie w Braniewie"
    # because its passage is about Braniewo.
    passage = _coverage(terms, passage_tokens)
    result = []
    for sentence in sentences(hit.chunk.text):
        own = _text_tokens(sentence.text)
        context = own | _text_tokens(sentence.lead) if sentence.lead else own
        coverage = 0.5 * _coverage(terms, own) + 0.2 * _coverage(terms, context) + 0.3 * passage
        if _coverage(terms, context) <= 0:
            continue
        score = coverage * rank_weight * factor
        if intent.duration:
            # "w ile dni": a period answers it, not any amount ("art. 37 § 4" has numbers too).
            if _has_duration(sentence.text):
                score += NUMBER_BONUS * rank_weight
        elif intent.number and _has_number(sentence.text):
            score += NUMBER_BONUS * rank_weight
        if intent.when and _DATE.search(sentence.text):
            score += DATE_BONUS * rank_weight
        if hit.unit_boost:
            score += UNIT_BONUS
        result.append(_Candidate(rank, hit, sentence, score, status))
    return result


def _has_duration(text: str) -> bool:
    """A period of time: a count (digits or a numeral) right before a unit of time, or "w ciągu miesiąca"."""
    folded = [fold_diacritics(w) for w in words(text)]
    for count, unit in pairwise(folded):
        if unit in _TIME_UNITS and (
            count.isdigit() or any(t[1:] in _NUMERAL_LEMMAS for t in word_tokens(count)[1:])
        ):
            return True
    return bool(_UNCOUNTED_PERIOD.search(" ".join(folded)))


def _has_number(text: str) -> bool:
    """An amount, count or period in the text; unit labels ("art. 8", "3)") do not count."""
    if _DIGIT.search(_UNIT_REFERENCE.sub(" ", text)):
        return True
    return any(t[1:] in _NUMERAL_LEMMAS for w in words(text) for t in word_tokens(w)[1:])


# ---------------------------------------------------------------- selection


def _select(candidates: list[_Candidate]) -> list[_Candidate]:
    """The best sentences: near the top score, no repeats, at most MAX_SOURCES documents."""
    if not candidates:
        return []
    ordered = sorted(candidates, key=lambda c: (-c.score, c.hit_rank, c.sentence.position))
    cutoff = ordered[0].score * RELATIVE_CUTOFF
    chosen: list[_Candidate] = []
    seen_text: set[str] = set()
    sources: list[str] = []
    for cand in ordered:
        if cand.score < cutoff or len(chosen) == MAX_SENTENCES:
            break
        key = " ".join(cand.sentence.text.casefold().split())
        if key in seen_text:
            continue
        doc = cand.hit.chunk.doc_id
        if doc not in sources and len(sources) == MAX_SOURCES:
            continue
        seen_text.add(key)
        if doc not in sources:
            sources.append(doc)
        chosen.append(cand)
    return chosen


def _compose(
    question: str,
    chosen: list[_Candidate],
    intent: Intent,
    today: date,
    confidence: float,
    extra: dict[str, object],
) -> Answer:
    """Blocks in reading order, one line per source, citations numbered by first use."""
    groups: dict[str, list[_Candidate]] = {"planned": [], "current": [], "past": []}
    for cand in chosen:
        if cand.status in PLANNED_STATUSES:
            groups["planned"].append(cand)
        elif cand.status == "historical" and cand.hit.chunk.meta.kind in LEGAL_KINDS:
            groups["past"].append(cand)
        else:
            groups["current"].append(cand)
    if intent.changes:
        order = ("planned", "current", "past")
    elif intent.past:
        order = ("past", "current", "planned")
    else:
        order = ("current", "planned", "past")
    headed = (
        sum(1 for name in groups if groups[name]) > 1
        or groups["planned"]
        or (groups["past"] and not intent.past)
    )
    headings = {"planned": HEADING_PLANNED, "current": HEADING_CURRENT, "past": HEADING_PAST}

    numbers: dict[str, int] = {}  # chunk id → citation number
    citations: list[Citation] = []
    blocks: list[AnswerBlock] = []
    for name in order:
        if not groups[name]:
            continue
        lines = []
        for chunk_id, cands in _by_source(groups[name]):
            if chunk_id not in numbers:
                numbers[chunk_id] = len(numbers) + 1
                cited = [c.sentence.position for c in cands]  # positions index chunk.sentences
                citations.append(make_citation(numbers[chunk_id], cands[0].hit.chunk, today, cited))
            lines.append(CitedSentence(_join(cands), (numbers[chunk_id],)))
        blocks.append(AnswerBlock(tuple(lines), headings[name] if headed else None))

    statuses = {c.status for c in chosen}
    notices = []
    if statuses & PROPOSED_STATUSES:
        notices.append(DRAFT_NOTICE)
    elif "upcoming" in statuses:
        notices.append(UPCOMING_NOTICE)
    return Answer(
        question=question,
        answered=True,
        blocks=tuple(blocks),
        citations=tuple(citations),
        notice=" ".join(notices) or None,
        confidence=confidence,
        extra=extra,
    )


def _by_source(cands: list[_Candidate]) -> list[tuple[str, list[_Candidate]]]:
    """Candidates grouped by passage: passages by search rank, sentences by position."""
    grouped: dict[str, list[_Candidate]] = {}
    for cand in sorted(cands, key=lambda c: (c.hit_rank, c.sentence.position)):
        grouped.setdefault(cand.hit.chunk.id, []).append(cand)
    return list(grouped.items())


def _join(cands: list[_Candidate]) -> str:
    """One line from a passage's chosen sentences; list items keep their introduction."""
    parts: list[str] = []
    texts = {c.sentence.text for c in cands}
    last_lead: str | None = None
    for cand in cands:
        lead = cand.sentence.lead
        if lead and lead != last_lead and lead not in texts:
            parts.append(f"{lead} …")
        last_lead = lead or last_lead
        parts.append(cand.sentence.text)
    return " ".join(parts)


# ---------------------------------------------------------------- no answer


def _no_answer(question: str, hits: list[Hit], extra: dict[str, object], confidence: float) -> Answer:
    titles = list(dict.fromkeys(hit.chunk.meta.title for hit in hits))[:3]
    return Answer(
        question=question,
        answered=False,
        notice=NO_ANSWER,
        suggestions=tuple(titles),
        confidence=confidence,
        extra=extra,
    )
