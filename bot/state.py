"""What the Telegram side keeps between updates, typed: ``BotData`` per bot, ``ChatData`` per chat.

PTB creates both with no arguments (``CONTEXT_TYPES``); ``build_application``
fills in the settings and the runtime factory, and ``handlers.post_init`` loads
the runtime and opens the feedback store. Handlers take a ``Context``, so
``context.bot_data.runtime`` is a typed ``Serving``, not a dictionary lookup.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.access import AccessPolicy, FloodLimiter
from bot.feedback import FeedbackStore
from bot.generate import Writer
from bot.records import Citation, Conversation
from bot.runtime import RuntimeFactory, Serving, load_runtime
from bot.sending import Sender
from bot.settings import Settings

T = TypeVar("T")


class NotStarted(RuntimeError):
    """A resource was used before ``build_application`` or ``post_init`` provided it."""


@dataclass(frozen=True)
class StoredAnswer:
    """What a chat's buttons need after the answer was sent."""

    question: str
    text: str
    citations: tuple[Citation, ...]
    rated: bool = False
    more: tuple[str, ...] = ()  # HTML messages behind the "Więcej" button


@dataclass
class ChatData:
    """One chat's memory: the conversation (for follow-ups) and the recent answers (for buttons)."""

    conversation: Conversation = field(default_factory=Conversation)
    # Insertion-ordered so the oldest answer's buttons expire first.
    answers: OrderedDict[str, StoredAnswer] = field(default_factory=OrderedDict)

    def forget(self) -> None:
        """Drop the conversation and the answers' buttons."""
        self.conversation = Conversation()
        self.answers.clear()


@dataclass
class BotData:
    """The resources every handler shares; see the module docstring for who fills what."""

    runtime_factory: RuntimeFactory = load_runtime
    feedback_sink: FeedbackStore | None = None  # None: feedback is not stored
    owns_feedback_sink: bool = False  # opened by post_init, so closed by post_shutdown
    writer: Writer | None = None  # the language model, when POMOCNIK_LLM_URL is set (post_init)
    reindex_running: bool = False  # set before a /reindex build's first await
    tasks: list[asyncio.Task[None]] = field(default_factory=list)  # started by admin.post_init
    sender: Sender | None = None  # delivery with retries and the outbox, from handlers.post_init
    # Users already told they are not on the allowlist, oldest first (when the store cannot tell).
    refused: OrderedDict[int, None] = field(default_factory=OrderedDict)
    _settings: Settings | None = None
    _runtime: Serving | None = None
    _access: AccessPolicy | None = None
    _flood: FloodLimiter | None = None

    def configure(self, settings: Settings, runtime_factory: RuntimeFactory) -> None:
        """Set what ``build_application`` knows: the settings and how to load the runtime."""
        self._settings = settings
        self.runtime_factory = runtime_factory
        self._access = AccessPolicy.from_ids(settings.allowed_ids, settings.admin_ids)
        self._flood = FloodLimiter(settings.questions_per_minute)

    @property
    def settings(self) -> Settings:
        """The bot's settings (raises ``NotStarted`` before ``configure``)."""
        return _provided(self._settings, "settings")

    @property
    def access(self) -> AccessPolicy:
        """The allowlist and the admins (raises ``NotStarted`` before ``configure``)."""
        return _provided(self._access, "access")

    @property
    def flood(self) -> FloodLimiter:
        """The per-user question limit (raises ``NotStarted`` before ``configure``)."""
        return _provided(self._flood, "flood")

    @property
    def runtime(self) -> Serving:
        """The loaded model and index (raises ``NotStarted`` before ``post_init``)."""
        return _provided(self._runtime, "runtime")

    @runtime.setter
    def runtime(self, runtime: Serving) -> None:
        self._runtime = runtime

    def take_runtime(self) -> Serving | None:
        """Remove and return the runtime, if one was loaded (at shutdown)."""
        runtime, self._runtime = self._runtime, None
        return runtime


def _provided(value: T | None, name: str) -> T:
    if value is None:
        raise NotStarted(f"bot_data.{name} is used before the application provided it")
    return value


# The context every handler receives: typed chat and bot data. User data stays a
# plain dict (only /zapomnij clears it); the bot's Any is PTB's own annotation.
Context: TypeAlias = CallbackContext[ExtBot[Any], dict[Any, Any], ChatData, BotData]
# ExtBot[None]: no rate limiter (bot.sending owns retries). The job queue is not
# used (no [job-queue] extra); its type is the builder's default.
App: TypeAlias = Application[
    ExtBot[None], Context, dict[Any, Any], ChatData, BotData, JobQueue[ContextTypes.DEFAULT_TYPE]
]
CONTEXT_TYPES = ContextTypes(chat_data=ChatData, bot_data=BotData)
