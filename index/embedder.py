"""The dense side's model: a sentence-transformers model loaded from a local path or name.

Queries take the ONNX Runtime path of ``index.onnx_encoder`` when the model
folder holds an export that reproduces the model's own vectors; passages (and
every other case) go through sentence-transformers.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.errors import ModelNotAvailable
from index.onnx_encoder import OnnxEncoder, onnx_path

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

# Texts on which an ONNX export must give the model's own vectors before it is used.
_PROBES = (
    "Kto przeprowadza rodzinny wywiad środowiskowy?",
    "zasilek staly art 37 ups",
    "Świadczenia z pomocy społecznej przysługują osobom i rodzinom, których dochód nie przekracza "
    "kryterium dochodowego, przy jednoczesnym wystąpieniu co najmniej jednej z przesłanek z art. 7.",
)
_MIN_PROBE_COSINE = 0.9999


class Embedder:
    """Turns queries and passages into L2-normalised float32 vectors.

    The model's own prompts config decides the prefixes (e5: ``query: `` and
    ``passage: ``); ``query_prompt``/``passage_prompt`` override it for models
    that ship without one.
    """

    def __init__(
        self,
        model: SentenceTransformer,
        model_id: str,
        query_prompt: str | None = None,
        passage_prompt: str | None = None,
    ) -> None:
        self._model = model
        self.model_id = model_id
        dim = model.get_embedding_dimension()
        if dim is None:
            raise ModelNotAvailable(f"model {model_id} does not say how long its vectors are")
        self.dim = dim
        self._query_prompt = query_prompt
        self._passage_prompt = passage_prompt
        self._fast_queries: OnnxEncoder | None = None

    @property
    def query_backend(self) -> str:
        """ "onnx" when queries take the ONNX Runtime path, else "torch"."""
        return "onnx" if self._fast_queries is not None else "torch"

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries; returns an array of shape (len(texts), dim)."""
        if self._fast_queries is not None and texts:
            return self._fast_queries.encode([self._query_prefix() + text for text in texts])
        return self.encode_queries_with_model(texts)

    def encode_queries_with_model(self, texts: Sequence[str]) -> np.ndarray:
        """Embed queries through sentence-transformers itself, bypassing the ONNX path."""
        return self._encode(texts, "query", self._query_prompt, batch_size=32, progress=False)

    def attach_onnx(self, encoder: OnnxEncoder) -> float:
        """Route queries through ``encoder`` if it reproduces this model's vectors.

        Returns the lowest cosine between the two on the probe texts; below
        ``_MIN_PROBE_COSINE`` (another pooling, a stale export) queries stay on
        sentence-transformers.
        """
        reference = self.encode_queries_with_model(_PROBES)
        candidate = encoder.encode([self._query_prefix() + text for text in _PROBES])
        agreement = float(np.min(np.sum(reference * candidate, axis=1)))
        if agreement >= _MIN_PROBE_COSINE:
            self._fast_queries = encoder
        return agreement

    def encode_passages(
        self, texts: Sequence[str], batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        """Embed passages to be indexed; returns an array of shape (len(texts), dim)."""
        return self._encode(texts, "document", self._passage_prompt, batch_size, progress)

    def _query_prefix(self) -> str:
        if self._query_prompt is not None:
            return self._query_prompt
        return self._model.prompts.get("query") or ""

    def _encode(
        self, texts: Sequence[str], role: str, override: str | None, batch_size: int, progress: bool
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # An explicit prompt wins; else the model's own prompt for the role, if it has one.
        prompt_name = role if override is None and role in self._model.prompts else None
        vectors = self._model.encode(
            list(texts),
            prompt_name=prompt_name,
            prompt=override,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def load_embedder(
    name_or_path: str,
    query_prompt: str | None = None,
    passage_prompt: str | None = None,
    onnx: bool = True,
) -> Embedder:
    """Load a sentence-transformers model on the CPU, never touching the network.

    With ``onnx`` (the default), queries use the model folder's ONNX export when
    there is one and it reproduces the model's vectors on probe texts.
    Raises ``ModelNotAvailable`` with a one-sentence reason when the path does not
    exist or the name is not in the local cache.
    """
    # Without this a wrong hub name hangs for a minute in retries before failing.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer  # heavy: import on first use
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a "Loading weights" bar on every start is noise

    looks_like_path = check_model_files(name_or_path)
    try:
        model = SentenceTransformer(
            str(Path(name_or_path).expanduser()) if looks_like_path else name_or_path, device="cpu"
        )
    except Exception as exc:  # the library raises OSError, ValueError or HF errors alike
        if looks_like_path:
            raise ModelNotAvailable(
                _rebuild_message(name_or_path, f"{exc.__class__.__name__}: {exc}")
            ) from exc
        raise ModelNotAvailable(
            f"Nie można wczytać modelu {name_or_path!r} bez sieci: {exc.__class__.__name__}: {exc}"
        ) from exc
    model_id = _model_id(name_or_path)
    embedder = Embedder(model, model_id, query_prompt, passage_prompt)
    if onnx and looks_like_path:
        _attach_onnx_export(embedder, model, Path(name_or_path).expanduser())
    log.info(
        "Loaded embedding model %s (dim %s, queries via %s)",
        model_id,
        embedder.dim,
        embedder.query_backend,
    )
    return embedder


# A local sentence-transformers folder needs these; weights in either format.
_REQUIRED_FILES = ("config.json", "modules.json")
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


def check_model_files(name_or_path: str) -> bool:
    """Check that a local model folder is complete; True if ``name_or_path`` is a path.

    Cheap (no loading), so the bot runs it before anything else: a deleted
    ``model.safetensors`` is reported in one sentence, not as a traceback from
    deep inside transformers. A hub-style name is left to the loader.
    Raises ``ModelNotAvailable`` naming the commands that rebuild the model.
    """
    path = Path(name_or_path).expanduser()
    if not (name_or_path.startswith((".", "/", "~")) or path.exists()):
        return False
    if not path.is_dir():
        raise ModelNotAvailable(
            _rebuild_message(name_or_path, "folder nie istnieje / folder not found", "Brak modelu")
        )
    missing = [name for name in _REQUIRED_FILES if not (path / name).is_file()]
    if not any((path / name).is_file() for name in _WEIGHTS):
        missing.append(_WEIGHTS[0])
    if missing:
        reason = f"brak / missing: {', '.join(missing)}"
        raise ModelNotAvailable(_rebuild_message(name_or_path, reason))
    return True


def _rebuild_message(name_or_path: str, reason: str, lead: str = "Niekompletny lub uszkodzony model") -> str:
    return (
        f"{lead} w {name_or_path} ({reason}). "
        "Zbuduj go ponownie: `make model` albo `python -m index model build-default` "
        "(lub ustaw POMOCNIK_EMBEDDING_MODEL). / "
        f"The model in {name_or_path} is missing or damaged; rebuild it with `make model` "
        "or `python -m index model build-default`."
    )


def _attach_onnx_export(embedder: Embedder, model: SentenceTransformer, model_dir: Path) -> None:
    """Give ``embedder`` the ONNX query path when ``model_dir`` has an export that agrees."""
    path = onnx_path(model_dir)
    if not path.is_file():
        return
    try:
        encoder = OnnxEncoder(path, model.tokenizer, model.max_seq_length)
    except ModelNotAvailable as exc:
        log.warning("ONNX export not used, queries use PyTorch: %s", exc)
        return
    agreement = embedder.attach_onnx(encoder)
    if embedder.query_backend != "onnx":
        log.warning(
            "ONNX export %s disagrees with the model (cosine %.5f); queries use PyTorch. "
            "Re-export it: python -m index model export-onnx",
            path,
            agreement,
        )


def _model_id(name_or_path: str) -> str:
    """A stable id for the manifest: the converter's recorded id, or the name/path itself."""
    marker = Path(name_or_path).expanduser() / "pomocnik_model_id.txt"
    if marker.is_file():
        return marker.read_text(encoding="utf-8").strip()
    return name_or_path
