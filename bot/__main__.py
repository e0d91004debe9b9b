"""``python -m bot [console | ask QUESTION [--json] | export-feedback DIR]``: a thin shell.

Without a command the bot runs on Telegram when TELEGRAM_BOT_TOKEN is set, else
as a console chat. Expected problems (``PomocnikError``, bad settings) print one
Polish sentence on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from bot.settings import Settings
from index.errors import PomocnikError, describe_error
from index.logs import configure_logging

EXIT_ERROR = 2
NO_TOKEN = "TELEGRAM_BOT_TOKEN nie jest ustawiony — uruchamiam czat w konsoli."


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    configure_logging(args.verbose)
    try:
        settings = _settings(args)
        if args.command == "ask":
            return _ask(args, settings)
        if args.command == "export-feedback":
            return _export_feedback(args, settings)
        if args.command == "console" or settings.telegram_bot_token is None:
            if args.command is None:
                print(NO_TOKEN, file=sys.stderr)
            return _console(args, settings)
        from bot.telegram_app import run  # imported late: PTB is only needed here

        run(settings)
        return 0
    except (PomocnikError, ValidationError) as error:
        print(f"Błąd: {describe_error(error)}", file=sys.stderr)
        return EXIT_ERROR


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.generate import make_writer, respond
    from bot.plain import answer_to_json, answer_to_text
    from bot.runtime import load_runtime

    runtime = load_runtime(settings)
    writer = make_writer(settings)
    questions = sys.stdin if args.question == "-" else [args.question]
    for line in questions:
        question = line.strip()
        if not question:
            continue
        result = respond(question, runtime.searcher, today=args.today, writer=writer).answer
        if args.json:
            print(json.dumps(answer_to_json(result, args.full), ensure_ascii=False), flush=True)
        else:
            print(answer_to_text(result, args.full), end="\n\n" if args.question == "-" else "\n", flush=True)
    return 0


def _export_feedback(args: argparse.Namespace, settings: Settings) -> int:
    from bot.feedback import FeedbackStore

    if not settings.db_path.is_file():  # opening would create an empty database
        raise PomocnikError(f"Brak bazy ocen {settings.db_path}: sprawdź POMOCNIK_DB i POMOCNIK_DATA_DIR.")
    store = FeedbackStore(settings.db_path, settings.retention_days)
    try:
        written = store.export_csv(args.out_dir)
    finally:
        store.close()
    for path in written:
        print(path)
    return 0


def _console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import run_console
    from bot.generate import make_writer
    from bot.runtime import load_runtime

    run_console(load_runtime(settings), today=args.today, writer=make_writer(settings))
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        name: value
        for name, value in (
            ("index_dir", args.index_dir),
            ("embedding_model", args.model),
        )
        if value is not None
    }
    return Settings(**overrides)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Pomocnik: bot i czat w konsoli.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress (INFO)")
    parser.add_argument("--index-dir", help="folder indeksu (domyślnie POMOCNIK_INDEX_DIR lub data/index)")
    parser.add_argument("--model", help="model osadzeń: nazwa lub ścieżka (POMOCNIK_EMBEDDING_MODEL)")
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="data, wg której liczony jest status (RRRR-MM-DD)",
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("console", help="czat w konsoli")
    ask = commands.add_parser("ask", help="jedna odpowiedź; '-' czyta pytania ze stdin, po jednym w wierszu")
    ask.add_argument("question", help="pytanie albo '-'")
    ask.add_argument("--json", action="store_true", help="wynik jako JSON (jeden obiekt w wierszu)")
    ask.add_argument(
        "--full", action="store_true", help="cała zebrana podstawa odpowiedzi (jak przycisk „Więcej”)"
    )
    export = commands.add_parser(
        "export-feedback", help="oceny i pytania bez odpowiedzi z bazy (POMOCNIK_DB) jako pliki CSV"
    )
    export.add_argument("out_dir", type=Path, help="folder na feedback.csv i unanswered.csv")
    return parser


if __name__ == "__main__":
    sys.exit(main())
