"""The heavy objects of a running bot: model, index store and searcher, loaded in one place."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings
from index.embedder import Embedder, load_embedder
from index.errors import IndexNotBuilt
from index.records import Chunk
from index.search import HotSearcher
from index.store import IndexStore

log = logging.getLogger(__name__)


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

    def refresh(self) -> bool:
        """Serve a newer index version if one was built; True if it swapped."""
        return self.searcher.refresh()

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
