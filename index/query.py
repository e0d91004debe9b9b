"""Query understanding, in one place: a question is read once into a ``Query`` record.

Both ``index.search`` and ``bot.answer`` read questions only through this module:

- ``years_in`` is THE year reader ("w 2008r", "2019 roku", "od 2015 r.");
- ``asks_about_past`` tells questions about how things were;
- ``ABBREVIATIONS`` is the one table of office shorthand (documented below);
- ``Vocabulary.correct`` is the typo tolerance: a word the index has never seen is
  replaced by the nearest word it has seen, by Damerau–Levenshtein distance
  (rapidfuzz), only when that neighbour is close and unique enough;
- ``question_types`` reads what kind of answer is wanted from Polish interrogatives
  (general grammar, not words of any particular question);
- ``is_follow_up`` tells an elliptic follow-up ("a dla rodziny?").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from index.legal_units import UnitRef, parse_unit_refs
from index.polish import LEMMA_MARK, UNKNOWN_TAG, analyse, fold_diacritics, word_tokens, words

# Office shorthand → the name the sources spell out. Sources: the official names of
# the bodies in the statutes themselves (ustawa o pomocy społecznej, Dz.U. 2025
# poz. 1214: art. 110 OPS, art. 112 PCPR, art. 54–65 DPS, art. 113 ROPS; ustawa o
# realizowaniu usług społecznych przez centrum usług społecznych, Dz.U. 2019 poz.
# 1818: CUS; ustawa o samorządowych kolegiach odwoławczych, Dz.U. 2018 poz. 570:
# SKO; ustawa o promocji zatrudnienia, Dz.U. 2025 poz. 214: PUP) and the short
# titles lawyers use for the acts (u.p.s., k.p.a.). Every key is an acronym of its
# expansion, nothing else: the table widens what a question names, so a loose entry
# would make the bot answer questions its sources do not address.
ABBREVIATIONS: dict[str, str] = {
    "mops": "miejski ośrodek pomocy społecznej",
    "gops": "gminny ośrodek pomocy społecznej",
    "mgops": "miejsko-gminny ośrodek pomocy społecznej",
    "ops": "ośrodek pomocy społecznej",
    "pcpr": "powiatowe centrum pomocy rodzinie",
    "sko": "samorządowe kolegium odwoławcze",
    "cus": "centrum usług społecznych",
    "rops": "regionalny ośrodek polityki społecznej",
    "dps": "dom pomocy społecznej",
    "pup": "powiatowy urząd pracy",
    "ups": "ustawa o pomocy społecznej",
    "kpa": "kodeks postępowania administracyjnego",
}

# Kinds of answer a question can want (several may hold at once).
QUESTION_TYPES = ("amount", "duration", "date", "body", "list", "yesno", "procedure", "definition")
_TYPE_PATTERNS: dict[str, re.Pattern[str]] = {
    "duration": re.compile(
        r"\bile (?:dni|tygodni|miesiecy|lat|czasu)\b|\bw ile\b|\bpo ilu\b|\bjak dlugo\b|\bna jak dlugo\b|"
        r"\bw jakim terminie\b|\bjaki\w* (?:jest )?termin\w*|\bna jaki (?:okres|czas)\b|\bterminie?\b"
    ),
    "amount": re.compile(
        r"\bile\b|\bilu\b|\bkwot\w*|\bwysokos\w*|\bwynosi\w*|\bprocent\w*|\blimit\w*|\bzl\b"
    ),
    "date": re.compile(
        r"\bkiedy\b|\bod kiedy\b|\bdo kiedy\b|\bdat[aey]\b|\bktorego dnia\b|\bw ktorym roku\b"
    ),
    "body": re.compile(
        r"\bkto\b|\bkogo\b|\bkomu\b|\bkim\b|\bktory organ\b|\bjaki organ\b|\bgdzie\b|\bdo kogo\b"
    ),
    "list": re.compile(
        r"\bjakie\b|\bjakich\b|\bwymien\w*|\brodzaj\w*|\bktore\b|\bco (?:obejmuje|zalicza|nalezy)"
    ),
    "yesno": re.compile(r"^(?:a\s+)?czy\b"),
    "procedure": re.compile(
        r"\bjak\b(?! dlugo)|\bw jaki sposob\b|\bprocedur\w*|\bco (?:zrobic|robic|trzeba)\b"
    ),
    "definition": re.compile(
        r"\bco to\b|\bczym jest\b|\bco oznacza\b|\bco znaczy\b|\bdefinicj\w*|\bco rozumie"
    ),
}
_CHANGES = re.compile(
    r"zmieni|zmian|od kiedy|planowan|projekt|nowelizac|nowe przepisy|reform|"
    r"bedzie obowiazywa|wejdzie w zycie|wchodzi w zycie|od nowego roku"
)
_PAST = re.compile(
    r"\b(?:wczesniej|poprzedni\w*|dawniej|dawn\w+|przedtem|kiedys|uprzednio|"
    r"obowiazywal\w*|przed\s+(?:zmian|nowelizacj|reform)\w*)\b"
)
# A year, with the "r" of "roku" possibly glued on ("w 2008r"); "Dz.U. 2023 poz. 1" is no year asked about.
_YEAR = re.compile(
    r"(?<![\d.])(?<!art\.\s)(?<!art\s)(?<!art\.)((?:19|20)\d\d)(?:\s?r\b\.?|\s?rok\w*)?(?![\d.]|\s*poz)",
    re.IGNORECASE,
)
# Question words, pronouns and auxiliaries: they carry no topic (folded forms).
STOPWORDS = frozenset(
    [
        "a",
        "aby",
        "albo",
        "ale",
        "bo",
        "by",
        "byc",
        "byl",
        "byla",
        "bylo",
        "co",
        "czy",
        "czyli",
        "dla",
        "do",
        "gdy",
        "gdzie",
        "i",
        "ich",
        "ile",
        "ilu",
        "im",
        "ja",
        "jak",
        "jaka",
        "jaki",
        "jakie",
        "jakich",
        "jakim",
        "jakiej",
        "jakiego",
        "jako",
        "je",
        "jego",
        "jej",
        "jest",
        "jesli",
        "jezeli",
        "juz",
        "kiedy",
        "kto",
        "kogo",
        "komu",
        "kim",
        "ktora",
        "ktore",
        "ktory",
        "ktorych",
        "ktorej",
        "ktorym",
        "ma",
        "maja",
        "mam",
        "mamy",
        "mi",
        "mnie",
        "moze",
        "mozna",
        "musi",
        "my",
        "na",
        "nad",
        "nalezy",
        "nam",
        "nas",
        "nie",
        "niz",
        "no",
        "o",
        "od",
        "oraz",
        "po",
        "pod",
        "przez",
        "przy",
        "sa",
        "sie",
        "sobie",
        "ta",
        "tak",
        "tam",
        "te",
        "tego",
        "tej",
        "ten",
        "to",
        "trzeba",
        "tu",
        "tylko",
        "tym",
        "u",
        "w",
        "we",
        "wg",
        "wiec",
        "z",
        "za",
        "ze",
        "zeby",
        "czym",
        "czego",
        "prosze",
    ]
)
_FOLLOW_UP_START = re.compile(r"^(?:a|i|to|oraz|no a)\b")
_DEMONSTRATIVE = re.compile(r"\b(?:tej|tego|tym|tamtej|tamtego|ten|ta)\b")
# Typo tolerance: how far a word may be from the vocabulary word it is taken for.
_MIN_TYPO_LENGTH = 5


def max_typo_distance(word: str) -> int:
    """Edits tolerated in a word of this length: none below 5 letters, 1 up to 7, then 2."""
    if len(word) < _MIN_TYPO_LENGTH:
        return 0
    return 1 if len(word) < 8 else 2


@dataclass(frozen=True)
class Query:
    """A question as read once: what every later step uses instead of re-reading the text."""

    text: str  # the question as asked (follow-ups merged with the previous question)
    search_text: str  # ``text`` with shorthand spelled out and typos corrected
    words: tuple[str, ...]  # folded content words (corrected), stopwords left out
    lemmas: frozenset[str]  # marked folded lemmas and folded forms of the content words
    types: frozenset[str]  # subset of QUESTION_TYPES
    years: frozenset[int]  # years named
    past: bool  # asks how things were
    changes: bool  # asks about changes (planned or recent)
    units: tuple[UnitRef, ...]  # legal units named ("art. 7")
    follow_up: bool = False
    unknown_words: int = 0  # content words the index vocabulary holds no form of (after typo correction)


def years_in(text: str) -> set[int]:
    """Years written in ``text``: "w 2008r", "2019 roku", "od 2015 r." → {2008, 2019, 2015}."""
    return {int(year) for year in _YEAR.findall(text)}


def asks_about_past(text: str, today: date) -> bool:
    """Whether ``text`` asks how things were ("wcześniej", "w 2020", "poprzednio")."""
    folded = fold_diacritics(text.lower())
    return bool(_PAST.search(folded)) or any(year < today.year for year in years_in(text))


def question_types(text: str) -> frozenset[str]:
    """What kind of answer ``text`` wants, from its interrogatives (see ``QUESTION_TYPES``)."""
    folded = fold_diacritics(text.lower()).strip()
    found = {name for name, pattern in _TYPE_PATTERNS.items() if pattern.search(folded)}
    if "duration" in found:
        found.discard("amount")  # "ile dni": a period, not a sum of money
    return frozenset(found)


def is_follow_up(question: str) -> bool:
    """Whether ``question`` leans on the previous one ("a dla rodziny?", "a ile to jest?")."""
    text = fold_diacritics(question.lower()).strip()
    content = [w for w in words(text) if w not in STOPWORDS]
    if _FOLLOW_UP_START.match(text) and len(content) < 5:
        return True
    if _DEMONSTRATIVE.search(text) and len(content) < 8:
        return True
    return len(content) <= 1


def expand_abbreviations(text: str) -> str:
    """``text`` with each shorthand of ``ABBREVIATIONS`` followed by its expansion.

    Dotted forms count too ("u.p.s.", "k.p.a."). The shorthand itself stays: a
    passage may use it.
    """
    out = []
    for token in re.findall(r"(?:[^\W\d_]\.){2,}|\S+", text):
        out.append(token)
        key = fold_diacritics(re.sub(r"[.,;:?!()]", "", token).lower())
        if key in ABBREVIATIONS:
            out.append(ABBREVIATIONS[key])
    return " ".join(out)


class Vocabulary:
    """The folded word forms an index holds, for typo tolerance.

    ``correct`` leaves known words, numbers and short words alone and replaces an
    unknown word by its nearest vocabulary word within ``max_typo_distance``
    (Damerau–Levenshtein: a swapped pair of letters is one edit). A tie between
    two different neighbours keeps the word as typed.
    """

    def __init__(self, forms: Iterable[str]) -> None:
        self.forms = frozenset(f for f in forms if f and not f.startswith(LEMMA_MARK))
        self._by_length: dict[int, list[str]] = {}
        for form in self.forms:
            self._by_length.setdefault(len(form), []).append(form)
        for bucket in self._by_length.values():
            bucket.sort()

    def __contains__(self, word: object) -> bool:
        return word in self.forms

    def correct(self, word: str) -> str:
        """The vocabulary form ``word`` (folded, lowercase) most likely stands for."""
        limit = max_typo_distance(word)
        if word in self.forms or limit == 0 or any(ch.isdigit() for ch in word):
            return word
        return self._nearest(word, limit)

    @lru_cache(maxsize=20_000)  # noqa: B019  # one vocabulary per index version; bounded
    def _nearest(self, word: str, limit: int) -> str:
        choices = [
            f for n in range(len(word) - limit, len(word) + limit + 1) for f in self._by_length.get(n, ())
        ]
        found = process.extract(
            word, choices, scorer=DamerauLevenshtein.distance, score_cutoff=limit, limit=3
        )
        if not found:
            return word
        best = min(score for _, score, _ in found)
        nearest = sorted(form for form, score, _ in found if score == best)
        return nearest[0] if len(nearest) == 1 else word


def read_query(
    question: str,
    *,
    previous: str = "",
    today: date | None = None,
    vocabulary: Vocabulary | None = None,
) -> Query:
    """Read ``question`` (with the chat's ``previous`` question, if it is a follow-up) into a ``Query``."""
    today = today or date.today()
    question = question.strip()
    follow_up = bool(previous.strip()) and is_follow_up(question)
    text = f"{previous.strip()} {question}" if follow_up else question
    corrected = _corrected(text, vocabulary)
    search_text = expand_abbreviations(corrected)
    content = tuple(
        dict.fromkeys(w for w in (fold_diacritics(x) for x in words(search_text)) if w not in STOPWORDS)
    )
    unknown = 0 if vocabulary is None else sum(1 for w in content if w not in vocabulary and not w.isdigit())
    lemmas = frozenset(t for w in content for t in word_tokens(w)) | frozenset(
        LEMMA_MARK + key for w in content for key in lemma_keys(w)
    )
    # "a w 2019?" names its own year; "a dla rodziny?" keeps the year of the question it follows.
    years = years_in(question) or years_in(text)
    past = asks_about_past(question, today) or any(year < today.year for year in years)
    folded = fold_diacritics(question.lower())
    return Query(
        text=text,
        search_text=search_text,
        words=content,
        lemmas=lemmas,
        types=question_types(question) or question_types(text),
        years=frozenset(years),
        past=past,
        changes=bool(_CHANGES.search(folded)) and not past,
        units=tuple(parse_unit_refs(text)),
        follow_up=follow_up,
        unknown_words=unknown,
    )


def _corrected(text: str, vocabulary: Vocabulary | None) -> str:
    """``text`` with every word unknown to ``vocabulary`` replaced by its nearest known form."""
    if vocabulary is None or not vocabulary.forms:
        return text

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        folded = fold_diacritics(word.lower())
        if folded in vocabulary or known_word(word.lower()):
            return word  # a real Polish word is no typo, even if the index lacks it
        fixed = vocabulary.correct(folded)
        return word if fixed == folded else fixed

    return re.sub(r"[^\W_]+", fix, text)


# ---------------------------------------------------------------- Morfeusz with Polish letters restored

_RESTORE = {"a": "aą", "c": "cć", "e": "eę", "l": "lł", "n": "nń", "o": "oó", "s": "sś", "z": "zźż"}
_MAX_SPELLINGS = 4096  # longer plain words are not restored (a few ms per word at this size)


# Morfeusz tag classes (first part of the tag) that never name a topic (Morfeusz 2 tags
# particles "part": "się", "już"; older tag sets "qub").
_NON_TOPICAL_TAGS = frozenset(
    "fin praet inf impt imps pcon pant bedzie winien pred aglt adv qub part comp conj prep interj".split()
)
# Verb forms: a word that may be one is read as one ("idzie" is also a rare noun form of
# "id"). Imperatives are left out: questions hardly use them, and "mecz" would otherwise
# be read as the imperative of "meczeć".
_VERB_TAGS = frozenset(["fin", "praet", "inf", "imps", "bedzie", "winien"])


def is_topical(word: str) -> bool:
    """Whether ``word`` (lowercase) can name what a text is about.

    Numbers, unknown words and nouns/adjectives are topical; a word that can be a
    verb, or is only an adverb, conjunction or particle, is not.
    """
    if any(ch.isdigit() for ch in word):
        return True
    tags = {tag for _, tag in _known(word) or _restored(word)}
    if not tags:
        return True  # unknown even with Polish letters: a name or a term
    return not tags & _VERB_TAGS and not tags <= _NON_TOPICAL_TAGS


def known_word(word: str) -> bool:
    """Whether Morfeusz knows ``word`` (lowercase), as typed or with its Polish letters put back."""
    return bool(_known(word) or _restored(word))


@lru_cache(maxsize=50_000)
def lemma_keys(word: str) -> frozenset[str]:
    """The folded word and the folded lemmas of it and of its spellings with Polish letters.

    Users type without Polish letters ("odebral", "wyplacic"); every spelling
    Morfeusz knows counts, so "wiezienia" meets both "wieźć" and "więzienie".
    """
    pairs = _known(word) + _restored(word)
    return frozenset({fold_diacritics(word)} | {fold_diacritics(lemma) for lemma, _ in pairs})


@lru_cache(maxsize=50_000)
def _restored(word: str) -> tuple[tuple[str, str], ...]:
    """Analyses of the spellings of a plain-letter ``word`` with Polish letters put back."""
    if word != fold_diacritics(word) or any(ch.isdigit() for ch in word):
        return ()
    choices = [_RESTORE.get(ch, ch) for ch in word]
    total = 1
    for options in choices:
        total *= len(options)
    if total > _MAX_SPELLINGS:
        return ()
    result: list[tuple[str, str]] = []
    for letters in itertools.product(*choices):
        spelling = "".join(letters)
        if spelling != word:
            result.extend(pair for pair in _known(spelling) if pair not in result)
    return tuple(result)


def _known(spelling: str) -> tuple[tuple[str, str], ...]:
    return tuple(pair for pair in analyse(spelling) if pair[1] != UNKNOWN_TAG)
