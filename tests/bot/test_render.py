"""Rendering answers as Telegram HTML: escaping, tag safety, splitting, buttons."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import render
from bot.records import Answer, AnswerBlock, Citation, CitedSentence
from bot.testing.html_check import html_problems, visible_text


def citation(n: int, **changes: object) -> Citation:
    fields = dict(
        n=n,
        chunk_id=f"c{n}",
        doc_id="ustawa.md",
        title="Ustawa o pomocy społecznej",
        anchor=f"art. {n}",
        status="in_force",
        status_text="obowiązuje od 1.01.2025",
        published="Dz.U. 2025 poz. 1214",
        date="2025-01-01",
        source_url="https://isap.sejm.gov.pl/isap.nsf/x?a=1&b=2",
        passage=f"Treść art. {n}.",
    )
    fields.update(changes)
    return Citation(**fields)  # type: ignore[arg-type]  # test fields from a loose dict


def make_answer(
    *blocks: AnswerBlock, citations: tuple[Citation, ...] = (), notice: str | None = None
) -> Answer:
    return Answer(question="q", answered=True, blocks=blocks, citations=citations, notice=notice)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_answer_layout_heading_marks_notice_sources():
    answer = make_answer(
        AnswerBlock((CitedSentence("Kryterium wynosi 1010 zł.", (1,)),)),
        AnswerBlock((CitedSentence("Od 2026 r. kwota wzrośnie.", (2, 1)),), heading="Planowane zmiany"),
        citations=(
            citation(1),
            citation(2, status_text="projekt (UD315), nie obowiązuje", source_url="ustawa.md"),
        ),
        notice="Projekt to nie prawo.",
    )
    [message] = render.render_answer(answer)
    assert html_problems(message) == []
    assert "Kryterium wynosi 1010 zł. [1]" in message
    assert "<b>Planowane zmiany</b>" in message
    assert "Od 2026 r. kwota wzrośnie. [2][1]" in message
    assert "<i>Projekt to nie prawo.</i>" in message
    assert "<b>Źródła:</b>" in message
    # An http(s) source is linked, with its query string escaped inside the attribute.
    assert (
        '<a href="https://isap.sejm.gov.pl/isap.nsf/x?a=1&amp;b=2">Ustawa o pomocy społecznej</a>' in message
    )
    line1 = next(line for line in message.splitlines() if line.startswith("[1]"))
    assert visible_text(line1) == (
        "[1] Ustawa o pomocy społecznej, art. 1, Dz.U. 2025 poz. 1214 — obowiązuje od 1.01.2025"
    )
    # A local path is no link.
    line2 = next(line for line in message.splitlines() if line.startswith("[2]"))
    assert "<a" not in line2 and "projekt (UD315), nie obowiązuje" in line2


def test_document_and_user_text_is_escaped():
    evil = '<script>alert("x")</script> & <b>'
    answer = make_answer(
        AnswerBlock((CitedSentence(evil, (1,)),), heading=evil),
        citations=(citation(1, title=evil, anchor="<art>", source_url='https://x.pl/"><b>'),),
        notice=evil,
    )
    for message in render.render_answer(answer):
        assert html_problems(message) == []
        assert "<script>" not in message
    text = visible_text("".join(render.render_answer(answer)))
    assert text.count(evil) == 4  # heading, sentence, notice and source title survive intact


def test_long_answer_splits_at_paragraphs_without_losing_text():
    sentences = [f"Zdanie numer {i} opisuje świadczenie & warunki <{i}>." for i in range(400)]
    blocks = tuple(
        AnswerBlock(tuple(CitedSentence(s, (1,)) for s in sentences[i : i + 20]), heading=f"Część {i}")
        for i in range(0, 400, 20)
    )
    answer = make_answer(*blocks, citations=(citation(1),))
    messages = render.render_answer(answer)
    assert len(messages) > 1
    for message in messages:
        assert html_problems(message) == []
    seen = squash(" ".join(visible_text(m) for m in messages))
    for s in sentences:
        assert s in seen
    # Splits fall between paragraphs: every message after the first starts a paragraph.
    assert all(m.startswith(("<b>Część", "Zdanie", "[1]", "<b>Źródła")) for m in messages[1:])


def test_single_oversized_paragraph_is_cut_with_tags_closed_and_reopened():
    heading = "Bardzo długi nagłówek " * 500  # ~11k chars inside one <b>
    answer = make_answer(AnswerBlock((CitedSentence("x", (1,)),), heading=heading), citations=(citation(1),))
    messages = render.render_answer(answer)
    bold_parts = [m for m in messages if "nagłówek" in m]
    assert all(m.startswith("<b>") for m in bold_parts)
    assert len(bold_parts) >= 3
    for message in messages:
        assert html_problems(message) == []
    seen = "".join(visible_text(m) for m in messages).replace(" ", "").replace("\n", "")
    assert seen.startswith(heading.replace(" ", "") + "x[1]")


def test_unbreakable_word_is_hard_cut():
    word = "&" * 10_000  # escapes to 50k chars
    messages = render.pack([(render.Span(word, "i"),)])
    assert all(html_problems(m) == [] for m in messages)
    assert "".join(visible_text(m) for m in messages) == word


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(st.text(alphabet=st.sampled_from("ab ćż<>&\"'.\n😀"), max_size=300), max_size=8),
    tags=st.lists(st.sampled_from([None, "b", "i"]), min_size=8, max_size=8),
    limit=st.integers(min_value=40, max_value=4096),
)
def test_pack_always_yields_valid_messages_within_limit(texts, tags, limit):
    paragraphs = [
        (render.Span(t, tag),) for t, tag in zip(texts, tags, strict=False)
    ]  # up to 8 texts, 8 tags
    messages = render.pack(paragraphs, limit)
    for message in messages:
        assert render.telegram_length(message) <= limit
        problems = [p for p in html_problems(message) if "UTF-16" not in p]
        assert problems == []
    got = "".join(visible_text(m) for m in messages)
    assert re.sub(r"\s", "", got) == re.sub(r"\s", "", "".join(texts))


def test_buttons_number_each_citation_and_fit_callback_limit():
    answer = make_answer(
        AnswerBlock(tuple(CitedSentence("a", (n,)) for n in range(1, 11))),
        citations=tuple(citation(n) for n in range(1, 11)),
    )
    rows = render.answer_buttons(answer, "0123abcd")
    labels = [label for row in rows for label, _ in row]
    assert labels == [f"[{n}]" for n in range(1, 11)] + ["👍", "👎"]
    assert all(len(row) <= render.BUTTONS_PER_ROW for row in rows)
    data = [d for row in rows for _, d in row]
    assert data[0] == "p:1:0123abcd" and data[-2:] == ["f:+:0123abcd", "f:-:0123abcd"]
    assert all(len(d.encode()) <= 64 for d in data)


def test_callback_data_over_64_bytes_is_refused():
    try:
        render.passage_data(1, "k" * 70)
    except ValueError as error:
        assert "64" in str(error)
    else:
        raise AssertionError("expected ValueError")


def test_passage_is_escaped_and_split():
    passage = "\n\n".join(f"{i}) Akapit <{i}> & dalej " + "słowo " * 200 for i in range(10))
    messages = render.render_passage(citation(3, passage=passage))
    assert len(messages) > 1
    assert all(html_problems(m) == [] for m in messages)
    assert messages[0].startswith("[3] <a href=")
    assert "<3> & dalej" in visible_text("".join(messages))


def test_hits_show_title_anchor_status_and_escaped_snippet():
    hit = render.HitView("Ustawa <x>", "art. 8", "obowiązuje", render.snippet("a & b " * 200, 50), "dense #1")
    [message] = render.render_hits("zasiłek <stały>", [hit])
    assert html_problems(message) == []
    assert "<i>zasiłek &lt;stały&gt;</i>" in message
    assert "1. <b>Ustawa &lt;x&gt;</b> — art. 8 — obowiązuje (dense #1)" in message
    assert visible_text(message).rstrip().endswith("…")
    assert "Brak fragmentów" in render.render_hits("xyz", [])[0]


def test_unanswered_answer_shows_notice_and_suggestions():
    answer = Answer(
        question="q",
        answered=False,
        notice="Nie znalazłem wiarygodnej odpowiedzi.",
        suggestions=("zasiłek stały", "kryterium <dochodowe>"),
    )
    [message] = render.render_answer(answer)
    assert html_problems(message) == []
    assert "<i>Nie znalazłem wiarygodnej odpowiedzi.</i>" in message
    assert "• kryterium &lt;dochodowe&gt;" in message


def test_passage_view_bolds_the_cited_sentences_and_links_the_source() -> None:
    passage = "Wniosek składa się w ośrodku.\n\nOpłata wynosi 17 zł <za stronę>. Płaci się z góry."
    start = passage.index("Opłata")
    cited = citation(1, passage=passage, anchor="s. 2", highlights=((start, passage.index(" Płaci")),))
    (message,) = render.render_passage(cited)
    assert not html_problems(message)
    assert "<b>Opłata wynosi 17 zł &lt;za stronę&gt;.</b> Płaci się z góry." in message
    assert message.count("<b>") == 1 and "</a>, s. 2, " in message
    assert message.endswith(
        'Źródło: <a href="https://isap.sejm.gov.pl/isap.nsf/x?a=1&amp;b=2">'
        "https://isap.sejm.gov.pl/isap.nsf/x?a=1&amp;b=2</a>"
    )
    assert "Źródło:" not in render.render_passage(citation(2, source_url="knowledge/a.md"))[0]
