"""A deleted or damaged model is reported in one sentence; a broken ONNX export falls back."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.embedder import check_model_files, load_embedder
from index.errors import ModelNotAvailable
from index.onnx_encoder import onnx_path

ROOT = Path(__file__).resolve().parents[2]
REBUILD = ("make model", "python -m index model build-default")


def linked_copy(model_dir: Path, target: Path, skip: str | None = None) -> Path:
    """The model folder as symlinks (no 0.5 GB copies), without ``skip``."""
    for source in model_dir.rglob("*"):
        relative = source.relative_to(model_dir)
        if source.is_dir() or str(relative) == skip:
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (target / relative).symlink_to(source)
    return target


def test_a_deleted_weights_file_names_the_file_and_the_rebuild_commands(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    for name in ("config.json", "modules.json", "tokenizer.json"):
        (model / name).write_text("{}", encoding="utf-8")
    with pytest.raises(ModelNotAvailable) as raised:
        check_model_files(str(model))
    message = str(raised.value)
    assert "model.safetensors" in message and all(command in message for command in REBUILD)
    assert "\n" not in message


def test_a_hub_name_is_left_to_the_loader(tmp_path: Path) -> None:
    assert check_model_files("intfloat/some-model-name-that-is-not-a-folder") is False


def test_the_bot_exits_2_with_one_message_when_the_weights_are_gone(tmp_path: Path, model_dir: Path) -> None:
    broken = linked_copy(model_dir, tmp_path / "model", skip="model.safetensors")
    environment = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TELEGRAM_BOT_TOKEN": "123:TEST",
        "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot",  # never reached: the check comes first
        "POMOCNIK_EMBEDDING_MODEL": str(broken),
        "POMOCNIK_DATA_DIR": str(tmp_path / "data"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot"], capture_output=True, text=True, cwd=ROOT, env=environment, timeout=120
    )
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Błąd:")
    assert "model.safetensors" in lines[0] and all(command in lines[0] for command in REBUILD)


@pytest.mark.slow
def test_a_truncated_onnx_export_falls_back_to_pytorch_with_a_warning(
    tmp_path: Path, model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    copy = linked_copy(model_dir, tmp_path / "model", skip=str(onnx_path(Path()).as_posix()))
    original = onnx_path(model_dir).read_bytes()
    onnx_path(copy).parent.mkdir(parents=True, exist_ok=True)
    onnx_path(copy).write_bytes(original[: len(original) // 3])
    with caplog.at_level(logging.WARNING, logger="index.embedder"):
        embedder = load_embedder(str(copy))
    assert embedder.query_backend == "torch"
    assert "queries use PyTorch" in caplog.text
    assert embedder.encode_queries(["zasiłek stały"]).shape == (1, embedder.dim)
