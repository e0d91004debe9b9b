"""The knowledge index: documents → chunks → dense + BM25 index on disk → hybrid search.

Public names are imported on first use, so ``import index`` stays cheap (faiss,
bm25s and sentence-transformers load only when a caller needs them).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Chunk": "index.records",
    "Document": "index.records",
    "DocumentMeta": "index.records",
    "Hit": "index.records",
    "KINDS": "index.records",
    "Page": "index.records",
    "STATUSES": "index.records",
    "IndexNotBuilt": "index.errors",
    "InvalidDocument": "index.errors",
    "ModelNotAvailable": "index.errors",
    "PomocnikError": "index.errors",
    "IndexSettings": "index.settings",
    "Embedder": "index.embedder",
    "load_embedder": "index.embedder",
    "VectorIndex": "index.vectors",
    "IndexStore": "index.store",
    "LoadedIndex": "index.store",
    "BuildReport": "index.build",
    "build_index": "index.build",
    "build_in_memory": "index.build",
    "HotSearcher": "index.search",
    "Searcher": "index.search",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from index.build import BuildReport, build_in_memory, build_index
    from index.embedder import Embedder, load_embedder
    from index.errors import IndexNotBuilt, InvalidDocument, ModelNotAvailable, PomocnikError
    from index.records import KINDS, STATUSES, Chunk, Document, DocumentMeta, Hit, Page
    from index.search import HotSearcher, Searcher
    from index.settings import IndexSettings
    from index.store import IndexStore, LoadedIndex
    from index.vectors import VectorIndex


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'index' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value
