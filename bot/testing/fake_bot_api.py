"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests of the real Application.

It serves ``POST /bot<token>/<method>`` for the methods the bot uses, answers in
Telegram's JSON shape, records every call, and hands out queued updates through a
long-polling ``getUpdates`` with offset semantics. Tests push updates with the
``*_update`` helpers, await calls with ``wait_for``, and inject failures:

- ``fail_next(method, times, status)``: the next calls fail (429 with
  ``retry_after``, 400 Bad Request, 5xx);
- ``outage(seconds)``: every call fails with 502 until the time is up;
- ``faults = RandomFaults(...)``: each call fails at random (429, 500, a timeout
  that holds the request until the client gives up and is never processed);
- ``strict_html``: ``sendMessage`` with HTML Telegram would not parse is
  rejected with 400, as Telegram does.

A long soak sets ``keep_calls=False`` and ``on_call`` to tally calls without
keeping them in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.testing.html_check import html_problems

BOT_ID = 7_000_000
BOT_USERNAME = "pomocnik_test_bot"
TOKEN = f"{BOT_ID}:TEST-token"

# Parameters PTB sends JSON-encoded inside form data.
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "commands",
        "allowed_updates",
        "entities",
        "link_preview_options",
        "reply_parameters",
        "scope",
    }
)


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class RandomFaults:
    """Failures drawn per call: shares of 429 (with ``retry_after``), 500 and timeouts.

    A timeout holds the request for ``hold`` seconds (longer than the client waits)
    and then drops it unprocessed, so a retry cannot produce a duplicate here; on
    the real Telegram a timed-out send may have been delivered (see docs/operations.md).
    """

    rate_429: float = 0.05
    rate_500: float = 0.02
    rate_timeout: float = 0.01
    retry_after: int = 1
    hold: float = 12.0
    seed: int = 15
    spare: frozenset[str] = frozenset()  # methods never failed at random
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def draw(self, method: str) -> str | None:
        """ "429", "500", "timeout" or None for one call of ``method``."""
        if method in self.spare:
            return None
        roll = self.rng.random()
        for kind, rate in (("429", self.rate_429), ("500", self.rate_500), ("timeout", self.rate_timeout)):
            if roll < rate:
                return kind
            roll -= rate
        return None


class FakeBotApi:
    """The fake server; use ``async with FakeBotApi() as api`` and ``api.base_url``."""

    def __init__(
        self,
        token: str = TOKEN,
        *,
        keep_calls: bool = True,
        on_call: Callable[[Call], None] | None = None,
        strict_html: bool = False,
    ) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.keep_calls = keep_calls
        self.on_call = on_call
        self.strict_html = strict_html
        self.faults: RandomFaults | None = None
        self.outage_until = 0.0  # time.monotonic() before which every call gets 502
        self.outage_methods: frozenset[str] | None = None  # None: every method
        self.outage_calls = 0  # calls refused by outages
        self.webhook: dict[str, Any] | None = None
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._new_update = asyncio.Condition()
        self._new_call = asyncio.Condition()
        self._failures: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
        self._chat_types: dict[int, str] = {}
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0

    # --- lifecycle ---

    async def __aenter__(self) -> FakeBotApi:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])  # the free port the OS chose
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        async with self._new_update:  # end pending long polls now, not at their timeout
            self._closing = True
            self._new_update.notify_all()
        await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """The prefix PTB appends the token to (``Settings.telegram_base_url``)."""
        return f"http://127.0.0.1:{self.port}/bot"

    # --- test controls ---

    def fail_next(self, method: str, times: int, status: int = 429, retry_after: int | None = 1) -> None:
        """Make the next ``times`` calls of ``method`` fail with HTTP ``status``.

        429 carries ``retry_after``; 400 is Telegram's "can't parse entities".
        """
        self._failures[method].extend([(status, retry_after)] * times)

    def outage(self, seconds: float, methods: frozenset[str] | None = None) -> None:
        """Answer every call (of ``methods`` if given) with 502 Bad Gateway for ``seconds``."""
        self.outage_until = time.monotonic() + seconds
        self.outage_methods = methods

    def end_outage(self) -> None:
        """End an outage now."""
        self.outage_until = 0.0

    def delivered(self, chat_id: int | None = None) -> list[Call]:
        """``sendMessage`` calls that were answered with success, oldest first."""
        return [c for c in self.calls_of("sendMessage", chat_id) if c.params.get("_ok")]

    async def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update (an ``update_id`` is assigned) for ``getUpdates``."""
        update = {"update_id": next(self._update_ids), **update}
        for key in ("message", "callback_query"):
            chat = (
                update.get(key, {}).get("message") if key == "callback_query" else update.get(key, {})
            ) or {}
            if "chat" in chat:
                self._chat_types[chat["chat"]["id"]] = chat["chat"]["type"]
        async with self._new_update:
            self._updates.append(update)
            self._new_update.notify_all()
        return update

    def calls_of(self, method: str, chat_id: int | None = None) -> list[Call]:
        """Recorded calls of ``method`` (optionally to one chat), oldest first."""
        return [
            c
            for c in self.calls
            if c.method == method and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    async def wait_for(
        self, predicate: Callable[[Call], bool], count: int = 1, timeout: float = 10.0
    ) -> list[Call]:
        """Wait until ``count`` recorded calls satisfy ``predicate``; returns them."""

        def matching() -> list[Call]:
            return [c for c in self.calls if predicate(c)]

        async with self._new_call:
            await asyncio.wait_for(self._new_call.wait_for(lambda: len(matching()) >= count), timeout)
        return matching()

    async def wait_messages(self, chat_id: int, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Wait for ``count`` delivered ``sendMessage`` calls to ``chat_id``."""
        return await self.wait_for(
            lambda c: (
                c.method == "sendMessage" and c.params.get("chat_id") == chat_id and bool(c.params.get("_ok"))
            ),
            count,
            timeout,
        )

    # --- server ---

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(method, params)
        if time.monotonic() < self.outage_until and (
            self.outage_methods is None or method in self.outage_methods
        ):
            self.outage_calls += 1
            call.params["_failed"] = 502
            await self._record(call)
            return _error(502, "Bad Gateway")
        failures = self._failures.get(method)
        if failures:
            status, retry_after = failures.pop(0)
            return await self._fail(call, status, retry_after)
        drawn = self.faults.draw(method) if self.faults is not None else None
        if drawn == "timeout":
            call.params["_failed"] = "timeout"
            await self._record(call)
            await asyncio.sleep(self.faults.hold if self.faults else 0)
            return _error(504, "Gateway Timeout")  # the client stopped listening long ago
        if drawn is not None:
            retry_after = self.faults.retry_after if self.faults else 1
            return await self._fail(call, int(drawn), retry_after)
        if self.strict_html and method == "sendMessage" and params.get("parse_mode") == "HTML":
            problems = html_problems(str(params.get("text", "")))
            if problems:
                return await self._fail(call, 400, None, f"Bad Request: can't parse entities: {problems[0]}")
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            await self._record(call)
            return _error(404, "Not Found: method not found")
        if method != "getUpdates":  # recorded once answered, so tests see the full poll
            call.params["_ok"] = True
            await self._record(call)
        result = await handler(params)
        return web.json_response({"ok": True, "result": result})

    async def _fail(
        self, call: Call, status: int, retry_after: int | None, description: str | None = None
    ) -> web.Response:
        call.params["_failed"] = status
        await self._record(call)
        if status == 429:
            return _error(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        if status == 400:
            return _error(400, description or "Bad Request: can't parse entities: unsupported start tag")
        return _error(status, "Internal Server Error" if status == 500 else "Bad Gateway")

    async def _record(self, call: Call) -> None:
        if self.on_call is not None:
            self.on_call(call)
        if not self.keep_calls:
            return
        async with self._new_call:
            self.calls.append(call)
            self._new_call.notify_all()

    def _bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Pomocnik", "username": BOT_USERNAME}

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        chat_type = self._chat_types.get(chat_id, "private" if chat_id > 0 else "supergroup")
        message = {
            "message_id": next(self._message_ids),
            "from": self._bot_user(),
            "chat": {"id": chat_id, "type": chat_type},
            "date": int(time.time()),
            "text": params.get("text", ""),
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    # --- Bot API methods (results shaped as Telegram's) ---

    async def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        async with self._new_update:
            # Confirming an offset forgets every earlier update, as Telegram does.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and timeout:
                with contextlib.suppress(TimeoutError):  # a long poll that times out returns []
                    await asyncio.wait_for(
                        self._new_update.wait_for(lambda: bool(self._updates) or self._closing), timeout
                    )
            result = self._updates[:limit]
        await self._record(Call("getUpdates", {**params, "_ok": True, "_returned": len(result)}))
        return result

    async def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params)

    async def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(params)
        message["message_id"] = int(params.get("message_id", message["message_id"]))
        return message

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        return True

    async def _m_sendChatAction(self, params: dict[str, Any]) -> bool:
        return True

    async def _m_setMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    async def _m_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = params
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        url = (self.webhook or {}).get("url", "")
        return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    async def _m_close(self, params: dict[str, Any]) -> bool:
        return True


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        raw: dict[str, Any] = await request.json()
    else:
        raw = dict(await request.post())
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and key in _JSON_PARAMS:
            value = json.loads(value)
        elif isinstance(value, str) and key in ("chat_id", "message_id") and value.lstrip("-").isdigit():
            value = int(value)
        params[key] = value
    return params


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


# --- update builders --------------------------------------------------------------------

_USERS = {"id": 0, "is_bot": False, "first_name": "Ala", "language_code": "pl"}


def user(user_id: int) -> dict[str, Any]:
    """A Telegram User object for a person."""
    return {**_USERS, "id": user_id, "first_name": f"Użytkownik {user_id}"}


def chat(chat_id: int, kind: str = "private") -> dict[str, Any]:
    """A Telegram Chat object."""
    return {"id": chat_id, "type": kind} | ({"title": "Grupa OPS"} if kind != "private" else {})


_incoming_ids = itertools.count(10_000)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def text_update(
    text: str,
    user_id: int,
    chat_id: int | None = None,
    kind: str = "private",
    reply_to_bot: bool = False,
    topic: int | None = None,
) -> dict[str, Any]:
    """A message update; commands and @mentions get their entities as Telegram sends them.

    ``topic`` puts the message in that forum topic of a supergroup.
    """
    entities = []
    if text.startswith("/"):
        entities.append({"type": "bot_command", "offset": 0, "length": _utf16_len(text.split()[0])})
    mention = f"@{BOT_USERNAME}"
    if mention in text:
        offset = _utf16_len(text[: text.index(mention)])
        entities.append({"type": "mention", "offset": offset, "length": len(mention)})
    message: dict[str, Any] = {
        "message_id": next(_incoming_ids),
        "from": user(user_id),
        "chat": chat(chat_id if chat_id is not None else user_id, kind),
        "date": int(time.time()),
        "text": text,
    }
    if entities:
        message["entities"] = entities
    if topic is not None:
        message["chat"]["is_forum"] = True
        message["message_thread_id"] = topic
        message["is_topic_message"] = True
    if reply_to_bot:
        message["reply_to_message"] = {
            "message_id": next(_incoming_ids),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Pomocnik", "username": BOT_USERNAME},
            "chat": message["chat"],
            "date": int(time.time()),
            "text": "Poprzednia odpowiedź",
        }
    return {"message": message}


def callback_update(
    data: str, user_id: int, chat_id: int | None = None, message_id: int = 1
) -> dict[str, Any]:
    """A button press on a bot message carrying ``data``."""
    chat_id = chat_id if chat_id is not None else user_id
    return {
        "callback_query": {
            "id": str(next(_incoming_ids)),
            "from": user(user_id),
            "chat_instance": f"ci-{chat_id}",
            "data": data,
            "message": {
                "message_id": message_id,
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Pomocnik", "username": BOT_USERNAME},
                "chat": chat(chat_id, "private" if chat_id > 0 else "supergroup"),
                "date": int(time.time()),
                "text": "odpowiedź",
            },
        }
    }
