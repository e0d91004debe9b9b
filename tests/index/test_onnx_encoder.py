"""The ONNX Runtime query path: a faithful export, used only when it agrees with the model."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.embedder import Embedder, load_embedder
from index.errors import ModelNotAvailable
from index.onnx_encoder import OnnxEncoder, export_onnx, onnx_path

QUERIES = [
    "Ile wynosi kryterium dochodowe dla osoby samotnie gospodarującej?",
    "kto przeprowadza wywiad srodowiskowy",  # no diacritics
    "art. 37 ust. 1",
    "zasiłek",
    "Czy asystent rodziny może pracować z rodziną zastępczą? " * 60,  # > 512 tokens: truncated
]


def _mean_pooled(model, tokenizer, texts: list[str]) -> np.ndarray:
    import torch

    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


@pytest.fixture(scope="module")
def tiny_bert_dir(tmp_path_factory, model_dir: Path) -> Path:
    """A 2-layer BERT with random weights and the real tokenizer: exports in about a second."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny_bert")
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=514,
    )
    BertModel(config, add_pooling_layer=False).eval().save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


def test_export_reproduces_the_pytorch_model(tiny_bert_dir: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    path = export_onnx(tiny_bert_dir)
    assert path == onnx_path(tiny_bert_dir) and path.is_file()
    assert not [p for p in path.parent.iterdir() if p != path]  # no staging leftovers
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_bert_dir))
    model = AutoModel.from_pretrained(str(tiny_bert_dir)).eval()
    texts = ["query: zasiłek stały", "query: " + QUERIES[0], "passage: art. 8 ust. 1 pkt 2"]

    exported = OnnxEncoder(path, tokenizer, max_length=512).encode(texts)  # one padded batch
    one_by_one = np.vstack([OnnxEncoder(path, tokenizer, 512).encode([t]) for t in texts])

    expected = _mean_pooled(model, tokenizer, texts)
    assert exported.shape == (3, 32) and exported.dtype == np.float32
    np.testing.assert_allclose(exported, expected, atol=1e-5)
    np.testing.assert_allclose(one_by_one, expected, atol=1e-5)  # padding changes nothing


def test_export_refuses_a_folder_without_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailable, match=r"config\.json"):
        export_onnx(tmp_path)


def test_cli_exports_the_configured_model(tiny_bert_dir: Path, tmp_path: Path, capsys) -> None:
    from index.cli import EXIT_ERROR, main

    onnx_path(tiny_bert_dir).unlink(missing_ok=True)
    assert main(["model", "export-onnx", "--model", str(tiny_bert_dir)]) == 0
    assert onnx_path(tiny_bert_dir).is_file()
    assert "onnx" in capsys.readouterr().out

    assert main(["model", "export-onnx", "--model", str(tmp_path)]) == EXIT_ERROR
    assert "config.json" in capsys.readouterr().err


def test_an_unreadable_export_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"not an onnx graph")
    with pytest.raises(ModelNotAvailable, match=r"model\.onnx"):
        OnnxEncoder(broken, tokenizer=None, max_length=512)


@pytest.mark.slow
def test_default_model_serves_queries_through_onnx_with_the_same_vectors(real_embedder) -> None:
    assert real_embedder.query_backend == "onnx"
    fast = real_embedder.encode_queries(QUERIES)
    reference = real_embedder.encode_queries_with_model(QUERIES)
    assert fast.shape == reference.shape == (len(QUERIES), 384)
    assert np.min(np.sum(fast * reference, axis=1)) >= 0.9999
    single = np.vstack([real_embedder.encode_queries([q]) for q in QUERIES])
    assert np.min(np.sum(single * reference, axis=1)) >= 0.9999
    assert real_embedder.encode_queries([]).shape == (0, 384)


class _OffByOne:
    """An encoder that pools the wrong way: every vector is some other query's."""

    def __init__(self, good: OnnxEncoder) -> None:
        self._good = good

    def encode(self, texts):
        return np.roll(self._good.encode(texts), 1, axis=0)


@pytest.mark.slow
def test_an_export_that_disagrees_with_the_model_is_not_used(real_embedder) -> None:
    good = real_embedder._fast_queries
    fresh = Embedder(real_embedder._model, real_embedder.model_id)
    assert fresh.query_backend == "torch"

    assert fresh.attach_onnx(_OffByOne(good)) < 0.99  # type: ignore[arg-type]  # a deliberately wrong encoder
    assert fresh.query_backend == "torch"

    assert fresh.attach_onnx(good) >= 0.9999
    assert fresh.query_backend == "onnx"


@pytest.mark.slow
def test_a_broken_export_falls_back_to_pytorch(
    tmp_path: Path, model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    copy = tmp_path / "model"
    copy.mkdir()
    for item in model_dir.iterdir():
        if item.name != "onnx":
            (copy / item.name).symlink_to(item)
    onnx_path(copy).parent.mkdir()
    onnx_path(copy).write_bytes(b"\x08\x07 half-written export")

    with caplog.at_level(logging.WARNING, logger="index.embedder"):
        embedder = load_embedder(str(copy))
    assert embedder.query_backend == "torch"
    assert "ONNX" in caplog.text
    assert embedder.encode_queries(["zasiłek stały"]).shape == (1, 384)

    shutil.rmtree(onnx_path(copy).parent)  # no export at all: PyTorch, silently
    assert load_embedder(str(copy)).query_backend == "torch"
    assert load_embedder(str(model_dir), onnx=False).query_backend == "torch"
