"""BM25 index: search, inflection, persistence, empty inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.errors import IndexNotBuilt
from index.lexical import LexicalIndex

TEXTS = [
    "Kryterium dochodowe osoby samotnie gospodarującej wynosi 1010 zł.",
    "Zasiłek stały przysługuje pełnoletniej osobie całkowicie niezdolnej do pracy z powodu wieku.",
    "Od decyzji wydanej w pierwszej instancji służy stronie odwołanie.",
    "Zasiłek okresowy przysługuje w szczególności ze względu na bezrobocie.",
]


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    return LexicalIndex.build(TEXTS)


def test_inflected_query_ranks_the_right_passage_first(index: LexicalIndex) -> None:
    assert index.search("kryteria dochodowe dla osób samotnych", 3)[0][0] == 0
    assert index.search("wysokość zasiłków stałych", 3)[0][0] == 1


def test_query_without_diacritics_finds_the_passage(index: LexicalIndex) -> None:
    assert index.search("zasilek staly", 3)[0][0] == 1


def test_results_are_best_first_positive_and_capped(index: LexicalIndex) -> None:
    hits = index.search("zasiłek przysługuje", 2)
    assert len(hits) == 2
    assert hits[0][1] >= hits[1][1] > 0
    assert {row for row, _ in hits} == {1, 3}
    assert all(score > 0 for _, score in index.search("odwołanie od decyzji", 10))
    assert len(index.search("odwołanie od decyzji", 10)) == 1


def test_unknown_words_and_empty_query_return_nothing(index: LexicalIndex) -> None:
    assert index.search("", 5) == []
    assert index.search("kwantowa chromodynamika", 5) == []
    assert index.search("zasiłek", 0) == []


def test_empty_corpus_builds_searches_and_roundtrips(tmp_path: Path) -> None:
    empty = LexicalIndex.build([])
    assert len(empty) == 0
    assert empty.search("zasiłek", 5) == []
    empty.save(tmp_path)
    assert LexicalIndex.load(tmp_path).search("zasiłek", 5) == []


def test_save_load_roundtrip_gives_same_results(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")
    assert len(loaded) == len(TEXTS)
    for query in ("kryteria dochodowe", "zasilek staly", "odwołanie"):
        before, after = index.search(query, 4), loaded.search(query, 4)
        assert [row for row, _ in after] == [row for row, _ in before]
        assert [score for _, score in after] == pytest.approx([score for _, score in before])


def test_load_refuses_an_index_from_another_tokenizer(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path)
    config_path = tmp_path / "lexical.json"
    config = json.loads(config_path.read_text())
    config["tokenizer"] = "some-older-tokenizer"
    config_path.write_text(json.dumps(config))
    with pytest.raises(IndexNotBuilt, match="przebuduj"):
        LexicalIndex.load(tmp_path)


def test_load_of_missing_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(IndexNotBuilt):
        LexicalIndex.load(tmp_path / "nothing")
