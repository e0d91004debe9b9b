"""Change alerts: ``/subskrybuj``, ``/odsubskrybuj`` and the notices sent to subscribed chats.

Every ``Settings.alerts_check_seconds`` the bot looks at the index it serves, so any
build counts (``python -m index build``, ``python -m index sync``, ``/reindex``):

- a change of the law new to the index (an amendment, regulation, draft or
  announcement: what ``/zmiany`` lists) is announced once ("new");
- a document taking effect tomorrow is announced the day before ("tomorrow").

Each (document, event) is recorded in the SQLite store before it is sent, so no
notice goes out twice, even across restarts. On the very first check the changes
already in the index are recorded silently: subscribers hear of what arrives later.
Notices go only to subscribed chats still allowed by the allowlist, one after
another through the application's ``bot.sending.Sender``, the one owner of
retries: flood waits are honoured, and a notice Telegram does not take now waits
in the persistent outbox like a reply. Each notice cites its document with the
one citation line.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from telegram import Update

from bot import render
from bot.admin import repeat
from bot.catalog import list_changes
from bot.citations import make_citation
from bot.feedback import FeedbackStore
from bot.records import Citation
from bot.sending import reply_html, send_html
from bot.state import App, Context
from index.records import Chunk

logger = logging.getLogger(__name__)

NEW = "new"
TOMORROW = "tomorrow"
_BASELINE = ("", "baseline")  # recorded by the first check ever

SUBSCRIBED = (
    "Zapisano. Napiszę tu, gdy w bazie wiedzy pojawi się nowa nowelizacja albo projekt, "
    "i dzień przed wejściem zmiany w życie. Wypisanie: /odsubskrybuj"
)
ALREADY_SUBSCRIBED = "Ten czat już dostaje powiadomienia o zmianach. Wypisanie: /odsubskrybuj"
UNSUBSCRIBED = "Wypisano: nie będę już wysyłać powiadomień o zmianach. Ponowny zapis: /subskrybuj"
NOT_SUBSCRIBED = "Ten czat nie był zapisany na powiadomienia. Zapis: /subskrybuj"
UNAVAILABLE = "Powiadomienia są chwilowo niedostępne — spróbuj później."
NOTICE_TITLE = "🔔 Zmiany w bazie wiedzy"
NOTICE_FOOTER = "Wszystkie zmiany: /zmiany · wypisanie: /odsubskrybuj"


@dataclass(frozen=True)
class Notice:
    """One thing to announce: a document and why (``NEW`` or ``TOMORROW``)."""

    event: str
    citation: Citation
    kind: str

    @property
    def label(self) -> str:
        """What happened, in Polish, e.g. "Nowa nowelizacja w bazie:"."""
        if self.event == TOMORROW:
            return "Od jutra w życie wchodzi:"
        if self.kind == "amendment":
            return "Nowa nowelizacja w bazie:"
        if self.kind == "draft":
            return "Nowy projekt w bazie:"
        return "Nowa zmiana w bazie:"


# --- pure core ---------------------------------------------------------------------------


def candidates(chunks: Iterable[Chunk], today: date) -> dict[tuple[str, str], Chunk]:
    """Every (doc_id, event) the index could announce today, with the document's first chunk."""
    chunks = list(chunks)
    first: dict[str, Chunk] = {}
    for chunk in chunks:
        if chunk.doc_id not in first or chunk.position < first[chunk.doc_id].position:
            first[chunk.doc_id] = chunk
    found: dict[tuple[str, str], Chunk] = {}
    for entry in list_changes(chunks, today):
        found[(entry.doc_id, NEW)] = first[entry.doc_id]
    tomorrow = today + timedelta(days=1)
    for doc_id, chunk in first.items():
        if chunk.meta.effective_from == tomorrow:
            found[(doc_id, TOMORROW)] = chunk
    return found


def notices(
    found: dict[tuple[str, str], Chunk], keys: Sequence[tuple[str, str]], today: date
) -> list[Notice]:
    """The notices for ``keys`` (claimed from ``found``), numbered like an answer's sources."""
    result = []
    for n, key in enumerate(sorted(keys, key=lambda k: (k[1] != TOMORROW, k[0])), start=1):
        chunk = found[key]
        # The whole document is announced, not one of its passages.
        citation = replace(make_citation(n, chunk, today), anchor="")
        result.append(Notice(event=key[1], citation=citation, kind=chunk.meta.kind))
    return result


def notice_messages(items: Sequence[Notice]) -> list[str]:
    """The notices as Telegram HTML messages (≤ 4096 each)."""
    paragraphs: list[render.Paragraph] = [(render.Span(NOTICE_TITLE, "b"),)]
    for notice in items:
        paragraphs.append((render.Span(f"{notice.label}\n"), *render.source_line(notice.citation)))
    paragraphs.append((render.Span(NOTICE_FOOTER, "i"),))
    return render.pack(paragraphs)


def claim(store: FeedbackStore, chunks: Sequence[Chunk], today: date) -> list[Notice]:
    """Record what is new today in ``store`` and return it; blocking (run it in a thread)."""
    found = candidates(chunks, today)
    if store.claim_announcements([_BASELINE]):
        # The first check ever: what the index already holds is not news.
        silent = [key for key in found if key[1] == NEW]
        store.claim_announcements(silent)
        logger.info("alerts: baseline of %d changes recorded", len(silent))
        found = {key: chunk for key, chunk in found.items() if key[1] != NEW}
    return notices(found, store.claim_announcements(sorted(found)), today)


# --- Telegram ----------------------------------------------------------------------------


async def check_and_notify(application: App, today: date | None = None) -> int:
    """Announce what is new in the served index to the subscribers; returns chats notified now.

    A notice that cannot be delivered now stays in the outbox (not counted here).
    """
    data = application.bot_data
    store = data.feedback_sink
    if store is None:
        return 0
    today = today or date.today()
    chunks = await asyncio.to_thread(data.runtime.chunks)
    items = await asyncio.to_thread(claim, store, chunks, today)
    if not items:
        return 0
    messages = notice_messages(items)
    notified = 0
    for chat_id, user_id in await asyncio.to_thread(store.subscribers):
        if not data.access.is_allowed(user_id, chat_id):
            logger.info("alerts: chat %s is no longer allowed, skipped", chat_id)
            continue
        if await send_html(application.bot, chat_id, messages, sender=data.sender):
            notified += 1
    logger.info("alerts: %d notices sent to %d chats", len(items), notified)
    return notified


def start(application: App) -> None:
    """Start the alerts watch in ``post_init`` (``admin.post_shutdown`` stops it with the other tasks).

    Nothing starts when ``alerts_check_seconds`` is 0.
    """
    data = application.bot_data
    interval = data.settings.alerts_check_seconds
    if interval > 0:
        # A store locked for hours must not flood the log: ``repeat`` logs a failure once.
        check = functools.partial(check_and_notify, application)
        watch = repeat(check, interval, "alerts check", run_first=True)
        data.tasks.append(asyncio.create_task(watch, name="alerts"))


async def on_subscribe(update: Update, context: Context) -> None:
    """/subskrybuj: notices of changes in this chat."""
    store = context.bot_data.feedback_sink
    if store is None:
        await reply_html(context, update, render.render_plain(UNAVAILABLE))
        return
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:  # channel posts and the like: nobody to notify
        return
    chat_id, user_id = chat.id, user.id
    try:
        added = await asyncio.to_thread(store.subscribe, chat_id, user_id)
    except sqlite3.Error as error:  # a locked or damaged store: say so, never claim it worked
        logger.warning("/subskrybuj in chat %s not stored: %s", chat_id, error)
        await reply_html(context, update, render.render_plain(UNAVAILABLE))
        return
    logger.info("chat %s subscribed by user %s (new: %s)", chat_id, user_id, added)
    await reply_html(context, update, render.render_plain(SUBSCRIBED if added else ALREADY_SUBSCRIBED))


async def on_unsubscribe(update: Update, context: Context) -> None:
    """/odsubskrybuj: no more notices in this chat."""
    store = context.bot_data.feedback_sink
    if store is None:
        await reply_html(context, update, render.render_plain(UNAVAILABLE))
        return
    chat = update.effective_chat
    if chat is None:
        return
    try:
        removed = await asyncio.to_thread(store.unsubscribe, chat.id)
    except sqlite3.Error as error:  # a locked or damaged store: say so, never claim it worked
        logger.warning("/odsubskrybuj in chat %s not stored: %s", chat.id, error)
        await reply_html(context, update, render.render_plain(UNAVAILABLE))
        return
    await reply_html(context, update, render.render_plain(UNSUBSCRIBED if removed else NOT_SUBSCRIBED))
