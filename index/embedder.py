"""The dense side's model: a sentence-transformers model loaded from a local path or name."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.errors import ModelNotAvailable

log = logging.getLogger(__name__)


class Embedder:
    """Turns queries and passages into L2-normalised float32 vectors.

    The model's own prompts config decides the prefixes (e5: ``query: `` and
    ``passage: ``); ``query_prompt``/``passage_prompt`` override it for models
    that ship without one.
    """

    def __init__(
        self,
        model: object,
        model_id: str,
        query_prompt: str | None = None,
        passage_prompt: str | None = None,
    ) -> None:
        self._model = model
        self.model_id = model_id
        self.dim: int = int(model.get_embedding_dimension())  # type: ignore[attr-defined]
        self._query_prompt = query_prompt
        self._passage_prompt = passage_prompt

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries; returns an array of shape (len(texts), dim)."""
        return self._encode(texts, "query", self._query_prompt, batch_size=32, progress=False)

    def encode_passages(
        self, texts: Sequence[str], batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        """Embed passages to be indexed; returns an array of shape (len(texts), dim)."""
        return self._encode(texts, "document", self._passage_prompt, batch_size, progress)

    def _encode(
        self, texts: Sequence[str], role: str, override: str | None, batch_size: int, progress: bool
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prompts = getattr(self._model, "prompts", {}) or {}
        kwargs: dict[str, object] = {}
        if override is not None:
            kwargs["prompt"] = override
        elif role in prompts:
            kwargs["prompt_name"] = role
        vectors = self._model.encode(  # type: ignore[attr-defined]
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
            **kwargs,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def load_embedder(
    name_or_path: str,
    query_prompt: str | None = None,
    passage_prompt: str | None = None,
) -> Embedder:
    """Load a sentence-transformers model on the CPU, never touching the network.

    Raises ``ModelNotAvailable`` with a one-sentence reason when the path does not
    exist or the name is not in the local cache.
    """
    # Without this a wrong hub name hangs for a minute in retries before failing.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer  # heavy: import on first use
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a "Loading weights" bar on every start is noise

    looks_like_path = name_or_path.startswith((".", "/", "~")) or Path(name_or_path).exists()
    if looks_like_path and not Path(name_or_path).expanduser().exists():
        raise ModelNotAvailable(
            f"Brak modelu w {name_or_path}: uruchom `python -m index model build-default` "
            "albo ustaw POMOCNIK_EMBEDDING_MODEL."
        )
    try:
        model = SentenceTransformer(str(Path(name_or_path).expanduser()) if looks_like_path else name_or_path, device="cpu")
    except Exception as exc:  # the library raises OSError, ValueError or HF errors alike
        raise ModelNotAvailable(
            f"Nie można wczytać modelu {name_or_path!r} bez sieci: {exc.__class__.__name__}: {exc}"
        ) from exc
    model_id = _model_id(name_or_path)
    log.info("Loaded embedding model %s (dim %s)", model_id, model.get_embedding_dimension())
    return Embedder(model, model_id, query_prompt, passage_prompt)


def _model_id(name_or_path: str) -> str:
    """A stable id for the manifest: the converter's recorded id, or the name/path itself."""
    marker = Path(name_or_path).expanduser() / "pomocnik_model_id.txt"
    if marker.is_file():
        return marker.read_text(encoding="utf-8").strip()
    return name_or_path
