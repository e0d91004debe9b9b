"""Calls to the Bot API that survive flood limits and flaky networks, and never crash the bot.

``deliver`` retries one call: on ``RetryAfter`` it waits as long as Telegram asks, on
``TimedOut``/``NetworkError`` (which PTB raises for 5xx too) it backs off
exponentially. Errors that a retry cannot fix (``BadRequest``, ``Forbidden``) and the
last failed attempt are logged and swallowed: a lost reply must not take the
update's handler, or the whole bot, down with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial
from typing import TypeVar

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_ATTEMPTS = 5
BASE_DELAY = 0.5  # seconds; doubles per attempt
MAX_DELAY = 30.0
TYPING_INTERVAL = 4.0  # Telegram shows "typing…" for about 5 s after each action


def retry_after_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait, in seconds (PTB returns int or timedelta)."""
    with warnings.catch_warnings():
        # PTB 22 warns that ``retry_after`` will become a timedelta; we accept both.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def deliver(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    attempts: int = DEFAULT_ATTEMPTS,
    base_delay: float | None = None,
    max_delay: float = MAX_DELAY,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T | None:
    """Await ``call()`` with retries; its result, or None once it has finally failed.

    ``what`` names the call in logs (a method and a chat id, never message text).
    ``call`` must build a fresh request each time, e.g. ``lambda: bot.send_message(...)``.
    A ``TimedOut`` send may in rare cases have reached Telegram already; retrying it
    risks a duplicate, which is better than a silently lost answer.
    """
    base_delay = BASE_DELAY if base_delay is None else base_delay
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except (BadRequest, Forbidden, InvalidToken) as error:  # retrying cannot help
            logger.warning("%s failed, not retried: %s: %s", what, type(error).__name__, error)
            return None
        except RetryAfter as error:
            delay = retry_after_seconds(error)
            reason = f"flood limit, retry after {delay:g} s"
        except NetworkError as error:  # includes TimedOut and HTTP 5xx
            delay = min(max_delay, base_delay * 2 ** (attempt - 1))
            reason = f"{type(error).__name__}: {error}"
        except TelegramError as error:  # ChatMigrated, Conflict …: not ours to retry
            logger.warning("%s failed, not retried: %s: %s", what, type(error).__name__, error)
            return None
        if attempt == attempts:
            logger.error("%s failed after %d attempts: %s", what, attempts, reason)
            return None
        logger.info("%s: %s; attempt %d/%d in %.1f s", what, reason, attempt + 1, attempts, delay)
        await sleep(delay)
    return None


async def send_html(
    bot: Bot,
    chat_id: int,
    messages: Sequence[str],
    *,
    markup: InlineKeyboardMarkup | None = None,
    reply_to: int | None = None,
    thread_id: int | None = None,
) -> list[Message]:
    """Send HTML messages in order, the keyboard on the last one; returns those delivered.

    ``reply_to`` threads the first message under the question (useful in groups).
    """
    sent: list[Message] = []
    for i, text in enumerate(messages):
        last = i == len(messages) - 1
        reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to and i == 0 else None
        message = await deliver(
            partial(
                bot.send_message,
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup if last else None,
                reply_parameters=reply,
                message_thread_id=thread_id,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            ),
            what=f"sendMessage to chat {chat_id}",
        )
        if message is not None:
            sent.append(message)
    return sent


def topic_of(update: Update) -> int | None:
    """The forum topic ``update`` came from, so replies land in it (None outside topics)."""
    message = update.effective_message
    return message.message_thread_id if message is not None and message.is_topic_message else None


async def reply_html(
    bot: Bot,
    update: Update,
    messages: Sequence[str],
    *,
    markup: InlineKeyboardMarkup | None = None,
    reply_to: int | None = None,
) -> list[Message]:
    """``send_html`` to the chat, and the forum topic, that ``update`` came from.

    Raises ``ValueError`` for an update from no chat (nothing to reply to).
    """
    if update.effective_chat is None:
        raise ValueError(f"update {update.update_id} comes from no chat")
    return await send_html(
        bot, update.effective_chat.id, messages, markup=markup, reply_to=reply_to, thread_id=topic_of(update)
    )


@contextlib.asynccontextmanager
async def typing_action(
    bot: Bot, chat_id: int, interval: float | None = None, thread_id: int | None = None
) -> AsyncIterator[None]:
    """Show "typing…" in ``chat_id`` now and every ``interval`` s until the block ends."""
    interval = TYPING_INTERVAL if interval is None else interval

    async def keep_typing() -> None:
        while True:
            await deliver(
                lambda: bot.send_chat_action(chat_id, ChatAction.TYPING, message_thread_id=thread_id),
                what=f"sendChatAction to chat {chat_id}",
                attempts=2,
            )
            await asyncio.sleep(interval)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
