"""Composition rules: answer first, stems with items, ≤ 700 characters, status order, "Więcej"."""

from __future__ import annotations

from datetime import date

from bot.compose import BODY_LIMIT, HEADING_CURRENT, HEADING_PLANNED, MAX_SUPPORT, compose
from bot.evidence import Candidate, candidates
from bot.plain import answer_to_json, answer_to_text
from bot.records import Answer
from bot.render import answer_buttons, render_more
from index.query import read_query
from index.records import Chunk, DocumentMeta, Hit

TODAY = date(2025, 6, 1)
IN_FORCE = DocumentMeta(
    title="Ustawa o pomocy społecznej",
    kind="statute",
    status="in_force",
    source_url="https://example.org/ups",
)
DRAFT = DocumentMeta(
    title="Projekt UD315", kind="draft", status="draft", source_url="", extra={"draft_id": "UD315"}
)
ART7 = "Art. 7. Pomocy społecznej udziela się osobom i rodzinom w szczególności z powodu:\n" + "\n".join(
    f"{i}) powodu numer {i};" for i in range(1, 16)
)


def chunk(id_: str, text: str, meta: DocumentMeta = IN_FORCE, doc: str = "statutes/ups.md") -> Chunk:
    return Chunk(id=id_, doc_id=doc, anchor="art. 7", text=text, embed_text=text, meta=meta, position=0)


def cands(*chunks: Chunk) -> list[Candidate]:
    hits = [Hit(chunk=c, score=1.0 / r, dense_score=0.9) for r, c in enumerate(chunks, 1)]
    return candidates(hits, TODAY)


def by_text(pool: list[Candidate], start: str) -> Candidate:
    return next(c for c in pool if c.unit.text.startswith(start))


def body(answer: Answer) -> str:
    return answer_to_text(answer).split("\nŹródła:")[0]


def test_an_item_opens_with_its_stem() -> None:
    pool = cands(chunk("a7", ART7))
    item = by_text(pool, "7)")
    result = compose(read_query("czy przemoc to powód"), [item, *pool], TODAY, 0.9, "q")
    first = result.blocks[0].sentences[0].text
    assert first.startswith("Art. 7. Pomocy społecznej") and "7) powodu numer 7;" in first


def test_a_list_question_gets_the_list_even_when_one_item_ranks_first() -> None:
    pool = cands(chunk("a7", ART7))
    item = by_text(pool, "11)")
    listed = body(compose(read_query("jakie są powody pomocy"), [item, *pool], TODAY, 0.9, "q"))
    assert "1) powodu numer 1;" in listed and "2) powodu numer 2;" in listed
    # A question not asking for a list keeps the one item (with its stem).
    one = body(compose(read_query("czy powód numer 11 wystarczy"), [item, *pool], TODAY, 0.9, "q"))
    assert one.startswith("Art. 7.") and one.index("11) powodu numer 11;") < one.index("1) powodu numer 1;")
    assert listed.index("1) powodu numer 1;") < listed.index("2) powodu numer 2;") < listed.index("11)")


def test_a_stem_opens_with_its_items_within_the_limit() -> None:
    pool = cands(chunk("a7", ART7))
    stem = pool[0]
    assert stem.unit.is_stem
    result = compose(read_query("jakie są powody"), [stem, *pool[1:]], TODAY, 0.9, "q")
    text = body(result)
    assert "1) powodu numer 1;" in text and "2) powodu numer 2;" in text
    assert len(text) <= BODY_LIMIT + 20  # + the [n] marks


def test_at_most_two_supporting_units_and_the_rest_behind_more() -> None:
    texts = [f"Zdanie numer {i} mówi o zasiłku stałym i jego kwocie {i}00 zł." for i in range(8)]
    pool = cands(*(chunk(f"c{i}", t, doc=f"d{i}.md") for i, t in enumerate(texts)))
    result = compose(read_query("ile wynosi zasiłek stały"), pool, TODAY, 0.9, "q")
    lines = [s.text for b in result.blocks for s in b.sentences]
    assert len(lines) == 1 + MAX_SUPPORT and lines[0] == texts[0]
    assert result.more and "Więcej" in [
        label for row in answer_buttons(result, "abcd1234") for label, _ in row
    ]
    assert render_more(result)
    # The default text cites only what it shows; --full shows and cites the rest too.
    shown = answer_to_json(result)
    full = answer_to_json(result, full=True)
    assert len(shown["citations"]) == 3 and len(full["citations"]) > 3
    assert texts[5] in full["text"] and texts[5] not in shown["text"]


def test_current_law_first_and_a_change_question_leads_with_the_draft() -> None:
    law = chunk("law", "Zasiłek stały wynosi 1229 zł miesięcznie.")
    plan = chunk("plan", "Projekt podnosi zasiłek stały do 1400 zł.", DRAFT, doc="drafts/ud315.md")
    pool = cands(plan, law)
    plain = compose(read_query("ile wynosi zasiłek stały", today=TODAY), pool, TODAY, 0.9, "q")
    assert plain.blocks[0].heading == HEADING_CURRENT and plain.blocks[1].heading == HEADING_PLANNED
    assert plain.notice and "Projekt" in plain.notice
    change = compose(read_query("co się zmieni w zasiłku stałym", today=TODAY), pool, TODAY, 0.9, "q")
    assert change.blocks[0].heading == HEADING_PLANNED
    # Citations are numbered by first use in the text.
    assert [s.sources[0] for b in change.blocks for s in b.sentences] == [1, 2]
