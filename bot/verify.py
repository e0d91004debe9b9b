"""Check a generated answer sentence by sentence against the passages it cites (pure functions).

A sentence is kept only when:

- it cites at least one passage (``[n]``) and every ``[n]`` is one of the given passages;
- every figure in it appears in a passage it cites, compared after normalisation:
  amounts, percentages, counts and years as numbers ("1 010 zł" = "1010 zł",
  "1010,00" = "1010", "czternastu dni" = "14 dni"), dates as calendar days
  ("1.01.2025" = "1 stycznia 2025"), legal units as (unit, number) pairs
  ("art. 37", "ust. 1", "pkt 2", "§ 4") and journal references as (year, position)
  ("Dz.U. 2025 poz. 1214" = "Dz. U. z 2025 r. poz. 1214");
- a sentence citing only drafts or announcements calls them so ("projekt",
  "planowane", "przewiduje" …), so a draft is never told as law;
- at least ``MIN_SUPPORT`` of its topical words (nouns, adjectives, unknown words:
  ``index.query.is_topical``) occur, by form or lemma, in the passages it cites or in
  the question, so a reply about something else is not passed off with a citation
  (its figures, once found in the passages, count as found words).

The passage side of a legal unit is generous on purpose: a cited passage stands
for its title and anchor too, and a statute's own numbering counts as its units
("Art. 37." is art. 37, a line "2." is ust. 2, a line "3)" is pkt 3).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from itertools import pairwise

from index.periods import MONTHS
from index.polish import CARDINALS, analyse, fold_diacritics, word_tokens, words
from index.query import is_topical
from index.sentences import split_sentences

# Share of a sentence's topical words that must be found in its cited passages or the
# question. Half: models rephrase ("świadczenie" for "zasiłek"), but a reply about
# another subject shares hardly any noun with the passages.
MIN_SUPPORT = 0.5
PREFIX = 6  # a word also counts as found by its first letters (inflection the lemmatiser misses)

# Why a sentence was dropped (logged and counted; never the sentence itself).
NO_CITATION = "no-citation"
UNKNOWN_SOURCE = "unknown-source"
UNSUPPORTED_NUMBER = "unsupported-number"
UNSUPPORTED_DATE = "unsupported-date"
UNSUPPORTED_UNIT = "unsupported-unit"
UNSUPPORTED_JOURNAL = "unsupported-journal"
OFF_TOPIC = "off-topic"
DRAFT_AS_LAW = "draft-as-law"
_PROBLEM_OF_KIND = {
    "number": UNSUPPORTED_NUMBER,
    "date": UNSUPPORTED_DATE,
    "unit": UNSUPPORTED_UNIT,
    "journal": UNSUPPORTED_JOURNAL,
}


_SPACES = re.compile(r"[\u00a0\u202f\u2007]")
_CITES = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
# Markers after the final stop ("… zł. [1]") move before it, so they stay with their sentence.
_MARKERS_AFTER_STOP = re.compile(r"([.!?…])((?:\s*\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\])+)")
_JOURNAL = re.compile(
    r"\b(Dz\.\s?U(?:rz)?\.|M\.\s?P\.)\s*(?:z\s*)?(\d{4})\s*(?:r\.)?\s*,?\s*(?:Nr\s*\d+\s*,?\s*)?poz\.\s*(\d+)",
    re.IGNORECASE,
)
_NUMERIC_DATE = re.compile(
    r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?![\d])|(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)"
)
_WORD_DATE = re.compile(
    r"(?<!\d)(\d{1,2})\s+(" + "|".join(MONTHS) + r")(?:\s+(\d{4}))?(?!\d)",
)
_UNIT = re.compile(r"(?:\b(art|ust|pkt|lit)\.?|(§+))\s*(\d+[a-z]{0,3})\b", re.IGNORECASE)
# A statute's own numbering at the start of a line: "Art. 37.", "2." (ust.), "3)" (pkt), "a)" (lit).
_LINE_UNIT = re.compile(r"^\s*(?:(Art\.\s*(\d+[a-z]*)\.)|(\d+[a-z]?)\.\s|(\d+[a-z]?)\)\s)", re.MULTILINE)
# Numbers: thousands may be grouped by spaces ("1 010,50"); a decimal part after a comma.
_NUMBER = re.compile(r"(?<![\d,])(\d{1,3}(?: \d{3})+(?!\d)|\d+)(?:,(\d+))?")
_SOURCE_LIST = re.compile(
    r"^[ \t]*(?:(?:Źródła|Źródło|Zrodla|Zrodlo)\b[^\n]*|\[\d{1,3}\][^\n]*)$", re.MULTILINE
)
# Morfeusz 2 tag classes of function words and personal pronouns.
_FUNCTION_TAGS = frozenset(["part", "qub", "conj", "comp", "prep", "interj", "ppron12", "ppron3", "siebie"])
# Pronominal lemmas Morfeusz reads as adjectives or nouns ("tego", "która", "taki").
_PRONOUNS = frozenset(
    fold_diacritics(lemma)
    for lemma in "ten to ta tamten który jaki taki każdy wszystek cały sam swój mój twój nasz wasz inny "
    "żaden ktoś coś nikt nic kto co czyj".split()
)
# A sentence resting on drafts only must say so: "projekt", "planowane", "proponuje",
# "propozycja", "zapowiedź", "przewiduje", "założenia", "reforma" (folded stems).
_PROPOSAL_WORDS = re.compile(r"\b(?:projekt|planow|propon|propozyc|zapowi|przewid|zalozen|reform)")
_UNKNOWN = re.compile(r"\bnie wiem\b")


@dataclass(frozen=True)
class Fact:
    """A figure a sentence states: ``kind`` is number, date, unit or journal; ``value`` normalised."""

    kind: str
    value: str


@dataclass(frozen=True)
class Evidence:
    """What one cited passage can vouch for: its figures and its word tokens."""

    facts: frozenset[Fact]
    tokens: frozenset[str]
    proposed: bool = False  # a draft or an announcement, not law

    @staticmethod
    def of(*texts: str, proposed: bool = False) -> Evidence:
        """Evidence from a passage and what names it (title, anchor, journal reference)."""
        text = "\n".join(t for t in texts if t)
        return Evidence(frozenset(passage_facts(text)), _tokens(text), proposed)


@dataclass(frozen=True)
class Checked:
    """One generated sentence after checking: ``problem`` is None when it was verified."""

    text: str  # the sentence without its [n] markers
    sources: tuple[int, ...]
    problem: str | None = None
    detail: str = ""  # the kind of figure that failed, never its value or the user's words

    @property
    def verified(self) -> bool:
        """Whether the sentence may reach the user."""
        return self.problem is None


def verify(text: str, passages: Mapping[int, Evidence], question: str = "") -> list[Checked]:
    """Split a generated answer into sentences and check each against the cited ``passages``."""
    question_tokens = _tokens(question)
    return [check_sentence(sentence, passages, question_tokens) for sentence in generated_sentences(text)]


def generated_sentences(text: str) -> list[str]:
    """The sentences of a model's reply, each keeping its [n] markers.

    Markdown emphasis goes, and so does a list of sources the model may append
    ("Źródła:", "[1] Ustawa …"): the bot lists the sources itself.
    """
    text = _SPACES.sub(" ", text).replace("**", "").replace("__", "")
    text = _SOURCE_LIST.sub("", text)
    text = _MARKERS_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", text)
    return [s for s in split_sentences(text) if s.strip()]


def check_sentence(
    sentence: str, passages: Mapping[int, Evidence], question_tokens: frozenset[str] = frozenset()
) -> Checked:
    """Check one sentence: its citations exist, its figures are in them, its words are on topic."""
    sources = tuple(
        dict.fromkeys(int(n) for group in _CITES.findall(sentence) for n in re.split(r"[,;]", group))
    )
    clean = _without_markers(sentence)
    if not sources:
        return Checked(clean, sources, NO_CITATION)
    if any(n not in passages for n in sources):
        return Checked(clean, sources, UNKNOWN_SOURCE)
    cited = [passages[n] for n in sources]
    facts: set[Fact] = set().union(*(p.facts for p in cited))
    stated = sentence_facts(clean)
    for fact in stated:
        if fact not in facts:
            return Checked(clean, sources, _PROBLEM_OF_KIND[fact.kind], fact.kind)
    tokens = question_tokens.union(*(p.tokens for p in cited))
    if support(clean, tokens, found_facts=len(stated)) < MIN_SUPPORT:
        return Checked(clean, sources, OFF_TOPIC)
    if all(p.proposed for p in cited) and not _PROPOSAL_WORDS.search(fold_diacritics(clean.lower())):
        return Checked(clean, sources, DRAFT_AS_LAW)
    return Checked(clean, sources)


def says_unknown(text: str) -> bool:
    """Whether the model said it does not know ("nie wiem"), as the prompt tells it to."""
    return bool(_UNKNOWN.search(fold_diacritics(text.lower())))


# ---------------------------------------------------------------- figures


def sentence_facts(text: str) -> set[Fact]:
    """The figures a sentence states: journal references, dates, legal units, then other numbers.

    Numbers inside a date or a reference belong to it, so "1.01.2025" asks for that
    day, not for a "1" somewhere. Numerals in words count from two upwards ("jeden"
    is as often "one of" as a count).
    """
    text = _SPACES.sub(" ", text)
    facts: set[Fact] = set()
    text = _take(_JOURNAL, text, facts, _journal)
    text = _take(_NUMERIC_DATE, text, facts, _numeric_date)
    text = _take(_WORD_DATE, text, facts, _word_date, fold=True)
    text = _take(_UNIT, text, facts, _unit)
    facts |= {Fact("number", n) for n in _numbers(text)}
    facts |= {Fact("number", str(n)) for n in _numerals(text) if n >= 2}
    return facts


def passage_facts(text: str) -> set[Fact]:
    """Every figure a passage can vouch for, generously: also the numbers inside its dates and
    references, its statute numbering, and its dates both with and without the year."""
    text = _SPACES.sub(" ", text)
    facts: set[Fact] = set()
    _take(_JOURNAL, text, facts, _journal)
    _take(_NUMERIC_DATE, text, facts, _numeric_date)
    _take(_WORD_DATE, text, facts, _word_date, fold=True)
    _take(_UNIT, text, facts, _unit)
    facts |= {Fact("date", f.value[4:]) for f in facts if f.kind == "date" and len(f.value) == 10}
    for match in _LINE_UNIT.finditer(text):
        article, paragraph, point = match.group(2), match.group(3), match.group(4)
        if article:
            facts.add(Fact("unit", f"art {article.lower()}"))
        elif paragraph:
            facts.add(Fact("unit", f"ust {paragraph.lower()}"))
        elif point:
            facts.add(Fact("unit", f"pkt {point.lower()}"))
    facts |= {Fact("number", n) for n in _numbers(text)}
    facts |= {Fact("number", n) for n in re.findall(r"\d+", text)}  # "2024 200" also as 2024 and 200
    facts = {Fact(f.kind, _plain(f.value)) if f.kind == "number" else f for f in facts}
    facts |= {Fact("number", str(n)) for n in _numerals(text)}
    return facts


def _take(
    pattern: re.Pattern[str],
    text: str,
    facts: set[Fact],
    read: Callable[[re.Match[str]], Fact | None],
    fold: bool = False,
) -> str:
    """Add what ``pattern`` finds to ``facts``; return ``text`` with those spans blanked."""
    source = fold_diacritics(text.lower()) if fold else text
    pieces, last = [], 0
    for match in pattern.finditer(source):
        fact = read(match)
        if fact is not None:
            facts.add(fact)
            pieces.append(text[last : match.start()])
            pieces.append(" " * (match.end() - match.start()))
            last = match.end()
    pieces.append(text[last:])
    return "".join(pieces)


def _journal(match: re.Match[str]) -> Fact:
    name = "mp" if match.group(1).lower().startswith("m") else "dzu"
    return Fact("journal", f"{name} {match.group(2)}/{int(match.group(3))}")


def _numeric_date(match: re.Match[str]) -> Fact | None:
    if match.group(1):
        day, month, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
    else:
        year, month, day = int(match.group(4)), int(match.group(5)), int(match.group(6))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return Fact("date", f"{year:04d}-{month:02d}-{day:02d}")


def _word_date(match: re.Match[str]) -> Fact | None:
    day, month = int(match.group(1)), MONTHS[match.group(2)]
    if not 1 <= day <= 31:
        return None
    year = f"{int(match.group(3)):04d}" if match.group(3) else ""
    return Fact("date", f"{year}-{month:02d}-{day:02d}")


def _unit(match: re.Match[str]) -> Fact:
    name = "§" if match.group(2) else match.group(1).lower()
    return Fact("unit", f"{name} {match.group(3).lower()}")


def _numbers(text: str) -> list[str]:
    """Numbers written with digits, normalised: "1 010,00" → "1010", "0,5" → "0.5"."""
    found = []
    for match in _NUMBER.finditer(text):
        whole = match.group(1).replace(" ", "")
        found.append(_plain(f"{whole}.{match.group(2)}" if match.group(2) else whole))
    return found


def _plain(number: str) -> str:
    try:
        value = Decimal(number)
    except InvalidOperation:
        return number
    text = format(value.normalize(), "f")
    return text


def _numerals(text: str) -> list[int]:
    """Cardinal numerals written in words, adjacent ones added up ("dwadzieścia jeden" → 21)."""
    values: list[int | None] = [_numeral(word) for word in words(text)]
    found: list[int] = []
    total: int | None = None
    for previous, value in pairwise([None, *values]):
        if value is None:
            if total is not None:
                found.append(total)
            total = None
        elif total is not None and previous is not None and previous > value:
            total += value
        else:
            if total is not None:
                found.append(total)
            total = value
    if total is not None:
        found.append(total)
    return found


@lru_cache(maxsize=8192)
def _numeral(word: str) -> int | None:
    if any(ch.isdigit() for ch in word):
        return None
    for token in word_tokens(word)[1:]:
        value = CARDINALS.get(token[1:])
        if value is not None:
            return value
    return None


# ---------------------------------------------------------------- words


def support(sentence: str, tokens: frozenset[str], found_facts: int = 0) -> float:
    """Share of the sentence's topical words found among ``tokens`` (0.0 when it has none).

    ``found_facts`` figures already found in the passages count as found words,
    and the word right after a figure is its unit ("2024 roku", "776 zł", "14 dni"),
    part of that figure: "W 2024 roku było to 776 zł" says nothing but its figures,
    and they check out. A sentence with topical words must share at least one with
    the passages, so figures that happen to match cannot carry a reply about
    something else.
    """
    found = total = 0
    after_figure = False
    for word in words(sentence):
        figure = any(ch.isdigit() for ch in word) or _numeral(word) is not None
        if not figure and not after_figure and _names_something(word):
            total += 1
            found += _found(word, tokens)
        after_figure = figure
    if total and not found:
        return 0.0
    if not total and not found_facts:
        return 0.0
    return (found + found_facts) / (total + found_facts)


def _names_something(word: str) -> bool:
    """A topical word (``index.query.is_topical``) that no reading makes a function word or pronoun.

    Stricter than ``is_topical``, which asks that every reading be a function word:
    a word that may be a particle, conjunction or preposition at all ("jak", "nie")
    names nothing in a generated sentence.
    """
    if len(word) < 3 or not is_topical(word):
        return False
    readings = analyse(word)
    if any(tag in _FUNCTION_TAGS for _, tag in readings):
        return False
    return not readings or not all(fold_diacritics(lemma) in _PRONOUNS for lemma, _ in readings)


def _found(word: str, tokens: frozenset[str]) -> bool:
    """A word is among ``tokens`` by form or lemma, or by its first letters (inflection)."""
    if set(word_tokens(word)) & tokens:
        return True
    return len(word) >= PREFIX and fold_diacritics(word)[:PREFIX] in _prefixes(tokens)


def _tokens(text: str) -> frozenset[str]:
    return frozenset(token for word in words(text) for token in word_tokens(word))


@lru_cache(maxsize=256)
def _prefixes(tokens: frozenset[str]) -> frozenset[str]:
    return frozenset(t[:PREFIX] for t in tokens if len(t) >= PREFIX and not t.startswith("~"))


def _without_markers(sentence: str) -> str:
    text = _CITES.sub("", sentence)
    text = re.sub(r"\s+([.,;:!?…])", r"\1", text)
    return " ".join(text.split())


def dropped(checked: Sequence[Checked]) -> list[Checked]:
    """The sentences that failed."""
    return [c for c in checked if not c.verified]
