"""`python -m index`: build/search/stats/model commands, exit codes, and crash safety of a build."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import pytest

import index.embedder
from index.cli import main
from index.search import Searcher
from index.store import IndexStore
from tests.fakes import HashingEmbedder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def knowledge(tmp_path: Path, write_doc: Callable[..., Path]) -> Path:
    root = tmp_path / "knowledge"
    write_doc(root, "zasilek.md", "Zasiłek stały przysługuje osobie niezdolnej do pracy z powodu wieku.")
    write_doc(
        root,
        "odwolanie.md",
        "Od decyzji służy odwołanie w terminie czternastu dni.",
        kind="statute",
        act="ustawa z dnia 14 czerwca 1960 r. — Kodeks postępowania administracyjnego",
    )
    return root


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real model in CLI unit tests, and no stray .env or environment settings."""
    monkeypatch.setattr(index.embedder, "load_embedder", lambda name, *a, **k: HashingEmbedder())
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("POMOCNIK_"):
            monkeypatch.delenv(name)


def run(*argv: str | Path) -> int:
    return main([str(arg) for arg in argv])


def test_build_prints_a_summary_and_exits_0(knowledge: Path, tmp_path: Path, capsys) -> None:
    (knowledge / "zly.md").write_text("---\ntitle: Bez rodzaju\n---\n\nTekst.\n", encoding="utf-8")
    assert run("build", "--knowledge", knowledge, "--index-dir", tmp_path / "index") == 0
    out = capsys.readouterr().out
    assert "2 dok., 2 fragm. (wektory: 2 nowych, 0 z poprzedniej wersji)" in out
    assert "Pominięte pliki (1):" in out and "zly.md: brak wymaganego pola metadanych 'kind'" in out
    assert run("build", "--knowledge", knowledge, "--index-dir", tmp_path / "index", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["embedded"], report["reused"], report["documents"]) == (0, 2, 2)


def test_build_with_nothing_usable_fails_in_one_sentence(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert run("build", "--knowledge", tmp_path / "empty", "--index-dir", tmp_path / "index") == 2
    err = capsys.readouterr().err
    assert err.startswith("Błąd: W folderze wiedzy") and err.count("\n") == 1 and "Traceback" not in err


def test_search_json_hits(knowledge: Path, tmp_path: Path, capsys) -> None:
    run("build", "--knowledge", knowledge, "--index-dir", tmp_path / "index")
    capsys.readouterr()
    assert run("search", "odwołanie od decyzji", "--k", "1", "--json", "--index-dir", tmp_path / "index") == 0
    [hit] = json.loads(capsys.readouterr().out)
    assert hit["doc_id"] == "odwolanie.md" and hit["kind"] == "statute" and hit["status"] == "in_force"
    assert set(hit) >= {"chunk_id", "title", "anchor", "date", "source_url", "score", "text", "why"}
    assert run("search", "zasiłek", "--kind", "statute", "--index-dir", tmp_path / "index") == 0
    assert "odwolanie.md" in capsys.readouterr().out


def test_search_and_stats_without_an_index_exit_2(tmp_path: Path, capsys) -> None:
    for command in (["search", "zasiłek"], ["stats"]):
        assert run(*command, "--index-dir", tmp_path / "none") == 2
        assert "python -m index build" in capsys.readouterr().err


def test_stats_counts(knowledge: Path, tmp_path: Path, capsys) -> None:
    run("build", "--knowledge", knowledge, "--index-dir", tmp_path / "index")
    capsys.readouterr()
    assert run("stats", "--json", "--index-dir", tmp_path / "index") == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["documents"] == 2 and stats["chunks"] == 2 and stats["vector_index"] == "flat"
    assert stats["documents_by_kind"] == {"guide": 1, "statute": 1}
    assert stats["documents_by_status"] == {"in_force": 2} and stats["model_id"] == "fake-hashing"


def test_model_build_default_calls_the_converter(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:
    calls = []
    converter = types.ModuleType("index.e5_convert")
    converter.build_default_model = lambda target, force=False: calls.append((target, force)) or target  # type: ignore[attr-defined]  # monkeypatched module function
    monkeypatch.setitem(sys.modules, "index.e5_convert", converter)
    monkeypatch.setenv("POMOCNIK_DATA_DIR", str(tmp_path / "d"))
    assert run("model", "build-default", "--force") == 0
    assert calls == [(tmp_path / "d" / "models" / "multilingual-e5-small", True)]


def test_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_:
        run("rebuild")
    assert exit_.value.code == 2


# ---------------------------------------------------------------- SIGKILL mid-build

# Runs `python -m index build` (index.cli.main) with the fake embedder, pausing at
# one phase of the build so the test can kill it exactly there.
KILLABLE_BUILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
import index.embedder, index.store
from tests.fakes import HashingEmbedder
marker, phase = Path(sys.argv[1]), sys.argv[2]

def pause():
    marker.write_text(phase)
    time.sleep(120)

class SlowEmbedder(HashingEmbedder):
    def encode_passages(self, texts, batch_size=32, progress=False):
        if phase == "embedding":
            pause()
        return super().encode_passages(texts)

index.embedder.load_embedder = lambda name, *a, **k: SlowEmbedder()
if phase == "writing":  # vectors written, BM25 and manifest not yet
    save = index.store.VectorIndex.save
    index.store.VectorIndex.save = lambda self, path: (save(self, path), pause())
if phase == "switching":  # the new version is complete but CURRENT not yet replaced
    switch = index.store.IndexStore.switch
    index.store.IndexStore.switch = lambda self, version: (pause(), switch(self, version))
from index.cli import main
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.parametrize("phase", ["embedding", "writing", "switching"])
def test_sigkill_mid_build_leaves_the_old_version_serving(
    knowledge: Path, tmp_path: Path, phase: str, write_doc: Callable[..., Path]
) -> None:
    index_dir = tmp_path / "index"
    assert run("build", "--knowledge", knowledge, "--index-dir", index_dir) == 0
    store = IndexStore(index_dir)
    old = store.current_version()
    write_doc(knowledge, "nowy.md", "Nowy dokument o mieszkaniach chronionych.")
    script = tmp_path / "killable_build.py"
    script.write_text(KILLABLE_BUILD.format(root=str(ROOT)), encoding="utf-8")
    marker = tmp_path / "paused"
    process = subprocess.Popen(
        [
            sys.executable,
            str(script),
            str(marker),
            phase,
            "build",
            "--knowledge",
            str(knowledge),
            "--index-dir",
            str(index_dir),
        ],
        cwd=tmp_path,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, f"build ended early with {process.returncode}"
            assert time.monotonic() < deadline, "build never reached the pause"
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()

    assert store.current_version() == old
    loaded = store.load_current()
    hits = Searcher(loaded, HashingEmbedder()).search("odwołanie od decyzji", k=1)
    assert hits[0].chunk.doc_id == "odwolanie.md"
    assert "nowy.md" not in loaded.manifest["files"]

    assert run("build", "--knowledge", knowledge, "--index-dir", index_dir) == 0
    assert "nowy.md" in store.load_current().manifest["files"]
    leftovers = [p.name for p in store.versions_dir.iterdir()]
    assert sorted(leftovers) == sorted(store.finished_versions())  # the half-written dir is gone
