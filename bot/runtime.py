"""The heavy objects of a running bot: model, index store and searcher, loaded in one place.

``Serving`` is what the front ends use of them; ``Runtime`` is the real one, and
protocol tests pass a small keyword fake with the same methods.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.answer import SearchesPassages
from bot.settings import Settings
from index.build import BuildReport, build_index
from index.embedder import Embedder, load_embedder
from index.errors import IndexNotBuilt
from index.records import Chunk
from index.search import HotSearcher
from index.store import IndexStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexInfo:
    """What ``/stats`` tells about the index being served."""

    version: str | None
    chunks: int
    model_id: str | None


class Serving(Protocol):
    """What the console and the Telegram handlers use of a runtime."""

    @property
    def searcher(self) -> SearchesPassages:
        """Searches the index version being served."""
        ...

    def chunks(self) -> list[Chunk]:
        """Every chunk of the index version being served (for /zrodla and /zmiany)."""
        ...

    def info(self) -> IndexInfo:
        """The served version, its chunk count and the model that embeds queries."""
        ...

    def refresh(self) -> bool:
        """Serve a newer index version if one was built; True if it swapped."""
        ...

    def rebuild(self, settings: Settings) -> BuildReport:
        """Build a new index version from ``settings.knowledge_dir`` and serve it; blocking."""
        ...

    def close(self) -> None:
        """Release what the runtime holds."""
        ...


RuntimeFactory = Callable[[Settings], Serving]


@dataclass
class Runtime:
    """What answering needs, built once per process by ``load_runtime``."""

    settings: Settings
    embedder: Embedder
    searcher: HotSearcher
    store: IndexStore

    def chunks(self) -> list[Chunk]:
        """Every chunk of the index version being served (for /zrodla and /zmiany)."""
        return self.searcher.searcher.loaded.chunks

    def info(self) -> IndexInfo:
        """The served version, its chunk count and the model that embeds queries."""
        return IndexInfo(self.searcher.version, len(self.chunks()), self.embedder.model_id)

    def refresh(self) -> bool:
        """Serve a newer index version if one was built; True if it swapped."""
        return self.searcher.refresh()

    def rebuild(self, settings: Settings) -> BuildReport:
        """Build a new index version with this runtime's embedder and serve it; blocking.

        Raises whatever ``index.build.build_index`` raises (``PomocnikError`` for
        expected problems, e.g. an empty folder or another build holding the lock).
        """
        report = build_index(
            settings.knowledge_dir,
            self.store,
            self.embedder,
            max_bytes=int(settings.max_file_mb * 1_000_000),
            batch_size=settings.embed_batch_size,
        )
        self.searcher.refresh()
        return report

    def close(self) -> None:
        """Nothing to release today; kept so every edge can close what it opened."""


def load_runtime(settings: Settings) -> Runtime:
    """Load the index from ``settings.index_path`` and the model from ``settings.model_name_or_path``.

    The index is checked first, so a missing index is reported without waiting
    for the model to load.

    Raises:
        IndexNotBuilt: no index version exists, it cannot be read, or it was
            built with another embedding model.
        ModelNotAvailable: the embedding model cannot be loaded offline.
    """
    store = IndexStore(Path(settings.index_path))
    version = store.current_version()
    if version is None:
        raise IndexNotBuilt(f"Brak indeksu w {store.root}: zbuduj go poleceniem `python -m index build`.")
    embedder = load_embedder(settings.model_name_or_path, onnx=settings.onnx_queries)
    searcher = HotSearcher(store, embedder)
    # Raises IndexNotBuilt with the reason (unreadable, or built by another model).
    served = searcher.searcher
    log.info("Serving index version %s (%d chunks)", served.version, len(served.loaded.chunks))
    return Runtime(settings=settings, embedder=embedder, searcher=searcher, store=store)
