"""Maintenance and privacy commands, and the watch that picks up new index versions.

``/reindex`` and ``/stats`` are for the admins in ``Settings.admin_ids`` only (the
check is here, whatever command menu Telegram shows); ``/zapomnij`` is for
everyone. The index watch asks the runtime's ``HotSearcher`` every
``Settings.index_check_seconds`` whether ``CURRENT`` moved, so a version built by
``python -m index build`` in another process is served without a restart; once a
day, feedback older than the retention period is purged.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.constants import ChatType

from bot import render
from bot.feedback import GenerationStats, Stats
from bot.generate import FALLBACK_NAMES
from bot.handlers import COMMANDS, chat_of
from bot.records import Conversation
from bot.runtime import IndexInfo
from bot.sending import DeliveryCounters, deliver, reply_html, sender_of, topic_of, typing_action
from bot.state import App, Context
from index.build import BuildReport
from index.errors import PomocnikError

logger = logging.getLogger(__name__)

ADMIN_COMMANDS = (
    BotCommand("reindex", "Przebuduj indeks z folderu wiedzy (administrator)"),
    BotCommand("stats", "Oceny, pytania bez odpowiedzi i stan indeksu (administrator)"),
)
LISTED_NAMES = 20  # document names shown per list in the /reindex summary
QUESTION_PREVIEW = 200  # characters of an unanswered question shown in /stats

ADMIN_ONLY = "Przepraszam, to polecenie jest dostępne tylko dla administratorów bota."
REINDEX_STARTED = "Przebudowuję indeks z folderu wiedzy — dam znać, gdy skończę."
REINDEX_BUSY = "Trwa już przebudowa indeksu — poczekaj na jej wynik."
REINDEX_FAILED = "Przebudowa nie powiodła się, nadal działa poprzednia wersja indeksu. Powód: {reason}"
REINDEX_NOT_SERVED = (
    "Uwaga: nowej wersji nie udało się wczytać, nadal działa wersja {serving} (szczegóły w logu)."
)
FORGET_DONE = (
    "Usunąłem Twoje zapisane dane: {count} (oceny i pytania bez odpowiedzi) oraz historię tej rozmowy."
)
FORGET_NOTHING = "Nie mam zapisanych Twoich ocen ani pytań. Historia tej rozmowy została wyczyszczona."

PURGE_SECONDS = 24 * 3600  # how often expired feedback rows are deleted


# --- lifecycle --------------------------------------------------------------------------


async def post_init(application: App) -> None:
    """Start the index watch and the daily purge; show admin commands in the admins' chats."""
    data = application.bot_data
    settings = data.settings
    if settings.index_check_seconds > 0:
        watch = repeat(data.runtime.refresh, settings.index_check_seconds, "index watch")
        data.tasks.append(asyncio.create_task(watch, name="index-watch"))
    if data.feedback_sink is not None:
        # The store purges when it opens; a bot running for months must purge too.
        purge = repeat(data.feedback_sink.purge_expired, PURGE_SECONDS, "purge")
        data.tasks.append(asyncio.create_task(purge, name="purge"))
    for admin_id in sorted(settings.admin_ids):
        # Fails with "chat not found" until the admin has written to the bot; harmless.
        await deliver(
            partial(
                application.bot.set_my_commands,
                (*COMMANDS, *ADMIN_COMMANDS),
                scope=BotCommandScopeChat(admin_id),
            ),
            what=f"setMyCommands for admin chat {admin_id}",
            within=1.0,
        )


async def post_shutdown(application: App) -> None:
    """Stop what ``post_init`` started."""
    tasks, application.bot_data.tasks = application.bot_data.tasks, []
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def repeat(call: Callable[[], object], interval: float, what: str, *, run_first: bool = False) -> None:
    """Run ``call()`` every ``interval`` seconds, until cancelled (first at once if ``run_first``).

    A coroutine function runs on the event loop, anything else in a worker thread.
    A failing call is logged and the next one still runs: for the index watch,
    ``HotSearcher.refresh`` already keeps the old version when a new one cannot
    be loaded, so anything it raises is unexpected. The same failure is logged
    once (with its traceback), again only when it changes, and its end is logged.
    """
    reported: str | None = None
    wait = not run_first
    while True:
        if wait:
            await asyncio.sleep(interval)
        wait = True
        try:
            result = await call() if inspect.iscoroutinefunction(call) else await asyncio.to_thread(call)
        except Exception as error:  # a failed round must never stop the later ones
            problem = f"{type(error).__name__}: {error}"
            if problem != reported:
                logger.exception("%s failed (logged again only when this changes)", what)
                reported = problem
            continue
        if reported is not None:
            logger.info("%s works again after: %s", what, reported)
            reported = None
        if result:  # a swapped index version, a number of purged rows
            logger.info("%s returned %r", what, result)


# --- /reindex ---------------------------------------------------------------------------


async def on_reindex(update: Update, context: Context) -> None:
    """Rebuild the index from the knowledge folder and serve it (admins only)."""
    chat_id = chat_of(update).id
    if not await _admin(update, context, "reindex"):
        return
    data = context.bot_data
    if data.reindex_running:
        await reply_html(context, update, render.render_plain(REINDEX_BUSY))
        return
    data.reindex_running = True  # set before the first await: no second build can slip in
    try:
        await reply_html(context, update, render.render_plain(REINDEX_STARTED))
        runtime, settings = data.runtime, data.settings
        logger.info("reindex started by admin %s", update.effective_user and update.effective_user.id)
        try:
            async with typing_action(context, chat_id, thread_id=topic_of(update)):
                report = await asyncio.to_thread(runtime.rebuild, settings)
        except Exception as error:
            logger.warning("reindex failed", exc_info=error)
            text = REINDEX_FAILED.format(reason=_one_sentence(error))
        else:
            text = format_report(report, settings.knowledge_dir)
            serving = runtime.info().version
            if serving != report.version:
                text += "\n\n" + REINDEX_NOT_SERVED.format(serving=serving)
        await reply_html(context, update, render.render_plain(text))
    finally:
        data.reindex_running = False


def format_report(report: BuildReport, knowledge_dir: Path) -> str:
    """The /reindex summary in Polish: what changed, skipped files, chunks, vectors, time."""
    lines = [
        f"Indeks przebudowany w {_seconds(report.seconds)} (wersja {report.version}).",
        f"Dokumenty: {report.documents}, fragmenty: {report.chunks}.",
        f"Wektory: {report.embedded} obliczonych, {report.reused} z poprzedniej wersji.",
        _names("Dodane", report.added),
        _names("Zmienione", report.changed),
        _names("Usunięte", report.removed),
    ]
    text = "\n".join(lines)
    if report.errors:
        prefix = f"{Path(knowledge_dir)}/"
        shown = [f"• {error.removeprefix(prefix)}" for error in report.errors[:LISTED_NAMES]]
        if len(report.errors) > LISTED_NAMES:
            shown.append(f"… i {len(report.errors) - LISTED_NAMES} innych")
        text += f"\n\nPominięte pliki ({len(report.errors)}):\n" + "\n".join(shown)
    return text


def _names(label: str, names: Sequence[str]) -> str:
    if not names:
        return f"{label}: brak"
    shown = ", ".join(names[:LISTED_NAMES])
    more = f" … i {len(names) - LISTED_NAMES} innych" if len(names) > LISTED_NAMES else ""
    return f"{label} ({len(names)}): {shown}{more}"


def _seconds(value: float) -> str:
    return f"{value:.1f} s".replace(".", ",")


def _one_sentence(error: Exception) -> str:
    """The error as one sentence: our own errors are written for operators, others are named."""
    if isinstance(error, PomocnikError):
        text = " ".join(str(error).split())
    else:
        text = f"nieoczekiwany błąd {type(error).__name__} (szczegóły w logu)."
    return text if text.endswith((".", "!", "?")) else text + "."


# --- /stats -----------------------------------------------------------------------------


async def on_stats(update: Update, context: Context) -> None:
    """Show feedback counts, unanswered questions, worst sources, faults and the index (admins only)."""
    if not await _admin(update, context, "stats"):
        return
    sink = context.bot_data.feedback_sink
    stats: Stats | None = None
    if sink is not None:
        try:
            stats = await asyncio.to_thread(sink.stats)
        except sqlite3.Error as error:  # a damaged or busy store must not hide the rest
            logger.warning("/stats: the feedback store cannot be read: %s", error)
    info = await asyncio.to_thread(context.bot_data.runtime.info)
    sender = sender_of(context)
    delivery = Delivery(sender.counters, sender.pending)
    text = format_stats(stats, info, delivery, store_missing=sink is None)
    await reply_html(context, update, render.render_plain(text))


@dataclass(frozen=True)
class Delivery:
    """What /stats tells about replies since the start."""

    counters: DeliveryCounters
    pending: int


INCIDENT_NAMES = {
    "store_quarantined": "uszkodzona baza odłożona na bok",
    "reply_lost": "odpowiedzi utracone",
    "reply_rejected": "odpowiedzi odrzucone przez Telegram (wysłano przeprosiny)",
}


def format_stats(
    stats: Stats | None,
    info: IndexInfo,
    delivery: Delivery | None = None,
    store_missing: bool = False,
) -> str:
    """The /stats text in Polish."""
    parts = []
    if stats is None:
        parts.append(
            "Oceny nie są zapisywane (brak bazy danych)."
            if store_missing
            else "Baza ocen jest chwilowo nieczytelna (szczegóły w logu)."
        )
    else:
        parts.append(
            f"Oceny: 👍 {stats.positive}, 👎 {stats.negative}. Pytania bez odpowiedzi: {stats.unanswered}."
        )
        if stats.top_unanswered:
            rows = [
                f"{n}. „{_preview(question)}” — {count}×"
                for n, (question, count) in enumerate(stats.top_unanswered, start=1)
            ]
            parts.append("Najczęstsze pytania bez odpowiedzi:\n" + "\n".join(rows))
        if stats.worst_sources:
            rows = [
                f"{n}. {source} — 👎 {bad}, 👍 {good}"
                for n, (source, bad, good) in enumerate(stats.worst_sources, start=1)
            ]
            parts.append("Najgorzej oceniane źródła:\n" + "\n".join(rows))
        if stats.incidents:
            rows = [
                f"• {INCIDENT_NAMES.get(i.kind, i.kind)}: {i.count}× "
                f"(ostatnio {dt.datetime.fromtimestamp(i.last_at):%Y-%m-%d %H:%M}: {i.last_detail})"
                for i in stats.incidents
            ]
            parts.append("Incydenty:\n" + "\n".join(rows))
        if stats.dropped_writes:
            parts.append(f"Zapisy pominięte od startu (baza zablokowana lub pełna): {stats.dropped_writes}.")
        if stats.generation is not None:
            parts.append(format_generation(stats.generation))
    if delivery is not None:
        c = delivery.counters
        parts.append(
            f"Dostarczanie od startu: w kolejce {delivery.pending}, doręczone z opóźnieniem "
            f"{c.delivered_late}, utracone {c.lost}, wysłane jako zwykły tekst {c.plain_fallbacks}, "
            f"przeprosiny {c.apologies}."
        )
    parts.append(
        f"Indeks: wersja {info.version or 'brak'}, fragmenty: {info.chunks}, "
        f"model: {info.model_id or 'nieznany'}."
    )
    return "\n\n".join(parts)


def format_generation(generation: GenerationStats) -> str:
    """The language model's part of /stats: answers delivered, sentences dropped, fallbacks."""
    share = generation.dropped / generation.sentences if generation.sentences else 0.0
    text = (
        f"Model językowy: pytań {generation.asked}, odpowiedzi z modelu {generation.delivered}. "
        f"Zdania odrzucone przy sprawdzaniu: {generation.dropped} z {generation.sentences} "
        f"({share:.0%})."
    )
    if generation.fallbacks:
        reasons = ", ".join(
            f"{FALLBACK_NAMES.get(reason, reason)} {count}" for reason, count in generation.fallbacks.items()
        )
        text += f"\nOdpowiedź bez modelu (z fragmentów), bo: {reasons}."
    return text


def _preview(question: str) -> str:
    question = " ".join(question.split())
    return question if len(question) <= QUESTION_PREVIEW else question[: QUESTION_PREVIEW - 1] + "…"


# --- /zapomnij --------------------------------------------------------------------------


async def on_forget(update: Update, context: Context) -> None:
    """Delete what is stored about the user (feedback, unanswered questions, chat history)."""
    user, chat = update.effective_user, chat_of(update)
    user_id = user.id if user is not None else chat.id
    sink = context.bot_data.feedback_sink
    removed = await asyncio.to_thread(sink.forget_user, user_id) if sink is not None else 0
    if context.chat_data is not None:
        if chat.type == ChatType.PRIVATE:
            context.chat_data.forget()  # the private chat's history and answer buttons are all theirs
        else:  # a group's answers belong to everyone in it
            context.chat_data.conversation = Conversation()
    if context.user_data is not None:
        context.user_data.clear()
    logger.info("user %s asked to be forgotten: %d rows removed", user_id, removed)
    text = FORGET_DONE.format(count=records(removed)) if removed else FORGET_NOTHING
    await reply_html(context, update, render.render_plain(text))


def records(count: int) -> str:
    """``count`` with the Polish noun "zapis" in the right form: 1 zapis, 3 zapisy, 5 zapisów."""
    if count == 1:
        return "1 zapis"
    if count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14):
        return f"{count} zapisy"
    return f"{count} zapisów"


# --- shared -----------------------------------------------------------------------------


async def _admin(update: Update, context: Context, command: str) -> bool:
    """True for an admin; anyone else gets a polite refusal and False."""
    user = update.effective_user
    if context.bot_data.access.is_admin(user.id if user else None):
        return True
    logger.info("/%s refused for non-admin user %s", command, user.id if user else None)
    await reply_html(context, update, render.render_plain(ADMIN_ONLY))
    return False
