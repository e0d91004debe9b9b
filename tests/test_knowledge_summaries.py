"""Checks of the hand-written summaries and change notes in knowledge/ and their dev questions.

The bot quotes these files sentence by sentence, so a wrong amount, date or act
number here becomes a wrong answer. The tests therefore check, besides the
format the chunker relies on, that every amount, date and "Dz.U." reference in
the files can be found in the shared source material (or is listed below as a
derived value with its arithmetic).
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.evaluation import fold, load_dev_questions
from index.legal_units import parse_unit_refs
from index.metadata import effective_status, parse_meta
from index.periods import dates_in
from tests.test_knowledge_dates import UNDATED_PENDING

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
SUMMARIES = sorted((KNOWLEDGE / "summaries").glob("*.md"))
CHANGES = sorted((KNOWLEDGE / "changes").glob("*.md"))
DOCUMENTS = SUMMARIES + CHANGES
DEV_DIR = ROOT / "tests" / "data" / "dev_questions"
DEV_FILE = DEV_DIR / "summaries_changes.jsonl"
OFFTOPIC_FILE = DEV_DIR / "offtopic.jsonl"
SHARED = ROOT.parent / "shared"
# law/ and docs/ hold the facts; eval/ (benchmark questions) is large and irrelevant here.
SOURCE_FILES = [
    *sorted((SHARED / "sources" / "law").glob("*.json*")),
    *sorted((SHARED / "sources" / "docs").glob("*.json*")),
    *sorted((SHARED / "seeds").glob("*.txt")),
]
# The table of amounts and dates names a public source for every row and event,
# so facts found since the shared sources were collected count as sourced too.
FACTS_TABLE = KNOWLEDGE / "facts" / "amounts.yaml"

TODAY = date(2026, 11, 23)  # the project's reference date for statuses (knowledge spec)
MIN_SECTION_WORDS = 40
MAX_SECTION_WORDS = 350
CHANGE_KINDS = {"amendment", "regulation", "draft", "news"}
NOT_LAW = "nie jest obowiązującym prawem"

# Values the documents compute from sourced ones; each must stay explainable.
DERIVED_AMOUNTS = {
    "3292": "4 × 823 zł (kryterium rodziny czteroosobowej od 2025 r.)",
    "101": "10% z 1010 zł (art. 106 ust. 3a u.p.s.)",
    "82,30": "10% z 823 zł (art. 106 ust. 3a u.p.s.)",
    "1313": "130% z 1010 zł (art. 37 u.p.s.)",
    "505": "50% z 1010 zł (art. 38 u.p.s.)",
}
DERIVED_DATES = {  # last day of a period = the day before the next sourced start date
    date(2012, 9, 30),
    date(2015, 9, 30),
    date(2018, 9, 30),
    date(2021, 12, 31),
    date(2024, 12, 31),
}

_AMOUNT = re.compile(r"(\d[\d ]*(?:,\d+)?) zł")
_DZU = re.compile(r"Dz\.\s*U\.\s*(?:z\s*)?(\d{4})\s*(?:r\.)?\s*,?\s*(?:nr\s*\d+\s*)?poz\.\s*(\d+)")
_DZU_ELI = re.compile(r"DZU\.(\d{4})\.\d+\.0*(\d+)")
_YEAR = re.compile(r"\b(19|20)\d{2}\b")


def split_document(path: Path) -> tuple[dict, str]:
    """The YAML front matter (as a dict) and the Markdown body of a knowledge file."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{path.name}: no front matter"
    _, raw_meta, body = text.split("---\n", 2)
    return yaml.safe_load(raw_meta), body


def sections(body: str) -> list[tuple[str, str]]:
    """(heading, text) for every "## " section; text before the first heading gets heading ""."""
    result: list[tuple[str, list[str]]] = [("", [])]
    for line in body.splitlines():
        if line.startswith("## "):
            result.append((line[3:].strip(), []))
        else:
            result[-1][1].append(line)
    return [
        (heading, "\n".join(lines).strip()) for heading, lines in result if heading or "".join(lines).strip()
    ]


def _dates_in(text: str) -> set[date]:
    return dates_in(text)


def _dz_u_in(text: str) -> set[tuple[str, str]]:
    return set(_DZU.findall(text)) | set(_DZU_ELI.findall(text))


@pytest.fixture(scope="module")
def source_text() -> str:
    """All shared source material as one string (JSON escapes decoded)."""
    if not SOURCE_FILES:
        pytest.skip(f"shared sources not available at {SHARED}")
    parts = [FACTS_TABLE.read_text(encoding="utf-8")]
    for path in SOURCE_FILES:
        raw = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            parts.extend(
                json.dumps(json.loads(line), ensure_ascii=False) for line in raw.splitlines() if line.strip()
            )
        else:
            parts.append(raw)
    return "\n".join(parts).replace("\\n", "\n")


@pytest.fixture(scope="module")
def source_numbers(source_text: str) -> set[str]:
    """Every number in the sources, with digit-group spaces removed and "2 tys." as 2000."""
    text = re.sub(r"(?<=\d)[ \u00a0\u202f](?=\d{3}\b)", "", source_text)
    numbers = set(re.findall(r"\d+(?:,\d+)?", text))
    numbers |= {str(int(n) * 1000) for n in re.findall(r"\b(\d+) tys\.", text)}
    return numbers


@pytest.fixture(scope="module")
def source_dates(source_text: str) -> set[date]:
    """Every date written in the sources (ISO, dotted or Polish month names)."""
    return _dates_in(source_text)


@pytest.fixture(scope="module")
def source_journal_refs(source_text: str) -> set[tuple[str, str]]:
    """Every (year, position) Dz.U. reference in the sources."""
    return _dz_u_in(source_text)


def test_knowledge_folders_hold_the_documents():
    assert len(SUMMARIES) >= 15 and len(CHANGES) >= 10


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_front_matter_is_valid_and_status_matches_dates(path: Path):
    if f"{path.parent.name}/{path.name}" in UNDATED_PENDING:
        pytest.xfail("no stored source dates this document yet (see tests/test_knowledge_dates.py)")
    raw, body = split_document(path)
    meta = parse_meta(raw, path)
    assert meta.language == "pl"
    if path.parent.name == "summaries":
        assert meta.kind == "statute_summary"
        assert "Dz.U." in meta.extra.get("version", ""), "a summary states its legal version"
    else:
        assert meta.kind in CHANGE_KINDS
    if meta.kind == "draft":
        assert meta.status == "draft"
        assert "Projekt nie jest obowiązującym prawem." in body
    if meta.status == "announced":
        assert NOT_LAW in body
    # The declared status must be what the index will compute today, or the bot
    # would show a different status than the author meant.
    assert effective_status(meta, TODAY) == meta.status


def test_ud315_draft_carries_its_id():
    raw, _ = split_document(KNOWLEDGE / "changes" / "projekt-ud315-reforma-pomocy-spolecznej.md")
    assert raw["draft_id"] == "UD315" and raw["kind"] == "draft"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sections_are_chunk_sized_and_anchored_by_heading(path: Path):
    _, body = split_document(path)
    parts = sections(body)
    headings = [heading for heading, _ in parts]
    assert "" not in headings, "text before the first heading would get no anchor"
    assert len(headings) == len(set(headings)), "duplicate headings give ambiguous anchors"
    for heading, text in parts:
        words = len(text.split())
        assert MIN_SECTION_WORDS <= words <= MAX_SECTION_WORDS, f"§ {heading}: {words} words"
        # A heading naming a unit would turn the anchor into "art. …" instead of "§ heading".
        assert not parse_unit_refs(heading), f"§ {heading} names a legal unit"


@pytest.mark.parametrize("path", [p for p in SUMMARIES], ids=lambda p: p.name)
def test_current_summaries_state_the_legal_version_in_the_text(path: Path):
    raw, body = split_document(path)
    if raw["status"] == "in_force":
        assert "Stan prawny" in body


@pytest.mark.parametrize("path", CHANGES, ids=lambda p: p.name)
def test_change_documents_open_with_a_dated_summary(path: Path):
    _, body = split_document(path)
    heading, text = sections(body)[0]
    assert heading.startswith("W skrócie")
    first_sentence = re.split(r"(?<=[a-ząęóźżćńłś)\]”])\.\s", text, maxsplit=1)[0]
    assert _YEAR.search(first_sentence), f"first sentence names no year: {first_sentence[:80]}"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_amounts_come_from_the_sources(path: Path, source_numbers: set[str]):
    text = path.read_text(encoding="utf-8")
    amounts = {re.sub(r"\s", "", a) for a in _AMOUNT.findall(text)}
    unknown = {a for a in amounts if a not in source_numbers and a not in DERIVED_AMOUNTS}
    assert not unknown, f"amounts not found in shared sources: {sorted(unknown)}"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_dates_come_from_the_sources(path: Path, source_dates: set[date]):
    raw, body = split_document(path)
    known = source_dates | DERIVED_DATES
    used = _dates_in(body) | {value for value in raw.values() if isinstance(value, date)}
    unknown = sorted(d.isoformat() for d in used - known)
    assert not unknown, f"dates not found in shared sources: {unknown}"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_journal_references_come_from_the_sources(path: Path, source_journal_refs: set[tuple[str, str]]):
    used = _dz_u_in(path.read_text(encoding="utf-8"))
    unknown = sorted(f"Dz.U. {y} poz. {p}" for y, p in used - source_journal_refs)
    assert not unknown, f"Dz.U. references not found in shared sources: {unknown}"


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


DEV_QUESTIONS = _jsonl(DEV_FILE)
# Per-topic question files (topics_family.jsonl, …) point into summaries by "§ Heading" or,
# for a statute without articles (a regulation's "§ 3."), into the whole document (anchor null).
TOPIC_QUESTIONS = [q for path in sorted(DEV_DIR.glob("topics_*.jsonl")) for q in _jsonl(path)]


def test_dev_questions_load_and_cover_the_topics():
    ids = {q.id for q in load_dev_questions(DEV_DIR)}  # also rejects duplicate ids across files
    assert {q["id"] for q in DEV_QUESTIONS} <= ids
    assert len(DEV_QUESTIONS) >= 60
    topics = {q["topic"] for q in DEV_QUESTIONS}
    assert {
        "kryteria",
        "kryteria-historia",
        "zasilek-staly",
        "procedura",
        "odwolanie",
        "piecza",
        "cus",
        "ekonomia-spoleczna",
        "pracownicy",
        "zmiany",
    } <= topics
    by_id = {q["id"]: q for q in DEV_QUESTIONS}
    for question in DEV_QUESTIONS:
        if question["follow_up_of"] is not None:
            assert question["follow_up_of"] in by_id


@pytest.mark.parametrize("question", DEV_QUESTIONS + TOPIC_QUESTIONS, ids=lambda q: q["id"])
def test_dev_question_fact_is_in_the_expected_section(question: dict):
    assert question["answerable"] is True
    path = KNOWLEDGE / question["expected_doc"]
    assert path.exists(), question["expected_doc"]
    _, body = split_document(path)
    anchor = question["expected_anchor"]
    if anchor is None and question in TOPIC_QUESTIONS:
        assert question["expected_doc"].startswith("statutes/"), "a summary question names its section"
        assert fold(question["expected_fact"]) in fold(body)
        return
    assert anchor.startswith("§ ")
    texts = {heading: text for heading, text in sections(body)}
    assert anchor[2:] in texts, f"no section '{anchor}' in {question['expected_doc']}"
    assert fold(question["expected_fact"]) in fold(texts[anchor[2:]])


def test_offtopic_questions_are_marked_unanswerable():
    questions = _jsonl(OFFTOPIC_FILE)
    assert len(questions) >= 15
    for question in questions:
        assert question["answerable"] is False
        assert question["expected_doc"] is None and question["expected_fact"] is None
