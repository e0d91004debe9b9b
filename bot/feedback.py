"""Feedback, unanswered questions, alert subscriptions and the bot's own state, in one SQLite file.

Every text is masked with ``bot.privacy.mask_pii`` before it is written. Rows older
than ``retention_days`` are purged when the store opens and on ``purge_expired()``.

The store degrades and never blocks answering (answering does not need it):

- a damaged file at start is moved aside as ``NAME.corrupt-YYYYmmddTHHMMSS`` (never
  deleted), one error names both files, a fresh store starts and the incident is
  kept for ``/stats``;
- a write that meets a lock held by another process waits ``busy_timeout`` at most,
  then is dropped; a full disk ("database or disk is full") drops it at once. Each
  drop is logged with the running count (``dropped_writes``), and for
  ``COOLDOWN_SECONDS`` after a drop further writes are dropped without waiting, so
  a long lock cannot queue up worker threads.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.privacy import mask_pii

logger = logging.getLogger(__name__)

T = TypeVar("T")

BUSY_TIMEOUT_MS = 2000  # how long a write waits for another process's lock
COOLDOWN_SECONDS = 5.0  # after a dropped write, later writes are dropped without waiting
_CORRUPT = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})

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
    # Replies not yet delivered (bot.sending's outbox), strangers already told they are
    # not on the allowlist, and incidents shown to admins in /stats.
    """
    CREATE TABLE outbox (
        key TEXT PRIMARY KEY,
        created_at REAL NOT NULL,
        deadline REAL NOT NULL,
        update_id INTEGER,
        chat_id INTEGER NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE refused (
        chat_id INTEGER PRIMARY KEY,
        created_at REAL NOT NULL
    );
    CREATE TABLE incidents (
        id INTEGER PRIMARY KEY,
        created_at REAL NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    """,
    # Answers written by the language model (bot.generate): counts only, no text, no user.
    """
    CREATE TABLE generation (
        id INTEGER PRIMARY KEY,
        created_at REAL NOT NULL,
        sentences INTEGER NOT NULL,
        dropped INTEGER NOT NULL,
        fallback TEXT
    );
    """,
)


class StoreUnavailable(Exception):
    """The database cannot be opened for a reason other than damage (permissions, a lock)."""


@dataclass(frozen=True)
class OutboxRow:
    """A reply kept in the ``outbox`` table until it is delivered or its deadline passes."""

    key: str
    created_at: float
    deadline: float
    update_id: int | None
    chat_id: int
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Incident:
    """One kind of incident for /stats: how many, and the latest one's time and detail."""

    kind: str
    count: int
    last_at: float
    last_detail: str


@dataclass(frozen=True)
class Stats:
    """What ``/stats`` shows."""

    positive: int
    negative: int
    unanswered: int
    top_unanswered: list[tuple[str, int]]
    worst_sources: list[tuple[str, int, int]]  # (source, 👎 count, 👍 count)
    incidents: list[Incident] = ()  # type: ignore[assignment]  # a tuple default: frozen and shared
    dropped_writes: int = 0
    generation: GenerationStats | None = None  # None: the language model was never asked


@dataclass(frozen=True)
class GenerationStats:
    """How the language model's answers fared (``bot.generate``)."""

    asked: int  # questions sent to the model
    delivered: int  # answered with the model's verified sentences
    sentences: int  # sentences the model wrote
    dropped: int  # of them, failed verification
    fallbacks: dict[str, int]  # reason → times the extractive answer was delivered instead


class FeedbackStore:
    """A small thread-safe SQLite store; open once per process and ``close()`` at shutdown.

    A damaged file is quarantined and replaced (see the module docstring); any other
    failure to open raises ``StoreUnavailable``, and the bot then runs without a store.
    """

    def __init__(
        self,
        path: Path,
        retention_days: int = 180,
        clock: Callable[[], float] = time.time,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._clock = clock
        self._retention_s = retention_days * 86400
        self._busy_timeout_s = busy_timeout_ms / 1000
        self._lock = threading.Lock()
        self._cooldown_until = 0.0
        self.dropped_writes = 0
        self.quarantined: Path | None = None
        try:
            self._db = self._open(path, busy_timeout_ms)
        except sqlite3.DatabaseError as error:
            if getattr(error, "sqlite_errorname", "") not in _CORRUPT and "malformed" not in str(error):
                raise StoreUnavailable(f"{path}: {error}") from error
            self.quarantined = quarantine(path, self._clock())
            logger.error(
                "feedback database %s is damaged (%s): moved aside to %s, starting a fresh one; "
                "salvage rows with `sqlite3 %s .recover` (docs/operations.md)",
                path,
                error,
                self.quarantined,
                self.quarantined,
            )
            self._db = self._open(path, busy_timeout_ms)
            self.record_incident("store_quarantined", f"{path.name} → {self.quarantined.name}: {error}")
        self.purge_expired()

    def _open(self, path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
        db = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, timeout=busy_timeout_ms / 1000
        )
        try:
            db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            db.execute("PRAGMA journal_mode=WAL")
            # A truncated file can open and read its first pages; the check reads them all.
            problem = db.execute("PRAGMA quick_check(1)").fetchone()[0]
            if problem != "ok":
                error = sqlite3.DatabaseError(f"database disk image is malformed: {problem}")
                error.sqlite_errorname = "SQLITE_CORRUPT"  # as sqlite3 sets it
                raise error
            self._migrate(db)
        except BaseException:
            db.close()
            raise
        return db

    @property
    def schema_version(self) -> int:
        """The applied migration count."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self, db: sqlite3.Connection) -> None:
        current = int(db.execute("PRAGMA user_version").fetchone()[0])
        for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
            db.executescript(f"BEGIN;{script}PRAGMA user_version={version};COMMIT;")

    # --- bounded writes -------------------------------------------------------------------

    def _write(self, what: str, action: Callable[[sqlite3.Connection], T]) -> T | None:
        """Run ``action`` under the lock; None (the write dropped, counted, logged) on failure.

        Waits at most ``busy_timeout`` for the thread lock and as long again for
        SQLite's lock; during the cool-down after a drop it does not wait at all.
        """
        if time.monotonic() < self._cooldown_until:
            self._drop(what, "store unavailable a moment ago", log=False)
            return None
        if not self._lock.acquire(timeout=self._busy_timeout_s):
            self._drop(what, "another write is waiting for the database")
            return None
        try:
            return action(self._db)
        except sqlite3.Error as error:  # locked, busy, full, I/O error, read-only …
            if self._db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
            self._drop(what, f"{type(error).__name__}: {error}")
            return None
        finally:
            self._lock.release()

    def _drop(self, what: str, reason: str, log: bool = True) -> None:
        self.dropped_writes += 1
        self._cooldown_until = time.monotonic() + COOLDOWN_SECONDS
        if log or self.dropped_writes % 100 == 0:
            logger.warning(
                "feedback store: %s dropped (%s); %d writes dropped since start",
                what,
                reason,
                self.dropped_writes,
            )

    # --- feedback ---------------------------------------------------------------------------

    def record_feedback(
        self,
        user_id: int,
        chat_id: int,
        question: str,
        answer_text: str,
        citations: Sequence[str],
        rating: int,
    ) -> bool:
        """Store a 👍 (``rating=1``) or 👎 (``rating=-1``); False if the write was dropped."""
        if rating not in (-1, 1):
            raise ValueError("rating must be 1 or -1")
        row = (
            self._clock(),
            user_id,
            chat_id,
            mask_pii(question),
            mask_pii(answer_text),
            json.dumps(list(citations), ensure_ascii=False),
            rating,
        )
        return (
            self._write(
                "feedback",
                lambda db: db.execute(
                    "INSERT INTO feedback (created_at, user_id, chat_id, question, answer, citations, rating)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    row,
                ),
            )
            is not None
        )

    def record_unanswered(self, user_id: int, chat_id: int, question: str) -> bool:
        """Store a question the bot could not answer, masked; False if the write was dropped."""
        row = (self._clock(), user_id, chat_id, mask_pii(question))
        return (
            self._write(
                "unanswered question",
                lambda db: db.execute(
                    "INSERT INTO unanswered (created_at, user_id, chat_id, question) VALUES (?, ?, ?, ?)", row
                ),
            )
            is not None
        )

    def record_generation(self, sentences: int, dropped: int, fallback: str | None) -> bool:
        """Count one question sent to the model: sentences written, dropped, and why it fell back.

        False if the write was dropped (the answer has been sent already).
        """
        row = (self._clock(), sentences, dropped, fallback)
        return (
            self._write(
                "generation counts",
                lambda db: db.execute(
                    "INSERT INTO generation (created_at, sentences, dropped, fallback) VALUES (?, ?, ?, ?)",
                    row,
                ),
            )
            is not None
        )

    def forget_user(self, user_id: int) -> int:
        """Delete everything stored for ``user_id`` (subscriptions they made too); rows removed.

        Raises ``sqlite3.Error`` when the database is unavailable: a deletion the
        user asked for must not be reported as done when it was not.
        """
        with self._lock:
            removed = self._db.execute("DELETE FROM feedback WHERE user_id = ?", (user_id,)).rowcount
            removed += self._db.execute("DELETE FROM unanswered WHERE user_id = ?", (user_id,)).rowcount
            removed += self._db.execute("DELETE FROM subscriptions WHERE user_id = ?", (user_id,)).rowcount
        return int(removed)

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
        Raises ``sqlite3.Error`` (nothing claimed) when the database is unavailable:
        the alerts watch tries again on its next round.
        """
        claimed = []
        with self._lock:
            self._db.execute("BEGIN")
            try:
                for doc_id, event in keys:
                    cursor = self._db.execute(
                        "INSERT OR IGNORE INTO announcements (doc_id, event, announced_at) VALUES (?, ?, ?)",
                        (doc_id, event, self._clock()),
                    )
                    if cursor.rowcount == 1:
                        claimed.append((doc_id, event))
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise
        return claimed

    def purge_expired(self) -> int:
        """Delete rows older than the retention period; returns the number removed."""
        cutoff = self._clock() - self._retention_s

        def purge(db: sqlite3.Connection) -> int:
            removed = 0
            for table in ("feedback", "unanswered", "refused", "incidents", "generation"):
                removed += db.execute(f"DELETE FROM {table} WHERE created_at < ?", (cutoff,)).rowcount
            return removed

        return self._write("retention purge", purge) or 0

    # --- the bot's own state ----------------------------------------------------------------

    def record_incident(self, kind: str, detail: str) -> None:
        """Keep an incident (ids and counts, never message text) for /stats."""
        self._write(
            f"incident {kind}",
            lambda db: db.execute(
                "INSERT INTO incidents (created_at, kind, detail) VALUES (?, ?, ?)",
                (self._clock(), kind, detail),
            ),
        )

    def first_refusal(self, chat_id: int) -> bool | None:
        """True the first time ``chat_id`` is refused; None when the store cannot tell."""
        inserted = self._write(
            "refusal memory",
            lambda db: (
                db.execute(
                    "INSERT OR IGNORE INTO refused (chat_id, created_at) VALUES (?, ?)",
                    (chat_id, self._clock()),
                ).rowcount
            ),
        )
        return None if inserted is None else inserted == 1

    def outbox_save(self, row: OutboxRow) -> bool:
        """Keep (or update) a reply not yet delivered; False if the write was dropped."""
        values = (
            row.key,
            row.created_at,
            row.deadline,
            row.update_id,
            row.chat_id,
            json.dumps(row.payload, ensure_ascii=False),
            row.attempts,
        )
        return (
            self._write(
                "outbox entry",
                lambda db: db.execute(
                    "INSERT OR REPLACE INTO outbox"
                    " (key, created_at, deadline, update_id, chat_id, payload, attempts)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    values,
                ),
            )
            is not None
        )

    def outbox_delete(self, key: str) -> bool:
        """Forget a delivered (or lost) reply; False if the write was dropped."""
        return (
            self._write("outbox removal", lambda db: db.execute("DELETE FROM outbox WHERE key = ?", (key,)))
            is not None
        )

    def outbox_rows(self) -> list[OutboxRow]:
        """Every kept reply, oldest first (read at start to resume delivery)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, created_at, deadline, update_id, chat_id, payload, attempts FROM outbox"
                " ORDER BY created_at, rowid"
            ).fetchall()
        return [
            OutboxRow(key, created, deadline, update_id, chat_id, json.loads(payload), attempts)
            for key, created, deadline, update_id, chat_id, payload, attempts in rows
        ]

    def stats(self, top: int = 5) -> Stats:
        """Counts, the most common unanswered questions, the worst-rated sources, incidents."""
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
            incidents = self._db.execute(
                "SELECT kind, COUNT(*), MAX(created_at),"
                " (SELECT detail FROM incidents AS last WHERE last.kind = i.kind ORDER BY id DESC LIMIT 1)"
                " FROM incidents AS i GROUP BY kind ORDER BY MAX(created_at) DESC"
            ).fetchall()
            asked, delivered, sentences, dropped = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(fallback IS NULL), 0), COALESCE(SUM(sentences), 0),"
                " COALESCE(SUM(dropped), 0) FROM generation"
            ).fetchone()
            fallbacks = self._db.execute(
                "SELECT fallback, COUNT(*) FROM generation WHERE fallback IS NOT NULL"
                " GROUP BY fallback ORDER BY COUNT(*) DESC, fallback"
            ).fetchall()
        per_source: dict[str, list[int]] = {}
        for citations, rating in rows:
            for source in json.loads(citations):
                counts = per_source.setdefault(source, [0, 0])
                counts[0 if rating < 0 else 1] += 1
        worst = sorted(
            ((s, c[0], c[1]) for s, c in per_source.items() if c[0]),
            key=lambda item: (-item[1], item[2], item[0]),
        )[:top]
        generation = (
            GenerationStats(int(asked), int(delivered), int(sentences), int(dropped), dict(fallbacks))
            if asked
            else None
        )
        return Stats(
            int(positive),
            int(negative),
            int(unanswered),
            list(top_unanswered),
            worst,
            [Incident(kind, int(n), float(at), detail) for kind, n, at, detail in incidents],
            self.dropped_writes,
            generation,
        )

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


def quarantine(path: Path, now: float) -> Path:
    """Move a damaged database (and its -wal/-shm) aside as ``NAME.corrupt-YYYYmmddTHHMMSS``."""
    stamp = dt.datetime.fromtimestamp(now).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():  # two incidents in one second: never overwrite the first
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    os.replace(path, target)
    for suffix in ("-wal", "-shm"):  # SQLite finds them beside the moved file by these names
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    return target
