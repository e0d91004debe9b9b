"""Telegram HTML for answers, passages and search hits: escaped, tag-safe, split ≤ 4096.

Everything here is pure. Text is built from ``Span``s (plain text plus at most one
tag), so every tag opens and closes inside one span: splitting a message between
spans, or splitting one span's plain text and wrapping each part again, can never
leave a tag open. Buttons are returned as plain ``(label, callback_data)`` rows;
the handlers turn them into ``InlineKeyboardMarkup``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlparse

from telegram.constants import MessageLimit

from bot.citations import citation_line
from bot.records import Answer, AnswerBlock, Citation

MAX_MESSAGE_LENGTH: int = MessageLimit.MAX_TEXT_LENGTH  # 4096
MAX_CALLBACK_BYTES = 64  # Telegram's limit on callback_data
BUTTONS_PER_ROW = 8
PARAGRAPH_BREAK = "\n\n"

ButtonRows = list[list[tuple[str, str]]]


@dataclass(frozen=True)
class Span:
    """Plain text, optionally wrapped in one Telegram HTML tag (``a`` needs ``href``)."""

    text: str
    tag: str | None = None
    href: str | None = None

    def render(self, text: str | None = None) -> str:
        """The span (or ``text`` in its place) as escaped HTML."""
        body = html.escape(self.text if text is None else text, quote=False)
        if self.tag is None:
            return body
        if self.tag == "a":
            return f'<a href="{html.escape(self.href or "", quote=True)}">{body}</a>'
        return f"<{self.tag}>{body}</{self.tag}>"


Paragraph = tuple[Span, ...]


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units); never less than ``len(text)``."""
    return len(text.encode("utf-16-le")) // 2


def pack(paragraphs: Iterable[Paragraph], limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Join paragraphs into as few messages as fit ``limit``, breaking only between them.

    A paragraph longer than ``limit`` on its own is cut between spans, then inside a
    span at sentence and word boundaries, each part wrapped in the span's tag again.
    """
    messages: list[str] = []
    current = ""
    for paragraph in paragraphs:
        for part in _fit(paragraph, limit):
            candidate = f"{current}{PARAGRAPH_BREAK}{part}" if current else part
            if telegram_length(candidate) <= limit:
                current = candidate
            else:
                messages.append(current)
                current = part
    if current:
        messages.append(current)
    return messages


def _fit(paragraph: Paragraph, limit: int) -> list[str]:
    """Rendered parts of one paragraph, each within ``limit``."""
    whole = "".join(span.render() for span in paragraph)
    if not whole.strip():
        return []
    if telegram_length(whole) <= limit:
        return [whole]
    parts: list[str] = []
    current = ""
    for span in paragraph:
        for piece in _split_span(span, limit):
            if telegram_length(current + piece) <= limit:
                current += piece
            else:
                if current.strip():
                    parts.append(current.strip())
                current = piece
    if current.strip():
        parts.append(current.strip())
    return parts


def _split_span(span: Span, limit: int) -> list[str]:
    """The span rendered whole, or its text cut into rendered pieces within ``limit``."""
    rendered = span.render()
    if telegram_length(rendered) <= limit:
        return [rendered]
    budget = max(1, limit - telegram_length(span.render("")))
    return [span.render(text) for text in _cut(span.text, budget)]


def _escaped_length(text: str) -> int:
    return telegram_length(html.escape(text, quote=False))


def _cut(text: str, budget: int) -> list[str]:
    """``text`` in pieces whose escaped length fits ``budget``: at sentences, else words, else hard."""
    pieces: list[str] = []
    current = ""
    for sentence in re.split(r"(?<=[.!?;:]\s)", text):
        units = [sentence] if _escaped_length(sentence) <= budget else re.findall(r"\S+\s*|\s+", sentence)
        for unit in units:
            if _escaped_length(current + unit) <= budget:
                current += unit
                continue
            if current:
                pieces.append(current)
            current = unit
            # A single word longer than the budget (a URL, a table row) is cut hard.
            while _escaped_length(current) > budget:
                cut = _hard_cut(current, budget)
                pieces.append(current[:cut])
                current = current[cut:]
    if current:
        pieces.append(current)
    return pieces


def _hard_cut(text: str, budget: int) -> int:
    """The longest prefix length of ``text`` whose escaped form fits ``budget`` (at least 1)."""
    low, high = 1, len(text)  # escaped length grows with the prefix, so bisect
    while low < high:
        middle = (low + high + 1) // 2
        if _escaped_length(text[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


# --- answers --------------------------------------------------------------------------


def is_http_url(url: str | None) -> bool:
    """True for an absolute http(s) URL, the only kind worth a link."""
    if not url:
        return False
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def source_line(citation: Citation) -> Paragraph:
    """``bot.citations.citation_line`` as HTML spans, the title linked when it has a URL.

    The words are exactly those of the one citation line; this only escapes them
    and wraps the title (which the line starts with, after "[n] ") in a link.
    """
    line = citation_line(citation)
    head = f"[{citation.n}] "
    title_end = len(head) + len(citation.title)
    if not is_http_url(citation.source_url) or line[len(head) : title_end] != citation.title:
        return (Span(line),)
    return (Span(head), Span(citation.title, "a", citation.source_url), Span(line[title_end:]))


MORE_LABEL = "Więcej"


def _used(blocks: Sequence[AnswerBlock]) -> set[int]:
    return {n for block in blocks for sentence in block.sentences for n in sentence.sources}


def answer_paragraphs(answer: Answer) -> list[Paragraph]:
    """The answer as paragraphs: blocks, notice, suggestions, then the sources the body cites."""
    paragraphs = _block_paragraphs(answer.blocks)
    if answer.notice:
        paragraphs.append((Span(answer.notice, "i"),))
    if answer.suggestions:
        paragraphs.append(_titled_list("Najbliższe tematy:", [(Span(f"• {s}"),) for s in answer.suggestions]))
    used = _used(answer.blocks)
    cited = [c for c in answer.citations if c.n in used]
    if cited:
        paragraphs.append(_titled_list("Źródła:", [source_line(c) for c in cited]))
    return paragraphs


def more_paragraphs(answer: Answer) -> list[Paragraph]:
    """The further evidence behind "Więcej", with the sources it cites."""
    paragraphs = _block_paragraphs(answer.more)
    used = _used(answer.more)
    cited = [c for c in answer.citations if c.n in used]
    if cited:
        paragraphs.append(_titled_list("Źródła:", [source_line(c) for c in cited]))
    return paragraphs


def render_more(answer: Answer, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """The further evidence as HTML messages (empty when there is none)."""
    return pack(more_paragraphs(answer), limit) if answer.more else []


def _block_paragraphs(blocks: Sequence[AnswerBlock]) -> list[Paragraph]:
    paragraphs: list[Paragraph] = []
    for block in blocks:
        if block.heading:
            paragraphs.append((Span(block.heading, "b"),))
        spans: list[Span] = []
        for sentence in block.sentences:
            marks = "".join(f"[{n}]" for n in sentence.sources)
            if spans:
                spans.append(Span(" "))
            spans.append(Span(f"{sentence.text} {marks}".strip()))
        if spans:
            paragraphs.append(tuple(spans))
    return paragraphs


def _titled_list(title: str, lines: Sequence[Paragraph]) -> Paragraph:
    """A bold title and one line per item, as one paragraph (still splittable between lines)."""
    spans: list[Span] = [Span(title, "b")]
    for line in lines:
        spans.append(Span("\n"))
        spans.extend(line)
    return tuple(spans)


def render_answer(answer: Answer, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """An answer as one or more HTML messages, each within ``limit``."""
    messages = pack(answer_paragraphs(answer), limit)
    return messages or [html.escape("Nie znalazłem odpowiedzi.", quote=False)]


def answer_buttons(answer: Answer, key: str) -> ButtonRows:
    """Rows of ``[n]`` passage buttons, then 👍 / 👎, with callback data ≤ 64 bytes.

    ``p:<n>:<key>`` shows passage ``n``; ``m:<key>`` ("Więcej") the further evidence;
    ``f:+:<key>`` and ``f:-:<key>`` rate the answer.
    """
    used = _used(answer.blocks)
    numbers = [c.n for c in answer.citations if c.n in used]
    rows: ButtonRows = [
        [(f"[{n}]", passage_data(n, key)) for n in numbers[i : i + BUTTONS_PER_ROW]]
        for i in range(0, len(numbers), BUTTONS_PER_ROW)
    ]
    if answer.more:
        rows.append([(MORE_LABEL, more_data(key))])
    rows.append([("👍", feedback_data("+", key)), ("👎", feedback_data("-", key))])
    return rows


def more_data(key: str) -> str:
    """Callback data of the "Więcej" button."""
    return _checked(f"m:{key}")


def passage_data(n: int, key: str) -> str:
    """Callback data of a passage button."""
    return _checked(f"p:{n}:{key}")


def feedback_data(rating: str, key: str) -> str:
    """Callback data of a feedback button (``rating`` is ``+`` or ``-``)."""
    return _checked(f"f:{rating}:{key}")


def _checked(data: str) -> str:
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback_data longer than {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def render_passage(citation: Citation, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """The full cited passage under its citation line, the cited sentences in bold.

    The citation line carries the anchor (for PDFs with the page: "s. 2"); the
    source link closes the passage when there is one.
    """
    paragraphs: list[Paragraph] = [source_line(citation)]
    text = citation.passage
    for part in re.finditer(r"\S(?:.*?\S)?(?=\n\s*\n|\s*\Z)", text, re.DOTALL):
        paragraphs.append(_highlighted(text, part.start(), part.end(), citation.highlights))
    if is_http_url(citation.source_url):
        paragraphs.append((Span("Źródło: "), Span(citation.source_url, "a", citation.source_url)))
    return pack(paragraphs, limit)


def _highlighted(text: str, start: int, end: int, highlights: Sequence[tuple[int, int]]) -> Paragraph:
    """``text[start:end]`` as spans, the parts inside ``highlights`` bold."""
    spans: list[Span] = []
    position = start
    for low, high in sorted(highlights):
        low, high = max(low, position), min(high, end)
        if low >= high:
            continue
        if low > position:
            spans.append(Span(text[position:low]))
        spans.append(Span(text[low:high], "b"))
        position = high
    if position < end:
        spans.append(Span(text[position:end]))
    return tuple(spans)


# --- plain-text replies ---------------------------------------------------------------


def render_plain(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Plain text (help, catalog lists) escaped, and split at its blank lines when long."""
    return pack(((Span(part.strip("\n")),) for part in re.split(r"\n\s*\n", text)), limit)


@dataclass(frozen=True)
class HitView:
    """What ``/szukaj`` shows of one hit (built by the handler, so this stays pure)."""

    title: str
    anchor: str
    status_text: str
    snippet: str
    why: str = ""


def render_hits(query: str, hits: Sequence[HitView], limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Raw search hits: numbered title, anchor, status and an escaped snippet."""
    if not hits:
        return pack([(Span("Brak fragmentów dla frazy: "), Span(query, "i"))], limit)
    paragraphs: list[Paragraph] = [(Span("Fragmenty dla frazy: "), Span(query, "i"))]
    for i, hit in enumerate(hits, start=1):
        head = " — ".join(part for part in (hit.anchor, hit.status_text) if part)
        spans = [Span(f"{i}. "), Span(hit.title, "b")]
        if head:
            spans.append(Span(f" — {head}"))
        if hit.why:
            spans.append(Span(f" ({hit.why})"))
        spans.append(Span("\n"))
        spans.append(Span(hit.snippet))
        paragraphs.append(tuple(spans))
    return pack(paragraphs, limit)


def snippet(text: str, length: int = 300) -> str:
    """The first ``length`` characters of ``text``, cut at a word, with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= length:
        return flat
    cut = flat.rfind(" ", 0, length)
    return flat[: cut if cut > length // 2 else length].rstrip() + " …"
