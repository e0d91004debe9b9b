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

if TYPE_CHECKING:  # "X as X": explicit re-exports for type checkers; at run time __getattr__ loads them
    from index.build import (
        BuildReport as BuildReport,
    )
    from index.build import (
        build_in_memory as build_in_memory,
    )
    from index.build import (
        build_index as build_index,
    )
    from index.embedder import Embedder as Embedder
    from index.embedder import load_embedder as load_embedder
    from index.errors import (
        IndexNotBuilt as IndexNotBuilt,
    )
    from index.errors import (
        InvalidDocument as InvalidDocument,
    )
    from index.errors import (
        ModelNotAvailable as ModelNotAvailable,
    )
    from index.errors import (
        PomocnikError as PomocnikError,
    )
    from index.records import (
        KINDS as KINDS,
    )
    from index.records import (
        STATUSES as STATUSES,
    )
    from index.records import (
        Chunk as Chunk,
    )
    from index.records import (
        Document as Document,
    )
    from index.records import (
        DocumentMeta as DocumentMeta,
    )
    from index.records import (
        Hit as Hit,
    )
    from index.records import (
        Page as Page,
    )
    from index.search import HotSearcher as HotSearcher
    from index.search import Searcher as Searcher
    from index.settings import IndexSettings as IndexSettings
    from index.store import IndexStore as IndexStore
    from index.store import LoadedIndex as LoadedIndex
    from index.vectors import VectorIndex as VectorIndex


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'index' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value
