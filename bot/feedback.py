"""Feedback, unanswered questions and alert subscriptions in SQLite, with numbered migrations.

Every text is masked with ``bot.privacy.mask_pii`` before it is written. Rows older
than ``retention_days`` are purged when the store opens and on ``purge_expired()``.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.privacy import mask_pii

# Each entry moves the schema one version up; ``PRAGMA user_version`` records where a
# database stands. Append new steps, never edit old ones: existing files replay the rest.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        created_at REAL NOT NULL,
        user_id INTEGER NOT NULL,
        chat_id INTEGER NOT NULL,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        citations TEXT NOT NULL,
        rating INTEGER NOT NULL CHECK (rating IN (-1, 1))
    );
    CREATE TABLE unanswered (
        id INTEGER PRIMARY KEY,
        created_at REAL NOT NULL,
        user_id INTEGER NOT NULL,
        chat_id INTEGER NOT NULL,
        question TEXT NOT NULL
    );
    CREATE INDEX feedback_user ON feedback(user_id);
    CREATE INDEX unanswered_user ON unanswered(user_id);
    """,
    # Alerts (/subskrybuj): one row per subscribed chat, and every (document, event)
    # already announced, so that no notice goes out twice, even after a restart.
    """
    CREATE TABLE subscriptions (
        chat_id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX subscriptions_user ON subscriptions(user_id);
    CREATE TABLE announcements (
        doc_id TEXT NOT NULL,
        event TEXT NOT NULL,
        announced_at REAL NOT NULL,
        PRIMARY KEY (doc_id, event)
    );
    """,
)


@dataclass(frozen=True)
class Stats:
    """What ``/stats`` shows."""

    positive: int
    negative: int
    unanswered: int
    top_unanswered: list[tuple[str, int]]
    worst_sources: list[tuple[str, int, int]]  # (source, 👎 count, 👍 count)


class FeedbackStore:
    """A small thread-safe SQLite store; open once per process and ``close()`` at shutdown."""

    def __init__(self, path: Path, retention_days: int = 180, clock: Callable[[], float] = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._retention_s = retention_days * 86400
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._migrate()
        self.purge_expired()

    @property
    def schema_version(self) -> int:
        """The applied migration count."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        with self._lock:
            current = self.schema_version
            for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
                self._db.executescript(f"BEGIN;{script}PRAGMA user_version={version};COMMIT;")

    def record_feedback(
        self,
        user_id: int,
        chat_id: int,
        question: str,
        answer_text: str,
        citations: Sequence[str],
        rating: int,
    ) -> None:
        """Store a 👍 (``rating=1``) or 👎 (``rating=-1``) with the answer's cited sources."""
        if rating not in (-1, 1):
            raise ValueError("rating must be 1 or -1")
        with self._lock:
            self._db.execute(
                "INSERT INTO feedback (created_at, user_id, chat_id, question, answer, citations, rating)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    self._clock(),
                    user_id,
                    chat_id,
                    mask_pii(question),
                    mask_pii(answer_text),
                    json.dumps(list(citations), ensure_ascii=False),
                    rating,
                ),
            )

    def record_unanswered(self, user_id: int, chat_id: int, question: str) -> None:
        """Store a question the bot could not answer, masked."""
        with self._lock:
            self._db.execute(
                "INSERT INTO unanswered (created_at, user_id, chat_id, question) VALUES (?, ?, ?, ?)",
                (self._clock(), user_id, chat_id, mask_pii(question)),
            )

    def forget_user(self, user_id: int) -> int:
        """Delete everything stored for ``user_id`` (subscriptions they made too); rows removed."""
        with self._lock:
            removed = self._db.execute("DELETE FROM feedback WHERE user_id = ?", (user_id,)).rowcount
            removed += self._db.execute("DELETE FROM unanswered WHERE user_id = ?", (user_id,)).rowcount
            removed += self._db.execute("DELETE FROM subscriptions WHERE user_id = ?", (user_id,)).rowcount
        return removed

    # --- alerts ---

    def subscribe(self, chat_id: int, user_id: int) -> bool:
        """Subscribe ``chat_id`` to change notices; False when it already was."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO subscriptions (chat_id, user_id, created_at) VALUES (?, ?, ?)",
                (chat_id, user_id, self._clock()),
            )
        return cursor.rowcount == 1

    def unsubscribe(self, chat_id: int) -> bool:
        """Stop notices to ``chat_id``; False when it was not subscribed."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
        return cursor.rowcount == 1

    def subscribers(self) -> list[tuple[int, int]]:
        """Every subscribed ``(chat_id, user_id)``, oldest subscription first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT chat_id, user_id FROM subscriptions ORDER BY created_at"
            ).fetchall()
        return [(int(chat), int(user)) for chat, user in rows]

    def claim_announcements(self, keys: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """Record ``(doc_id, event)`` pairs as announced; returns those not announced before.

        Claiming before sending means a crash loses a notice rather than repeating it.
        """
        claimed = []
        with self._lock:
            self._db.execute("BEGIN")
            for doc_id, event in keys:
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO announcements (doc_id, event, announced_at) VALUES (?, ?, ?)",
                    (doc_id, event, self._clock()),
                )
                if cursor.rowcount == 1:
                    claimed.append((doc_id, event))
            self._db.execute("COMMIT")
        return claimed

    def purge_expired(self) -> int:
        """Delete rows older than the retention period; returns the number removed."""
        cutoff = self._clock() - self._retention_s
        with self._lock:
            removed = self._db.execute("DELETE FROM feedback WHERE created_at < ?", (cutoff,)).rowcount
            removed += self._db.execute("DELETE FROM unanswered WHERE created_at < ?", (cutoff,)).rowcount
        return removed

    def stats(self, top: int = 5) -> Stats:
        """Counts, the most common unanswered questions and the worst-rated sources."""
        with self._lock:
            positive, negative = self._db.execute(
                "SELECT COALESCE(SUM(rating = 1), 0), COALESCE(SUM(rating = -1), 0) FROM feedback"
            ).fetchone()
            unanswered = self._db.execute("SELECT COUNT(*) FROM unanswered").fetchone()[0]
            top_unanswered = self._db.execute(
                "SELECT lower(trim(question)) AS q, COUNT(*) AS n FROM unanswered"
                " GROUP BY q ORDER BY n DESC, q LIMIT ?",
                (top,),
            ).fetchall()
            rows = self._db.execute("SELECT citations, rating FROM feedback").fetchall()
        per_source: dict[str, list[int]] = {}
        for citations, rating in rows:
            for source in json.loads(citations):
                counts = per_source.setdefault(source, [0, 0])
                counts[0 if rating < 0 else 1] += 1
        worst = sorted(
            ((s, c[0], c[1]) for s, c in per_source.items() if c[0]),
            key=lambda item: (-item[1], item[2], item[0]),
        )[:top]
        return Stats(int(positive), int(negative), int(unanswered), list(top_unanswered), worst)

    def export_csv(self, out_dir: Path) -> list[Path]:
        """Write ``feedback.csv`` and ``unanswered.csv`` into ``out_dir``; returns their paths."""
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for table in ("feedback", "unanswered"):
            with self._lock:
                cursor = self._db.execute(f"SELECT * FROM {table} ORDER BY id")
                header = [d[0] for d in cursor.description]
                rows = cursor.fetchall()
            path = out_dir / f"{table}.csv"
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                writer.writerows(rows)
            written.append(path)
        return written

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()
