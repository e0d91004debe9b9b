"""Admin and privacy commands, the index watch, the allowlist gate and logging, end to end.

The real ``Application`` runs against the fake Bot API. The index is real (real
build, store, faiss and BM25) but embedded by the fast hashing embedder; the real
model is exercised in ``test_live_reindex.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import logging
import re
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import admin, handlers
from bot.__main__ import main as bot_main
from bot.records import Conversation
from bot.runtime import Runtime
from bot.telegram_app import build_application, running
from index.build import BuildReport, build_index
from index.documents import load_folder
from index.search import HotSearcher
from index.store import IndexStore
from tests.bot.fake_bot_api import Call, FakeBotApi, callback_update, text_update
from tests.bot.html_check import html_problems, visible_text
from tests.bot.telegram_harness import FakeRuntime, KeywordSearcher, bot_settings
from tests.fakes import HashingEmbedder

ADMIN = 1
USER = 2
MAX_BYTES = 20_000_000


class GatedEmbedder(HashingEmbedder):
    """Embeds passages only once ``gate`` is set, so a build can be held mid-way."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()

    def encode_passages(self, texts, batch_size=32, progress=False):
        assert self.gate.wait(timeout=30), "test never opened the gate"
        return super().encode_passages(texts, batch_size, progress)


@pytest.fixture
def knowledge(tmp_path, write_doc) -> Path:
    root = tmp_path / "knowledge"
    write_doc(
        root,
        "zasilek-staly.md",
        "## Komu przysługuje\nZasiłek stały przysługuje "
        "pełnoletniej osobie samotnie gospodarującej, niezdolnej do pracy z powodu wieku.",
        title="Zasiłek stały",
        kind="statute_summary",
    )
    write_doc(
        root,
        "zasilek-celowy.md",
        "## Na co\nZasiłek celowy może być przyznany na zakup żywności, leków i leczenia, opału, odzieży.",
        title="Zasiłek celowy",
        kind="statute_summary",
    )
    write_doc(
        root,
        "stary.md",
        "## Treść\nTen dokument zostanie usunięty z bazy.",
        title="Dokument do usunięcia",
        kind="statute_summary",
    )
    return root


@pytest.fixture
def embedder() -> GatedEmbedder:
    return GatedEmbedder()


@pytest.fixture
def runtime_for(knowledge, embedder):
    """Build the first index version and return a factory of a real ``Runtime`` over it."""
    store = IndexStore(knowledge.parent / "index")
    build_index(knowledge, store, embedder, max_bytes=MAX_BYTES)
    return lambda settings: Runtime(settings, embedder, HotSearcher(store, embedder), store)


@contextlib.asynccontextmanager
async def bot(api: FakeBotApi, tmp_path: Path, factory, **changes) -> AsyncIterator:
    changes.setdefault("admin_ids", frozenset({ADMIN}))
    changes.setdefault("index_dir", tmp_path / "index")
    settings = bot_settings(api.base_url, tmp_path, **changes)
    application = build_application(settings, runtime_factory=factory)
    async with running(application, settings, poll_timeout=0.2):
        yield application


async def say(api: FakeBotApi, text: str, user_id: int, count: int = 1, timeout: float = 10.0) -> list[Call]:
    """Send ``text`` from ``user_id`` (private chat) and return the ``count`` replies it brings."""
    before = len(api.calls_of("sendMessage", user_id))
    await api.push(text_update(text, user_id))
    calls = await api.wait_messages(user_id, count=before + count, timeout=timeout)
    for call in calls[before:]:
        assert html_problems(call.params["text"]) == []
    return calls[before:]


def shown(call: Call) -> str:
    return visible_text(call.params["text"])


# --- admin commands -----------------------------------------------------------------------


async def test_reindex_and_stats_are_refused_to_non_admins(api, tmp_path, runtime_for, knowledge, write_doc):
    async with bot(api, tmp_path, runtime_for) as app:
        version = app.bot_data.runtime.searcher.version
        write_doc(knowledge, "nowy.md", "## Nowe\nNowa treść.", title="Nowy", kind="statute_summary")
        for command in ("/reindex", "/stats"):
            [reply] = await say(api, command, USER)
            assert shown(reply) == admin.ADMIN_ONLY
        await asyncio.sleep(0.3)
        assert app.bot_data.runtime.searcher.version == version  # nothing was rebuilt
        assert len(api.calls_of("sendMessage", USER)) == 2


async def test_admin_reindex_reports_changes_and_serves_the_new_version(
    api, tmp_path, runtime_for, knowledge, write_doc
):
    async with bot(api, tmp_path, runtime_for, index_check_seconds=0) as app:
        runtime = app.bot_data.runtime
        old = runtime.searcher.version
        write_doc(
            knowledge,
            "nowy/bon-opalowy.md",
            "## Bon\nBon opałowy wypłaca gmina gospodarstwom ogrzewanym drewnem kominkowym.",
            title="Bon opałowy",
            kind="statute_summary",
        )
        write_doc(
            knowledge,
            "zasilek-celowy.md",
            "## Na co\nZasiłek celowy może być przyznany także na pokrycie kosztów pogrzebu.",
            title="Zasiłek celowy",
            kind="statute_summary",
        )
        (knowledge / "stary.md").unlink()
        (knowledge / "zepsuty.md").write_text("bez metadanych\n", encoding="utf-8")

        started, summary = await say(api, "/reindex", ADMIN, count=2)
        assert shown(started) == admin.REINDEX_STARTED
        text = shown(summary)
        assert runtime.searcher.version != old and runtime.searcher.version in text
        assert "Dodane (1): nowy/bon-opalowy.md" in text
        assert "Zmienione (1): zasilek-celowy.md" in text
        assert "Usunięte (1): stary.md" in text
        assert re.search(r"Pominięte pliki \(1\):\n• zepsuty\.md: brak metadanych", text), text
        assert str(knowledge) not in text  # paths relative to the knowledge folder
        assert re.search(r"Dokumenty: 3, fragmenty: \d+\.", text)
        assert re.search(r"Wektory: [1-9]\d* obliczonych, [1-9]\d* z poprzedniej wersji\.", text)
        assert re.search(r"Indeks przebudowany w \d+,\d s", text)
        [hit] = runtime.searcher.search("bon opałowy drewno kominkowe", k=1)
        assert hit.chunk.doc_id == "nowy/bon-opalowy.md"


def test_reindex_summary_gives_skipped_files_polish_reasons(tmp_path, write_doc):
    knowledge = tmp_path / "knowledge"
    write_doc(knowledge, "dobry.md", "## Treść\nZasiłek stały.", title="Dobry", kind="statute_summary")
    (knowledge / "pusty.md").write_bytes(b"")
    (knowledge / "raport.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    (knowledge / "raport.pdf.meta.yaml").write_text(
        "title: Raport\nkind: guide\nstatus: obowiązuje\nsource_url: https://example.org\ndate: 2025-01-01\n",
        encoding="utf-8",
    )
    errors = [str(error) for error in load_folder(knowledge, MAX_BYTES).errors]
    report = BuildReport(
        version="v1",
        documents=1,
        chunks=1,
        embedded=1,
        reused=0,
        vector_index="flat",
        seconds=1.0,
        errors=errors,
    )
    text = admin.format_report(report, knowledge)
    skipped = text.split("Pominięte pliki (2):\n")[1].splitlines()
    assert skipped[0] == "• pusty.md: pusty plik"
    assert skipped[1].startswith(
        "• raport.pdf: w pliku metadanych raport.pdf.meta.yaml: pole 'status' ma niedozwoloną"
    )
    assert "'obowiązuje' (dozwolone: " in skipped[1]


async def test_second_reindex_while_building_is_refused(
    api, tmp_path, runtime_for, knowledge, embedder, write_doc
):
    async with bot(api, tmp_path, runtime_for, index_check_seconds=0) as app:
        write_doc(
            knowledge, "nowy.md", "## Nowe\nNowa treść do osadzenia.", title="Nowy", kind="statute_summary"
        )
        embedder.gate.clear()  # the build will wait inside embedding
        [started] = await say(api, "/reindex", ADMIN)
        assert shown(started) == admin.REINDEX_STARTED
        [busy] = await say(api, "/reindex", ADMIN)
        assert shown(busy) == admin.REINDEX_BUSY
        embedder.gate.set()
        summary = (await api.wait_messages(ADMIN, count=3))[-1]
        assert "Dodane (1): nowy.md" in shown(summary)
        [again, summary2] = await say(api, "/reindex", ADMIN, count=2)  # the flag was released
        assert shown(again) == admin.REINDEX_STARTED and "Dodane: brak" in shown(summary2)
        assert app.bot_data.runtime.searcher.version in shown(summary2)


async def test_failed_reindex_keeps_the_old_index_and_says_why(api, tmp_path, runtime_for, knowledge):
    async with bot(api, tmp_path, runtime_for, index_check_seconds=0) as app:
        runtime = app.bot_data.runtime
        version = runtime.searcher.version
        for path in knowledge.glob("*.md"):
            path.unlink()
        _, failed = await say(api, "/reindex", ADMIN, count=2)
        text = shown(failed)
        assert text.startswith("Przebudowa nie powiodła się, nadal działa poprzednia wersja indeksu. Powód: ")
        assert "nie ma żadnego dokumentu" in text and text.count("\n") == 0
        assert runtime.searcher.version == version
        assert runtime.searcher.search("zasiłek stały", k=1)[0].chunk.doc_id == "zasilek-staly.md"


async def test_stats_shows_feedback_unanswered_sources_and_index(api, tmp_path, runtime_for):
    async with bot(api, tmp_path, runtime_for) as app:
        sink = app.bot_data.feedback_sink
        for _ in range(2):
            sink.record_unanswered(USER, USER, "Ile wynosi 800 plus?")
        sink.record_feedback(USER, USER, "q", "a", ["zasilek-staly.md § Komu"], -1)
        sink.record_feedback(USER, USER, "q", "a", ["zasilek-celowy.md § Na co"], 1)
        [reply] = await say(api, "/stats", ADMIN)
        text = shown(reply)
        runtime = app.bot_data.runtime
        assert "Oceny: 👍 1, 👎 1. Pytania bez odpowiedzi: 2." in text
        assert "1. „ile wynosi 800 plus?” — 2×" in text
        assert "1. zasilek-staly.md § Komu — 👎 1, 👍 0" in text
        assert (
            f"wersja {runtime.searcher.version}, fragmenty: {len(runtime.chunks())}, model: fake-hashing"
            in text
        )


async def test_admin_commands_are_shown_only_in_admin_chats(api, tmp_path, runtime_for):
    async with bot(api, tmp_path, runtime_for, admin_ids=frozenset({ADMIN, 3})):
        calls = await api.wait_for(lambda c: c.method == "setMyCommands", count=3)
    default = [c for c in calls if not c.params.get("scope")]
    scoped = {c.params["scope"]["chat_id"]: c for c in calls if c.params.get("scope")}
    assert len(default) == 1 and "reindex" not in [c["command"] for c in default[0].params["commands"]]
    assert set(scoped) == {ADMIN, 3}
    assert [c["command"] for c in scoped[ADMIN].params["commands"]][-2:] == ["reindex", "stats"]


# --- index watch --------------------------------------------------------------------------


async def test_index_watch_serves_a_version_built_elsewhere(
    api, tmp_path, runtime_for, knowledge, embedder, write_doc
):
    async with bot(api, tmp_path, runtime_for, index_check_seconds=0.1) as app:
        runtime = app.bot_data.runtime
        write_doc(
            knowledge,
            "nowy.md",
            "## Nowe\nDodatek węglowy dla gospodarstw domowych.",
            title="Nowy",
            kind="statute_summary",
        )
        report = await asyncio.to_thread(
            build_index, knowledge, IndexStore(tmp_path / "index"), embedder, MAX_BYTES
        )
        for _ in range(50):
            if runtime.searcher.version == report.version:
                break
            await asyncio.sleep(0.1)
        assert runtime.searcher.version == report.version
    assert app.bot_data.tasks == []  # stopped at shutdown


async def test_periodic_call_survives_a_failing_round(caplog):
    calls = []

    def refresh() -> bool:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("disk on fire")
        return False

    task = asyncio.create_task(admin.repeat(refresh, 0.01, "index watch"))
    with caplog.at_level(logging.ERROR, logger="bot.admin"):
        for _ in range(200):
            if len(calls) >= 3:
                break
            await asyncio.sleep(0.01)
    task.cancel()
    assert len(calls) >= 3 and "index watch failed" in caplog.text


async def test_expired_feedback_is_purged_while_the_bot_runs(api, tmp_path, monkeypatch):
    from bot.feedback import FeedbackStore

    monkeypatch.setattr(admin, "PURGE_SECONDS", 0.05)
    now = [1_700_000_000.0]
    sink = FeedbackStore(tmp_path / "db.sqlite3", retention_days=1, clock=lambda: now[0])
    sink.record_unanswered(USER, USER, "stare pytanie")
    settings = bot_settings(api.base_url, tmp_path, index_check_seconds=0)
    application = build_application(settings, runtime_factory=lambda _: FakeRuntime(KeywordSearcher()))
    application.bot_data.feedback_sink = sink
    async with running(application, settings, poll_timeout=0.2):
        await asyncio.sleep(0.2)
        assert sink.stats().unanswered == 1  # not yet expired
        now[0] += 2 * 86400
        for _ in range(40):
            if sink.stats().unanswered == 0:
                break
            await asyncio.sleep(0.05)
        assert sink.stats().unanswered == 0
    sink.close()


# --- /zapomnij and export -------------------------------------------------------------------


@pytest.mark.parametrize("removed", [0, 1, 2, 5, 12, 22, 25])
def test_polish_record_counts(removed):
    expected = {
        0: "0 zapisów",
        1: "1 zapis",
        2: "2 zapisy",
        5: "5 zapisów",
        12: "12 zapisów",
        22: "22 zapisy",
        25: "25 zapisów",
    }
    assert admin.records(removed) == expected[removed]


async def test_zapomnij_removes_the_users_rows_and_chat_history(api, tmp_path, runtime_for):
    async with bot(api, tmp_path, runtime_for) as app:
        sink = app.bot_data.feedback_sink
        sink.record_unanswered(USER, USER, "pytanie użytkownika")
        sink.record_feedback(USER, USER, "q", "a", ["x"], 1)
        sink.record_unanswered(4, 4, "pytanie kogoś innego")
        await say(api, "zasiłek stały komu przysługuje", USER)
        assert app.chat_data[USER].conversation.history

        [reply] = await say(api, "/zapomnij", USER)
        assert shown(reply) == admin.FORGET_DONE.format(count="2 zapisy")
        assert app.chat_data[USER].conversation == Conversation() and not app.chat_data[USER].answers
        stats = sink.stats()
        assert (stats.positive, stats.unanswered) == (0, 1)  # only user 4's row is left

        [again] = await say(api, "/zapomnij", USER)
        assert shown(again) == admin.FORGET_NOTHING


def test_export_feedback_cli_writes_csv(tmp_path, monkeypatch, capsys):
    from bot.feedback import FeedbackStore

    db = tmp_path / "db.sqlite3"
    store = FeedbackStore(db)
    store.record_feedback(USER, USER, "Czy PESEL 44051401359 wystarczy?", "Tak [1].", ["ups.md art. 7"], -1)
    store.record_unanswered(USER, USER, "stolica Australii")
    store.close()
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("POMOCNIK_DB", str(db))

    assert bot_main(["export-feedback", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / "out" / "feedback.csv"), str(tmp_path / "out" / "unanswered.csv")]
    with (tmp_path / "out" / "feedback.csv").open(encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["question"] == "Czy PESEL [PESEL] wystarczy?" and row["rating"] == "-1"
    assert row["citations"] == '["ups.md art. 7"]'
    with (tmp_path / "out" / "unanswered.csv").open(encoding="utf-8") as handle:
        assert [r["question"] for r in csv.DictReader(handle)] == ["stolica Australii"]

    monkeypatch.setenv("POMOCNIK_DB", str(tmp_path / "missing.sqlite3"))
    assert bot_main(["export-feedback", str(tmp_path / "out2")]) == 2
    assert "Brak bazy ocen" in capsys.readouterr().err
    assert not (tmp_path / "missing.sqlite3").exists()


# --- gate, flood limit, logs ----------------------------------------------------------------


async def test_allowlist_refusal_is_sent_once_and_reveals_nothing(api, tmp_path):
    searcher = KeywordSearcher()
    async with bot(api, tmp_path, lambda _: FakeRuntime(searcher), allowed_ids=frozenset({ADMIN})):
        for text in ("Komu przysługuje zasiłek stały?", "/zrodla", "/szukaj zasiłek", "/help"):
            await api.push(text_update(text, 9))
        await api.wait_messages(9)
        await api.push(callback_update("p:1:deadbeef", 9))
        [toast] = await api.wait_for(lambda c: c.method == "answerCallbackQuery")
        await asyncio.sleep(0.4)
        [reply] = api.calls_of("sendMessage", 9)
        assert shown(reply) == handlers.NOT_ALLOWED
        assert toast.params["text"] == handlers.NOT_ALLOWED
        assert searcher.queries == []
        [allowed] = await say(api, "/help", ADMIN)  # others are served as before
        assert "Przykłady:" in shown(allowed)


async def test_flood_limit_reply_is_polish_with_seconds(api, tmp_path):
    async with bot(api, tmp_path, lambda _: FakeRuntime(KeywordSearcher()), questions_per_minute=1):
        await say(api, "Komu przysługuje zasiłek stały?", USER)
        [reply] = await say(api, "A zasiłek celowy?", USER)
        assert re.fullmatch(r"Za dużo pytań naraz — spróbuj ponownie za ([1-9]|[1-5]\d|60) s\.", shown(reply))
        [admin_reply] = await say(api, "Komu przysługuje zasiłek stały?", ADMIN)
        await say(api, "A zasiłek celowy?", ADMIN)  # admins are not limited
        assert "Za dużo" not in shown(admin_reply)


SECRET_TEXT = "Kowalska Zofia z Wierzbowej 7"


@pytest.mark.parametrize("log_text", [False, True])
async def test_logs_hold_message_text_only_when_enabled(api, tmp_path, caplog, log_text):
    searcher = KeywordSearcher()
    # INFO is what `python -m bot -v` logs; by default only warnings are.
    with caplog.at_level(logging.INFO):
        async with bot(api, tmp_path, lambda _: FakeRuntime(searcher), log_message_text=log_text):
            await say(api, f"Komu przysługuje zasiłek stały? {SECRET_TEXT}", USER)
            await say(api, f"BOOM {SECRET_TEXT}", USER)  # the searcher raises: error path
            await say(api, f"/szukaj {SECRET_TEXT}", USER)
            await say(api, f"/zapomnij {SECRET_TEXT}", USER)
    logged = "\n".join(
        record.getMessage()
        + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        for record in caplog.records
    )
    assert any(r.name == "bot.handlers" and r.levelno == logging.ERROR for r in caplog.records)
    assert (SECRET_TEXT in logged) is log_text
