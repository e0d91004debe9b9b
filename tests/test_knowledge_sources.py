"""Checks of the verbatim knowledge files (knowledge/statutes, knowledge/conferences)
and of the development questions that point into them.

These read the Markdown files directly with pyyaml, so they do not depend on
``index.documents``; a loader test over the whole folder lives with that module.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date
from pathlib import Path

import pytest
import yaml

from index.records import KINDS, STATUSES

REPO = Path(__file__).resolve().parents[1]
KNOWLEDGE = REPO / "knowledge"
SHARED_LAW = REPO.parent / "shared" / "sources" / "law"  # ../shared beside the checkout
DEV_QUESTIONS = REPO / "tests" / "data" / "dev_questions" / "statutes_conferences.jsonl"
TODAY = date(2026, 11, 23)  # the date the knowledge spec computes status against

SOURCE_FILES = sorted((KNOWLEDGE / "statutes").glob("*.md")) + sorted(
    (KNOWLEDGE / "conferences").glob("*.md")
)
REQUIRED_KEYS = ("title", "kind", "status", "source_url")
DEBRIS = ("Drukuj zawartość", "Powiększ zdjęcie", "Accessibility", "Zapisz tekst bieżącej strony")
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def split_front_matter(path: Path) -> tuple[dict, str]:
    """(metadata, body) of a Markdown file with YAML front matter."""
    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, flags=re.S)
    assert match, f"{path.name}: no YAML front matter"
    meta = yaml.safe_load(match.group(1))
    assert isinstance(meta, dict), f"{path.name}: front matter is not a mapping"
    return meta, match.group(2)


def fold(text: str) -> str:
    """Lower case, no Polish diacritics, single spaces: for fact matching."""
    text = text.lower().replace("ł", "l")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text).strip()


def superscripts(text: str) -> str:
    """The sources write superscript article numbers as '39^1'; the knowledge files as '39¹'."""
    return re.sub(r"\^(\d+)", lambda m: m.group(1).translate(SUPERSCRIPT), text)


def squash(text: str) -> str:
    """Collapse all whitespace: for verbatim comparison with the sources."""
    return re.sub(r"\s+", " ", text).strip()


def test_there_are_statutes_and_conferences() -> None:
    names = {p.parent.name for p in SOURCE_FILES}
    assert names == {"statutes", "conferences"}
    assert (KNOWLEDGE / "statutes" / "kpa.md").exists()


@pytest.mark.parametrize("path", SOURCE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_front_matter_is_complete_and_valid(path: Path) -> None:
    meta, body = split_front_matter(path)
    for key in REQUIRED_KEYS:
        assert meta.get(key), f"{path.name}: missing {key}"
    assert meta["kind"] in KINDS
    assert meta["status"] in STATUSES
    url = meta["source_url"]
    assert re.match(r"^(https?://\S+|urn:pomocnik:seed:\S+)$", url), url
    assert meta.get("language", "pl") == "pl"
    for key in ("date", "effective_from", "effective_to"):
        if key in meta:
            assert isinstance(meta[key], date), f"{path.name}: {key} is not an ISO date"
    if meta.get("effective_to") and meta["effective_to"] < TODAY:
        assert meta["status"] == "historical", f"{path.name}: expired but not historical"
    for key in ("place", "organiser", "version", "event_date"):
        if key in meta:
            assert isinstance(meta[key], str)
    if "speakers" in meta:
        assert isinstance(meta["speakers"], list)
        assert all(isinstance(s, str) for s in meta["speakers"])
        # every speaker named in the metadata is named in the report itself
        for speaker in meta["speakers"]:
            assert speaker in body, f"{path.name}: {speaker} not in the text"
    if path.parent.name == "conferences":
        assert meta["kind"] == "conference"
    assert len(body.strip()) > 200


@pytest.mark.parametrize("path", SOURCE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_web_page_debris(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for debris in DEBRIS:
        assert debris not in text
    assert "\xa0" not in text
    assert "szkolenie_20131030_754x462" not in text


def test_statute_articles_start_lines() -> None:
    """Inside statute bodies every 'Art. N.' unit starts a line (the chunker relies on it)."""
    for path in sorted((KNOWLEDGE / "statutes").glob("*.md")):
        _, body = split_front_matter(path)
        # an "Art. N." after other text on the same line (quoted amendment text excepted)
        inline = re.findall(r"[^\n\"„]\s(Art\. \d+[a-z]*[¹²³⁴⁵⁶⁷⁸⁹⁰]*\. [A-ZŁŚŻŹ§0-9])", body)
        assert not inline, f"{path.name}: article heading inside a line: {inline[:3]}"
        without_notes = re.sub(r"\[Nota redakcyjna[^\]]*\]", "", body)
        assert "[" not in without_notes, f"{path.name}: publisher's bracketed title"


def kpa_records() -> list[dict]:
    source = SHARED_LAW / "kpa_articles.jsonl"
    if not source.exists():
        pytest.skip(f"shared sources not found at {source}")
    return [json.loads(line) for line in source.open(encoding="utf-8")]


def kpa_articles() -> dict[str, str]:
    """Article number (with Unicode superscripts) -> its text in knowledge/statutes/kpa.md."""
    _, body = split_front_matter(KNOWLEDGE / "statutes" / "kpa.md")
    pieces = re.split(r"^Art\. (\d+[a-z]*[⁰¹²³⁴⁵⁶⁷⁸⁹]*)\. ", body, flags=re.M)
    return dict(zip(pieces[1::2], pieces[2::2], strict=True))


def test_kpa_has_every_source_article_verbatim() -> None:
    records = kpa_records()
    articles = kpa_articles()
    expected = [superscripts(r["article"]) for r in records]
    assert list(articles) == expected  # all 303, in source order, no duplicates
    for record, number in zip(records, expected, strict=True):
        source = superscripts(record["text"])
        assert squash(articles[number]) == squash(source), f"Art. {number} differs from the source"


def test_kpa_units_start_lines() -> None:
    articles = kpa_articles()
    assert articles["129"].splitlines()[1].startswith("§ 2. Odwołanie wnosi się w terminie czternastu dni")
    assert "\n7) pouczenie, czy i w jakim trybie" in articles["107"]
    assert "\na) zobowiązuje organ" in articles["37"]
    # a wrapped cross-reference ("art. 122a § 2 pkt 1") must not become a § line
    assert "art. 122a § 2 pkt 1" in articles["122b"]


def test_statute_fragments_are_verbatim() -> None:
    """Each fragment's text (less the publishers' bracketed titles) is in the file citing its URL."""
    source = SHARED_LAW / "statute_fragments.jsonl"
    if not source.exists():
        pytest.skip(f"shared sources not found at {source}")
    by_url = {}
    for path in sorted((KNOWLEDGE / "statutes").glob("*.md")):
        meta, body = split_front_matter(path)
        by_url[meta["source_url"]] = squash(re.sub(r"\[[^\]]*\]", "", body))
    records = [json.loads(line) for line in source.open(encoding="utf-8")]
    assert len(records) == 8
    for record in records:
        assert record["source_url"] in by_url, f"no file for {record['id']}"
        text = squash(re.sub(r"\[[^\]]*\]", "", record["text"]))
        assert text in by_url[record["source_url"]], f"{record['id']} is not verbatim"


def load_questions() -> list[dict]:
    return [json.loads(line) for line in DEV_QUESTIONS.open(encoding="utf-8") if line.strip()]


def test_dev_questions_are_well_formed() -> None:
    questions = load_questions()
    assert len(questions) >= 25
    seen: set[str] = set()
    keys = {"id", "question", "answerable", "expected_fact", "expected_doc", "expected_anchor"}
    keys |= {"topic", "follow_up_of"}
    for q in questions:
        assert set(q) == keys, q["id"]
        assert q["id"] not in seen, q["id"]
        if q["follow_up_of"] is not None:
            assert q["follow_up_of"] in seen, f"{q['id']}: follows an unknown or later question"
        seen.add(q["id"])
        if not q["answerable"]:
            expected = (q["expected_doc"], q["expected_fact"], q["expected_anchor"])
            assert expected == (None, None, None), q["id"]
    assert any(not q["answerable"] for q in questions)
    # written as users type: a good share without Polish letters
    polish = re.compile(r"[ąćęłńóśźż]", flags=re.I)
    plain = [q for q in questions if not polish.search(q["question"])]
    assert len(plain) >= len(questions) // 2


def unit_text(body: str, anchor: str) -> str:
    """The text of the unit an anchor names.

    Anchors look like 'art. 107 § 1 pkt 7', 'art. 106 ust. 3a' or '§ Heading'.
    """
    if anchor.startswith("§ "):
        heading = re.escape(anchor[2:])
        match = re.search(rf"^## {heading}\n(.*?)(?=^## |\Z)", body, flags=re.M | re.S)
        assert match, f"no section {anchor!r}"
        return match.group(1)
    parts = re.findall(r"(art\.|§|ust\.|pkt|lit\.) (\S+)", anchor)
    assert parts and parts[0][0] == "art.", anchor
    article = re.escape(parts[0][1])
    match = re.search(rf"^Art\. {article}\. (.*?)(?=^Art\. |\Z)", body, flags=re.M | re.S)
    assert match, f"no {anchor!r}"
    lines = match.group(1).splitlines()
    level_patterns = {
        "§": r"(?:§ {n}\. )",
        "ust.": r"(?:{n}\. )",
        "pkt": r"(?:{n}\) )",
        "lit.": r"(?:{n}\) )",
    }
    for level, number in parts[1:]:
        # a unit may open on its parent's line: "§ 1. 1) …"
        lead = r"^(?:§ \d+[a-z]*\. )?"
        start_re = re.compile(lead + level_patterns[level].format(n=re.escape(number)))
        any_re = re.compile(lead + level_patterns[level].format(n=r"\d+[a-z]*"))
        starts = [i for i, line in enumerate(lines) if start_re.match(line)]
        assert starts, f"no {level} {number} in {anchor!r}"
        begin = starts[0]
        end = next((i for i in range(begin + 1, len(lines)) if any_re.match(lines[i])), len(lines))
        lines = lines[begin:end]
    return "\n".join(lines)


ANSWERABLE = [q for q in load_questions() if q["answerable"]]


@pytest.mark.parametrize("q", ANSWERABLE, ids=lambda q: q["id"])
def test_dev_question_points_at_its_fact(q: dict) -> None:
    path = KNOWLEDGE / q["expected_doc"]
    assert path.exists(), q["expected_doc"]
    _, body = split_front_matter(path)
    scope = unit_text(body, q["expected_anchor"]) if q["expected_anchor"] else body
    where = q["expected_anchor"] or "the document"
    assert fold(q["expected_fact"]) in fold(scope), f"{q['id']}: fact not in {where}"
