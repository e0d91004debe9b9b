"""What answering produces: an ``Answer`` of cited sentences and numbered ``Citation``s."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Citation:
    """One numbered source of an answer, traceable to its chunk."""

    n: int
    chunk_id: str
    doc_id: str
    title: str
    anchor: str  # "art. 8 ust. 1 pkt 2", "s. 3", "§ Nagłówek" or ""
    status: str  # in_force | upcoming | draft | announced | historical
    status_text: str  # Polish, e.g. "obowiązuje od 1.01.2025", "projekt (UD315), nie obowiązuje"
    published: str | None
    date: str | None  # ISO date of the document, if known
    source_url: str
    passage: str  # the full cited passage (clean text)
    sentences: tuple[int, ...] = ()  # indexes into the chunk's sentences that the answer cites
    highlights: tuple[tuple[int, int], ...] = ()  # their character spans in ``passage``


@dataclass(frozen=True)
class CitedSentence:
    """A sentence taken from a source, with the numbers of the citations that support it."""

    text: str
    sources: tuple[int, ...]


@dataclass(frozen=True)
class AnswerBlock:
    """A group of sentences, optionally under a heading such as "Planowane zmiany"."""

    sentences: tuple[CitedSentence, ...]
    heading: str | None = None


@dataclass(frozen=True)
class Answer:
    """The result of ``bot.answer.answer``; plain data, rendered by console or Telegram."""

    question: str
    answered: bool
    blocks: tuple[AnswerBlock, ...] = ()
    citations: tuple[Citation, ...] = ()
    notice: str | None = None  # refusal text, or a warning such as "projekt to nie prawo"
    suggestions: tuple[str, ...] = ()  # nearest topics when not answered
    confidence: float = 0.0
    # The question as searched: a follow-up ("a dla rodziny?") merged with the previous one.
    query: str = ""
    follow_up: bool = False
    extra: dict[str, object] = field(default_factory=dict)  # scores behind the decision, for logs
    # Further evidence behind "Więcej" (Telegram) / ``--full`` (CLI); its sources are
    # numbered after the body's, in ``citations``.
    more: tuple[AnswerBlock, ...] = ()


@dataclass(frozen=True)
class Conversation:
    """What a chat carries from one question to the next, so a follow-up keeps its topic."""

    history: tuple[str, ...] = ()  # earlier questions as searched, oldest first

    def after(self, answer: Answer) -> Conversation:
        """The conversation once ``answer`` was given.

        Its searched query becomes the topic, so a second follow-up in a row
        ("a kiedy?") still has the subject of the first full question.
        """
        return Conversation((answer.query or answer.question,))
