"""Polish text to BM25 tokens: lowercase, diacritics folded, plus Morfeusz 2 lemmas.

Each word gives two kinds of token:
- its folded surface form ("zasiłku" -> "zasilku"), so exact statute wording still
  scores highest, and a query typed without Polish letters meets the indexed text;
- every lemma Morfeusz proposes, folded and marked with ``LEMMA_MARK``
  ("~zasilek"), so "kryteria dochodowe" meets "kryterium dochodowego".
The mark keeps the two kinds apart in BM25, which then behaves like the sum of
a surface index and a lemma index. Measured with ``scripts/tune_retrieval.py``
(nDCG@10, passages with act title): LQAD-PL train+dev 0.891 vs 0.887 lowercase,
0.871 lemmas only, 0.883 Snowball; natural questions 0.835 vs 0.700 lowercase,
0.800 lemmas only, 0.739 Snowball; one unmarked, deduplicated token per form
scored 0.883 / 0.794.
Numbers stay as tokens ("1010", "106", "3a"); "art", "ust", "pkt" are kept as
well: BM25's IDF already makes such frequent tokens cheap.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# Changing what tokenize() returns changes the index: bump this so a stored index
# built with an older tokenizer is recognised as stale.
TOKENIZER_VERSION = "pl-folded-surface+marked-morfeusz2-lemmas-v1"
LEMMA_MARK = "~"
UNKNOWN_TAG = "ign"  # Morfeusz's tag for a word its dictionary does not know

# Polish cardinal numerals by folded lemma (Morfeusz gives "czternaście" for "czternastu").
CARDINALS: dict[str, int] = {
    "jeden": 1,
    "dwa": 2,
    "trzy": 3,
    "cztery": 4,
    "piec": 5,
    "szesc": 6,
    "siedem": 7,
    "osiem": 8,
    "dziewiec": 9,
    "dziesiec": 10,
    "jedenascie": 11,
    "dwanascie": 12,
    "trzynascie": 13,
    "czternascie": 14,
    "pietnascie": 15,
    "szesnascie": 16,
    "siedemnascie": 17,
    "osiemnascie": 18,
    "dziewietnascie": 19,
    "dwadziescia": 20,
    "trzydziesci": 30,
    "czterdziesci": 40,
    "piecdziesiat": 50,
    "szescdziesiat": 60,
    "siedemdziesiat": 70,
    "osiemdziesiat": 80,
    "dziewiecdziesiat": 90,
    "sto": 100,
    "dwiescie": 200,
    "trzysta": 300,
    "czterysta": 400,
    "piecset": 500,
    "szescset": 600,
    "siedemset": 700,
    "osiemset": 800,
    "dziewiecset": 900,
}

_FOLD = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")
# Runs of letters or digits; underscores and punctuation separate words.
_WORD = re.compile(r"[^\W_]+")


def fold_diacritics(text: str) -> str:
    """Replace Polish letters with their plain Latin twins (ą→a, ł→l, Ż→Z, ...)."""
    return text.translate(_FOLD)


def text_key(text: str) -> str:
    """The key under which two texts count as the same words (case and spacing ignored)."""
    return " ".join(text.casefold().split())


def words(text: str) -> list[str]:
    """The lowercase words and numbers of ``text``, diacritics kept."""
    return _WORD.findall(text.lower())


def tokenize(text: str) -> list[str]:
    """The tokens BM25 indexes and queries with: folded surface forms plus marked folded lemmas."""
    tokens: list[str] = []
    for word in words(text):
        tokens.extend(word_tokens(word))
    return tokens


@lru_cache(maxsize=200_000)
def word_tokens(word: str) -> tuple[str, ...]:
    """Tokens for one lowercase word: its folded form, then its distinct marked lemmas."""
    folded = fold_diacritics(word)
    if any(char.isdigit() for char in word):  # "1010", "3a": no lemma to find
        return (folded,)
    marked = dict.fromkeys(LEMMA_MARK + fold_diacritics(lemma) for lemma in lemmas(word))
    return (folded, *marked)


@lru_cache(maxsize=200_000)
def lemmas(word: str) -> tuple[str, ...]:
    """Every lemma Morfeusz proposes for a lowercase word (the word itself if unknown).

    Morfeusz does not rank its candidates, so all are kept: a wrong extra lemma
    costs little in BM25, a missing right one loses the match.
    """
    found = [word if tag == UNKNOWN_TAG else lemma for lemma, tag in analyse(word)]
    return tuple(dict.fromkeys(lemma for lemma in found if _WORD.fullmatch(lemma))) or (word,)


@lru_cache(maxsize=200_000)
def analyse(word: str) -> tuple[tuple[str, str], ...]:
    """Morfeusz's readings of one lowercase word as distinct (lemma, tag class) pairs.

    "stać:Vi" → "stać" (the suffix only tells homonyms apart), "fin:sg:ter:imperf"
    → "fin". A word the dictionary does not know has the tag class ``UNKNOWN_TAG``.
    """
    pairs: list[tuple[str, str]] = []
    for _start, _end, (_form, lemma, tag, _names, _quals) in analyser().analyse(word):
        pair = (lemma.split(":", 1)[0].lower(), tag.split(":", 1)[0])
        if pair not in pairs:
            pairs.append(pair)
    return tuple(pairs)


@lru_cache(maxsize=1)
def analyser() -> Any:  # morfeusz2 ships no types
    """The Morfeusz 2 analyser with the SGJP dictionary from its wheel (loaded once)."""
    # faiss and morfeusz2 are both SWIG modules; when morfeusz2 is loaded first, a later
    # faiss import takes over the shared SWIG iterator type and the next analysis
    # segfaults. Loading faiss first keeps both working, whatever the caller imported.
    import faiss  # noqa: F401  # loaded for its side effect on the SWIG type table
    import morfeusz2  # imported here: loading the dictionary takes ~0.15 s

    return morfeusz2.Morfeusz(generate=False)
