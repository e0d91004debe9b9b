"""Keep official texts current from the Sejm's ELI API: ``python -m index sync``.

For each act followed in ``knowledge/acts.yaml`` the sync finds its newest
consolidated text ("Inf. o tekście jednolitym"), downloads it (HTML when the API
has it, else PDF) into ``knowledge/statutes/<slug>.<ext>`` with a sidecar of
metadata, and records each amending act published after that text as a change
note in ``knowledge/changes/eli/``. Everything of one act is downloaded and
checked (loaded and cleaned like any document) in a temporary folder first; only
then are its files moved into place, each by an atomic rename, so a failed or
partial download leaves the knowledge folder as it was. Files whose bytes did not
change are not touched, and a change note, once written, is kept as it is: a
second run changes nothing.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from index.documents import SIDECAR_ENDING, load_document
from index.eli import (
    AMENDING_ACTS,
    CONSOLIDATED_TEXTS,
    ActInfo,
    EliClient,
    EliError,
    newest_consolidated,
    parse_references,
)
from index.errors import InvalidDocument, PomocnikError
from index.metadata import format_date

log = logging.getLogger(__name__)

ACTS_FILE = "acts.yaml"
STATUTES = "statutes"
NOTES = "changes/eli"
_KINDS = ("statute", "regulation")
_TEXT_SUFFIXES = (".html", ".pdf")


@dataclass(frozen=True)
class FollowedAct:
    """One act listed in ``acts.yaml``."""

    slug: str  # file name stem: statutes/<slug>.pdf
    eli: str  # "DU/2004/593": the original act, not a consolidated text
    name: str  # short Polish name for messages
    kind: str = "statute"  # statute | regulation


@dataclass
class ActResult:
    """What the sync did for one act; ``message`` is one Polish sentence for operators."""

    slug: str
    eli: str
    ok: bool
    message: str
    written: list[str] = field(default_factory=list)  # paths relative to the knowledge folder
    removed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # change notes written in this run


@dataclass
class SyncReport:
    """The results of one sync, act by act."""

    acts: list[ActResult]

    @property
    def changed(self) -> bool:
        """True when any file in the knowledge folder was written or removed."""
        return any(result.written or result.removed for result in self.acts)

    @property
    def failed(self) -> list[ActResult]:
        """Acts whose files were left as they were because something failed."""
        return [result for result in self.acts if not result.ok]


def load_acts(path: Path) -> list[FollowedAct]:
    """The followed acts of ``acts.yaml``.

    Raises:
        PomocnikError: the file is missing or malformed; the message names the entry.
    """
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PomocnikError(f"Brak listy śledzonych aktów {path}.") from None
    except yaml.YAMLError as error:
        raise PomocnikError(f"{path}: błędny YAML ({error}).") from None
    entries = raw.get("acts") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise PomocnikError(f"{path}: oczekiwano listy 'acts:' z co najmniej jednym aktem.")
    acts, slugs = [], set()
    for number, entry in enumerate(entries, start=1):
        where = f"{path}, pozycja {number}"
        if not isinstance(entry, dict) or not all(entry.get(key) for key in ("slug", "eli", "name")):
            raise PomocnikError(f"{where}: każdy akt potrzebuje pól 'slug', 'eli' i 'name'.")
        slug, eli = str(entry["slug"]).strip(), str(entry["eli"]).strip()
        parts = eli.split("/")
        if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
            raise PomocnikError(
                f"{where}: 'eli' ma postać WYDAWCA/ROK/POZYCJA, np. DU/2004/593, a jest {eli!r}."
            )
        if not slug.replace("-", "").isalnum() or slug in slugs:
            raise PomocnikError(f"{where}: 'slug' {slug!r} musi być unikalny, z liter, cyfr i '-'.")
        kind = str(entry.get("kind") or "statute")
        if kind not in _KINDS:
            raise PomocnikError(f"{where}: 'kind' to {' albo '.join(_KINDS)}, a jest {kind!r}.")
        slugs.add(slug)
        acts.append(FollowedAct(slug=slug, eli=eli, name=str(entry["name"]).strip(), kind=kind))
    return acts


def sync(
    knowledge_dir: Path,
    acts: Sequence[FollowedAct],
    client: EliClient,
    today: date,
    max_bytes: int,
) -> SyncReport:
    """Bring the official texts of ``acts`` up to date in ``knowledge_dir``; never raises for one act."""
    knowledge_dir = Path(knowledge_dir)
    results = []
    for act in acts:
        try:
            results.append(_sync_act(knowledge_dir, act, client, today, max_bytes))
        except (EliError, InvalidDocument) as error:
            message = f"{act.name} ({act.eli}): pominięto, pliki bez zmian — {error}"
            log.warning(message)
            results.append(ActResult(act.slug, act.eli, ok=False, message=message))
    return SyncReport(results)


# ---------------------------------------------------------------- one act


def _sync_act(root: Path, act: FollowedAct, client: EliClient, today: date, max_bytes: int) -> ActResult:
    base = client.act(act.eli)
    references = client.references(act.eli)
    consolidated = newest_consolidated(parse_references(references, CONSOLIDATED_TEXTS))
    text_act = client.act(consolidated.eli) if consolidated else base
    body, suffix = client.text(text_act)
    text_path = f"{STATUTES}/{act.slug}{suffix}"
    files: dict[str, bytes] = {
        text_path: body,
        text_path + SIDECAR_ENDING: _yaml(_text_meta(act, base, text_act, consolidated is not None)),
    }
    cutoff = text_act.legal_status_date or text_act.promulgation if consolidated else None
    for amendment, effective in _amendments(client, references, cutoff):
        note = f"{NOTES}/{act.slug}-{amendment.eli.replace('/', '-')}.md"
        if not (root / note).exists():  # a note is recorded once and then left alone
            files[note] = _note(act, base, amendment, effective, today).encode("utf-8")
    with tempfile.TemporaryDirectory(prefix="pomocnik-sync-") as staging:
        _check(Path(staging), files, max_bytes)
    stale = [
        f"{STATUTES}/{act.slug}{other}{ending}"
        for other in _TEXT_SUFFIXES
        if other != suffix
        for ending in ("", SIDECAR_ENDING)
    ]
    written = _apply(root, files)
    removed = [path for path in stale if _remove(root / path)]
    notes = [path for path in written if path.startswith(NOTES)]
    where = f"{text_act.display_address or text_act.eli}"
    what = "tekst jednolity" if consolidated else "tekst aktu (brak tekstu jednolitego)"
    state = "zaktualizowano" if written or removed else "bez zmian"
    message = f"{act.name}: {what} {where} — {state}"
    if notes:
        message += f"; nowe zmiany: {len(notes)}"
    log.info(message)
    return ActResult(act.slug, act.eli, True, message, written, removed, notes)


def _amendments(
    client: EliClient, references: dict[str, Any], cutoff: date | None
) -> list[tuple[ActInfo, date | None]]:
    """Amending acts published after ``cutoff`` (all of them without one), with their effective dates."""
    found = []
    for reference in parse_references(references, AMENDING_ACTS):
        act = reference.act or client.act(reference.eli)
        published = act.promulgation or act.announcement_date
        if cutoff is not None and (published is None or published <= cutoff):
            continue
        # The entry's date is when the change takes effect; the act's own entry into force otherwise.
        found.append((act, reference.date or act.entry_into_force))
    return found


def _text_meta(act: FollowedAct, base: ActInfo, text: ActInfo, consolidated: bool) -> dict[str, Any]:
    expired = any(word in base.status.lower() for word in ("uchylony", "wygaśnięcie", "nieobowiązujący"))
    meta: dict[str, Any] = {
        "title": f"{base.title} (tekst jednolity)" if consolidated else base.title,
        "kind": act.kind,
        "status": "historical" if expired else "in_force",
        "source_url": text.isap_url if text.address else f"https://api.sejm.gov.pl/eli/acts/{text.eli}",
        "act": base.title,
        "published": text.display_address or None,
        "date": _iso(text.announcement_date or text.promulgation or text.legal_status_date),
        "effective_from": _iso(base.entry_into_force),
        "eli": base.eli,
        "consolidated_eli": text.eli if consolidated else None,
        "legal_status_date": _iso(text.legal_status_date),
        "version": "tekst jednolity z API ELI Sejmu" if consolidated else "tekst ogłoszony z API ELI Sejmu",
        "language": "pl",
    }
    return {key: value for key, value in meta.items() if value is not None}


def _note(act: FollowedAct, base: ActInfo, amendment: ActInfo, effective: date | None, today: date) -> str:
    """A change note in our own words, from the amending act's metadata only."""
    upcoming = effective is not None and effective > today
    meta = {
        "title": f"Zmiana: {amendment.title}",
        "kind": "amendment",
        "status": "upcoming" if upcoming else "in_force",
        "source_url": amendment.isap_url
        if amendment.address
        else f"https://api.sejm.gov.pl/eli/acts/{amendment.eli}",
        "act": base.title,
        "published": amendment.display_address or None,
        "date": _iso(amendment.announcement_date or amendment.promulgation),
        "effective_from": _iso(effective),
        "eli": amendment.eli,
        "changes_eli": base.eli,
        "language": "pl",
    }
    front = yaml.safe_dump(
        {k: v for k, v in meta.items() if v is not None}, allow_unicode=True, sort_keys=False
    )
    when = (
        f"Zmiany wchodzą w życie {format_date(effective)}."
        if effective
        else "Datę wejścia w życie podaje sam akt."
    )
    published = f" ({amendment.display_address})" if amendment.display_address else ""
    return (
        f"---\n{front}---\n\n## Co się zmienia\n\n"
        f"{amendment.title}{published} zmienia akt: {base.title} ({act.name}). {when}\n\n"
        f"Tekst nowelizacji jest w ISAP: {meta['source_url']}. Ta notatka powstała automatycznie "
        f"z metadanych API ELI Sejmu; o treści zmian mówi tekst nowelizacji.\n"
    )


# ---------------------------------------------------------------- files


def _check(staging: Path, files: dict[str, bytes], max_bytes: int) -> None:
    """Load every downloaded document as the build will; raises ``InvalidDocument`` if one fails."""
    for relative, data in files.items():
        path = staging / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for relative in files:
        if not relative.endswith(SIDECAR_ENDING):
            load_document(staging / relative, staging, max_bytes)


def _apply(root: Path, files: dict[str, bytes]) -> list[str]:
    """Move changed files into place, each by an atomic rename; returns those written."""
    written = []
    for relative, data in files.items():
        target = root / relative
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        written.append(relative)
    return written


def _remove(path: Path) -> bool:
    if path.is_file():
        path.unlink()
        return True
    return False


def _yaml(meta: dict[str, Any]) -> bytes:
    return yaml.safe_dump(meta, allow_unicode=True, sort_keys=False).encode("utf-8")


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
