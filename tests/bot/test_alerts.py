"""Change alerts: subscriptions in SQLite, what is announced when, and the end-to-end flow.

The end-to-end test runs the real PTB Application against the fake Bot API on
127.0.0.1, over a real index built with the real model: a user subscribes, a
build adds an amendment, the notice arrives once, and a second build sends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import alerts, handlers
from bot.citations import has_status_and_date
from bot.feedback import MIGRATIONS, FeedbackStore
from bot.runtime import Runtime
from bot.state import App
from bot.telegram_app import build_application, running
from index.build import build_index
from index.records import Chunk, DocumentMeta
from index.search import HotSearcher
from index.store import IndexStore
from tests.bot.fake_bot_api import Call, FakeBotApi, text_update
from tests.bot.html_check import html_problems, visible_text
from tests.bot.telegram_harness import bot_settings

TODAY = date(2025, 12, 1)


def chunk(doc_id: str, position: int = 0, **meta: object) -> Chunk:
    fields: dict[str, object] = {
        "title": doc_id,
        "kind": "statute",
        "status": "in_force",
        "source_url": f"https://example.org/{doc_id}",
        "date": date(2025, 8, 22),
    }
    fields.update(meta)
    return Chunk(
        id=f"{doc_id}-{position}",
        doc_id=doc_id,
        anchor=f"art. {position + 1}",
        text="Tekst.",
        embed_text="",
        meta=DocumentMeta(**fields),  # type: ignore[arg-type]  # test fields from a plain dict
        position=position,
    )


STATUTE = [chunk("ups.md"), chunk("ups.md", 1)]
AMENDMENT = chunk(
    "changes/nowelizacja.md",
    title="Zmiana ustawy o pomocy społecznej",
    kind="amendment",
    status="upcoming",
    published="Dz.U. 2025 poz. 1600",
    date=date(2025, 10, 10),
    effective_from=date(2026, 1, 1),
)
DRAFT = chunk(
    "changes/projekt.md", title="Projekt UD315", kind="draft", status="draft", date=date(2025, 9, 30)
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FeedbackStore]:
    opened = FeedbackStore(tmp_path / "db.sqlite3")
    yield opened
    opened.close()


# --- the store ---------------------------------------------------------------------------


def test_subscriptions_live_in_the_store_and_are_forgotten_with_the_user(store: FeedbackStore) -> None:
    assert store.schema_version == len(MIGRATIONS) >= 2
    assert store.subscribe(10, 10) and not store.subscribe(10, 10)
    assert store.subscribe(-100, 11)  # a group, subscribed by user 11
    assert store.subscribers() == [(10, 10), (-100, 11)]
    assert store.unsubscribe(10) and not store.unsubscribe(10)
    assert store.forget_user(11) == 1 and store.subscribers() == []


def test_an_announcement_is_claimed_once(store: FeedbackStore) -> None:
    keys = [("a.md", "new"), ("b.md", "new")]
    assert store.claim_announcements(keys) == keys
    assert store.claim_announcements([*keys, ("a.md", "tomorrow")]) == [("a.md", "tomorrow")]


# --- what is announced -------------------------------------------------------------------


def test_the_first_check_records_existing_changes_silently_then_only_news_counts(
    store: FeedbackStore,
) -> None:
    assert alerts.claim(store, [*STATUTE, DRAFT], TODAY) == []
    [notice] = alerts.claim(store, [*STATUTE, DRAFT, AMENDMENT], TODAY)
    assert (notice.event, notice.citation.doc_id, notice.label) == (
        alerts.NEW,
        AMENDMENT.doc_id,
        "Nowa nowelizacja w bazie:",
    )
    assert alerts.claim(store, [*STATUTE, DRAFT, AMENDMENT], TODAY) == []


def test_a_change_is_announced_the_day_before_it_takes_effect(store: FeedbackStore) -> None:
    alerts.claim(store, [*STATUTE, AMENDMENT], TODAY)  # baseline
    effective = AMENDMENT.meta.effective_from
    assert effective is not None
    eve = effective - timedelta(days=1)
    assert alerts.claim(store, [*STATUTE, AMENDMENT], eve - timedelta(days=1)) == []
    [notice] = alerts.claim(store, [*STATUTE, AMENDMENT], eve)
    assert notice.event == alerts.TOMORROW and notice.label == "Od jutra w życie wchodzi:"
    assert notice.citation.status_text == "wchodzi w życie 1.01.2026"
    assert alerts.claim(store, [*STATUTE, AMENDMENT], eve) == []  # never twice


def test_a_notice_cites_its_document_like_an_answer(store: FeedbackStore) -> None:
    alerts.claim(store, STATUTE, TODAY)
    items = alerts.claim(store, [*STATUTE, AMENDMENT, DRAFT], TODAY)
    [message] = alerts.notice_messages(items)
    assert html_problems(message) == []
    lines = visible_text(message).splitlines()
    assert lines[0] == alerts.NOTICE_TITLE
    cited = [line for line in lines if line.startswith("[")]
    assert cited == [
        "[1] Zmiana ustawy o pomocy społecznej, Dz.U. 2025 poz. 1600, 10.10.2025 — wchodzi w życie 1.01.2026",
        "[2] Projekt UD315 — projekt (UD315) z 30.09.2025, nie obowiązuje",
    ]
    assert all(has_status_and_date(line) for line in cited)
    assert '<a href="https://example.org/changes/nowelizacja.md">' in message


# --- end to end ---------------------------------------------------------------------------

USER, OTHER, STRANGER = 21, 22, 23


def write_doc(root: Path, name: str, front: str, body: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front.strip()}\n---\n\n{body}\n", encoding="utf-8")


SUMMARY = """
title: "Zasiłek stały — omówienie"
kind: statute_summary
status: in_force
source_url: "https://example.org/zasilek-staly"
date: 2025-08-22
"""
NOVELLA = """
title: "Ustawa o zmianie ustawy o pomocy społecznej (zasiłek stały)"
kind: amendment
status: upcoming
source_url: "https://isap.sejm.gov.pl/isap.nsf/DocDetails.xsp?id=WDU20250001600"
published: "Dz.U. 2025 poz. 1600"
date: 2025-10-10
effective_from: 2099-01-01
"""


async def say(api: FakeBotApi, text: str, user_id: int) -> str:
    before = len(api.calls_of("sendMessage", user_id))
    await api.push(text_update(text, user_id))
    calls = await api.wait_messages(user_id, count=before + 1)
    return visible_text(calls[before].params["text"])


def notices_to(api: FakeBotApi, chat_id: int) -> list[Call]:
    return [c for c in api.calls_of("sendMessage", chat_id) if alerts.NOTICE_TITLE in c.params["text"]]


@contextlib.asynccontextmanager
async def alert_bot(api: FakeBotApi, root: Path, embedder: Any) -> AsyncIterator[App]:
    store = IndexStore(root / "index")
    settings = bot_settings(
        api.base_url,
        root,
        knowledge_dir=root / "knowledge",
        index_dir=root / "index",
        allowed_ids=frozenset({USER, OTHER}),
        index_check_seconds=0.1,
        alerts_check_seconds=0.1,
    )
    factory = lambda s: Runtime(s, embedder, HotSearcher(store, embedder), store)  # noqa: E731  # one-line factory
    application = build_application(settings, runtime_factory=factory)
    async with running(application, settings, poll_timeout=0.2):
        yield application


@pytest.mark.slow
async def test_subscribe_then_a_build_adds_an_amendment_and_the_notice_arrives_once(
    tmp_path: Path, real_embedder
) -> None:
    knowledge = tmp_path / "knowledge"
    write_doc(
        knowledge, "summaries/zasilek-staly.md", SUMMARY, "## Kto dostaje\n\nZasiłek stały przysługuje …"
    )
    store = IndexStore(tmp_path / "index")
    build_index(knowledge, store, real_embedder, max_bytes=10_000_000)
    async with FakeBotApi() as api, alert_bot(api, tmp_path, real_embedder) as app:
        commands = [c["command"] for c in api.calls_of("setMyCommands")[0].params["commands"]]
        assert commands == [c.command for c in handlers.COMMANDS]
        assert {"subskrybuj", "odsubskrybuj"} <= set(commands)
        assert "/subskrybuj" in await say(api, "/help", USER)
        assert await say(api, "/subskrybuj", USER) == alerts.SUBSCRIBED
        assert await say(api, "/subskrybuj", USER) == alerts.ALREADY_SUBSCRIBED
        assert await say(api, "/subskrybuj", OTHER) == alerts.SUBSCRIBED
        assert await say(api, "/odsubskrybuj", OTHER) == alerts.UNSUBSCRIBED
        # A subscriber later removed from the allowlist hears nothing.
        app.bot_data.feedback_sink.subscribe(STRANGER, STRANGER)

        write_doc(
            knowledge, "changes/nowelizacja-2025-1600.md", NOVELLA, "## Co się zmienia\n\nZasiłek stały …"
        )
        first = await asyncio.to_thread(build_index, knowledge, store, real_embedder, max_bytes=10_000_000)
        assert first.added == ["changes/nowelizacja-2025-1600.md"]
        [notice] = await api.wait_for(
            lambda c: c.method == "sendMessage" and alerts.NOTICE_TITLE in str(c.params.get("text")),
            timeout=30,
        )
        assert notice.params["chat_id"] == USER and html_problems(notice.params["text"]) == []
        shown = visible_text(notice.params["text"])
        assert "Nowa nowelizacja w bazie:" in shown
        assert (
            "[1] Ustawa o zmianie ustawy o pomocy społecznej (zasiłek stały), Dz.U. 2025 poz. 1600, "
            "10.10.2025 — wchodzi w życie 1.01.2099"
        ) in shown

        # A second build (a changed summary) announces nothing again.
        write_doc(
            knowledge, "summaries/zasilek-staly.md", SUMMARY, "## Kto dostaje\n\nZasiłek stały, zmieniony."
        )
        second = await asyncio.to_thread(build_index, knowledge, store, real_embedder, max_bytes=10_000_000)
        assert second.changed == ["summaries/zasilek-staly.md"]
        runtime = app.bot_data.runtime
        for _ in range(100):  # the index watch serves the new version
            if runtime.searcher.version == second.version:
                break
            await asyncio.sleep(0.1)
        assert runtime.searcher.version == second.version
        assert await alerts.check_and_notify(app) == 0
        await asyncio.sleep(0.5)  # a few rounds of the alerts watch
        assert len(notices_to(api, USER)) == 1
        assert notices_to(api, OTHER) == [] and notices_to(api, STRANGER) == []
