"""What the Telegram tests share: settings for the fake server and a tiny keyword runtime.

The keyword searcher stands in for the index only in protocol tests; answers are
still made by the real ``bot.answer.answer``. The real model and index are used by
the ``slow`` tests.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Collection
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.runtime import IndexInfo
from bot.settings import Settings
from bot.testing.fake_bot_api import TOKEN
from index.build import BuildReport
from index.errors import IndexNotBuilt, PomocnikError
from index.polish import fold_diacritics
from index.query import Query, read_query
from index.records import Chunk, DocumentMeta, Hit, QueryVector

STATUTE = DocumentMeta(
    title="Ustawa o pomocy społecznej <tekst jednolity> & zmiany",
    kind="statute",
    status="in_force",
    source_url="https://isap.sejm.gov.pl/isap.nsf/DocDetails.xsp?id=WDU20040640593&x=1",
    published="Dz.U. 2025 poz. 1214",
    effective_from=date(2004, 5, 1),
)
DRAFT = DocumentMeta(
    title="Projekt ustawy o zmianie ustawy o pomocy społecznej (UD315)",
    kind="draft",
    status="draft",
    source_url="https://legislacja.gov.pl/projekt/UD315",
    date=date(2025, 6, 1),
)

CHUNKS = [
    Chunk(
        id="c-art37",
        doc_id="ups.md",
        anchor="art. 37 ust. 1",
        text=(
            "Zasiłek stały przysługuje pełnoletniej osobie samotnie gospodarującej, niezdolnej do pracy "
            "z powodu wieku lub całkowicie niezdolnej do pracy, jeżeli jej dochód jest niższy od "
            "kryterium dochodowego osoby samotnie gospodarującej <art. 37>."
        ),
        embed_text="",
        meta=STATUTE,
        position=0,
    ),
    Chunk(
        id="c-art8",
        doc_id="ups.md",
        anchor="art. 8 ust. 1 pkt 1",
        text=(
            "Kryterium dochodowe osoby samotnie gospodarującej wynosi 1010 zł miesięcznie. "
            "Kryterium dochodowe na osobę w rodzinie wynosi 823 zł miesięcznie."
        ),
        embed_text="",
        meta=STATUTE,
        position=1,
    ),
    Chunk(
        id="c-ud315",
        doc_id="ud315.md",
        anchor="art. 1",
        text="Projekt przewiduje podwyższenie zasiłku okresowego dla rodzin wielodzietnych.",
        embed_text="",
        meta=DRAFT,
        position=0,
    ),
]


class ModelFreeSearcher:
    """The reading half of a searcher without a model or an index: questions are read
    without a vocabulary (no typo correction) and have no query vector."""

    def read(self, question: str, previous: str = "", today: date | None = None) -> Query:
        """``question`` read as ``index.search.Searcher.read`` would, minus typo correction."""
        return read_query(question, previous=previous, today=today)

    def embed(self, query: Query) -> QueryVector | None:
        """No model, no vector: the refusal gate reads the evidence alone."""
        return None


def query_text(query: str | Query) -> str:
    """The question text a stand-in searches for (a follow-up merged with its parent)."""
    return query.text if isinstance(query, Query) else query


class KeywordSearcher(ModelFreeSearcher):
    """Ranks the fixed chunks by shared folded words; records the queries it gets.

    A query containing ``BOOM`` raises ``IndexNotBuilt``; ``delay`` simulates slow work.
    """

    def __init__(self, chunks: list[Chunk] = CHUNKS, delay: float = 0.0) -> None:
        self.chunks = chunks
        self.delay = delay
        self.queries: list[str] = []
        self._lock = threading.Lock()

    def search(
        self,
        query: str | Query,
        k: int = 5,
        kinds: Collection[str] | None = None,
        statuses: Collection[str] | None = None,
        on: date | None = None,
    ) -> list[Hit]:
        """The chunks sharing most words with ``query``, best first."""
        query = query_text(query)
        with self._lock:
            self.queries.append(query)
        if "BOOM" in query:
            raise IndexNotBuilt("test: no index")
        if self.delay:
            time.sleep(self.delay)
        words = set(fold_diacritics(query.lower()).split())
        scored = []
        for chunk in self.chunks:
            overlap = len(words & set(fold_diacritics(chunk.text.lower()).split()))
            scored.append((overlap, chunk))
        scored.sort(key=lambda pair: -pair[0])
        return [
            Hit(
                chunk=chunk,
                score=float(overlap),
                dense_rank=rank,
                lexical_rank=rank,
                dense_score=0.9 if overlap else 0.5,
            )
            for rank, (overlap, chunk) in enumerate(scored[:k], start=1)
        ]


class FakeRuntime:
    """A ``bot.runtime.Serving`` over a keyword searcher: one fixed version, nothing to rebuild."""

    def __init__(self, searcher: KeywordSearcher) -> None:
        self.searcher = searcher
        self.closed = False

    def chunks(self) -> list[Chunk]:
        return self.searcher.chunks

    def info(self) -> IndexInfo:
        return IndexInfo(version="keyword", chunks=len(self.searcher.chunks), model_id=None)

    def refresh(self) -> bool:
        return False

    def rebuild(self, settings: Settings) -> BuildReport:
        raise PomocnikError("test: the keyword runtime has no index to rebuild")

    def close(self) -> None:
        self.closed = True


def bot_settings(base_url: str, data_dir: Path, **changes: object) -> Settings:
    """Settings pointing the bot at the fake server, with state in ``data_dir``."""
    values: dict[str, Any] = {
        "_env_file": None,  # never the developer's .env
        "TELEGRAM_BOT_TOKEN": SecretStr(TOKEN),
        "TELEGRAM_BASE_URL": base_url,
        "data_dir": data_dir,
        "knowledge_dir": data_dir / "knowledge",
        **changes,
    }
    return Settings(**values)


def standalone_questions(folder: Path) -> list[str]:
    """The questions of the ``*.jsonl`` question files in ``folder`` that stand alone
    (follow-ups need their context, so they are left out): traffic for load and soak runs."""
    questions = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if not row.get("follow_up_of"):
                    questions.append(row["question"])
    return questions or ["Komu przysługuje zasiłek stały?"]
