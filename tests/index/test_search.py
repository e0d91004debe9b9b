"""Hybrid search: unit boosts, act preference, filters, status tie-break, duplicates, hot swap."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from index import search as search_module
from index.build import build_index
from index.errors import IndexNotBuilt
from index.query import asks_about_past, years_in
from index.search import HotSearcher, Searcher
from index.store import IndexStore, LoadedIndex
from tests.fakes import HashingEmbedder

UPS = "ustawa z dnia 12 marca 2004 r. o pomocy społecznej"
KPA = "ustawa z dnia 14 czerwca 1960 r. — Kodeks postępowania administracyjnego"
ART_7 = (
    "Art. 7. Pomocy społecznej udziela się osobom i rodzinom w szczególności z powodu:\n"
    "1) ubóstwa;\n2) sieroctwa;\n3) bezdomności;\n4) bezrobocia;\n7) przemocy {};"
)
ART_8 = (
    "Art. 8. 1. Prawo do świadczeń pieniężnych z pomocy społecznej przysługuje osobie samotnie "
    "gospodarującej, której dochód nie przekracza kwoty kryterium dochodowego."
)
KPA_7 = (
    "Art. 7. W toku postępowania organy administracji publicznej stoją na straży praworządności "
    "i podejmują czynności niezbędne do wyjaśnienia stanu faktycznego."
)
CONFERENCE = (
    "Konferencja o odwołaniach od decyzji w ośrodkach pomocy społecznej zgromadziła "
    "pracowników socjalnych z całego regionu."
)


def write_knowledge(root: Path, write_doc: Callable[..., Path]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    title_7 = "Ustawa o pomocy społecznej art. 7"
    write_doc(
        root,
        "ups-7.md",
        ART_7.format("domowej"),
        title=title_7,
        act=UPS,
        effective_from="2023-06-22",
        kind="statute",
    )
    write_doc(
        root,
        "ups-7-dawny.md",
        ART_7.format("rodzinnej"),
        title=title_7,
        act=UPS,
        status="historical",
        effective_to="2023-06-21",
        date="2021-01-01",
        kind="statute",
    )
    write_doc(root, "ups-8.md", ART_8, title="Ustawa o pomocy społecznej art. 8", act=UPS, kind="statute")
    write_doc(root, "ups-8-kopia.md", ART_8, title="Kopia art. 8 w poradniku", kind="guide")
    write_doc(
        root, "kpa-7.md", KPA_7, title="Kodeks postępowania administracyjnego art. 7", act=KPA, kind="statute"
    )
    write_doc(
        root, "konferencja.md", CONFERENCE, title="Konferencja ROPS", kind="conference", date="2019-05-10"
    )
    return root


@pytest.fixture(scope="module")
def embedder() -> HashingEmbedder:
    return HashingEmbedder(dim=256)


@pytest.fixture(scope="module")
def loaded(
    tmp_path_factory: pytest.TempPathFactory, embedder: HashingEmbedder, write_doc: Callable[..., Path]
) -> LoadedIndex:
    tmp = tmp_path_factory.mktemp("search")
    store = IndexStore(tmp / "index")
    build_index(write_knowledge(tmp / "knowledge", write_doc), store, embedder, 1_000_000)
    return store.load_current()


@pytest.fixture(scope="module")
def searcher(loaded: LoadedIndex, embedder: HashingEmbedder) -> Searcher:
    return Searcher(loaded, embedder)


TODAY = date(2025, 3, 1)


@pytest.mark.parametrize(
    ("query", "doc_id"),
    [
        ("art. 7 u.p.s.", "ups-7.md"),
        ("Co mówi art 7 ustawy o pomocy społecznej?", "ups-7.md"),
        ("art. 7 kpa", "kpa-7.md"),
        ("artykuł 7 Kodeksu postępowania administracyjnego", "kpa-7.md"),
        ("art. 8 ust. 1 ups", "ups-8.md"),
    ],
)
def test_named_unit_in_named_act_ranks_first(searcher: Searcher, query: str, doc_id: str) -> None:
    hits = searcher.search(query, k=3, on=TODAY)
    assert hits[0].chunk.doc_id == doc_id and hits[0].unit_boost


def test_unit_without_act_boosts_every_act_holding_it(searcher: Searcher) -> None:
    hits = searcher.search("art. 7", k=5, on=TODAY)
    boosted = {h.chunk.doc_id for h in hits if h.unit_boost}
    assert boosted == {"ups-7.md", "ups-7-dawny.md", "kpa-7.md"}
    assert [h.unit_boost for h in hits] == sorted((h.unit_boost for h in hits), reverse=True)


def test_a_unit_matching_many_acts_boosts_only_the_closest(
    tmp_path: Path, embedder: HashingEmbedder, monkeypatch: pytest.MonkeyPatch, write_doc: Callable[..., Path]
) -> None:
    topics = [
        "gospodarki odpadami",
        "ochrony zabytków",
        "transportu zbiorowego",
        "rybołówstwa",
        "prawa wodnego",
        "geologii",
        "lasów",
        "łowiectwa",
        "przemocy domowej",
        "szkolnictwa",
    ]
    for n, topic in enumerate(topics):
        write_doc(
            tmp_path,
            f"act-{n}.md",
            f"Art. 7. Przepisy w sprawie {topic} stosuje się odpowiednio.",
            title=f"Ustawa nr {n}",
            act=f"ustawa nr {n} o sprawach {topic}",
            kind="statute",
        )
    store = IndexStore(tmp_path / "index")
    build_index(tmp_path, store, embedder, 1_000_000)
    narrow = Searcher(store.load_current(), embedder, candidates=1)  # lists miss most of them
    monkeypatch.setattr(search_module, "UNIT_BOOST_LIMIT", 3)

    hits = narrow.search("art. 7 przemocy domowej", k=10, on=TODAY)
    assert hits[0].chunk.doc_id == "act-8.md" and hits[0].unit_boost
    assert sum(hit.unit_boost for hit in hits) == 3  # not all ten acts' art. 7


def test_named_unit_is_found_even_outside_both_candidate_lists(loaded: LoadedIndex, embedder) -> None:
    narrow = Searcher(loaded, embedder, candidates=1)
    hits = narrow.search("art. 8 konferencja pracowników socjalnych", k=1, on=TODAY)
    top = hits[0]
    assert top.chunk.doc_id == "ups-8.md" and top.unit_boost
    assert top.dense_rank is None and top.lexical_rank is None


def test_in_force_wins_the_tie_unless_the_question_asks_about_the_past(searcher: Searcher) -> None:
    query = "powody udzielania pomocy społecznej ubóstwo sieroctwo bezdomność"
    now = searcher.search(query, k=2, on=TODAY)
    past = searcher.search(query + " wcześniej", k=2, on=TODAY)
    assert [h.chunk.doc_id for h in now] == ["ups-7.md", "ups-7-dawny.md"]
    assert [h.chunk.doc_id for h in past] == ["ups-7-dawny.md", "ups-7.md"]


def test_a_named_year_prefers_the_passage_in_force_that_year(searcher: Searcher) -> None:
    for query, doc_id in [
        ("przemoc art. 7 w 2021", "ups-7-dawny.md"),
        ("przemoc art. 7 od 2024", "ups-7.md"),
    ]:
        hits = [h for h in searcher.search(query, k=3, on=TODAY) if h.chunk.doc_id.startswith("ups-7")]
        assert hits[0].chunk.doc_id == doc_id, query


def test_filters_by_kind_and_by_status_on_a_date(searcher: Searcher) -> None:
    hits = searcher.search("pomoc społeczna", k=5, kinds={"conference"}, on=TODAY)
    assert [h.chunk.doc_id for h in hits] == ["konferencja.md"]
    # Before 22 June 2023 the old wording was in force and the new one upcoming.
    earlier = searcher.search("art. 7 u.p.s. przemocy", k=5, statuses={"in_force"}, on=date(2023, 1, 1))
    assert "ups-7-dawny.md" in {h.chunk.doc_id for h in earlier}
    assert "ups-7.md" not in {h.chunk.doc_id for h in earlier}
    upcoming = searcher.search("art. 7 u.p.s.", k=5, statuses={"upcoming"}, on=date(2023, 1, 1))
    assert [h.chunk.doc_id for h in upcoming] == ["ups-7.md"]


def test_identical_passages_are_shown_once(searcher: Searcher) -> None:
    hits = searcher.search("prawo do świadczeń pieniężnych kryterium dochodowe", k=5, on=TODAY)
    assert {h.chunk.doc_id for h in hits[:1]} <= {"ups-8.md", "ups-8-kopia.md"}
    texts = [h.chunk.text for h in hits]
    assert len(texts) == len(set(texts))
    assert not {"ups-8.md", "ups-8-kopia.md"} <= {h.chunk.doc_id for h in hits}


def test_hits_explain_themselves_and_carry_the_cosine(searcher: Searcher, embedder: HashingEmbedder) -> None:
    query = "odwołanie od decyzji pracownicy socjalni"
    hits = searcher.search(query, k=5, on=TODAY)
    assert hits[0].chunk.doc_id == "konferencja.md"
    assert hits[0].dense_rank == 1 and hits[0].lexical_rank == 1 and "lexical #1" in hits[0].why
    expected = (
        embedder.encode_passages([h.chunk.embed_text for h in hits]) @ embedder.encode_queries([query])[0]
    )
    assert [h.dense_score for h in hits] == pytest.approx(expected.tolist(), abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_blank_query_finds_nothing(searcher: Searcher) -> None:
    assert searcher.search("   ") == [] and searcher.search("pomoc", k=0) == []


def test_index_of_another_model_is_refused(loaded: LoadedIndex) -> None:
    with pytest.raises(IndexNotBuilt, match="przebuduj"):
        Searcher(loaded, HashingEmbedder(dim=256, model_id="other"))


@pytest.mark.parametrize(
    ("query", "past"),
    [
        ("jak było wcześniej?", True),
        ("zasiłek w 2020", True),
        ("kryterium w 2026", False),
        ("poprzednio obowiązujące przepisy", True),
        ("zasiłek stały dla osoby samotnej", False),
    ],
)
def test_questions_about_the_past(query: str, past: bool) -> None:
    assert asks_about_past(query, TODAY) is past


@pytest.mark.parametrize(
    ("query", "years"),
    [
        ("kryterium dochodowe w 2008r", {2008}),
        ("zasiłek od 2019 r.", {2019}),
        ("przed 2020", {2020}),
        ("art. 2008 kpa", set()),
        ("w 20085", set()),
        ("ustawa z 2004r i od 2012", {2004, 2012}),
    ],
)
def test_named_years_read_a_glued_r(query: str, years: set[int]) -> None:
    assert years_in(query) == years


# ---------------------------------------------------------------- HotSearcher


def test_hot_searcher_swaps_without_failing_searches(
    tmp_path: Path, embedder: HashingEmbedder, write_doc: Callable[..., Path]
) -> None:
    knowledge = write_knowledge(tmp_path / "knowledge", write_doc)
    store = IndexStore(tmp_path / "index")
    build_index(knowledge, store, embedder, 1_000_000)
    hot = HotSearcher(store, embedder)
    first = hot.version
    failures: list[BaseException] = []
    answered = 0
    stop = threading.Event()

    def search_forever() -> None:
        nonlocal answered
        while not stop.is_set():
            try:
                assert hot.search("art. 7 u.p.s.", k=3)[0].chunk.doc_id == "ups-7.md"
                answered += 1
            except BaseException as exc:
                failures.append(exc)

    worker = threading.Thread(target=search_forever)
    worker.start()
    try:
        versions = []
        for round_ in range(4):  # pruning deletes versions the worker may still be searching
            write_doc(
                knowledge,
                f"nowy-{round_}.md",
                f"Nowy dokument numer {round_} o zasiłku celowym.",
                title=f"Nowość {round_}",
                kind="news",
            )
            versions.append(build_index(knowledge, store, embedder, 1_000_000).version)
            assert hot.refresh() is True and hot.version == versions[-1]
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join()
    assert failures == [] and answered > 0
    assert hot.version != first and hot.refresh() is False
    assert hot.search("Nowy dokument numer 3", k=1)[0].chunk.doc_id == "nowy-3.md"


def test_hot_searcher_keeps_serving_when_a_new_version_is_broken(
    tmp_path: Path,
    embedder: HashingEmbedder,
    caplog: pytest.LogCaptureFixture,
    write_doc: Callable[..., Path],
) -> None:
    knowledge = write_knowledge(tmp_path / "knowledge", write_doc)
    store = IndexStore(tmp_path / "index")
    good = build_index(knowledge, store, embedder, 1_000_000).version
    hot = HotSearcher(store, embedder)
    broken = build_index(knowledge, store, embedder, 1_000_000).version
    (store.version_path(broken) / "vectors.faiss").write_bytes(b"not faiss")
    assert hot.refresh() is False
    assert hot.version == good and "cannot load" in caplog.text
    assert hot.search("art. 7 kpa", k=1)[0].chunk.doc_id == "kpa-7.md"


def test_hot_searcher_waits_for_a_first_index(
    tmp_path: Path, embedder: HashingEmbedder, write_doc: Callable[..., Path]
) -> None:
    store = IndexStore(tmp_path / "index")
    hot = HotSearcher(store, embedder)
    with pytest.raises(IndexNotBuilt, match="python -m index build"):
        hot.search("art. 7")
    build_index(write_knowledge(tmp_path / "knowledge", write_doc), store, embedder, 1_000_000)
    assert hot.search("art. 7 kpa", k=1)[0].chunk.doc_id == "kpa-7.md"


def test_hot_searcher_says_why_it_serves_nothing(
    tmp_path: Path, embedder: HashingEmbedder, write_doc: Callable[..., Path]
) -> None:
    store = IndexStore(tmp_path / "index")
    build_index(write_knowledge(tmp_path / "knowledge", write_doc), store, embedder, 1_000_000)
    hot = HotSearcher(store, HashingEmbedder(dim=256, model_id="another-model"))
    with pytest.raises(IndexNotBuilt, match="another-model"):
        hot.search("art. 7")


# ---------------------------------------------------------------- the real model


@pytest.fixture(scope="module")
def real_searcher(tmp_path_factory: pytest.TempPathFactory, real_embedder, write_doc) -> Searcher:
    tmp = tmp_path_factory.mktemp("real")
    store = IndexStore(tmp / "index")
    build_index(write_knowledge(tmp / "knowledge", write_doc), store, real_embedder, 1_000_000)
    return Searcher(store.load_current(), real_embedder)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "doc_id", "anchor"),
    [
        (
            "Z jakich przyczyn gmina udziela wsparcia rodzinom, na przykład bezdomnym albo bezrobotnym?",
            "ups-7.md",
            "art. 7",
        ),
        (
            "komu przysluguja pieniadze z pomocy spolecznej gdy dochod jest nizszy niz kryterium",
            "ups-8.md",
            "art. 8",
        ),
        ("Czego pilnują urzędy prowadząc postępowanie administracyjne?", "kpa-7.md", "art. 7"),
    ],
)
def test_real_model_ranks_the_expected_unit_first(
    real_searcher: Searcher, question: str, doc_id: str, anchor: str
) -> None:
    top = real_searcher.search(question, k=3, on=TODAY)[0]
    allowed = {(doc_id, anchor)}
    if doc_id == "ups-8.md":  # the guide's copy holds the same passage: either file is right
        allowed.add(("ups-8-kopia.md", ""))
    assert (top.chunk.doc_id, top.chunk.anchor) in allowed
    assert top.dense_score is not None and 0.7 < top.dense_score <= 1.0001


def test_hot_searcher_logs_a_broken_current_pointer_once_until_it_changes_or_clears(
    tmp_path: Path,
    embedder: HashingEmbedder,
    caplog: pytest.LogCaptureFixture,
    write_doc: Callable[..., Path],
) -> None:
    knowledge = write_knowledge(tmp_path / "knowledge", write_doc)
    store = IndexStore(tmp_path / "index")
    good = build_index(knowledge, store, embedder, 1_000_000).version
    hot = HotSearcher(store, embedder)
    pointer = store.root / "CURRENT"

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]

    with caplog.at_level(logging.INFO, logger="index.search"):
        pointer.write_text("\x00garbage\n", encoding="utf-8")
        for _ in range(5):  # a watch checking every interval
            assert hot.refresh() is False
        assert len(warnings()) == 1 and "cannot load" in warnings()[0]
        pointer.write_text("another-missing-version\n", encoding="utf-8")
        for _ in range(3):
            hot.refresh()
        assert len(warnings()) == 2 and "another-missing-version" in warnings()[1]
        pointer.write_text(good + "\n", encoding="utf-8")
        hot.refresh()
        hot.refresh()
        cleared = [r.getMessage() for r in caplog.records if "cleared" in r.getMessage()]
        assert len(cleared) == 1 and len(warnings()) == 2
    assert hot.version == good and hot.search("art. 7 kpa", k=1)[0].chunk.doc_id == "kpa-7.md"
