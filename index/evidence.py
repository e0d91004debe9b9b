"""Units of evidence (sentences and list items with their stem) and their stored vectors.

The answer engine ranks units, not passages. A unit is a sentence of a passage or
one item of a list; an item remembers the stem that introduces its list ("…z
powodu:"), and a stem knows it has items. Units come from the sentences stored on
each chunk at build time (``Chunk.sentences``, THE splitter ``index.sentences``).

Every unit is embedded once, at index build, with the passage model (``passage: ``
prompt) and stored with the index version (``SentenceVectors``): embedding the
units of the top passages at question time took 1.8 s for 60 units with ONNX
Runtime on the project machine, against ~20 ms for the whole search.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from index.records import Chunk, SentenceSpan
from index.sentences import sentences

SENTENCE_VECTORS = "sentence_vectors.npz"
# A piece that is only a unit label ("Artykuł 99 § 1.", "§ 2.") joins the next piece.
_LABEL_ONLY = re.compile(
    r"^\s*(?:Art(?:ykuł|\.)?\s*\d+[a-z]*\.?)?\s*(?:§\s*\d+[a-z]*\.?)?\s*(?:\d+[a-z]?[.)])?\s*$"
)


@dataclass(frozen=True)
class EvidenceUnit:
    """One sentence or list item of a passage, in reading order."""

    text: str
    position: int  # 0-based order inside the passage
    stem: str | None = None  # for a list item: the sentence that introduces its list
    is_stem: bool = False  # the sentence introduces a list (ends with ":" and items follow)
    sentences: tuple[int, ...] = ()  # indexes of the chunk's sentences the unit spans

    @property
    def embed_text(self) -> str:
        """What the model embeds: an item with its stem, so "7) przemocy domowej;" keeps its meaning."""
        return f"{self.stem} {self.text}" if self.stem else self.text


class PassageEmbedder(Protocol):
    """What building sentence vectors needs from ``index.embedder.Embedder``."""

    dim: int

    def encode_passages(
        self, texts: Sequence[str], batch_size: int = 32, progress: bool = False
    ) -> np.ndarray: ...


@lru_cache(maxsize=8192)
def evidence_units(text: str, spans: tuple[SentenceSpan, ...] = ()) -> tuple[EvidenceUnit, ...]:
    """The sentences and list items of a passage, label-only pieces joined to what follows.

    ``spans`` are the sentences stored on the chunk at build time; without them
    (hand-made or evaluation passages) the text is split here by the same splitter.
    """
    if spans:
        found = [(" ".join(text[s.start : s.end].split()), s.stem) for s in spans]
    else:
        found = [(s.text, s.stem) for s in sentences(text)]
    texts = [t for t, _ in found]
    pieces: list[tuple[str, str | None, tuple[int, ...]]] = []
    pending = ""
    covered: tuple[int, ...] = ()
    for index, (piece_text, stem) in enumerate(found):
        piece = f"{pending} {piece_text}".strip() if pending else piece_text
        covered = (*covered, index)
        if _LABEL_ONLY.match(piece_text):
            pending = piece
            continue
        pieces.append((piece, texts[stem] if stem is not None else None, covered))
        pending, covered = "", ()
    if pending:
        pieces.append((pending, None, covered))
    # A stem joined to its label ("Art. 7." + "Pomocy … z powodu:") is still the items' stem.
    joined = {t: p for p, _, _ in pieces for t in texts if p.endswith(t) and p != t}
    stems = {joined.get(stem, stem) for _, stem, _ in pieces if stem}
    return tuple(
        EvidenceUnit(
            piece,
            i,
            joined.get(stem, stem) if stem else None,
            piece in stems and piece.endswith(":"),
            covered,
        )
        for i, (piece, stem, covered) in enumerate(pieces)
    )


def chunk_units(chunk: Chunk) -> tuple[EvidenceUnit, ...]:
    """The evidence units of ``chunk`` (from its stored sentences when it has them)."""
    return evidence_units(chunk.text, chunk.sentences)


def unit_key(text: str) -> str:
    """The key a unit's vector is stored under: a hash of what was embedded."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


class SentenceVectors:
    """Vectors of evidence units, looked up by ``unit_key`` of their ``embed_text``."""

    def __init__(self, keys: Sequence[str], matrix: np.ndarray) -> None:
        self.rows = {key: row for row, key in enumerate(keys)}
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def build(
        cls,
        chunks: Sequence[Chunk],
        embedder: PassageEmbedder,
        previous: SentenceVectors | None = None,
        batch_size: int = 32,
    ) -> SentenceVectors:
        """Embed every unit of ``chunks``; vectors of ``previous`` are reused for unchanged units."""
        texts = list(dict.fromkeys(unit.embed_text for chunk in chunks for unit in chunk_units(chunk)))
        keys = [unit_key(text) for text in texts]
        matrix = np.zeros((len(texts), embedder.dim), dtype=np.float32)
        missing = []
        for row, key in enumerate(keys):
            old = previous.rows.get(key) if previous is not None else None
            if old is not None and previous is not None and previous.matrix.shape[1] == embedder.dim:
                matrix[row] = previous.matrix[old]
            else:
                missing.append(row)
        for start in range(0, len(missing), batch_size):
            batch = missing[start : start + batch_size]
            matrix[batch] = embedder.encode_passages([texts[row] for row in batch], batch_size=batch_size)
        return cls(keys, matrix)

    def cosines(self, units: Sequence[EvidenceUnit], query_vector: np.ndarray) -> list[float | None]:
        """Cosine of each unit with the (normalised) query vector; None for a unit not stored."""
        rows = [self.rows.get(unit_key(unit.embed_text)) for unit in units]
        known = [row for row in rows if row is not None]
        values = iter((self.matrix[known] @ query_vector).tolist() if known else [])
        return [None if row is None else float(next(values)) for row in rows]

    def save(self, directory: Path) -> None:
        """Write keys and float16 vectors (halves the file; cosines move by < 1e-3)."""
        keys = np.array(sorted(self.rows, key=self.rows.__getitem__))
        np.savez(directory / SENTENCE_VECTORS, keys=keys, vectors=self.matrix.astype(np.float16))

    @classmethod
    def load(cls, directory: Path) -> SentenceVectors | None:
        """The vectors saved in ``directory``, or None when the version has none (older builds)."""
        path = directory / SENTENCE_VECTORS
        if not path.is_file():
            return None
        with np.load(path) as stored:
            return cls(stored["keys"].tolist(), stored["vectors"].astype(np.float32))
