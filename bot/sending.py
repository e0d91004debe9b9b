"""Calls to the Bot API: the one place that retries, and the outbox that never loses a reply.

Retries live here and nowhere else (PTB's own rate limiter is not installed, and
the HTTP client does not retry):

- ``RetryAfter`` (429): wait as long as Telegram asks; the wait holds back every
  call of this bot (``FloodGate``), as the flood limit is the bot's, not the chat's.
- ``NetworkError`` (PTB raises it for 5xx and, as ``TimedOut``, for timeouts):
  exponential backoff, ``base_delay`` doubling up to ``max_delay``.
- ``BadRequest``, ``Forbidden`` and other errors are not retried: retrying cannot fix them.

A reply (``Sender.send``) is retried inline for ``inline_seconds``; if it still
cannot be delivered it goes to the **outbox** (kept in the SQLite store, so a restart
loses nothing) and a background task retries it with backoff until
``deadline_seconds`` after the question, default 15 minutes. Only then is it logged
as lost, with the update id, and counted. Later replies to a chat with a reply in
the outbox queue up behind it, so a chat never sees answers out of order.

A reply Telegram rejects with ``BadRequest`` (an HTML parse error, too long after
escaping) is sent once more as plain text with the same content; if that fails too,
the user gets a short apology and the incident is logged and counted for /stats.

Other calls (typing actions, button answers, command menus) go through ``deliver``:
the same retries within a short budget, then logged and given up; a lost "typing…"
must not take the update's handler, or the bot, down with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import html
import logging
import secrets
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.feedback import OutboxRow

if TYPE_CHECKING:  # bot.state imports this module
    from bot.state import Context

logger = logging.getLogger(__name__)

T = TypeVar("T")

BASE_DELAY = 0.5  # seconds; doubles per attempt
MAX_DELAY = 30.0
INLINE_SECONDS = 10.0  # how long a handler retries a reply itself before the outbox takes it
DEADLINE_SECONDS = 900.0  # how long a reply is retried in all before it is given up as lost
SHORT_SECONDS = 5.0  # retry budget of calls that are useless late (typing, button answers)
TYPING_INTERVAL = 4.0  # Telegram shows "typing…" for about 5 s after each action
PARALLEL_CHATS = 8  # chats the outbox delivers to at once
HELD = float("inf")  # next_at of an outbox entry still being written to the store

APOLOGY = "Przepraszam, nie udało się wysłać odpowiedzi. Spróbuj zadać pytanie inaczej."


def retry_after_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait, in seconds (PTB returns int or timedelta)."""
    with warnings.catch_warnings():
        # PTB 22 warns that ``retry_after`` will become a timedelta; we accept both.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


@dataclass(frozen=True)
class DeliveryPolicy:
    """How long and how often calls are retried (``Settings.delivery_*``)."""

    inline_seconds: float = INLINE_SECONDS
    deadline_seconds: float = DEADLINE_SECONDS
    base_delay: float = BASE_DELAY
    max_delay: float = MAX_DELAY

    def backoff(self, attempt: int) -> float:
        """The pause after failed attempt number ``attempt`` (1-based)."""
        return min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))

    @classmethod
    def from_settings(cls, settings: Any) -> DeliveryPolicy:
        """The policy configured by ``bot.settings.Settings``."""
        return cls(
            inline_seconds=settings.delivery_inline_seconds,
            deadline_seconds=settings.delivery_deadline_seconds,
            max_delay=settings.delivery_max_backoff_seconds,
        )


class Undelivered(Exception):
    """A call still failing with a transient error when its retry budget ran out."""

    def __init__(self, error: TelegramError, retry_at: float) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error
        self.retry_at = retry_at  # time.monotonic() when another attempt makes sense


class FloodGate:
    """A pause every call of the bot waits out after Telegram's 429 ``retry_after``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.until = 0.0

    def close_for(self, seconds: float) -> float:
        """Hold calls back for ``seconds``; returns the monotonic time they may resume."""
        self.until = max(self.until, self._clock() + seconds)
        return self.until

    async def wait(self, sleep: Callable[[float], Awaitable[object]]) -> None:
        """Return once the gate is open."""
        while (left := self.until - self._clock()) > 0:
            await sleep(left)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    until: float,
    policy: DeliveryPolicy = DeliveryPolicy(),
    gate: FloodGate | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Await ``call()``, retrying transient failures while the next try starts before ``until``.

    Raises the first permanent ``TelegramError`` (``BadRequest``, ``Forbidden`` …) at
    once, and ``Undelivered`` once the budget is spent (``until`` in the past: one try).
    ``call`` must build a fresh request each time, e.g. ``lambda: bot.send_message(...)``.
    A ``TimedOut`` send may in rare cases have reached Telegram already; retrying it
    risks a duplicate, which is better than a silently lost answer.
    """
    attempt = 0
    while True:
        if gate is not None:
            await gate.wait(sleep)
        attempt += 1
        try:
            return await call()
        except BadRequest:  # a NetworkError subclass in PTB, but retrying cannot help
            raise
        except RetryAfter as error:
            delay = retry_after_seconds(error)
            if gate is not None:
                gate.close_for(delay)
            failure: TelegramError = error
            reason = f"flood limit, retry after {delay:g} s"
        except NetworkError as error:  # includes TimedOut and HTTP 5xx
            delay = policy.backoff(attempt)
            failure, reason = error, f"{type(error).__name__}: {error}"
        retry_at = clock() + delay
        if retry_at > until:
            raise Undelivered(failure, retry_at)
        logger.info("%s: %s; attempt %d in %.1f s", what, reason, attempt + 1, delay)
        await sleep(delay)


async def deliver(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    within: float = SHORT_SECONDS,
    policy: DeliveryPolicy = DeliveryPolicy(),
    gate: FloodGate | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    give_up_level: int = logging.WARNING,
) -> T | None:
    """``call_with_retries`` for ``within`` seconds; its result, or None (logged) on failure.

    ``what`` names the call in logs (a method and a chat id, never message text);
    ``give_up_level`` is the log level of a transient failure given up (INFO for
    "typing…", which fails every few seconds for every chat during an outage).
    """
    try:
        return await call_with_retries(
            call, what=what, until=time.monotonic() + within, policy=policy, gate=gate, sleep=sleep
        )
    except Undelivered as failed:
        logger.log(give_up_level, "%s failed, given up after %g s: %s", what, within, failed)
    except TelegramError as error:  # BadRequest, Forbidden, ChatMigrated, Conflict …
        logger.warning("%s failed, not retried: %s: %s", what, type(error).__name__, error)
    return None


# --- plain text -------------------------------------------------------------------------


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._href: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href:
            href = self._href.pop()
            if href and not "".join(self.parts).endswith(href):
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(message_html: str) -> str:
    """The text a reader sees in ``message_html``, links written out: for a plain-text resend."""
    parser = _Visible()
    try:
        parser.feed(message_html)
        parser.close()
    except Exception:  # an HTML parse error is why we are here; fall back to unescaping
        return html.unescape(message_html)
    return "".join(parser.parts)


# --- replies and the outbox -------------------------------------------------------------


class OutboxStore(Protocol):
    """Where the outbox keeps replies across restarts (``bot.feedback.FeedbackStore``)."""

    def outbox_save(self, row: OutboxRow) -> bool: ...
    def outbox_delete(self, key: str) -> bool: ...
    def outbox_rows(self) -> list[OutboxRow]: ...
    def record_incident(self, kind: str, detail: str) -> None: ...


@dataclass
class DeliveryCounters:
    """What happened to replies since the bot started (shown in /stats)."""

    deferred: int = 0  # handed to the outbox after the inline retries
    delivered_late: int = 0  # delivered from the outbox
    lost: int = 0  # given up at the deadline, or refused for good (bot blocked …)
    plain_fallbacks: int = 0  # rejected as HTML, resent as plain text
    apologies: int = 0  # rejected as plain text too: the user got an apology


@dataclass
class PendingReply:
    """One message of a reply, as the outbox keeps it."""

    key: str
    chat_id: int
    text: str
    html: bool
    markup: dict[str, Any] | None
    reply_to: int | None
    thread_id: int | None
    update_id: int | None
    created_at: float  # wall clock, so deadlines survive a restart
    deadline: float
    attempts: int = 0
    next_at: float = 0.0  # time.monotonic() of the next attempt
    saved: bool = field(default=False, compare=False)

    def row(self) -> OutboxRow:
        """The row ``FeedbackStore.outbox_save`` keeps."""
        payload = {
            "text": self.text,
            "html": self.html,
            "markup": self.markup,
            "reply_to": self.reply_to,
            "thread_id": self.thread_id,
        }
        return OutboxRow(
            self.key, self.created_at, self.deadline, self.update_id, self.chat_id, payload, self.attempts
        )

    @classmethod
    def from_row(cls, row: OutboxRow) -> PendingReply:
        """A kept reply read back at start."""
        p = row.payload
        return cls(
            row.key,
            row.chat_id,
            p["text"],
            bool(p["html"]),
            p.get("markup"),
            p.get("reply_to"),
            p.get("thread_id"),
            row.update_id,
            row.created_at,
            row.deadline,
            row.attempts,
            saved=True,
        )


class Sender:
    """Delivers replies: inline retries first, then the outbox until the deadline.

    One per ``Application`` (``BotData.sender``); ``start()`` resumes replies
    kept by an earlier run, ``stop()`` ends the outbox task (kept replies stay in
    the store for the next start).
    """

    def __init__(
        self,
        bot: Bot,
        policy: DeliveryPolicy = DeliveryPolicy(),
        store: OutboxStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bot = bot
        self.policy = policy
        self.store = store
        self.gate = FloodGate()
        self.counters = DeliveryCounters()
        self._clock = clock
        self._queue: dict[str, PendingReply] = {}  # insertion order = delivery order
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle ---

    async def start(self) -> None:
        """Read replies kept by an earlier run and start delivering them."""
        if self.store is not None:
            try:
                rows = await asyncio.to_thread(self.store.outbox_rows)
            except Exception as error:  # an unreadable outbox must not stop the bot
                logger.error("outbox: kept replies cannot be read: %s", error)
                rows = []
            for row in rows:
                item = PendingReply.from_row(row)
                self._queue[item.key] = item
            if rows:
                logger.warning("outbox: %d replies kept by the previous run, delivering them now", len(rows))
        self._ensure_task()

    async def stop(self) -> None:
        """Stop the outbox task; replies not kept in the store are logged as lost."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        unsaved = [item for item in self._queue.values() if not item.saved]
        for item in unsaved:
            await self._lost(item, "the bot stopped and the store could not keep it")
        if self._queue:
            logger.warning("outbox: %d replies kept for the next start", len(self._queue) - len(unsaved))

    @property
    def pending(self) -> int:
        """Replies waiting in the outbox."""
        return len(self._queue)

    # --- sending ---

    async def send(
        self,
        chat_id: int,
        messages: Sequence[str],
        *,
        markup: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
        update_id: int | None = None,
        html_mode: bool = True,
    ) -> list[Message]:
        """Send ``messages`` in order, the keyboard on the last; returns those delivered now.

        Messages that cannot be delivered now are kept in the outbox (and not returned).
        """
        now = self._clock()
        items = [
            PendingReply(
                key=secrets.token_hex(8),
                chat_id=chat_id,
                text=text,
                html=html_mode,
                markup=markup.to_dict() if markup is not None and i == len(messages) - 1 else None,
                reply_to=reply_to if i == 0 else None,
                thread_id=thread_id,
                update_id=update_id,
                created_at=now,
                deadline=now + self.policy.deadline_seconds,
            )
            for i, text in enumerate(messages)
        ]
        if not items:
            return []
        if any(item.chat_id == chat_id for item in self._queue.values()):
            await self._enqueue(items, "earlier replies to this chat are still waiting")
            return []
        sent: list[Message] = []
        until = time.monotonic() + self.policy.inline_seconds
        for i, item in enumerate(items):
            try:
                message = await self._attempt(item, until)
            except Undelivered as failed:
                for later in items[i:]:
                    later.attempts, later.next_at = 1, failed.retry_at
                await self._enqueue(items[i:], str(failed))
                break
            if message is not None:
                sent.append(message)
                self._reachable()
        return sent

    def _reachable(self) -> None:
        """A call just went through: replies in the outbox need not sit out their backoff."""
        soon = max(time.monotonic(), self.gate.until)  # a flood wait still holds
        woken = False
        for item in self._queue.values():
            if soon < item.next_at < HELD:
                item.next_at, woken = soon, True
        if woken:
            self._wake.set()

    async def _attempt(self, item: PendingReply, until: float) -> Message | None:
        """Deliver ``item`` (plain text after an HTML rejection); None if refused for good.

        Raises ``Undelivered`` when transient failures outlast ``until``.
        """
        what = f"sendMessage to chat {item.chat_id} (update {item.update_id})"
        try:
            return await self._call(item, what, until)
        except BadRequest as error:
            rejected: TelegramError = error
        except TelegramError as error:  # Forbidden (bot blocked), chat migrated …: for good
            await self._lost(item, f"{type(error).__name__}: {error}")
            return None
        if item.html:
            logger.warning("%s: Telegram rejected the HTML (%s); resending as plain text", what, rejected)
            self.counters.plain_fallbacks += 1
            item.text, item.html = plain_text(item.text), False
            try:
                return await self._call(item, what, until)
            except BadRequest as again:
                rejected = again
            except TelegramError as error:
                await self._lost(item, f"{type(error).__name__}: {error}")
                return None
        self.counters.apologies += 1
        logger.error("%s: rejected as plain text too (%s); the user gets an apology", what, rejected)
        await self._incident("reply_rejected", f"update {item.update_id}, chat {item.chat_id}: {rejected}")
        apology = dataclasses.replace(item, text=APOLOGY, html=False, markup=None)
        with contextlib.suppress(TelegramError, Undelivered):
            await self._call(apology, f"apology to chat {item.chat_id}", until)
        return None

    async def _call(self, item: PendingReply, what: str, until: float) -> Message:
        def send() -> Awaitable[Message]:
            return self.bot.send_message(
                item.chat_id,
                item.text,
                parse_mode=ParseMode.HTML if item.html else None,
                reply_markup=InlineKeyboardMarkup.de_json(item.markup, self.bot) if item.markup else None,
                reply_parameters=(
                    ReplyParameters(item.reply_to, allow_sending_without_reply=True)
                    if item.reply_to
                    else None
                ),
                message_thread_id=item.thread_id,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )

        return await call_with_retries(send, what=what, until=until, policy=self.policy, gate=self.gate)

    # --- the outbox ---

    async def _enqueue(self, items: Sequence[PendingReply], reason: str) -> None:
        due = [item.next_at for item in items]
        for item in items:  # queued at once (order), but held until kept in the store
            item.next_at = HELD
            self._queue[item.key] = item
        self.counters.deferred += len(items)
        first = items[0]
        logger.warning(
            "reply to chat %s (update %s) not delivered yet (%s); %d message(s) kept in the outbox, "
            "retried until %s",
            first.chat_id,
            first.update_id,
            reason,
            len(items),
            dt.datetime.fromtimestamp(first.deadline).strftime("%H:%M:%S"),
        )
        if self.store is not None:
            for item in items:
                item.saved = await asyncio.to_thread(self.store.outbox_save, item.row())
        for item, next_at in zip(items, due, strict=True):
            # Released only now: delivered before its row existed, it would be sent again
            # after a restart.
            item.next_at = next_at
        self._ensure_task()
        self._wake.set()

    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="outbox")

    async def _run(self) -> None:
        """Deliver due replies, each chat's in order, until cancelled."""
        while True:
            self._wake.clear()
            now = time.monotonic()
            heads: dict[int, PendingReply] = {}
            for item in self._queue.values():
                heads.setdefault(item.chat_id, item)
            due = [item.chat_id for item in heads.values() if item.next_at <= now]
            if not due:
                waits = [item.next_at - now for item in heads.values() if item.next_at != HELD]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(waits) if waits else None)
                continue
            limit = asyncio.Semaphore(PARALLEL_CHATS)
            try:
                await asyncio.gather(*(self._flush_chat(chat_id, limit) for chat_id in due))
            except asyncio.CancelledError:
                raise
            except Exception:  # never let one bad reply stop the outbox
                logger.exception("outbox round failed")
                await asyncio.sleep(1.0)

    async def _flush_chat(self, chat_id: int, limit: asyncio.Semaphore) -> None:
        """Deliver ``chat_id``'s waiting messages in order until one fails."""
        async with limit:
            await self._flush_chat_now(chat_id)

    async def _flush_chat_now(self, chat_id: int) -> None:
        while True:
            item = next((i for i in self._queue.values() if i.chat_id == chat_id), None)
            if item is None or item.next_at > time.monotonic():
                return
            if self._clock() >= item.deadline:
                # Out of the outbox first: once a reply counts as lost it is no longer pending.
                await self._forget(item)
                await self._lost(item, f"still undelivered after {self.policy.deadline_seconds:g} s")
                continue
            try:
                message = await self._attempt(item, until=0.0)  # one try; the schedule is ours
            except Undelivered as failed:
                item.attempts += 1
                item.next_at = max(failed.retry_at, time.monotonic() + self.policy.backoff(item.attempts))
                return
            if message is not None:
                self.counters.delivered_late += 1
                logger.info("outbox: reply to chat %s (update %s) delivered", chat_id, item.update_id)
                self._reachable()
            await self._forget(item)

    async def _forget(self, item: PendingReply) -> None:
        self._queue.pop(item.key, None)
        if item.saved and self.store is not None:
            await asyncio.to_thread(self.store.outbox_delete, item.key)

    async def _lost(self, item: PendingReply, reason: str) -> None:
        self.counters.lost += 1
        logger.error(
            "reply to chat %s (update %s) lost: %s; %d lost since start",
            item.chat_id,
            item.update_id,
            reason,
            self.counters.lost,
        )
        await self._incident("reply_lost", f"update {item.update_id}, chat {item.chat_id}: {reason}")

    async def _incident(self, kind: str, detail: str) -> None:
        if self.store is not None:
            try:  # bounded by the store's busy_timeout, off the event loop
                await asyncio.to_thread(self.store.record_incident, kind, detail)
            except Exception as error:  # the incident is logged already
                logger.warning("incident %s not stored: %s", kind, error)


# --- the handlers' helpers ----------------------------------------------------------------


def sender_of(context: Context) -> Sender:
    """The application's ``Sender`` (one without an outbox store before ``post_init``)."""
    data = context.bot_data
    if data.sender is None:
        data.sender = Sender(context.bot)
    return data.sender


async def send_html(
    bot: Bot,
    chat_id: int,
    messages: Sequence[str],
    *,
    markup: InlineKeyboardMarkup | None = None,
    reply_to: int | None = None,
    thread_id: int | None = None,
    sender: Sender | None = None,
) -> list[Message]:
    """Send HTML ``messages`` to ``chat_id`` outside a handler (e.g. a scheduled alert).

    Pass the application's ``BotData.sender`` so an undeliverable message joins the
    persistent outbox; without it, a ``Sender`` with an in-memory outbox is used.
    Returns the messages delivered now.
    """
    return await (sender or Sender(bot)).send(
        chat_id, messages, markup=markup, reply_to=reply_to, thread_id=thread_id
    )


def topic_of(update: Update) -> int | None:
    """The forum topic ``update`` came from, so replies land in it (None outside topics)."""
    message = update.effective_message
    return message.message_thread_id if message is not None and message.is_topic_message else None


async def reply_html(
    context: Context,
    update: Update,
    messages: Sequence[str],
    *,
    markup: InlineKeyboardMarkup | None = None,
    reply_to: int | None = None,
) -> list[Message]:
    """Send HTML ``messages`` to the chat, and the forum topic, that ``update`` came from."""
    chat = update.effective_chat
    if chat is None:
        raise ValueError(f"update {update.update_id} comes from no chat")
    return await sender_of(context).send(
        chat.id,
        messages,
        markup=markup,
        reply_to=reply_to,
        thread_id=topic_of(update),
        update_id=update.update_id,
    )


async def answer_button(context: Context, update: Update, text: str | None = None) -> None:
    """Answer a button press (a pop-up ``text``, or just stop the spinner)."""
    query = update.callback_query
    if query is None:
        raise ValueError(f"update {update.update_id} is not a button press")
    sender = sender_of(context)
    await deliver(
        lambda: query.answer(text) if text else query.answer(),
        what=f"answerCallbackQuery (update {update.update_id})",
        policy=sender.policy,
        gate=sender.gate,
    )


@contextlib.asynccontextmanager
async def typing_action(
    context: Context,
    chat_id: int,
    interval: float | None = None,
    thread_id: int | None = None,
) -> AsyncIterator[None]:
    """Show "typing…" in ``chat_id`` now and every ``interval`` s until the block ends."""
    interval = TYPING_INTERVAL if interval is None else interval
    sender = sender_of(context)

    async def keep_typing() -> None:
        while True:
            await deliver(
                lambda: context.bot.send_chat_action(chat_id, ChatAction.TYPING, message_thread_id=thread_id),
                what=f"sendChatAction to chat {chat_id}",
                within=0.0,  # one try: the next one is due in `interval` anyway
                gate=sender.gate,
                give_up_level=logging.INFO,
            )
            await asyncio.sleep(interval)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
