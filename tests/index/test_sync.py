"""`python -m index sync` against a fake Sejm ELI API on 127.0.0.1: texts, notes, safety, idempotence."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml

import index.embedder
from index.chunking import chunk_document
from index.cli import main
from index.documents import load_document, load_folder
from index.eli import (
    AMENDING_ACTS,
    CONSOLIDATED_TEXTS,
    EliClient,
    EliError,
    newest_consolidated,
    parse_references,
)
from index.errors import PomocnikError
from index.store import IndexStore
from index.sync import FollowedAct, SyncReport, load_acts, sync
from tests.fakes import HashingEmbedder
from tests.index.fake_eli import (
    CUS,
    NEW_AMENDMENT,
    UPS,
    UPS_PAGES,
    UPS_TJ,
    FakeEliApi,
    header,
    isap_pdf,
)

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2025, 12, 1)
MAX = 10_000_000
ACTS = [
    FollowedAct("ups", UPS, "ustawa o pomocy społecznej"),
    FollowedAct("cus", CUS, "ustawa o centrach usług społecznych"),
]


@pytest.fixture
def api() -> Iterator[FakeEliApi]:
    with FakeEliApi() as server:
        yield server


def client(api: FakeEliApi) -> EliClient:
    return EliClient(api.base_url, timeout=5, attempts=3, backoff=0.01)


def run_sync(api: FakeEliApi, root: Path, today: date = TODAY) -> SyncReport:
    eli = client(api)
    try:
        return sync(root, ACTS, eli, today, MAX)
    finally:
        eli.close()


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- API readers


def test_references_are_read_in_both_shapes_and_the_newest_live_text_wins() -> None:
    inline = {CONSOLIDATED_TEXTS: [{"id": "DU/2024/1283"}, {"id": "DU/2025/1214"}, {"id": "DU/2023/901"}]}
    newest = newest_consolidated(parse_references(inline, CONSOLIDATED_TEXTS))
    assert newest is not None and newest.eli == "DU/2025/1214"
    wrapped = {
        CONSOLIDATED_TEXTS: [
            {"act": header("DU/2026/10", status="wygaśnięcie aktu")},  # newer, but expired
            {"act": header("DU/2025/1214")},
        ],
        AMENDING_ACTS: [{"act": header(NEW_AMENDMENT), "date": "2026-01-01"}],
    }
    newest = newest_consolidated(parse_references(wrapped, CONSOLIDATED_TEXTS))
    assert newest is not None and newest.eli == "DU/2025/1214"
    [amendment] = parse_references(wrapped, AMENDING_ACTS)
    assert (amendment.eli, amendment.date) == (NEW_AMENDMENT, date(2026, 1, 1))
    assert newest_consolidated([]) is None


def test_the_followed_acts_of_the_knowledge_folder_are_valid() -> None:
    acts = load_acts(ROOT / "knowledge" / "acts.yaml")
    slugs = {act.slug for act in acts}
    assert {"ups", "uwrspz", "kpa", "cus", "ekonomia-spoleczna", "przemoc-domowa"} <= slugs
    assert any(act.kind == "regulation" for act in acts)
    # acts.yaml is configuration, never a document the build would report as unsupported.
    assert all("acts.yaml" not in str(error) for error in load_folder(ROOT / "knowledge", MAX).errors)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acts: []\n", "co najmniej jednym"),
        ("acts:\n  - slug: ups\n    eli: DU/2004/593\n", "'name'"),
        ("acts:\n  - {slug: ups, eli: 'WDU20040640593', name: x}\n", "WYDAWCA/ROK/POZYCJA"),
        ("acts:\n  - {slug: a, eli: DU/1/2, name: x}\n  - {slug: a, eli: DU/1/3, name: y}\n", "unikalny"),
        ("acts:\n  - {slug: a, eli: DU/1/2, name: x, kind: draft}\n", "'kind'"),
    ],
)
def test_a_bad_list_of_acts_is_reported_with_its_entry(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "acts.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PomocnikError, match=expected):
        load_acts(path)


# ---------------------------------------------------------------- sync


def test_sync_writes_the_newest_consolidated_text_its_metadata_and_upcoming_changes(
    api: FakeEliApi, tmp_path: Path
) -> None:
    root = tmp_path / "knowledge"
    report = run_sync(api, root)
    assert [r.ok for r in report.acts] == [True, True] and report.changed
    ups, cus = report.acts
    assert "tekst jednolity Dz.U. 2025 poz. 1214" in ups.message and "nowe zmiany: 1" in ups.message
    assert api.requests[f"{UPS_TJ}/text.pdf"] == 1  # textHTML false: the PDF
    assert (root / "statutes/ups.pdf").read_bytes().startswith(b"%PDF")
    assert (root / "statutes/cus.html").is_file()  # HTML when the API has it
    assert "brak tekstu jednolitego" in cus.message
    meta = yaml.safe_load((root / "statutes/ups.pdf.meta.yaml").read_text(encoding="utf-8"))
    assert meta["title"] == "Ustawa z dnia 12 marca 2004 r. o pomocy społecznej (tekst jednolity)"
    assert meta["published"] == "Dz.U. 2025 poz. 1214"
    assert (meta["eli"], meta["consolidated_eli"]) == (UPS, UPS_TJ)
    assert (str(meta["date"]), str(meta["effective_from"])) == ("2025-08-22", "2004-05-01")
    assert meta["status"] == "in_force" and meta["source_url"].endswith("WDU20250001214")
    # Only the amendment published after the consolidated text's legal state is a new change.
    [note] = ups.notes
    assert note == "changes/eli/ups-DU-2025-1600.md"
    document = load_document(root / note, root, MAX)
    assert document.meta.kind == "amendment" and document.meta.status == "upcoming"
    assert document.meta.effective_from == date(2026, 1, 1)
    assert document.meta.published == "Dz.U. 2025 poz. 1600"
    assert "wchodzą w życie 1.01.2026" in document.text
    # Everything written loads as the build will load it.
    loaded = load_folder(root, MAX)
    assert not loaded.errors and len(loaded.documents) == 3


def test_an_empty_text_html_falls_back_to_the_pdf(api: FakeEliApi, tmp_path: Path) -> None:
    api.acts[UPS_TJ]["textHTML"] = True  # the API may claim HTML and answer 200 with no body
    report = run_sync(api, tmp_path / "knowledge")
    assert report.acts[0].ok
    assert api.requests[f"{UPS_TJ}/text.html"] == 1 and api.requests[f"{UPS_TJ}/text.pdf"] == 1
    assert (tmp_path / "knowledge/statutes/ups.pdf").is_file()
    assert not (tmp_path / "knowledge/statutes/ups.html").exists()


def test_a_second_sync_changes_nothing(api: FakeEliApi, tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    run_sync(api, root)
    before = snapshot(root)
    times = {p: (root / p).stat().st_mtime_ns for p in before}
    report = run_sync(api, root)
    assert all(r.ok for r in report.acts) and not report.changed
    assert all("bez zmian" in r.message for r in report.acts)
    assert snapshot(root) == before
    assert {p: (root / p).stat().st_mtime_ns for p in before} == times


def test_a_failed_download_leaves_that_act_as_it_was_and_syncs_the_others(
    api: FakeEliApi, tmp_path: Path
) -> None:
    root = tmp_path / "knowledge"
    run_sync(api, root)
    before = snapshot(root)
    # A newer consolidated text appears, but its PDF cannot be downloaded.
    api.acts["DU/2026/50"] = api.acts[UPS_TJ] | {
        "ELI": "DU/2026/50",
        "displayAddress": "Dz.U. 2026 poz. 50",
        "legalStatusDate": "2026-01-05",
    }
    api.references[UPS]["Inf. o tekście jednolitym"].append({"act": header("DU/2026/50")})
    api.fail("DU/2026/50/text.pdf", status=503)
    api.files[f"{CUS}/text.html"] = api.files[f"{CUS}/text.html"].replace(b"Gmina", b"Gmina lub powiat")
    report = run_sync(api, root)
    ups, cus = report.acts
    assert not ups.ok and cus.ok and report.failed == [ups]
    assert "ustawa o pomocy społecznej (DU/2004/593): pominięto, pliki bez zmian" in ups.message
    assert "HTTP 503" in ups.message
    assert api.requests["DU/2026/50/text.pdf"] == 3  # retried, then given up
    after = snapshot(root)
    assert {k: v for k, v in after.items() if "cus" not in k} == {
        k: v for k, v in before.items() if "cus" not in k
    }
    assert after["statutes/cus.html"] != before["statutes/cus.html"]
    assert not [p for p in root.rglob(".*")], "no temporary files left in the knowledge folder"


def test_a_truncated_pdf_is_refused_before_it_reaches_the_knowledge_folder(
    api: FakeEliApi, tmp_path: Path
) -> None:
    root = tmp_path / "knowledge"
    run_sync(api, root)
    before = snapshot(root)
    api.files[f"{UPS_TJ}/text.pdf"] = isap_pdf()[:400]  # a broken download that still starts like a PDF
    report = run_sync(api, root)
    assert not report.acts[0].ok and "uszkodzony PDF" in report.acts[0].message
    assert snapshot(root) == before


def test_transient_errors_are_retried(api: FakeEliApi, tmp_path: Path) -> None:
    api.fail(UPS, status=503, times=2)
    report = run_sync(api, tmp_path / "knowledge")
    assert report.acts[0].ok and api.requests[UPS] == 3


def test_an_unknown_act_fails_at_once_with_its_address(api: FakeEliApi) -> None:
    eli = client(api)
    with pytest.raises(EliError, match=r"acts/DU/1999/1 \(HTTP 404\)"):
        eli.act("DU/1999/1")
    assert api.requests["DU/1999/1"] == 1  # 404 is not retried
    eli.close()


def test_an_unreachable_api_is_one_clear_failure_per_act(tmp_path: Path) -> None:
    eli = EliClient("http://127.0.0.1:9/eli", timeout=0.5, attempts=2, backoff=0.01)
    report = sync(tmp_path / "knowledge", ACTS, eli, TODAY, MAX)
    eli.close()
    assert [r.ok for r in report.acts] == [False, False]
    assert all("nie udało się pobrać http://127.0.0.1:9/eli/acts/" in r.message for r in report.acts)
    assert not (tmp_path / "knowledge").exists() or not any((tmp_path / "knowledge").rglob("*.pdf"))


# ---------------------------------------------------------------- the ISAP PDF becomes legal units


def test_the_isap_pdf_is_cleaned_and_chunked_to_article_units(api: FakeEliApi, tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    run_sync(api, root)
    document = load_document(root / "statutes/ups.pdf", root, MAX)
    assert len(document.pages) == len(UPS_PAGES)
    for furniture in (
        "Kancelaria Sejmu",
        "2025-09-12",
        "Niniejsza ustawa dokonuje",
        "W brzmieniu ustalonym",
        "____",
    ):
        assert furniture not in document.text
    assert "gospodarującej”;" in document.text  # the footnote marker "”2)" is gone, the text stays
    # Articles as a whole, as for the Markdown statutes …
    whole = {chunk.anchor: chunk for chunk in chunk_document(document)}
    assert {"art. 1", "art. 7", "art. 8", "art. 37"} <= set(whole)
    assert whole["art. 8"].text.endswith(
        "Kryterium dochodowe podlega weryfikacji co 3 lata."
    )  # across a page
    assert (whole["art. 1"].page, whole["art. 37"].page) == (1, 3)
    # … and down to ust. and pkt when units must be small.
    small = {chunk.anchor: chunk for chunk in chunk_document(document, max_unit_words=12)}
    assert {
        "art. 1 ust. 1 pkt 1",
        "art. 1 ust. 2",
        "art. 8 ust. 1 pkt 1",
        "art. 8 ust. 2",
        "art. 37 ust. 1",
    } <= set(small)
    assert "1010 zł" in small["art. 8 ust. 1 pkt 1"].text
    lead = "Art. 8.\n1. Prawo do świadczeń pieniężnych z pomocy społecznej przysługuje:"
    assert small["art. 8 ust. 1 pkt 2"].text.startswith(lead)  # each pkt keeps its lead


# ---------------------------------------------------------------- the command


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(index.embedder, "load_embedder", lambda name, *a, **k: HashingEmbedder())
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("POMOCNIK_"):
            monkeypatch.delenv(name)
    root = tmp_path / "knowledge"
    root.mkdir()
    (root / "acts.yaml").write_text(
        yaml.safe_dump({"acts": [vars(act) for act in ACTS]}, allow_unicode=True), encoding="utf-8"
    )
    return root


def test_the_command_syncs_builds_and_a_second_run_keeps_the_serving_index(
    api: FakeEliApi, cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "sync",
        "--eli-url",
        api.base_url,
        "--knowledge",
        str(cli_env),
        "--index-dir",
        str(tmp_path / "ix"),
    ]
    assert main([*argv, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["changed"] and first["build"]["documents"] == 3
    assert "changes/eli/ups-DU-2025-1600.md" in first["build"]["added"]
    store = IndexStore(tmp_path / "ix")
    version = store.current_version()
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "bez zmian" in out and "Nic się nie zmieniło" in out
    assert store.current_version() == version
    # A failing act: exit 2, its message on stdout, the index still the same.
    api.fail(f"{CUS}/references", status=500)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "BŁĄD: ustawa o centrach usług społecznych (DU/2019/1818): pominięto" in captured.out
    assert "Nie udało się zsynchronizować 1 z 2 aktów" in captured.err
    assert store.current_version() == version
