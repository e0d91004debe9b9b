"""The python-telegram-bot ``Application``: built in one place, run by polling or webhook."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import timedelta
from urllib.parse import urlparse

from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import admin, alerts, handlers
from bot.runtime import RuntimeFactory, load_runtime
from bot.settings import Settings
from bot.state import CONTEXT_TYPES, App
from index.embedder import check_model_files

logger = logging.getLogger(__name__)

# Updates handled at once. Handlers wait on worker threads for the heavy part, so
# this bounds memory and queueing, not CPU use.
CONCURRENT_UPDATES = 64
POLL_TIMEOUT = 30  # seconds a getUpdates long poll stays open


def build_application(settings: Settings, runtime_factory: RuntimeFactory = load_runtime) -> App:
    """The bot's ``Application`` with all handlers; nothing is loaded until it starts.

    ``runtime_factory(settings)`` runs in a worker thread in ``post_init`` and
    returns a ``bot.runtime.Serving`` (the real ``Runtime`` unless testing); its
    errors (``IndexNotBuilt``, ``ModelNotAvailable``) propagate out of ``run``.
    Raises ``ValueError`` when no token is configured.
    """
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    application = (
        ApplicationBuilder()
        .context_types(CONTEXT_TYPES)
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        # No rate limiter and no retries in the HTTP layer: bot.sending is the one
        # owner of retries (429, 5xx, timeouts), see docs/architecture.md.
        .read_timeout(settings.telegram_timeout_seconds)
        .write_timeout(settings.telegram_timeout_seconds)
        .get_updates_read_timeout(settings.telegram_timeout_seconds)
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data.configure(settings, runtime_factory)
    _add_handlers(application)
    return application


async def _post_init(application: App) -> None:
    await handlers.post_init(application)  # loads the runtime admin.post_init watches
    await admin.post_init(application)
    alerts.start(application)


async def _post_shutdown(application: App) -> None:
    await admin.post_shutdown(application)
    await handlers.post_shutdown(application)


def _add_handlers(application: App) -> None:
    new_message = filters.UpdateType.MESSAGE  # edits of old questions are not re-answered
    application.add_handler(TypeHandler(Update, handlers.check_access), group=-1)
    for names, callback in (
        (("start", "help"), handlers.on_help),
        (("zrodla",), handlers.on_sources),
        (("zmiany",), handlers.on_changes),
        (("szukaj",), handlers.on_search),
        (("zapomnij",), admin.on_forget),
        (("subskrybuj",), alerts.on_subscribe),
        (("odsubskrybuj",), alerts.on_unsubscribe),
        (("reindex",), admin.on_reindex),
        (("stats",), admin.on_stats),
    ):
        application.add_handler(CommandHandler(names, callback, filters=new_message))
    application.add_handler(MessageHandler(filters.COMMAND & new_message, handlers.on_unknown_command))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & new_message, handlers.on_text))
    # Patterns match what bot.render issues: "p:<n>:<key>", "f:<+|->:<key>", "m:<key>", key = 8 hex.
    application.add_handler(
        CallbackQueryHandler(handlers.on_passage_button, pattern=r"^p:\d{1,3}:[0-9a-f]{8}$")
    )
    application.add_handler(
        CallbackQueryHandler(handlers.on_feedback_button, pattern=r"^f:[+-]:[0-9a-f]{8}$")
    )
    application.add_handler(CallbackQueryHandler(handlers.on_more_button, pattern=r"^m:[0-9a-f]{8}$"))
    # Registered last: any other button (old, malformed, foreign) still gets an answer.
    application.add_handler(CallbackQueryHandler(handlers.on_stale_button))
    application.add_error_handler(handlers.on_error)


@dataclass(frozen=True)
class WebhookOptions:
    """Arguments of ``Updater.start_webhook`` derived from the settings."""

    listen: str
    port: int
    url_path: str
    webhook_url: str
    secret_token: str


def webhook_options(settings: Settings) -> WebhookOptions | None:
    """Webhook arguments when ``webhook_url`` is set, else None (long polling).

    The local path is the public URL's path, as a reverse proxy usually forwards it.
    Without a configured secret a random one is used, which suits a single replica.
    """
    if not settings.webhook_url:
        return None
    if settings.webhook_secret is not None:
        secret = settings.webhook_secret.get_secret_value()
    else:
        logger.warning("POMOCNIK_WEBHOOK_SECRET not set; using a random one (single replica only)")
        secret = secrets.token_urlsafe(32)
    return WebhookOptions(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        url_path=urlparse(settings.webhook_url).path.lstrip("/"),
        webhook_url=settings.webhook_url,
        secret_token=secret,
    )


def run(settings: Settings) -> None:
    """Run the bot until interrupted: webhook mode if configured, else long polling.

    ``bootstrap_retries=-1``: started while the Bot API is unreachable, the bot
    keeps trying (PTB backs off) instead of exiting; once running, polling backs
    off on errors by itself (1 s growing to 30 s) and resumes.
    """
    # Fail fast on a deleted or damaged model (exit code 2), before waiting for Telegram.
    check_model_files(settings.model_name_or_path)
    application = build_application(settings)
    options = webhook_options(settings)
    if options is None:
        logger.info("starting with long polling")
        application.run_polling(allowed_updates=Update.ALL_TYPES, timeout=POLL_TIMEOUT, bootstrap_retries=-1)
    else:
        logger.info("starting webhook on %s:%s", options.listen, options.port)
        application.run_webhook(**asdict(options), allowed_updates=Update.ALL_TYPES, bootstrap_retries=-1)


@contextlib.asynccontextmanager
async def running(application: App, settings: Settings, *, poll_timeout: float = 1.0) -> AsyncIterator[App]:
    """Run ``application`` inside an already running event loop (tests, load test).

    Does what ``run`` does, minus signal handling: initialise, ``post_init``, start
    the updater (webhook or polling, as ``settings`` say), and the reverse on exit.
    """
    updater = application.updater
    if updater is None:  # build_application always makes one
        raise ValueError("the application has no updater")
    async with application:
        await _post_init(application)
        options = webhook_options(settings)
        if options is None:
            await updater.start_polling(
                poll_interval=0.0, timeout=timedelta(seconds=poll_timeout), allowed_updates=Update.ALL_TYPES
            )
        else:
            await updater.start_webhook(**asdict(options), allowed_updates=Update.ALL_TYPES)
        await application.start()
        try:
            yield application
        finally:
            await updater.stop()
            await application.stop()
            await _post_shutdown(application)
