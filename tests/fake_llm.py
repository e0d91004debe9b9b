"""A fake OpenAI-compatible chat-completions server on 127.0.0.1 with scripted replies.

It serves ``POST /v1/chat/completions`` in the shape of the OpenAI API (and of
Ollama's, vLLM's and llama.cpp's compatible endpoints), records every request,
and answers with whatever ``reply`` returns for it. The server runs its own event
loop in a thread, so synchronous tests, async tests (the real PTB Application) and
subprocesses (scripts/eval.py) can all call it.

The scripted cases in ``CASES`` build their reply from the passages of the
request, so they suit any question: ``good`` copies the first sentence of each of
the first two passages with its [n].
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from index.sentences import split_sentences


@dataclass(frozen=True)
class Scripted:
    """One reply: a chat completion with ``content``, or a raw ``body`` with ``status``, after ``delay`` s."""

    content: str = ""
    status: int = 200
    body: str | None = None
    delay: float = 0.0


Reply = Callable[[dict[str, Any]], Scripted]


def passages_in(request: dict[str, Any]) -> dict[int, str]:
    """The numbered passages of a request's user message ("[n] header" line, then the text)."""
    user = next(m["content"] for m in request["messages"] if m["role"] == "user")
    body = user.split("Fragmenty:", 1)[-1]
    parts = re.split(r"^\[(\d+)\] [^\n]*\n", body, flags=re.MULTILINE)
    return {int(n): text.strip() for n, text in zip(parts[1::2], parts[2::2], strict=True)}


# Unit labels a passage opens with ("Art. 107.", "§ 1.", "2.", "3)"): a model writes prose without them.
_LABELS = re.compile(r"^(?:Art\.\s*\d+[a-z]*\.\s*)?(?:§\s*\d+[a-z]*\.\s*)?(?:\d+[a-z]?[.)]\s*)?")


def first_sentence(passage: str) -> str:
    """The passage's first full sentence of a few words, without its unit label, ending with a stop."""
    candidates = [_LABELS.sub("", s).strip() for s in split_sentences(passage)]
    candidates = [s for s in candidates if len(s.split()) >= 4] or [passage.split("\n")[0]]
    whole = [s for s in candidates if s.endswith(".")]
    return whole[0] if whole else candidates[0].rstrip(":;,") + "."


GOOD_LEAD = "Zgodnie z przepisami: "


def good(request: dict[str, Any]) -> Scripted:
    """A faithful answer: the first sentence of passages 1 and 2, each with its [n], after a short lead."""
    passages = passages_in(request)
    return Scripted(
        GOOD_LEAD + " ".join(f"{first_sentence(passages[n])} [{n}]" for n in sorted(passages)[:2])
    )


def invented_amount(request: dict[str, Any]) -> Scripted:
    """One faithful sentence, then an amount no passage holds."""
    return Scripted(
        f"{GOOD_LEAD}{first_sentence(passages_in(request)[1])} [1] Świadczenie wynosi 98 765 zł [1]."
    )


def only_invented_amount(request: dict[str, Any]) -> Scripted:
    """Nothing but an invented amount."""
    return Scripted("Świadczenie wynosi 98 765 zł miesięcznie [1].")


def missing_passage(request: dict[str, Any]) -> Scripted:
    """A faithful sentence citing a passage that was not given."""
    return Scripted(f"{first_sentence(passages_in(request)[1])} [{len(passages_in(request)) + 7}]")


def no_citations(request: dict[str, Any]) -> Scripted:
    """Faithful words without any [n]."""
    return Scripted(first_sentence(passages_in(request)[1]))


def off_topic(request: dict[str, Any]) -> Scripted:
    """About something else, with citations all the same."""
    return Scripted("Stolicą Francji jest Paryż [1]. Wieża Eiffla ma ponad trzysta metrów wysokości [1].")


def does_not_know(request: dict[str, Any]) -> Scripted:
    """The answer the prompt asks for when the passages do not answer."""
    return Scripted("Nie wiem.")


def slow(request: dict[str, Any]) -> Scripted:
    """A good answer after 3 s (tests set a shorter timeout)."""
    return Scripted(good(request).content, delay=3.0)


def server_error(request: dict[str, Any]) -> Scripted:
    """HTTP 500 with an OpenAI-style error body."""
    return Scripted(
        status=500, body=json.dumps({"error": {"message": "model crashed", "type": "server_error"}})
    )


def malformed_json(request: dict[str, Any]) -> Scripted:
    """HTTP 200 whose body is not JSON."""
    return Scripted(body='{"choices": [{"message": {"content": "Zasiłek')


def not_a_completion(request: dict[str, Any]) -> Scripted:
    """HTTP 200 with JSON that is not a chat completion."""
    return Scripted(body=json.dumps({"result": "ok"}))


# Scripted cases: name → (reply, whether the model's answer is delivered).
CASES: dict[str, tuple[Reply, bool]] = {
    "good": (good, True),
    "invented_amount": (invented_amount, True),  # the faithful sentence is kept
    "only_invented_amount": (only_invented_amount, False),
    "missing_passage": (missing_passage, False),
    "no_citations": (no_citations, False),
    "off_topic": (off_topic, False),
    "does_not_know": (does_not_know, False),
    "slow": (slow, False),
    "server_error": (server_error, False),
    "malformed_json": (malformed_json, False),
    "not_a_completion": (not_a_completion, False),
}


class FakeLlm:
    """``with FakeLlm(reply) as llm:`` serves at ``llm.url``; ``llm.requests`` holds each request body."""

    def __init__(self, reply: Reply = good) -> None:
        self.reply = reply
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-llm", daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL (what POMOCNIK_LLM_URL takes)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeLlm:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # the OS's free port

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        # A reply still sleeping (``slow``) is cancelled, not left pending on a closed loop.
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        scripted = self.reply(body)
        if scripted.delay:
            await asyncio.sleep(scripted.delay)
        if scripted.body is not None:
            return web.Response(status=scripted.status, text=scripted.body, content_type="application/json")
        return web.json_response(_completion(body.get("model", ""), scripted.content), status=scripted.status)


def _completion(model: str, content: str) -> dict[str, Any]:
    """A non-streamed chat completion as the OpenAI API returns it."""
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
