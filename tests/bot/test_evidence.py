"""Candidates and their general features (no model involved)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np

from bot.evidence import EVIDENCE_FEATURES, candidates, has_duration, has_number, unit_features
from index.query import read_query
from index.records import Chunk, DocumentMeta, Hit

TODAY = date(2025, 6, 1)
META = DocumentMeta(
    title="Kodeks postępowania administracyjnego", kind="statute", status="in_force", source_url=""
)


def chunk(id_: str, text: str, **meta: Any) -> Chunk:
    m = replace(META, **meta)
    return Chunk(
        id=id_, doc_id=f"{id_}.md", anchor="art. 129", text=text, embed_text=text, meta=m, position=0
    )


def test_amounts_periods_and_unit_labels_are_told_apart() -> None:
    assert has_duration("Odwołanie wnosi się w terminie czternastu dni.")
    assert has_duration("w terminie 14 dni od doręczenia")
    assert not has_duration("Art. 129 § 2 stosuje się odpowiednio.")
    assert has_number("Zasiłek wynosi 1229 zł.") and not has_number("Art. 129 ust. 3 pkt 4.")


def test_each_candidate_gets_one_row_of_named_features() -> None:
    hits = [
        Hit(
            chunk("a", "Odwołanie wnosi się w terminie czternastu dni. Organ przekazuje akta."),
            1.0,
            dense_score=0.9,
            unit_cosines=(0.91, 0.80),
        ),
        Hit(
            chunk(
                "b",
                "Zasiłek stały wynosi 1229 zł.",
                effective_from=date(2020, 1, 1),
                effective_to=date(2021, 12, 31),
            ),
            0.5,
            dense_score=0.8,
        ),
    ]
    cands = candidates(hits, TODAY)
    query = read_query("w ile dni trzeba wniesc odwolanie w 2021", today=TODAY)
    rows = unit_features(query, cands)
    assert rows.shape == (3, len(EVIDENCE_FEATURES))
    col = {name: i for i, name in enumerate(EVIDENCE_FEATURES)}
    assert rows[0, col["unit_cos"]] == 0.91 and rows[0, col["unit_cos_rank"]] == 1
    assert np.isnan(rows[2, col["unit_cos"]])  # the second hit stores no unit vectors
    assert rows[0, col["asks_duration"]] == 1 and rows[0, col["has_duration"]] == 1
    assert rows[0, col["overlap"]] > rows[1, col["overlap"]]  # "odwołanie", "wnosić" vs nothing
    assert rows[2, col["year_fit"]] == 1 and rows[0, col["year_fit"]] == 0
    assert rows[2, col["status_historical"]] == 1 and rows[2, col["asks_past"]] == 1
