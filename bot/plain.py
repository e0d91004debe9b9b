"""Plain forms of an ``Answer``: text with [n] markers (console, CLI) and the JSON contract."""

from __future__ import annotations

from bot.answer import NO_ANSWER
from bot.citations import citation_line
from bot.records import Answer, Citation


def shown_citations(result: Answer, full: bool = False) -> list[Citation]:
    """The citations the shown text uses: the body's, plus those of ``more`` when ``full``."""
    blocks = result.blocks + (result.more if full else ())
    used = {n for block in blocks for sentence in block.sentences for n in sentence.sources}
    return [c for c in result.citations if c.n in used]


def answer_to_text(result: Answer, full: bool = False) -> str:
    """Plain text with [n] markers: blocks, headings, notice, then the numbered sources.

    ``full`` adds the further evidence (``Answer.more``) after the body.
    """
    if not result.answered:
        lines = [result.notice or NO_ANSWER]
        if result.suggestions:
            lines.append("Najbliższe tematy w bazie wiedzy:")
            lines.extend(f"• {title}" for title in result.suggestions)
        lines.append("Możesz też sprawdzić /zmiany (zmiany w przepisach) albo /zrodla.")
        return "\n".join(lines)
    parts: list[str] = []
    for block in result.blocks + (result.more if full else ()):
        lines = [block.heading] if block.heading else []
        lines.extend(f"{s.text} {''.join(f'[{n}]' for n in s.sources)}" for s in block.sentences)
        parts.append("\n".join(lines))
    if result.notice:
        parts.append(result.notice)
    parts.append("Źródła:\n" + "\n".join(citation_line(c) for c in shown_citations(result, full)))
    return "\n\n".join(parts)


def answer_to_json(result: Answer, full: bool = False) -> dict[str, object]:
    """``{"answered", "text", "citations": [{"n", "line", "title", "anchor", "status", "date",
    "source_url", "chunk_id", "doc_id", "passage"}]}``; ``status`` is the Polish status text
    and ``line`` the citation line every front end shows."""
    return {
        "answered": result.answered,
        "text": answer_to_text(result, full),
        "citations": [
            {
                "n": c.n,
                "line": citation_line(c),
                "title": c.title,
                "anchor": c.anchor,
                "status": c.status_text,
                "date": c.date,
                "source_url": c.source_url,
                "chunk_id": c.chunk_id,
                "doc_id": c.doc_id,  # bot.evaluation matches expected documents on it
                "passage": c.passage,
            }
            for c in shown_citations(result, full)
        ],
    }
