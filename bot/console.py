"""An interactive chat in the terminal on the same ``answer`` the Telegram bot uses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bot.catalog import format_changes, format_sources, list_changes, list_sources
from bot.citations import status_text
from bot.generate import Writer, respond
from bot.plain import answer_to_text
from bot.records import Conversation
from bot.runtime import Serving

PROMPT = "pytanie> "
HELP = """Zadaj pytanie o pomoc społeczną, np. „ile dni ma klient na odwołanie od decyzji?”.
Pytanie uzupełniające („a od kiedy się liczy?”) odnosi się do poprzedniego.
Polecenia:
  /zrodla           co zawiera baza wiedzy
  /zmiany           zmiany przepisów i projekty, od najbliższych
  /szukaj FRAZA     surowe wyniki wyszukiwania
  /help             ta pomoc
  /exit             koniec (także Ctrl-D albo Ctrl-C)"""
SEARCH_HITS = 5


def run_console(
    runtime: Serving,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
    today: date | None = None,
    writer: Writer | None = None,
) -> None:
    """Read questions until /exit, EOF or Ctrl-C; ``read``/``write`` are swappable for tests.

    With a ``writer`` (POMOCNIK_LLM_URL set) answers are written by the model and verified.
    """
    write("Pomocnik — czat w konsoli. /help pokazuje polecenia.")
    conversation = Conversation()
    while True:
        try:
            line = read(PROMPT).strip()
        except (EOFError, KeyboardInterrupt):
            write("")
            return
        if not line:
            continue
        if line.startswith("/"):
            if not _command(line, runtime, write, today):
                return
            continue
        result = respond(
            line, runtime.searcher, history=conversation.history, today=today, writer=writer
        ).answer
        write(answer_to_text(result))
        conversation = conversation.after(result)


def _command(line: str, runtime: Serving, write: Callable[[str], None], today: date | None) -> bool:
    """Run one slash command; False when the chat should end."""
    command, _, argument = line.partition(" ")
    command = command.lower()
    if command in {"/exit", "/quit", "/koniec"}:
        return False
    if command in {"/help", "/start", "/pomoc"}:
        write(HELP)
    elif command == "/zrodla":
        write(format_sources(list_sources(runtime.chunks(), today)))
    elif command == "/zmiany":
        write(format_changes(list_changes(runtime.chunks(), today)))
    elif command == "/szukaj":
        write(_search(argument.strip(), runtime, today or date.today()))
    else:
        write(f"Nie znam polecenia {command}. /help pokazuje polecenia.")
    return True


def _search(query: str, runtime: Serving, today: date) -> str:
    if not query:
        return "Użycie: /szukaj FRAZA"
    hits = runtime.searcher.search(query, k=SEARCH_HITS, on=today)
    if not hits:
        return "Brak wyników."
    lines = []
    for n, hit in enumerate(hits, 1):
        chunk = hit.chunk
        where = f", {chunk.anchor}" if chunk.anchor else ""
        snippet = " ".join(chunk.text.split())[:300]
        lines.append(
            f"{n}. {chunk.meta.title}{where} — {status_text(chunk.meta, today)} ({hit.why})\n   {snippet}"
        )
    return "\n".join(lines)
