"""How users word questions versus how the knowledge base words answers.

Social workers type fast and without Polish letters ("wyplacic", "odebral"),
use office shorthand ("PCPR", "SKO") and everyday words ("więzienie") where
statutes say "zakład karny". The answer module uses these helpers to decide
which question words must be found in a passage before it answers:

- ``analyses`` reads a word with Morfeusz 2, restoring Polish letters when the
  plain spelling is unknown to the dictionary ("odebral" → "odebrał");
- ``is_topical`` tells words that name a topic (nouns, adjectives, numbers,
  unknown words) from words that only say what is asked about it (verbs,
  adverbs, conjunctions): "czym się zajmuje PCPR" is about PCPR, whatever
  "zajmuje" says, and no passage will contain "zajmuje";
- ``EQUIVALENTS`` maps shorthand and everyday words to the wording of the
  sources, so a passage that spells a term out counts as naming it;
- ``years_named`` finds the years a question asks about, however typed
  ("w 2008r", "2019 roku", "2015").
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

from index.polish import UNKNOWN_TAG, analyse, fold_diacritics, words

# Shorthand and everyday words → the phrase the sources use. Keys are folded
# lemmas (what ``lemma_keys`` returns for a question word). Only terms whose two
# sides mean the same thing in Polish social-assistance law belong here: the
# table widens what counts as "the passage names it", so a loose entry would let
# the bot answer a question its sources do not address. The office names
# MOPS/GOPS/OPS are left out on purpose: bot.answer treats them as neutral
# (users say them, statutes say "ośrodek pomocy społecznej" only sometimes).
EQUIVALENTS: dict[str, str] = {
    "pcpr": "powiatowe centrum pomocy rodzinie",
    "sko": "samorządowe kolegium odwoławcze",
    "cus": "centrum usług społecznych",
    "rops": "regionalny ośrodek polityki społecznej",
    "dps": "dom pomocy społecznej",
    "kpa": "kodeks postępowania administracyjnego",
    "ups": "ustawa o pomocy społecznej",
    "pup": "powiatowy urząd pracy",
    "mrpips": "ministerstwo rodziny pracy i polityki społecznej",
    "wiezienie": "zakład karny",
    "awizo": "zawiadomienie",
    "procent": "%",
}

# Morfeusz tag classes (first part of the tag) that never name a topic.
_NON_TOPICAL_TAGS = frozenset(
    """
    fin praet inf impt imps pcon pant bedzie winien pred aglt adv qub comp conj prep interj
    """.split()
)
# Verb forms: a word that may be one is read as one ("idzie" is also a rare noun
# form of "id", "minie" of "mina"). Imperatives are left out: questions hardly
# use them, and "mecz" would otherwise be read as the imperative of "meczeć".
_VERB_TAGS = frozenset(["fin", "praet", "inf", "imps", "bedzie", "winien"])
_RESTORE = {"a": "aą", "c": "cć", "e": "eę", "l": "lł", "n": "nń", "o": "oó", "s": "sś", "z": "zźż"}
_MAX_SPELLINGS = 4096  # longer plain words are not restored (a few ms per word at this size)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?:\s?r\b\.?|\s?rok\w*)?(?!\d)", re.IGNORECASE)


@lru_cache(maxsize=50_000)
def analyses(word: str) -> tuple[tuple[str, str], ...]:
    """(lemma, tag class) pairs for one lowercase word; () when Morfeusz knows no spelling of it.

    A word typed without Polish letters that the dictionary does not know is
    tried with them ("wyplacic" → "wypłacić"); every known spelling counts.
    """
    return _known(word) or _restored(word)


def lemma_keys(word: str) -> frozenset[str]:
    """The folded word, its folded lemmas and those of its spellings with Polish letters.

    "wiezienia" is a known (rare) form of "wieźć", yet the user meant
    "więzienia": for matching, every spelling counts.
    """
    pairs = _known(word) + _restored(word)
    return frozenset({fold_diacritics(word)} | {fold_diacritics(lemma) for lemma, _ in pairs})


def is_topical(word: str) -> bool:
    """Whether ``word`` can name what a question is about.

    Numbers, unknown words and nouns/adjectives are topical; a word that can be
    a verb, or is only an adverb, conjunction or particle, is not.
    """
    if any(ch.isdigit() for ch in word):
        return True
    tags = {tag for _, tag in analyses(word)}
    if not tags:
        return True  # unknown even with Polish letters: a name or a term ("becikowe"-like)
    return not tags & _VERB_TAGS and not tags <= _NON_TOPICAL_TAGS


def equivalent(word: str) -> str | None:
    """The sources' wording for a shorthand or everyday ``word``, if the table has one."""
    for key in sorted(lemma_keys(word)):
        if key in EQUIVALENTS:
            return EQUIVALENTS[key]
    return None


def years_named(text: str) -> set[int]:
    """Years written in ``text``: "w 2008r", "2019 roku", "od 2015 r." → {2008, 2019, 2015}."""
    return {int(year) for year in _YEAR.findall(text)}


def phrase_words(phrase: str) -> list[str]:
    """The words of an ``EQUIVALENTS`` phrase that must all occur ("o", "i" left out)."""
    return [w for w in words(phrase) if len(w) > 1] or [phrase.strip()]


@lru_cache(maxsize=50_000)
def _restored(word: str) -> tuple[tuple[str, str], ...]:
    """Analyses of the spellings of a plain-letter ``word`` with Polish letters put back."""
    if word != fold_diacritics(word) or any(ch.isdigit() for ch in word):
        return ()
    choices = [_RESTORE.get(ch, ch) for ch in word]
    if _count(choices) > _MAX_SPELLINGS:
        return ()
    result: list[tuple[str, str]] = []
    for letters in itertools.product(*choices):
        spelling = "".join(letters)
        if spelling != word:
            result.extend(pair for pair in _known(spelling) if pair not in result)
    return tuple(result)


def _known(spelling: str) -> tuple[tuple[str, str], ...]:
    return tuple(pair for pair in analyse(spelling) if pair[1] != UNKNOWN_TAG)


def _count(choices: list[str]) -> int:
    total = 1
    for options in choices:
        total *= len(options)
    return total
