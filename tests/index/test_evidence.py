"""Evidence units (sentences, list items with their stem) and their stored vectors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.evidence import SentenceVectors, evidence_units
from index.records import Chunk, DocumentMeta

ART7 = (
    "Art. 7. Pomocy społecznej udziela się osobom i rodzinom w szczególności z powodu:\n"
    "1) ubóstwa;\n2) sieroctwa;\n3) bezdomności;\n"
    "Pomoc przyznaje ośrodek."
)


def test_items_know_their_stem_and_the_stem_knows_it_has_items() -> None:
    units = evidence_units(ART7)
    stem, *items, after = units
    assert stem.is_stem and stem.text.endswith("z powodu:")
    assert [u.text for u in items] == ["1) ubóstwa;", "2) sieroctwa;", "3) bezdomności;"]
    assert all(u.stem == stem.text and not u.is_stem for u in items)
    assert after.stem is None and not after.is_stem
    # An item is embedded with its stem, so its vector keeps the meaning of the list.
    assert items[1].embed_text == f"{stem.text} 2) sieroctwa;"
    assert [u.position for u in units] == list(range(len(units)))


def test_a_label_alone_joins_the_sentence_it_labels() -> None:
    units = evidence_units("Artykuł 99 § 1. Wybrany do Sejmu może być obywatel. § 2. Wybrany do Senatu też.")
    assert units[0].text.startswith("Artykuł 99 § 1.") and "Wybrany do Sejmu" in units[0].text
    assert all(len(u.text) > 8 for u in units)


class CountingEmbedder:
    """Deterministic unit vectors from a text hash; counts what it embeds."""

    model_id = "fake"
    dim = 8

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def encode_passages(
        self, texts: Sequence[str], batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        self.embedded.extend(texts)
        rows = [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=self.dim) for t in texts]
        matrix = np.array(rows, dtype=np.float32)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def chunk(text: str) -> Chunk:
    meta = DocumentMeta(title="T", kind="statute", status="in_force", source_url="")
    return Chunk(id=text[:10], doc_id="d", anchor="", text=text, embed_text=text, meta=meta, position=0)


def test_vectors_are_stored_reused_and_looked_up_by_unit(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    vectors = SentenceVectors.build([chunk(ART7)], embedder)
    assert len(vectors) == len(evidence_units(ART7)) == len(embedder.embedded)
    vectors.save(tmp_path)
    loaded = SentenceVectors.load(tmp_path)
    assert loaded is not None and loaded.rows == vectors.rows
    units = evidence_units(ART7)
    query = vectors.matrix[2]
    cosines = loaded.cosines(units, query)
    assert abs(cosines[2] - 1.0) < 1e-2  # float16 on disk
    # A rebuild embeds only the new unit.
    again = CountingEmbedder()
    SentenceVectors.build([chunk(ART7 + "\nNowe zdanie."), chunk("Inne.")], again, previous=loaded)
    assert again.embedded == ["Nowe zdanie.", "Inne."]
    # A unit the index never stored has no cosine.
    assert loaded.cosines(evidence_units("Zupełnie inny tekst."), query) == [None]
    assert SentenceVectors.load(tmp_path / "missing") is None
