"""Test doubles for what is slow, never for what the tests are about."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

import numpy as np


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().replace("ł", "l"))
    return "".join(c for c in text if not unicodedata.combining(c))


class HashingEmbedder:
    """A deterministic bag-of-words embedder with the ``Embedder`` interface.

    Unit tests use it where the real model's meaning is not what is tested.
    """

    def __init__(self, dim: int = 64, model_id: str = "fake-hashing") -> None:
        self.dim = dim
        self.model_id = model_id

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for word in re.findall(r"\w+", _fold(text)):
            digest = hashlib.blake2b(word[:6].encode(), digest_size=4).digest()
            vec[int.from_bytes(digest, "little") % self.dim] += 1.0
        norm = np.linalg.norm(vec)
        return vec / norm if norm else vec

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_passages(
        self, texts: Sequence[str], batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        return self.encode_queries(texts)
