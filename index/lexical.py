"""BM25 over Polish tokens (``index.polish``), backed by bm25s."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from index.errors import IndexNotBuilt
from index.polish import TOKENIZER_VERSION, tokenize

log = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG on import, which would bypass the level the
# application chose and print a line on every build.
logging.getLogger("bm25s").setLevel(logging.INFO)

# Lucene's defaults; on LQAD-PL train+dev and the natural questions they were
# within 0.005 nDCG of the best of the grid in scripts/tune_retrieval.py.
K1 = 1.2
B = 0.75
_CONFIG_FILE = "lexical.json"


class LexicalIndex:
    """A BM25 index over a list of texts; search returns row numbers into that list."""

    def __init__(self, bm25: bm25s.BM25 | None, size: int, k1: float = K1, b: float = B) -> None:
        self._bm25 = bm25  # None for an empty corpus: bm25s cannot index nothing
        self._size = size
        self.k1 = k1
        self.b = b

    @classmethod
    def build(cls, texts: Sequence[str], k1: float = K1, b: float = B) -> LexicalIndex:
        """Tokenise and index ``texts``."""
        if not texts:
            return cls(None, 0, k1, b)
        bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        bm25.index([tokenize(text) for text in texts], show_progress=False)
        log.debug("Indexed %d texts, %d distinct tokens", len(texts), len(bm25.vocab_dict))
        return cls(bm25, len(texts), k1, b)

    def __len__(self) -> int:
        return self._size

    def vocabulary(self) -> list[str]:
        """Every token the index holds (folded forms and marked lemmas)."""
        return [] if self._bm25 is None else list(self._bm25.vocab_dict)

    def idf(self, tokens: Sequence[str]) -> dict[str, float]:
        """BM25 IDF (Lucene form) of ``tokens`` in this index; unknown tokens get the highest value."""
        if self._bm25 is None:
            return dict.fromkeys(tokens, 0.0)
        if not hasattr(self, "_df"):
            counts = np.zeros(len(self._bm25.vocab_dict), dtype=np.int64)
            # Column j of the CSC score matrix holds the documents that contain token j.
            indptr = np.asarray(self._bm25.scores["indptr"])
            counts[: len(indptr) - 1] = np.diff(indptr)
            self._df = counts
        vocab = self._bm25.vocab_dict
        n = self._size
        return {
            token: float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
            for token in tokens
            for df in [int(self._df[vocab[token]]) if token in vocab else 0]
        }

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` best rows as (row, BM25 score), best first, ties by row; only scores > 0."""
        if self._bm25 is None or k <= 0:
            return []
        ids = self._bm25.get_tokens_ids(tokenize(query))
        if not ids:
            return []
        scores = self._bm25.get_scores_from_ids(ids)
        top = np.flatnonzero(scores > 0)
        if len(top) > k:
            top = top[np.argpartition(-scores[top], k - 1)[:k]]
        ranked = sorted(top.tolist(), key=lambda row: (-float(scores[row]), row))
        return [(row, float(scores[row])) for row in ranked]

    def save(self, directory: Path) -> None:
        """Write the index and the tokenizer version it was built with into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        config = {"tokenizer": TOKENIZER_VERSION, "size": self._size, "k1": self.k1, "b": self.b}
        if self._bm25 is not None:
            self._bm25.save(str(directory / "bm25"))
        (directory / _CONFIG_FILE).write_text(json.dumps(config), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """Read an index written by ``save``.

        Raises ``IndexNotBuilt`` when it is missing or was built by another tokenizer
        version (queries would then be tokenised differently from the passages).
        """
        config_path = directory / _CONFIG_FILE
        if not config_path.is_file():
            raise IndexNotBuilt(f"Brak indeksu BM25 w {directory}.")
        config = json.loads(config_path.read_text(encoding="utf-8"))
        if config.get("tokenizer") != TOKENIZER_VERSION:
            raise IndexNotBuilt(
                f"Indeks BM25 w {directory} zbudowano tokenizerem {config.get('tokenizer')!r}, "
                f"a obecny to {TOKENIZER_VERSION!r}: przebuduj indeks."
            )
        size = int(config["size"])
        bm25 = bm25s.BM25.load(str(directory / "bm25")) if size else None
        return cls(bm25, size, float(config["k1"]), float(config["b"]))
