"""Optional fluent answers from a local OpenAI-compatible model, on top of the extractive answer.

``respond`` is the one entry point the front ends call: it makes the extractive
answer (``bot.answer.answer``), and when a model is configured
(``POMOCNIK_LLM_URL``) and the question was not refused, ``generate`` asks the
model to write the answer from the same cited passages. Every sentence the model
writes is checked by ``bot.verify``; only verified sentences are delivered, with
the extractive answer's citations (so the same buttons and sources). When nothing
verified remains, the model says "nie wiem", or the call fails, times out or
returns something malformed, the extractive answer is delivered unchanged.

The call is synchronous (``httpx.Client``): the bot runs answering in a worker
thread while it shows "typing…", the CLI and the evaluation just wait.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlsplit

import httpx

from bot.answer import SearchesPassages, answer
from bot.records import Answer, AnswerBlock, Citation, CitedSentence
from bot.settings import Settings
from bot.verify import Checked, Evidence, says_unknown, verify

log = logging.getLogger(__name__)

MAX_SENTENCES = 5  # delivered at most, as the prompt asks
MAX_PASSAGE_CHARS = 3000  # of each passage in the prompt (and in its verification)
MAX_TOKENS = 600

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
    """A configured model: ``settings`` with ``llm_url`` set and one reusable HTTP client."""

    def __init__(self, settings: Settings, client: httpx.Client | None = None) -> None:
        if not settings.llm_url:
            raise ValueError("POMOCNIK_LLM_URL is not set")
        self.settings = settings
        self.client = client or httpx.Client(timeout=settings.llm_timeout)
        self._owns_client = client is None

    def __call__(self, question: str, extractive: Answer) -> GenerationResult:
        return generate(question, extractive, self.settings, self.client)

    def close(self) -> None:
        """Close the HTTP client if this writer opened it."""
        if self._owns_client:
            self.client.close()


def make_writer(settings: Settings) -> Writer | None:
    """A ``Writer`` when ``POMOCNIK_LLM_URL`` is set, else None (extractive answers only)."""
    if not settings.llm_url:
        return None
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
    """The answer every front end delivers: extractive, or written by the model and verified.

    Without a ``writer`` this is exactly ``bot.answer.answer``.
    """
    extractive = answer(question, searcher, history=history, today=today)
    if writer is None:
        return GenerationResult(extractive)
    return writer(question, extractive)


def generate(question: str, extractive: Answer, settings: Settings, client: httpx.Client) -> GenerationResult:
    """Ask the model at ``settings.llm_url`` to write the answer from ``extractive``'s passages.

    The refusal gate comes first: an unanswered ``extractive`` is returned
    without calling the model. Otherwise the result is either a new ``Answer``
    of verified sentences (same citations, notice and confidence) or
    ``extractive`` with the reason in ``fallback``.
    """
    if not extractive.answered or not extractive.citations:
        return GenerationResult(extractive)
    asked = extractive.query if extractive.follow_up and extractive.query else question
    passages = {c.n: evidence(c) for c in extractive.citations}
    reply, failure = _complete(settings, client, build_messages(asked, extractive.citations))
    if reply is None:
        return GenerationResult(extractive, attempted=True, fallback=failure)
    if says_unknown(reply):
        log.info("the model did not know the answer; extractive answer delivered")
        return GenerationResult(extractive, attempted=True, fallback=UNKNOWN)
    checked = tuple(verify(reply, passages, asked))
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
    kept = [c for c in checked if c.verified][:MAX_SENTENCES]
    if not kept:
        log.info("no generated sentence verified; extractive answer delivered")
        return GenerationResult(extractive, attempted=True, checked=checked, fallback=NOTHING_VERIFIED)
    block = AnswerBlock(tuple(CitedSentence(c.text, c.sources) for c in kept))
    written = replace(extractive, blocks=(block,), extra={**extractive.extra, "generated": True})
    return GenerationResult(written, attempted=True, generated=True, checked=checked)


def build_messages(question: str, citations: Sequence[Citation]) -> list[dict[str, str]]:
    """The chat messages: the rules, then the question and the numbered passages with status and date."""
    parts = [f"Pytanie: {question.strip()}", "", "Fragmenty:"]
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
    )


def _passage(citation: Citation) -> str:
    return citation.passage[:MAX_PASSAGE_CHARS]


def _complete(
    settings: Settings, client: httpx.Client, messages: list[dict[str, str]]
) -> tuple[str | None, str | None]:
    """The model's reply text, or None and why not (logged without any text)."""
    headers = {}
    if settings.llm_api_key is not None and settings.llm_api_key.get_secret_value():
        headers["Authorization"] = f"Bearer {settings.llm_api_key.get_secret_value()}"
    body = {
        "model": settings.llm_model,
        "messages": messages,
        "temperature": 0,
        "max_tokens": MAX_TOKENS,
        "stream": False,
    }
    url = completions_url(settings.llm_url or "")
    try:
        response = client.post(url, json=body, headers=headers, timeout=settings.llm_timeout)
    except httpx.TimeoutException:
        log.warning(
            "language model timed out after %.1f s; extractive answer delivered", settings.llm_timeout
        )
        return None, TIMEOUT
    except httpx.HTTPError as error:
        log.warning("language model unreachable (%s); extractive answer delivered", type(error).__name__)
        return None, CONNECTION
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
    return content, None
