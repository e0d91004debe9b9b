"""Reading users' wording: Polish letters restored, topic words, shorthand, years."""

from __future__ import annotations

import pytest

from bot.wording import equivalent, is_topical, lemma_keys, years_named


@pytest.mark.parametrize(
    "word", ["trzyma", "idzie", "zajmuje", "zanim", "odebral", "wyplacic", "przysługuje"]
)
def test_verbs_and_conjunctions_name_no_topic(word: str) -> None:
    assert not is_topical(word)


@pytest.mark.parametrize(
    "word", ["zasiłek", "zasilek", "becikowe", "australii", "pcpr", "2008r", "osobisty", "mecz"]
)
def test_nouns_numbers_and_unknown_words_name_a_topic(word: str) -> None:
    assert is_topical(word)


def test_polish_letters_are_restored_for_matching() -> None:
    assert "odebrac" in lemma_keys("odebral")
    assert "wiezienie" in lemma_keys("wiezienia")  # also a form of "wieźć", but users mean prison


def test_shorthand_and_everyday_words_map_to_the_sources_wording() -> None:
    assert equivalent("PCPR".lower()) == "powiatowe centrum pomocy rodzinie"
    assert equivalent("sko") == "samorządowe kolegium odwoławcze"
    assert equivalent("więzieniu") == "zakład karny"
    assert equivalent("procent") == "%"
    assert equivalent("zasiłek") is None


def test_years_however_typed() -> None:
    assert years_named("kryterium dochodowe w 2008r") == {2008}
    assert years_named("ile było w 2019 roku, a od 2015 r.?") == {2019, 2015}
    assert years_named("wynosi 1010 zł, Dz.U. poz. 20255") == set()
