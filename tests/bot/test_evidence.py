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


_FEATURES_OF_A_FIXED_QUESTION = """
from datetime import date
from bot.evidence import candidates, unit_features
from index.query import read_query
from index.records import Chunk, DocumentMeta, Hit
meta = DocumentMeta(title="Zasiłek stały", kind="summary", status="in_force", source_url="")
texts = ["Zasiłek stały przysługuje pełnoletniej osobie samotnie gospodarującej niezdolnej do pracy "
         "z powodu wieku. Kwota zasiłku wynosi różnicę między kryterium a dochodem.",
         "Odwołanie od decyzji wnosi się do samorządowego kolegium odwoławczego w terminie 14 dni."]
hits = [Hit(Chunk(id=str(i), doc_id=f"{i}.md", anchor="", text=t, embed_text=t, meta=meta, position=0),
            1.0 / (i + 1), dense_score=0.8) for i, t in enumerate(texts)]
query = read_query("komu przysluguje zasilek staly i ile wynosi kwota zasilku", today=date(2025, 6, 1))
print(unit_features(query, candidates(hits, date(2025, 6, 1))).tobytes().hex())
"""


def test_features_do_not_depend_on_the_hash_seed() -> None:
    """Sums over sets of lemmas follow no hash order: trained models reproduce to the bit."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    outputs = {
        subprocess.run(
            [sys.executable, "-c", _FEATURES_OF_A_FIXED_QUESTION],
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1 and len(next(iter(outputs))) > 100
