"""A fast path for query embeddings: the model's transformer exported to ONNX Runtime.

A search embeds one short query. In PyTorch eager mode that costs ~25 ms here,
almost all of it per-operator overhead; ONNX Runtime runs the same graph with
fused kernels in ~8 ms and returns the same numbers (max difference ~1e-6).
Batched passage embedding gains little, so indexing stays on sentence-transformers.

The export lives beside the model as ``onnx/model.onnx`` (the layout
sentence-transformers uses for its own ONNX backend). ``OnnxEncoder`` repeats
what the sentence-transformers pipeline does after the transformer (mean pooling
over the attention mask, L2 normalisation); ``index.embedder`` only switches to it
after checking on probe texts that both give the same vectors, so a model with
another pooling silently keeps the PyTorch path.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import ModelNotAvailable

log = logging.getLogger(__name__)

ONNX_FILE = Path("onnx") / "model.onnx"
OPSET = 17


def onnx_path(model_dir: Path) -> Path:
    """Where the export of the model in ``model_dir`` lives."""
    return Path(model_dir) / ONNX_FILE


def export_onnx(model_dir: Path, target: Path | None = None) -> Path:
    """Export the transformer of the local model in ``model_dir`` to ONNX; returns the file.

    Inputs are the tokenizer's own (``input_ids``, ``attention_mask`` and, for
    BERT, ``token_type_ids``) with dynamic batch and sequence axes; the output is
    ``last_hidden_state``. The file is written beside and renamed into place, so a
    crash never leaves half an export.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    model_dir = Path(model_dir)
    target = Path(target) if target is not None else onnx_path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise ModelNotAvailable(f"{model_dir} nie jest lokalnym katalogiem modelu (brak config.json).")
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    # Eager attention traces to plain MatMul/Softmax; the SDPA path carries
    # shape-dependent Python branches that tracing would freeze.
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # an unused pooler "newly initialized" is not news
    hf_logging.disable_progress_bar()
    try:
        model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    finally:
        hf_logging.set_verbosity(verbosity)
    names = list(tokenizer.model_input_names)
    sample = tokenizer(["query: przykładowe pytanie o zasiłek"], return_tensors="pt")
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}

    class _LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            hidden: torch.Tensor = self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state
            return hidden

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".onnx-export-", dir=target.parent) as tmp:
        staging = Path(tmp) / target.name
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # tracer warnings about Python branches: expected
            torch.onnx.export(
                _LastHiddenState(),
                tuple(sample[name] for name in names),
                str(staging),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
        os.replace(staging, target)
    log.info("Exported %s to %s", model_dir, target)
    return target


class OnnxEncoder:
    """Mean-pooled, L2-normalised embeddings from an ONNX export of a transformer."""

    def __init__(
        self, path: Path, tokenizer: Any, max_length: int | None, threads: int | None = None
    ) -> None:
        """``tokenizer`` is the model's Hugging Face tokenizer; texts longer than
        ``max_length`` tokens are truncated, as sentence-transformers does."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or _cpu_count()
        options.inter_op_num_threads = 1
        # Idle pool threads would otherwise spin for a while after every query,
        # taking CPU from the bot and BM25 on a 2-core machine.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise ModelNotAvailable(f"Nie można wczytać {path}: {exc.__class__.__name__}: {exc}") from exc
        self._inputs = [node.name for node in self._session.get_inputs()]
        self._tokenizer = tokenizer
        self._max_length = max_length
        self.path = Path(path)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` (prompts already prepended); shape (len(texts), dim), float32."""
        batch = self._tokenizer(
            list(texts),
            padding=True,
            truncation=self._max_length is not None,
            max_length=self._max_length,
            return_tensors="np",
        )
        feed = {name: batch[name].astype(np.int64) for name in self._inputs}
        hidden = self._session.run(None, feed)[0]
        mask = batch["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(pooled, dtype=np.float32)


def _cpu_count() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
