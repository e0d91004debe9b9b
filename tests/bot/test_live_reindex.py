"""Live re-indexing with the real model: users keep asking while the index is rebuilt.

The bot (real ``Application``, fake Bot API) serves a small real index of a few
knowledge/ summaries. A maintainer adds and changes documents, then rebuilds with
``/reindex`` or with ``python -m index build`` in another process; every question
asked meanwhile must get its reply, and afterwards the new document must be cited.
A build killed with SIGKILL must leave the previous version serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import handlers
from bot.runtime import Runtime
from bot.telegram_app import build_application, running
from bot.testing.fake_bot_api import FakeBotApi, text_update
from bot.testing.harness import bot_settings
from bot.testing.html_check import html_problems, visible_text
from index.build import build_index
from index.search import HotSearcher
from index.store import IndexStore

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ADMIN = 1
ASKERS = (11, 12, 13)
START_FILES = ("summaries/zasilek-staly.md", "summaries/kryteria-dochodowe.md", "summaries/zasilek-celowy.md")
QUESTIONS = (
    "Komu przysługuje zasiłek stały?",
    "Ile wynosi kryterium dochodowe dla osoby samotnie gospodarującej?",
    "Na co można dostać zasiłek celowy?",
)
APPEAL = "summaries/odwolanie-od-decyzji.md"
APPEAL_QUESTION = "Ile dni jest na złożenie odwołania od decyzji ośrodka pomocy społecznej?"
FOSTER = "summaries/piecza-zastepcza.md"
FOSTER_QUESTION = "Czym jest rodzinny dom dziecka w pieczy zastępczej?"
FAILURES = {handlers.GENERIC_ERROR, *handlers.ERROR_TEXTS.values()}
REPLY_TIMEOUT = 90.0  # seconds; two cores shared by the bot, a build and sometimes a subprocess


@pytest.fixture(scope="module")
def base(tmp_path_factory, real_embedder) -> Path:
    """A knowledge folder of START_FILES and its real index, built once for the module."""
    root = tmp_path_factory.mktemp("live")
    for name in START_FILES:
        copy_doc(root / "knowledge", name)
    build_index(root / "knowledge", IndexStore(root / "index"), real_embedder, max_bytes=20_000_000)
    return root


@pytest.fixture
def folders(base, tmp_path) -> Path:
    """A private copy of the base knowledge folder and index for one test."""
    shutil.copytree(base / "knowledge", tmp_path / "knowledge")
    shutil.copytree(base / "index", tmp_path / "index")
    return tmp_path


def copy_doc(knowledge: Path, name: str) -> None:
    target = knowledge / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "knowledge" / name, target)


@contextlib.asynccontextmanager
async def live_bot(api: FakeBotApi, folders: Path, embedder) -> AsyncIterator:
    """The bot over ``folders`` with the session's model (no second model load)."""
    store = IndexStore(folders / "index")
    settings = bot_settings(
        api.base_url,
        folders,
        knowledge_dir=folders / "knowledge",
        index_dir=folders / "index",
        admin_ids=frozenset({ADMIN}),
        questions_per_minute=1000,
        index_check_seconds=0.5,
    )
    application = build_application(
        settings, runtime_factory=lambda s: Runtime(s, embedder, HotSearcher(store, embedder), store)
    )
    async with running(application, settings, poll_timeout=0.2):
        yield application


class QuestionFlow:
    """Users who each ask, wait for the reply, and ask again until stopped."""

    def __init__(self, api: FakeBotApi, users: tuple[int, ...]) -> None:
        self.api = api
        self.asked = dict.fromkeys(users, 0)
        self._stop = asyncio.Event()
        self._tasks = [asyncio.create_task(self._ask(user)) for user in users]

    async def _ask(self, user: int) -> None:
        for question in itertools.cycle(QUESTIONS):
            if self._stop.is_set():
                return
            self.asked[user] += 1
            await self.api.push(text_update(question, user))
            await self.api.wait_messages(user, count=self.asked[user], timeout=REPLY_TIMEOUT)

    async def stop(self) -> int:
        """Stop asking, wait for every reply (raises if one is lost); returns the number asked."""
        self._stop.set()
        await asyncio.gather(*self._tasks)
        for user, asked in self.asked.items():
            replies = self.api.calls_of("sendMessage", user)
            assert len(replies) == asked, f"user {user}: {asked} questions, {len(replies)} replies"
            for reply in replies:
                assert html_problems(reply.params["text"]) == []
                assert visible_text(reply.params["text"]) not in FAILURES
        return sum(self.asked.values())


async def ask_cited(api: FakeBotApi, app, question: str, user: int) -> set[str]:
    """Ask ``question`` and return the document ids the answer cites."""
    await api.push(text_update(question, user))
    await api.wait_messages(user, timeout=REPLY_TIMEOUT)
    stored = list(app.chat_data[user].answers.values())
    return {citation.doc_id for citation in stored[-1].citations} if stored else set()


def replies_between(api: FakeBotApi, start: float, end: float) -> int:
    """Replies delivered to the askers in the time window (monotonic clock)."""
    return sum(1 for user in ASKERS for call in api.calls_of("sendMessage", user) if start < call.at < end)


def no_errors_logged(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("bot")]


async def index_build_process(folders: Path, model_dir: Path) -> asyncio.subprocess.Process:
    """``python -m index build`` in another process, configured through POMOCNIK_* variables."""
    env = {
        **os.environ,
        "POMOCNIK_DATA_DIR": str(folders / "data"),
        "POMOCNIK_KNOWLEDGE_DIR": str(folders / "knowledge"),
        "POMOCNIK_INDEX_DIR": str(folders / "index"),
        "POMOCNIK_EMBEDDING_MODEL": str(model_dir),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "index",
        "-v",
        "build",
        "--json",
        cwd=folders,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_reindex_command_while_users_ask(api, folders, real_embedder, caplog):
    knowledge = folders / "knowledge"
    async with live_bot(api, folders, real_embedder) as app:
        runtime = app.bot_data.runtime
        old = runtime.searcher.version
        assert APPEAL not in await ask_cited(api, app, APPEAL_QUESTION, 21)

        flow = QuestionFlow(api, ASKERS)
        copy_doc(knowledge, APPEAL)
        with (knowledge / "summaries/zasilek-celowy.md").open("a", encoding="utf-8") as doc:
            doc.write(
                "\n## Uwaga dla pracowników\n\nWniosek o zasiłek celowy można złożyć w każdym czasie.\n"
            )
        await api.push(text_update("/reindex", ADMIN))
        started, summary = await api.wait_messages(ADMIN, count=2, timeout=REPLY_TIMEOUT * 2)
        await flow.stop()

        text = visible_text(summary.params["text"])
        assert f"Dodane (1): {APPEAL}" in text and "Zmienione (1): summaries/zasilek-celowy.md" in text
        assert runtime.searcher.version != old and runtime.searcher.version in text
        assert replies_between(api, started.at, summary.at) >= 1, "no question answered during the build"
        assert APPEAL in await ask_cited(api, app, APPEAL_QUESTION, 22)
    assert no_errors_logged(caplog) == []


async def test_index_build_in_another_process_is_picked_up_while_users_ask(
    api, folders, real_embedder, model_dir, caplog
):
    async with live_bot(api, folders, real_embedder) as app:
        runtime = app.bot_data.runtime
        old = runtime.searcher.version
        assert FOSTER not in await ask_cited(api, app, FOSTER_QUESTION, 31)

        flow = QuestionFlow(api, ASKERS)
        copy_doc(folders / "knowledge", FOSTER)
        began = time.monotonic()
        process = await index_build_process(folders, model_dir)
        out, err = await asyncio.wait_for(process.communicate(), timeout=240)
        assert process.returncode == 0, err.decode()[-2000:]
        assert replies_between(api, began, time.monotonic()) >= len(ASKERS)
        new = IndexStore(folders / "index").current_version()
        assert new != old and f'"version": "{new}"' in out.decode()
        for _ in range(40):  # the watch checks every 0.5 s
            if runtime.searcher.version == new:
                break
            await asyncio.sleep(0.25)
        assert runtime.searcher.version == new
        await flow.stop()
        assert FOSTER in await ask_cited(api, app, FOSTER_QUESTION, 32)
    assert no_errors_logged(caplog) == []


async def test_killed_build_leaves_the_previous_version_serving(api, folders, real_embedder, model_dir):
    knowledge = folders / "knowledge"
    store = IndexStore(folders / "index")
    old = store.current_version()
    # The whole KPA is hundreds of fragments: the build is still embedding when killed.
    copy_doc(knowledge, "statutes/kpa.md")
    copy_doc(knowledge, APPEAL)
    async with live_bot(api, folders, real_embedder) as app:
        runtime = app.bot_data.runtime
        process = await index_build_process(folders, model_dir)
        # The model is loaded just before the build takes its lock and starts.
        while b"Loaded embedding model" not in (
            line := await asyncio.wait_for(process.stderr.readline(), 120)
        ):
            assert line, "index build ended before loading the model"
        await asyncio.sleep(1.5)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        assert process.returncode == -signal.SIGKILL  # killed mid-build, not finished

        assert store.current_version() == old
        assert await asyncio.to_thread(runtime.searcher.refresh) is False
        assert runtime.searcher.version == old
        cited = await ask_cited(api, app, "Komu przysługuje zasiłek stały?", 41)
        assert cited and cited <= set(START_FILES)  # answered from the previous version
        assert APPEAL not in await ask_cited(api, app, APPEAL_QUESTION, 42)
    assert IndexStore(folders / "index").load_current().version == old
