"""Polish tokens for BM25: folding, lemmas, numbers."""

from __future__ import annotations

import time

from index.polish import LEMMA_MARK, fold_diacritics, tokenize


def test_fold_diacritics_maps_every_polish_letter_both_cases() -> None:
    assert fold_diacritics("ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ") == "acelnoszz ACELNOSZZ"
    assert fold_diacritics("Zasiłek stały – 1010 zł") == "Zasilek staly – 1010 zl"


def test_inflected_forms_share_lemma_tokens() -> None:
    singular = set(tokenize("kryterium dochodowego"))
    plural = set(tokenize("kryteria dochodowe"))
    assert {f"{LEMMA_MARK}kryterium", f"{LEMMA_MARK}dochodowy"} <= singular & plural


def test_query_without_polish_letters_matches_text_with_them() -> None:
    query = set(tokenize("zasilek staly"))
    text = tokenize("Zasiłek stały przysługuje osobie niezdolnej do pracy")
    assert query <= set(text)


def test_genitive_with_polish_letters_meets_nominative_lemma() -> None:
    assert f"{LEMMA_MARK}zasilek" in tokenize("wysokość zasiłku stałego")


def test_surface_form_comes_first_and_is_lowercase() -> None:
    assert tokenize("Świadczeń")[0] == "swiadczen"
    assert f"{LEMMA_MARK}swiadczenie" in tokenize("Świadczeń")


def test_numbers_and_unit_words_are_kept_without_lemmas() -> None:
    tokens = tokenize("art. 106 ust. 3a: 1010 zł")
    for token in ("art", "106", "ust", "3a", "1010", "zl"):
        assert token in tokens
    assert f"{LEMMA_MARK}1010" not in tokens and f"{LEMMA_MARK}3a" not in tokens


def test_punctuation_and_empty_text_give_no_tokens() -> None:
    assert tokenize("") == []
    assert tokenize(" .,;–„” ") == []
    assert "_" not in "".join(tokenize("a_b"))


def test_tokenizing_is_fast_once_warm() -> None:
    tokenize("rozgrzewka słownika")
    text = "Pomoc społeczna wspiera osoby i rodziny w wysiłkach zmierzających do zaspokojenia potrzeb. " * 5
    start = time.perf_counter()
    for i in range(300):
        tokenize(f"{text} {i}")
    assert time.perf_counter() - start < 2.0
