"""``python -m bot``: ask one question or a stream of them, and fail clearly without an index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_bot(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    environment.pop("TELEGRAM_BOT_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=600,
    )


def test_missing_index_is_one_polish_sentence_and_exit_2(tmp_path: Path) -> None:
    result = run_bot("--index-dir", str(tmp_path / "none"), "ask", "ile dni na odwołanie?")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith("Błąd: Brak indeksu")
    assert "python -m index build" in lines[0]


@pytest.mark.slow
def test_missing_model_exits_2(tmp_path: Path, model_dir: Path, real_embedder) -> None:
    from tests.bot.test_answer import build_small_index

    index = build_small_index(tmp_path, real_embedder).root
    result = run_bot("--index-dir", str(index), "--model", str(tmp_path / "no-model"), "ask", "pytanie")
    assert result.returncode == 2
    assert "Brak modelu" in result.stderr


@pytest.mark.slow
def test_ask_json_reads_one_question_per_line(tmp_path: Path, real_embedder) -> None:
    from tests.bot.test_answer import build_small_index

    index = build_small_index(tmp_path, real_embedder).root
    questions = (
        "czy przemoc domowa jest powodem udzielania pomocy spolecznej\n\nJaka jest stolica Australii?\n"
    )
    result = run_bot(
        "--index-dir", str(index), "--today", "2025-06-01", "ask", "--json", "-", stdin=questions
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["answered"] is True
    assert "przemocy domowej" in first["text"]
    assert first["citations"][0]["doc_id"] == "statutes/ups-art-7.md"
    assert first["citations"][0]["status"] == "obowiązuje od 1.01.2024"
    assert second == {"answered": False, "text": second["text"], "citations": []}
    assert second["text"].startswith("Nie znalazłem w bazie wiedzy wiarygodnej odpowiedzi")


def test_ask_answers_through_the_language_model_when_one_is_set(tmp_path: Path, real_embedder) -> None:
    from tests.bot.test_answer import build_small_index
    from tests.fake_llm import GOOD_LEAD, FakeLlm

    index = build_small_index(tmp_path, real_embedder).root
    questions = "czy przemoc domowa to podstawa do pomocy z ops\nJaka jest stolica Australii?\n"
    with FakeLlm() as llm:
        result = run_bot(
            *("--index-dir", str(index), "--today", "2025-06-01", "ask", "--json", "-"),
            stdin=questions,
            env={"POMOCNIK_LLM_URL": llm.url, "POMOCNIK_LLM_MODEL": "bielik"},
        )
        asked = len(llm.requests)
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.strip().splitlines())
    assert first["text"].startswith(GOOD_LEAD) and first["citations"][0]["doc_id"] == "statutes/ups-art-7.md"
    assert second["answered"] is False and asked == 1  # the refused question never reached the model


def test_console_answers_follow_ups_and_runs_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.console import run_console
    from tests.bot.test_answer import CRITERION, FAMILY, TODAY, FakeSearcher, hit

    # The flow of the console is tested here, not the refusal gate: a searcher without a
    # model gives the gate no question vector, so it is told to answer.
    monkeypatch.setattr("bot.answer.refusal_threshold", lambda: 0.0)

    class Runtime:
        searcher = FakeSearcher(hit(CRITERION), hit(FAMILY, rank=2))

        def chunks(self):
            return [CRITERION, FAMILY]

    typed = iter(
        [
            "/help",
            "Ile wynosi kryterium dochodowe?",
            "a dla rodziny?",
            "/zrodla",
            "/nieznane",
            "/exit",
            "never",
        ]
    )
    written: list[str] = []
    run_console(Runtime(), read=lambda _prompt: next(typed), write=written.append, today=TODAY)  # type: ignore[arg-type]  # a stand-in with only what the console uses
    assert Runtime.searcher.queries == [
        "Ile wynosi kryterium dochodowe?",
        "Ile wynosi kryterium dochodowe? a dla rodziny?",
    ]
    assert any("/zmiany" in text for text in written[:2])  # the help
    assert any("Źródła:\n[1]" in text for text in written)
    assert any(text.startswith("Baza wiedzy zawiera:") for text in written)
    assert any("Nie znam polecenia /nieznane" in text for text in written)


def test_console_ends_on_end_of_input() -> None:
    from bot.console import run_console

    def eof(_prompt: str) -> str:
        raise EOFError

    written: list[str] = []
    run_console(object(), read=eof, write=written.append)  # type: ignore[arg-type]  # the console must not touch the runtime before reading
    assert written[-1] == ""
