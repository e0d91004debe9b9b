"""Telegram handlers: each translates one kind of update into a call of our own code.

Resources live in ``application.bot_data``, a typed ``bot.state.BotData`` (the
runtime is loaded in ``post_init`` and closed in ``post_shutdown``). Per chat,
``chat_data`` (``bot.state.ChatData``) holds the conversation (for follow-ups) and
the citations of the last ``RECENT_ANSWERS`` answers (for buttons).
Heavy work runs in worker threads so several users are answered at once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import sqlite3
from collections.abc import Callable
from datetime import date

from telegram import (
    BotCommand,
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot import render
from bot.catalog import format_changes, format_sources, list_changes, list_sources
from bot.citations import status_text
from bot.feedback import FeedbackStore, StoreUnavailable
from bot.generate import arespond, make_writer
from bot.plain import answer_to_text
from bot.records import Answer
from bot.sending import DeliveryPolicy, Sender, answer_button, deliver, reply_html, topic_of, typing_action
from bot.state import App, BotData, ChatData, Context, StoredAnswer
from index.errors import IndexNotBuilt, ModelNotAvailable, PomocnikError

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
RECENT_ANSWERS = 20  # answers per chat whose buttons still work
REFUSALS_REMEMBERED = 10_000  # users already told they are not on the allowlist
SEARCH_HITS = 5

COMMANDS = (
    BotCommand("start", "Powitanie i krótka instrukcja"),
    BotCommand("help", "Co wiem, jak pytać, przykłady"),
    BotCommand("zrodla", "Dokumenty w bazie wiedzy"),
    BotCommand("zmiany", "Nowelizacje i projekty według daty wejścia w życie"),
    BotCommand("szukaj", "Surowe wyniki wyszukiwania: /szukaj <fraza>"),
    BotCommand("subskrybuj", "Powiadomienia o nowelizacjach, projektach i zmianach od jutra"),
    BotCommand("odsubskrybuj", "Wyłącz powiadomienia o zmianach"),
    BotCommand("zapomnij", "Usuń moje zapisane oceny, pytania i historię rozmowy"),
)

HELP_TEXT = """\
Jestem Pomocnikiem: odpowiadam na pytania o prawo pomocy społecznej \
(ustawa o pomocy społecznej, nowelizacje, projekty, materiały z konferencji). \
Każde zdanie odpowiedzi ma numer źródła [n]; przyciski [1] [2] … pokazują pełny cytowany fragment.

Jak pytać: napisz pytanie zwykłym zdaniem. W grupie oznacz mnie (@{username}) \
albo odpowiedz na moją wiadomość. Pytanie uzupełniające może odnosić się do poprzedniego.

Przykłady:
• Jakie jest kryterium dochodowe dla osoby samotnie gospodarującej?
• Komu przysługuje zasiłek stały?
• Co mówi art. 37 ust. 2?
• Co się zmienia w pomocy społecznej w tym roku?

Polecenia:
/zrodla — dokumenty w bazie wiedzy
/zmiany — nowelizacje i projekty, najbliższe najpierw
/szukaj <fraza> — surowe fragmenty z wyszukiwarki
/subskrybuj — powiadomienia o nowych nowelizacjach i projektach oraz o zmianach od jutra
/odsubskrybuj — wyłącz powiadomienia
/zapomnij — usuń moje zapisane dane
/help — ta pomoc

Odpowiadam wyłącznie na podstawie dokumentów z bazy; to nie jest porada prawna."""

EMPTY_HINT = "Napisz pytanie, np. „Komu przysługuje zasiłek stały?”. Pomoc: /help"
TOO_LONG = f"Pytanie jest za długie — maks. {MAX_QUESTION_CHARS} znaków."
UNKNOWN_COMMAND = "Nie znam tego polecenia. Lista poleceń: /help"
SEARCH_USAGE = "Podaj frazę, np. /szukaj zasiłek stały"
STALE_BUTTON = "Ta odpowiedź jest już nieaktualna — zadaj pytanie ponownie."
THANKS = "Dziękuję za ocenę."
ALREADY_RATED = "Ocena tej odpowiedzi jest już zapisana."
NOT_ALLOWED = "Ten bot jest dostępny tylko dla upoważnionych osób."
FLOOD = "Za dużo pytań naraz — spróbuj ponownie za {seconds} s."
GENERIC_ERROR = "Przepraszam, nie udało się obsłużyć tej wiadomości. Spróbuj ponownie za chwilę."
ERROR_TEXTS: dict[type[PomocnikError], str] = {
    IndexNotBuilt: "Baza wiedzy nie jest jeszcze zbudowana — spróbuj później.",
    ModelNotAvailable: "Wyszukiwarka jest chwilowo niedostępna — spróbuj później.",
}


# --- lifecycle --------------------------------------------------------------------------


async def post_init(application: App) -> None:
    """Load the runtime off the event loop, open the store, resume the outbox, register commands.

    The store is optional: when it cannot be opened the bot answers without it
    (no feedback, refusals remembered in memory, the outbox in memory only).
    """
    data = application.bot_data
    settings = data.settings
    data.runtime = await asyncio.to_thread(data.runtime_factory, settings)
    if data.feedback_sink is None:
        try:
            data.feedback_sink = await asyncio.to_thread(
                FeedbackStore,
                settings.db_path,
                settings.retention_days,
                busy_timeout_ms=settings.db_busy_timeout_ms,
            )
            data.owns_feedback_sink = True
        except (StoreUnavailable, sqlite3.Error, OSError) as error:
            logger.error("feedback store %s unavailable, answering without it: %s", settings.db_path, error)
    sender = data.sender = Sender(application.bot, DeliveryPolicy.from_settings(settings), data.feedback_sink)
    await sender.start()
    data.writer = make_writer(settings)
    await deliver(lambda: application.bot.set_my_commands(COMMANDS), what="setMyCommands", gate=sender.gate)
    logger.info("bot @%s ready", application.bot.username)


async def post_shutdown(application: App) -> None:
    """Close what ``post_init`` opened (the outbox first: it writes to the store)."""
    data = application.bot_data
    if data.sender is not None:
        await data.sender.stop()
        data.sender = None
    if data.owns_feedback_sink and data.feedback_sink is not None:
        data.feedback_sink.close()
        data.feedback_sink, data.owns_feedback_sink = None, False
    if data.writer is not None:
        await data.writer.aclose()
        data.writer = None
    runtime = data.take_runtime()
    if runtime is not None:
        await asyncio.to_thread(runtime.close)


# --- gate -------------------------------------------------------------------------------


async def check_access(update: Update, context: Context) -> None:
    """Stop updates from users and chats outside the allowlist, telling them once why."""
    user, chat = update.effective_user, update.effective_chat
    access = context.bot_data.access
    if access.is_allowed(user.id if user else None, chat.id if chat else None):
        return
    logger.info("update %s from chat %s refused by the allowlist", update.update_id, chat and chat.id)
    if update.callback_query is not None:  # a button must always be answered, or it spins
        await answer_button(context, update, NOT_ALLOWED)
    elif chat and chat.type == ChatType.PRIVATE and await _first_refusal(context.bot_data, chat.id):
        await reply_html(context, update, render.render_plain(NOT_ALLOWED))
    raise ApplicationHandlerStop


async def _first_refusal(data: BotData, chat_id: int) -> bool:
    """True the first time ``chat_id`` is refused: the refusal is sent once, not per message.

    Remembered in the SQLite store, so a restart does not repeat it; in memory
    (bounded, like the flood limiter) when the store is missing or cannot answer.
    """
    if data.feedback_sink is not None:
        first = await asyncio.to_thread(data.feedback_sink.first_refusal, chat_id)
        if first is not None:
            return first
    told = data.refused
    if chat_id in told:
        return False
    told[chat_id] = None
    while len(told) > REFUSALS_REMEMBERED:
        told.popitem(last=False)
    return True


# --- commands ---------------------------------------------------------------------------


async def on_help(update: Update, context: Context) -> None:
    """Answer /start and /help with what the bot knows, how to ask and examples."""
    text = HELP_TEXT.format(username=context.bot.username)
    await reply_html(context, update, render.render_plain(text))


async def on_sources(update: Update, context: Context) -> None:
    """Answer /zrodla with the documents in the knowledge base, by kind, with dates."""
    runtime = context.bot_data.runtime
    text = await asyncio.to_thread(lambda: format_sources(list_sources(runtime.chunks())))
    await reply_html(context, update, render.render_plain(text))


async def on_changes(update: Update, context: Context) -> None:
    """Answer /zmiany with amendments and drafts by effective date, upcoming first."""
    runtime = context.bot_data.runtime
    text = await asyncio.to_thread(lambda: format_changes(list_changes(runtime.chunks())))
    await reply_html(context, update, render.render_plain(text))


async def on_search(update: Update, context: Context) -> None:
    """Answer /szukaj <fraza> with the raw top passages."""
    chat_id = chat_of(update).id
    query = " ".join(context.args or ()).strip()
    if not query:
        await reply_html(context, update, render.render_plain(SEARCH_USAGE))
        return
    if not await _within_limits(update, context, query):
        return
    runtime = context.bot_data.runtime
    async with typing_action(context, chat_id, thread_id=topic_of(update)):
        hits = await asyncio.to_thread(runtime.searcher.search, query, SEARCH_HITS)
    today = date.today()
    views = [
        render.HitView(
            title=hit.chunk.meta.title,
            anchor=hit.chunk.anchor,
            status_text=status_text(hit.chunk.meta, today),
            snippet=render.snippet(hit.chunk.text),
            why=hit.why,
        )
        for hit in hits
    ]
    message = update.effective_message
    in_group = message is not None and message.chat.type != ChatType.PRIVATE
    await reply_html(
        context,
        update,
        render.render_hits(query, views),
        reply_to=message.message_id if in_group and message is not None else None,
    )


async def on_unknown_command(update: Update, context: Context) -> None:
    """Reply to an unknown command with a hint (in groups only when addressed to us)."""
    message = message_of(update)
    command = (message.text or "").split()[0]
    if message.chat.type != ChatType.PRIVATE and not command.lower().endswith(
        f"@{context.bot.username}".lower()
    ):
        return  # probably meant for another bot in the group
    await reply_html(context, update, render.render_plain(UNKNOWN_COMMAND))


# --- questions --------------------------------------------------------------------------


async def on_text(update: Update, context: Context) -> None:
    """Answer a question: any text in private chats, mentions and replies in groups."""
    message = message_of(update)
    question = addressed_text(message, context.bot.username, context.bot.id)
    if question is None:
        return
    question = question.strip()
    chat_id = message.chat_id
    if not question:
        await reply_html(context, update, render.render_plain(EMPTY_HINT))
        return
    if not await _within_limits(update, context, question):
        return
    if context.bot_data.settings.log_message_text:
        logger.info("question in chat %s: %s", chat_id, question)
    runtime = context.bot_data.runtime
    chat_data = _chat_data(context)
    history = chat_data.conversation.history
    writer = context.bot_data.writer
    # "typing…" lasts until the answer is final: a model's text is sent only once verified.
    async with typing_action(context, chat_id, thread_id=topic_of(update)):
        response = await arespond(question, runtime.searcher, history=history, writer=writer)
    result = response.answer
    chat_data.conversation = chat_data.conversation.after(result)
    markup = None
    if result.answered:
        key = _remember(chat_data, question, result)
        markup = keyboard(render.answer_buttons(result, key))
    await reply_html(
        context,
        update,
        render.render_answer(result),
        markup=markup,
        reply_to=message.message_id if message.chat.type != ChatType.PRIVATE else None,
    )
    # Recorded after the reply: a slow or locked store never delays it.
    if response.attempted:
        await _record(
            context,
            lambda sink: sink.record_generation(response.sentences, response.dropped, response.fallback),
        )
    if not result.answered:
        user_id = update.effective_user.id if update.effective_user else chat_id
        await _record(context, lambda sink: sink.record_unanswered(user_id, chat_id, question))


def addressed_text(message: Message, username: str, bot_id: int) -> str | None:
    """The question in ``message`` if it is meant for the bot (mention removed), else None.

    Private chats: always. Groups: when the bot is @mentioned or the message replies
    to one of the bot's own messages.
    """
    text = message.text or ""
    if message.chat.type == ChatType.PRIVATE:
        return text
    mention = f"@{username}".lower()
    mentioned = False
    entities = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
    for entity, value in entities.items():
        if (entity.type == MessageEntity.MENTION and value.lower() == mention) or (
            entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id
        ):
            mentioned = True
            text = text.replace(value, " ", 1)
    if mentioned:
        return re.sub(r"\s+", " ", text)
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.id == bot_id:
        return text
    return None


async def _within_limits(update: Update, context: Context, text: str) -> bool:
    """False (after telling the user why) for an over-long question or a flooding user."""
    chat_id = chat_of(update).id
    if len(text) > MAX_QUESTION_CHARS:
        await reply_html(context, update, render.render_plain(TOO_LONG))
        return False
    flood = context.bot_data.flood
    user_id = update.effective_user.id if update.effective_user else chat_id
    if not context.bot_data.access.is_admin(user_id) and not flood.allow(user_id):
        text = FLOOD.format(seconds=flood.retry_in(user_id))
        await reply_html(context, update, render.render_plain(text))
        return False
    return True


def _remember(chat_data: ChatData, question: str, result: Answer) -> str:
    """Keep the answer's citations for its buttons; returns the key the buttons carry."""
    store = chat_data.answers
    # Random, not a counter: after a restart an old button must not hit a new answer.
    key = secrets.token_hex(4)
    store[key] = StoredAnswer(
        question, answer_to_text(result), result.citations, more=tuple(render.render_more(result))
    )
    while len(store) > RECENT_ANSWERS:
        store.popitem(last=False)
    return key


def keyboard(rows: render.ButtonRows) -> InlineKeyboardMarkup:
    """An inline keyboard from ``render``'s ``(label, callback_data)`` rows."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


async def _record(context: Context, write: Callable[[FeedbackStore], object]) -> None:
    """Run ``write(sink)`` in a thread, if a feedback sink is configured."""
    sink = context.bot_data.feedback_sink
    if sink is not None:
        await asyncio.to_thread(write, sink)


# --- buttons ----------------------------------------------------------------------------


async def on_passage_button(update: Update, context: Context) -> None:
    """Show the full passage behind a ``[n]`` button."""
    query = query_of(update)
    _, number, key = (query.data or "").split(":")  # the handler's pattern admits only "p:<n>:<key>"
    stored = _stored(context, key)
    citation = next((c for c in stored.citations if c.n == int(number)), None) if stored else None
    if citation is None:
        await answer_button(context, update, STALE_BUTTON)
        return
    await answer_button(context, update)
    await reply_html(context, update, render.render_passage(citation))


async def on_more_button(update: Update, context: Context) -> None:
    """Show the further evidence behind the "Więcej" button."""
    query = query_of(update)
    _, key = (query.data or "").split(":")  # the handler's pattern admits only "m:<key>"
    stored = _stored(context, key)
    if stored is None or not stored.more:
        await answer_button(context, update, STALE_BUTTON)
        return
    await answer_button(context, update)
    await reply_html(context, update, list(stored.more))


async def on_feedback_button(update: Update, context: Context) -> None:
    """Record a 👍 or 👎 for an answer."""
    query = query_of(update)
    _, sign, key = (query.data or "").split(":")  # the handler's pattern admits only "f:<±>:<key>"
    stored = _stored(context, key)
    if stored is None:
        await answer_button(context, update, STALE_BUTTON)
        return
    if stored.rated:
        await answer_button(context, update, ALREADY_RATED)
        return
    _chat_data(context).answers[key] = StoredAnswer(
        stored.question, stored.text, stored.citations, True, stored.more
    )
    sources = [f"{c.doc_id} {c.anchor}".strip() for c in stored.citations]
    chat_id = update.effective_chat.id if update.effective_chat else 0
    user_id = update.effective_user.id if update.effective_user else chat_id
    rating = 1 if sign == "+" else -1
    await answer_button(context, update, THANKS)  # first: a locked store must not keep it spinning
    await _record(
        context,
        lambda sink: sink.record_feedback(user_id, chat_id, stored.question, stored.text, sources, rating),
    )


async def on_stale_button(update: Update, context: Context) -> None:
    """Answer any button we cannot serve (old, foreign or malformed data) politely."""
    await answer_button(context, update, STALE_BUTTON)


def _stored(context: Context, key: str) -> StoredAnswer | None:
    return context.chat_data.answers.get(key) if context.chat_data is not None else None


def message_of(update: Update) -> Message:
    """The update's message; the handlers that ask are registered for messages only."""
    if update.effective_message is None:
        raise ValueError(f"update {update.update_id} carries no message")
    return update.effective_message


def chat_of(update: Update) -> Chat:
    """The update's chat; every update these handlers serve comes from a chat."""
    if update.effective_chat is None:
        raise ValueError(f"update {update.update_id} comes from no chat")
    return update.effective_chat


def query_of(update: Update) -> CallbackQuery:
    """The update's button press; the handlers that ask are registered for buttons only."""
    if update.callback_query is None:
        raise ValueError(f"update {update.update_id} carries no button press")
    return update.callback_query


def _chat_data(context: Context) -> ChatData:
    """The chat's memory; every update these handlers serve comes from a chat."""
    if context.chat_data is None:
        raise ValueError("an update without a chat reached a chat handler")
    return context.chat_data


# --- errors -----------------------------------------------------------------------------


async def on_error(update: object, context: Context) -> None:
    """Log the failure with its traceback (ids only, no text) and apologise when possible."""
    if not isinstance(update, Update):
        logger.error("error outside an update", exc_info=context.error)
        return
    chat = update.effective_chat
    logger.error(
        "update %s in chat %s failed",
        update.update_id,
        chat.id if chat else None,
        exc_info=context.error,
    )
    text = next(
        (text for kind, text in ERROR_TEXTS.items() if isinstance(context.error, kind)), GENERIC_ERROR
    )
    if update.callback_query is not None:
        await answer_button(context, update, text)
    elif chat:
        await reply_html(context, update, render.render_plain(text))
