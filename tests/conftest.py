"""Shared fixtures: the real default model (loaded once per session) and knowledge files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings as _hypothesis_settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DEFAULT_MODEL_DIR = ROOT / "data" / "models" / "multilingual-e5-small"


# Tests that use these load the real e5 model: slow, whether or not they say so.
_REAL_MODEL_FIXTURES = frozenset({"model_dir", "real_embedder"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the real model ``slow`` (``make test-fast`` skips them)."""
    for item in items:
        if isinstance(item, pytest.Function) and _REAL_MODEL_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The default model built by `python -m index model build-default` (make test builds it)."""
    if not (DEFAULT_MODEL_DIR / "config.json").exists():
        if os.environ.get("CI"):
            pytest.fail(f"default model missing at {DEFAULT_MODEL_DIR}; `make test` builds it")
        pytest.skip(f"default model not built yet at {DEFAULT_MODEL_DIR}")
    return DEFAULT_MODEL_DIR


@pytest.fixture(scope="session")
def real_embedder(model_dir: Path):
    """The real sentence-transformers embedder from the default model directory."""
    from index.embedder import load_embedder

    return load_embedder(str(model_dir))


def _write_doc(
    root: Path,
    name: str,
    body: str,
    *,
    title: str | None = None,
    kind: str = "guide",
    status: str = "in_force",
    **meta: object,
) -> Path:
    """Write ``root/name``: Markdown with YAML front matter (title defaults to ``name``)."""
    fields: dict[str, object] = {
        "title": title or name,
        "kind": kind,
        "status": status,
        "source_url": f"https://example.org/{name}",
        "date": "2025-01-01",  # every document is dated (index.metadata requires it)
        **meta,
    }
    # repr() quotes a string the way YAML reads it back; dates and numbers go bare.
    front = "\n".join(
        f"{key}: {value!r}" if isinstance(value, str) else f"{key}: {value}" for key, value in fields.items()
    )
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front}\n---\n\n{body}\n", encoding="utf-8")
    return path


WriteDoc = Callable[..., Path]


@pytest.fixture(scope="session")
def write_doc() -> WriteDoc:
    """``write_doc(root, name, body, title=…, kind="guide", status="in_force", **meta) -> Path``."""
    return _write_doc


@pytest.fixture
def fake_embedder():
    """A fast deterministic embedder for unit tests."""
    from tests.fakes import HashingEmbedder

    return HashingEmbedder()


# Property tests draw the same examples on every run, so CI cannot fail by chance;
# HYPOTHESIS_PROFILE=explore draws new ones when hunting for bugs.
_hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
_hypothesis_settings.register_profile("explore", derandomize=False)
_hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
