"""Optional fluent answers from a local OpenAI-compatible model, on top of the extractive answer.

``respond`` (``arespond`` on the bot's event loop) is the one entry point the
front ends call. It makes the extractive answer (``bot.answer.answer``); when a
model is configured (``POMOCNIK_LLM_URL``) and the question was not refused,
``generate`` asks the model to write the answer from the same cited passages. Every sentence the model
writes is checked by ``bot.verify``; only verified sentences are delivered, with
the extractive answer's citations (so the same buttons and sources). When nothing
verified remains, the model says "nie wiem", or the call fails, times out or
returns something malformed, the extractive answer is delivered unchanged.

The CLI, the console and the evaluation wait on a blocking ``httpx.Client``;
the bot awaits an ``httpx.AsyncClient`` while it shows "typing…", so a slow
model holds no worker thread that other users' answers need.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.answer import SearchesPassages, answer
from bot.privacy import mask_pii
from bot.records import Answer, AnswerBlock, Citation, CitedSentence
from bot.settings import Settings
from bot.verify import Checked, Evidence, says_unknown, verify
from index.records import PROPOSED_STATUSES

log = logging.getLogger(__name__)

MAX_SENTENCES = 5  # delivered at most, as the prompt asks
MAX_ANSWER_CHARS = 700  # as the extractive answer: a phone shows the start, "[n]" opens the rest
MAX_PASSAGE_CHARS = 3000  # of each passage in the prompt (and in its verification)
MAX_TOKENS = 600
_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL)

# Why the extractive answer was delivered although a model is configured.
TIMEOUT = "timeout"
HTTP_ERROR = "http-error"
CONNECTION = "connection"
MALFORMED = "malformed"
UNKNOWN = "nie-wiem"
NOTHING_VERIFIED = "nothing-verified"

# The reasons in Polish, for /stats.
FALLBACK_NAMES = {
    TIMEOUT: "przekroczony czas",
    HTTP_ERROR: "błąd serwera modelu",
    CONNECTION: "brak połączenia",
    MALFORMED: "nieczytelna odpowiedź",
    UNKNOWN: "model nie wiedział",
    NOTHING_VERIFIED: "żadne zdanie nie przeszło sprawdzenia",
}

SYSTEM_PROMPT = """\
Jesteś asystentem pracowników socjalnych. Odpowiadasz na pytanie wyłącznie na podstawie \
ponumerowanych fragmentów przepisów i materiałów podanych przez użytkownika.
Zasady:
1. Pisz po polsku.
2. Pierwsze zdanie odpowiada wprost na pytanie.
3. Najwyżej 5 zdań.
4. Każde zdanie kończy się numerem fragmentu, na którym się opiera, np. [1] albo [1][2].
5. Pisz tylko to, co mówią fragmenty. Kwoty, procenty, daty, terminy i numery przepisów \
przepisuj dokładnie tak, jak są we fragmentach. Niczego nie dodawaj z własnej wiedzy.
6. Projekt nazywaj projektem: projekt nie jest obowiązującym prawem. Przepisy, które \
jeszcze nie obowiązują, opisuj jako zmiany planowane.
7. Jeśli fragmenty nie odpowiadają na pytanie, napisz tylko: nie wiem."""


@dataclass(frozen=True)
class GenerationResult:
    """What ``respond``/``generate`` delivered and what happened on the way.

    ``answer`` is the model's verified answer when ``generated``, else the
    extractive one; ``checked`` holds every sentence the model wrote with its
    verdict; ``fallback`` says why the extractive answer was delivered although
    the model was asked (None when it was not asked, or when its answer was used).
    """

    answer: Answer
    attempted: bool = False
    generated: bool = False
    checked: tuple[Checked, ...] = ()
    fallback: str | None = None

    @property
    def sentences(self) -> int:
        """Sentences the model wrote."""
        return len(self.checked)

    @property
    def dropped(self) -> int:
        """Sentences that failed verification."""
        return sum(1 for c in self.checked if not c.verified)


class Writer:
    """A configured model: ``settings`` with ``llm_url`` set, and its HTTP clients.

    ``write`` blocks (CLI, console, evaluation); ``awrite`` awaits on the event
    loop (the bot), so a slow model holds no worker thread while users wait.
    Each client is made on first use; ``close``/``aclose`` release them.
    """

    def __init__(
        self,
        settings: Settings,
        client: httpx.Client | None = None,
        async_client: httpx.AsyncClient | None = None,
    ) -> None:
        if not settings.llm_url:
            raise ValueError("POMOCNIK_LLM_URL is not set")
        self.settings = settings
        self._client = client
        self._async_client = async_client

    def write(self, question: str, extractive: Answer) -> GenerationResult:
        """``generate`` with this writer's settings and client."""
        if self._client is None:
            self._client = httpx.Client(timeout=self.settings.llm_timeout)
        return generate(question, extractive, self.settings, self._client)

    async def awrite(self, question: str, extractive: Answer) -> GenerationResult:
        """``agenerate`` with this writer's settings and async client."""
        if self._async_client is None:
            self._async_client = httpx.AsyncClient(timeout=self.settings.llm_timeout)
        return await agenerate(question, extractive, self.settings, self._async_client)

    def close(self) -> None:
        """Close the blocking client, if one was made."""
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        """Close both clients, if made (the bot, at shutdown)."""
        self.close()
        if self._async_client is not None:
            await self._async_client.aclose()
            self._async_client = None


def make_writer(settings: Settings) -> Writer | None:
    """A ``Writer`` when ``POMOCNIK_LLM_URL`` is set, else None (extractive answers only)."""
    if not settings.llm_url:
        return None
    if not settings.llm_model:
        # Ollama and vLLM reject a request without the model's name: every answer would fall back.
        log.warning(
            "POMOCNIK_LLM_URL is set but POMOCNIK_LLM_MODEL is empty; the server may reject every call"
        )
    log.info("answers are written by the model %r, verified against their sources", settings.llm_model)
    return Writer(settings)


def respond(
    question: str,
    searcher: SearchesPassages,
    *,
    history: Sequence[str] = (),
    today: date | None = None,
    writer: Writer | None = None,
) -> GenerationResult:
    """The answer the CLI, the console and the evaluation deliver: extractive, or written and verified.

    Without a ``writer`` this is exactly ``bot.answer.answer``. ``arespond`` is the same for the bot.
    """
    extractive = answer(question, searcher, history=history, today=today)
    if writer is None:
        return GenerationResult(extractive)
    return writer.write(question, extractive)


async def arespond(
    question: str,
    searcher: SearchesPassages,
    *,
    history: Sequence[str] = (),
    today: date | None = None,
    writer: Writer | None = None,
) -> GenerationResult:
    """``respond`` on an event loop: the search in a worker thread, the model call awaited."""
    extractive = await asyncio.to_thread(answer, question, searcher, history=history, today=today)
    if writer is None:
        return GenerationResult(extractive)
    return await writer.awrite(question, extractive)


def generate(question: str, extractive: Answer, settings: Settings, client: httpx.Client) -> GenerationResult:
    """Ask the model at ``settings.llm_url`` to write the answer from ``extractive``'s passages.

    The refusal gate comes first: an unanswered ``extractive`` is returned
    without calling the model. Otherwise the result is either a new ``Answer``
    of verified sentences (same citations, notice and confidence) or
    ``extractive`` with the reason in ``fallback``.
    """
    request = _request(question, extractive, settings)
    if request is None:
        return GenerationResult(extractive)
    try:
        response = client.post(**request)
    except httpx.HTTPError as error:
        return _failed(extractive, error, settings)
    return _finish(question, extractive, response)


async def agenerate(
    question: str, extractive: Answer, settings: Settings, client: httpx.AsyncClient
) -> GenerationResult:
    """``generate`` awaiting the model; ``settings.llm_timeout`` bounds the whole call."""
    request = _request(question, extractive, settings)
    if request is None:
        return GenerationResult(extractive)
    try:
        # httpx's timeout is per read; a server trickling bytes must not outlast the limit.
        response = await asyncio.wait_for(client.post(**request), timeout=settings.llm_timeout)
    except (httpx.HTTPError, TimeoutError) as error:
        return _failed(extractive, error, settings)
    return _finish(question, extractive, response)


def build_messages(question: str, citations: Sequence[Citation]) -> list[dict[str, str]]:
    """The chat messages: the rules, then the question and the numbered passages with status and date.

    The question goes masked (``bot.privacy.mask_pii``): the model needs no PESEL or phone number.
    """
    parts = [f"Pytanie: {mask_pii(question.strip())}", "", "Fragmenty:"]
    for c in citations:
        where = ", ".join(part for part in (c.title, c.anchor) if part)
        dated = f"; data: {c.date}" if c.date else ""
        parts += [f"[{c.n}] {where} ({c.status_text}{dated})", _passage(c), ""]
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "\n".join(parts).rstrip()},
    ]


def completions_url(base: str) -> str:
    """The chat-completions endpoint of an OpenAI-compatible base URL.

    "http://ollama:11434/v1" → ".../v1/chat/completions"; a bare host gets "/v1";
    a URL already ending in "/chat/completions" is used as it is.
    """
    base = base.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    if not urlsplit(base).path:
        base += "/v1"
    return base + "/chat/completions"


def evidence(citation: Citation) -> Evidence:
    """What a cited passage vouches for: everything the prompt shows of it (text, title,
    anchor, journal reference, status and date), so the model may repeat any of it."""
    return Evidence.of(
        _passage(citation),
        citation.title,
        citation.anchor,
        citation.published or "",
        citation.status_text,
        citation.date or "",
        proposed=citation.status in PROPOSED_STATUSES,
    )


def _passage(citation: Citation) -> str:
    return citation.passage[:MAX_PASSAGE_CHARS]


def _asked(question: str, extractive: Answer) -> str:
    """The question as searched: a follow-up ("a dla rodziny?") with its topic."""
    return extractive.query if extractive.follow_up and extractive.query else question


def _request(question: str, extractive: Answer, settings: Settings) -> dict[str, Any] | None:
    """The ``post`` arguments of the chat-completion call, or None when the model must not be asked.

    The refusal gate runs before the model: a refused question never reaches it.
    """
    if not extractive.answered or not extractive.citations:
        return None
    headers = {}
    if settings.llm_api_key is not None and settings.llm_api_key.get_secret_value():
        headers["Authorization"] = f"Bearer {settings.llm_api_key.get_secret_value()}"
    body = {
        "model": settings.llm_model,
        "messages": build_messages(_asked(question, extractive), extractive.citations),
        "temperature": 0,
        "max_tokens": MAX_TOKENS,
        "stream": False,
    }
    return {
        "url": completions_url(settings.llm_url or ""),
        "json": body,
        "headers": headers,
        "timeout": settings.llm_timeout,
    }


def _failed(extractive: Answer, error: Exception, settings: Settings) -> GenerationResult:
    """The extractive answer after a failed call, logged by kind (no text, no URL with secrets)."""
    if isinstance(error, httpx.TimeoutException | TimeoutError):
        log.warning(
            "language model timed out after %.1f s; extractive answer delivered", settings.llm_timeout
        )
        return GenerationResult(extractive, attempted=True, fallback=TIMEOUT)
    log.warning("language model unreachable (%s); extractive answer delivered", type(error).__name__)
    return GenerationResult(extractive, attempted=True, fallback=CONNECTION)


def _finish(question: str, extractive: Answer, response: httpx.Response) -> GenerationResult:
    """Read the reply, verify it sentence by sentence and compose the delivered answer."""
    reply, failure = _reply_text(response)
    if reply is None:
        return GenerationResult(extractive, attempted=True, fallback=failure)
    if says_unknown(reply):
        log.info("the model did not know the answer; extractive answer delivered")
        return GenerationResult(extractive, attempted=True, fallback=UNKNOWN)
    passages = {c.n: evidence(c) for c in extractive.citations}
    checked = tuple(verify(reply, passages, _asked(question, extractive)))
    for position, sentence in enumerate(checked, start=1):
        if not sentence.verified:
            # The reason only: the sentence may echo the user's words.
            log.info(
                "generated sentence %d of %d dropped: %s %s",
                position,
                len(checked),
                sentence.problem,
                sentence.detail,
            )
    kept = _within_length([c for c in checked if c.verified][:MAX_SENTENCES])
    if not kept:
        log.info("no generated sentence verified; extractive answer delivered")
        return GenerationResult(extractive, attempted=True, checked=checked, fallback=NOTHING_VERIFIED)
    block = AnswerBlock(tuple(CitedSentence(c.text, c.sources) for c in kept))
    written = replace(extractive, blocks=(block,))
    return GenerationResult(written, attempted=True, generated=True, checked=checked)


def _within_length(sentences: list[Checked]) -> list[Checked]:
    """The leading sentences that fit in ``MAX_ANSWER_CHARS`` (the first one always)."""
    kept: list[Checked] = []
    used = 0
    for sentence in sentences:
        used += len(sentence.text) + 1
        if kept and used > MAX_ANSWER_CHARS:
            break
        kept.append(sentence)
    return kept


def _reply_text(response: httpx.Response) -> tuple[str | None, str | None]:
    """The model's reply text, or None and why not (logged without any text)."""
    if response.status_code != 200:
        log.warning("language model answered HTTP %d; extractive answer delivered", response.status_code)
        return None, HTTP_ERROR
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):  # ValueError: not JSON
        log.warning("language model reply is not a chat completion; extractive answer delivered")
        return None, MALFORMED
    if not isinstance(content, str) or not content.strip():
        log.warning("language model reply has no text; extractive answer delivered")
        return None, MALFORMED
    # Reasoning models think aloud first; only what follows is the answer.
    content = _THINKING.sub("", content).strip()
    return (content, None) if content else (None, MALFORMED)
