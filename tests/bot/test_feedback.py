import csv
import sqlite3

import pytest

from bot.feedback import MIGRATIONS, FeedbackStore

PESEL = "44051401359"


@pytest.fixture
def clock():
    now = [1_700_000_000.0]
    return now


@pytest.fixture
def store(tmp_path, clock):
    s = FeedbackStore(tmp_path / "db" / "p.sqlite3", retention_days=30, clock=lambda: clock[0])
    yield s
    s.close()


def test_fresh_database_is_migrated_to_latest(store):
    assert store.schema_version == len(MIGRATIONS)


def test_reopening_keeps_data_and_does_not_remigrate(tmp_path):
    path = tmp_path / "p.sqlite3"
    first = FeedbackStore(path)
    first.record_unanswered(1, 1, "pytanie")
    first.close()
    second = FeedbackStore(path)
    assert second.stats().unanswered == 1
    assert second.schema_version == len(MIGRATIONS)
    second.close()


def test_a_database_of_an_earlier_version_is_migrated_and_keeps_its_rows(tmp_path):
    # A store written before the outbox (schema 2: feedback, alerts) gains the
    # outbox, refusal and incident tables and keeps its subscriptions.
    path = tmp_path / "p.sqlite3"
    raw = sqlite3.connect(path, isolation_level=None)
    for version, script in enumerate(MIGRATIONS[:2], start=1):
        raw.executescript(f"BEGIN;{script}PRAGMA user_version={version};COMMIT;")
    raw.execute("INSERT INTO subscriptions (chat_id, user_id, created_at) VALUES (5, 6, 1.0)")
    raw.close()
    store = FeedbackStore(path)
    assert store.schema_version == len(MIGRATIONS)
    assert store.subscribers() == [(5, 6)]
    assert store.first_refusal(9) is True and store.outbox_rows() == []
    store.close()


def test_texts_are_masked_before_writing(store, tmp_path):
    store.record_unanswered(7, 7, f"klient {PESEL} tel 600 123 456 pyta o zasiłek")
    store.record_feedback(7, 7, f"PESEL {PESEL}?", "Odpowiedź", ["ups.md#art. 7"], 1)
    raw = sqlite3.connect(tmp_path / "db" / "p.sqlite3")
    dump = "\n".join(raw.iterdump())
    assert PESEL not in dump and "600 123 456" not in dump
    assert "[PESEL]" in dump and "[TELEFON]" in dump


def test_stats_counts_top_unanswered_and_worst_sources(store):
    for _ in range(3):
        store.record_unanswered(1, 1, "Ile wynosi 800 plus?")
    store.record_unanswered(2, 2, "stolica Australii")
    store.record_feedback(1, 1, "q", "a", ["A"], -1)
    store.record_feedback(1, 1, "q", "a", ["A", "B"], -1)
    store.record_feedback(1, 1, "q", "a", ["B"], 1)
    stats = store.stats()
    assert (stats.positive, stats.negative, stats.unanswered) == (1, 2, 4)
    assert stats.top_unanswered[0] == ("ile wynosi 800 plus?", 3)
    assert stats.worst_sources[0] == ("A", 2, 0)
    assert ("B", 1, 1) in stats.worst_sources


def test_forget_user_removes_only_that_user(store):
    store.record_unanswered(1, 1, "a")
    store.record_feedback(1, 1, "q", "a", [], 1)
    store.record_unanswered(2, 2, "b")
    assert store.forget_user(1) == 2
    assert store.stats().unanswered == 1
    assert store.forget_user(1) == 0


def test_retention_purges_old_rows(store, clock):
    store.record_unanswered(1, 1, "stare")
    clock[0] += 31 * 86400
    store.record_unanswered(1, 1, "nowe")
    assert store.purge_expired() == 1
    assert store.stats().top_unanswered == [("nowe", 1)]


def test_invalid_rating_rejected(store):
    with pytest.raises(ValueError):
        store.record_feedback(1, 1, "q", "a", [], 0)


def test_export_csv(store, tmp_path):
    store.record_feedback(1, 1, "q", "a", ["A"], 1)
    paths = store.export_csv(tmp_path / "out")
    rows = list(csv.DictReader((tmp_path / "out" / "feedback.csv").open(encoding="utf-8")))
    assert [p.name for p in paths] == ["feedback.csv", "unanswered.csv"]
    assert rows[0]["rating"] == "1" and rows[0]["citations"] == '["A"]'


def test_generation_counts_without_text_or_user(store, clock):
    assert store.stats().generation is None  # the model was never asked
    store.record_generation(3, 0, None)
    store.record_generation(2, 2, "nothing-verified")
    store.record_generation(0, 0, "timeout")
    generation = store.stats().generation
    assert (generation.asked, generation.delivered, generation.sentences, generation.dropped) == (3, 1, 5, 2)
    assert generation.fallbacks == {"nothing-verified": 1, "timeout": 1}
    columns = [row[1] for row in store._db.execute("PRAGMA table_info(generation)")]
    assert columns == ["id", "created_at", "sentences", "dropped", "fallback"]
    clock[0] += 31 * 86400
    assert store.purge_expired() == 3
    assert store.stats().generation is None


def test_generation_table_is_added_to_an_existing_database(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(f"BEGIN;{MIGRATIONS[0]}PRAGMA user_version=1;COMMIT;")
    db.execute("INSERT INTO unanswered (created_at, user_id, chat_id, question) VALUES (1e10, 1, 1, 'q')")
    db.commit()
    db.close()
    store = FeedbackStore(path)
    try:
        store.record_generation(1, 0, None)
        stats = store.stats()
        assert stats.unanswered == 1 and stats.generation.asked == 1
    finally:
        store.close()
