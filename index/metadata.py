"""Validate a document's metadata (front matter or sidecar) and compute its status.

Authors write metadata by hand, so every problem is reported as an
``InvalidDocument`` naming the file and the field, never as a bare KeyError.
Reasons are in Polish, for the maintainers; field names and values stay as written.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from index.errors import InvalidDocument
from index.records import KINDS, PROPOSED_STATUSES, STATUSES, DocumentMeta, Status

REQUIRED_FIELDS = ("title", "kind", "status", "source_url", "date")
DATE_FIELDS = ("date", "effective_from", "effective_to")
TEXT_FIELDS = ("act", "published", "language")
KNOWN_FIELDS = frozenset(REQUIRED_FIELDS + DATE_FIELDS + TEXT_FIELDS)


def parse_meta(raw: dict[str, Any], path: Path | str) -> DocumentMeta:
    """Build a ``DocumentMeta`` from parsed YAML.

    Required: ``title``, ``kind`` (one of ``KINDS``), ``status`` (one of
    ``STATUSES``), ``source_url`` and ``date`` (the document's own date, or for
    a summary the legal state it describes: every citation shows a date).
    Dates may be YAML dates or ISO strings.
    Unknown keys (``place``, ``speakers`` …) are kept in ``extra`` as strings.

    Raises:
        InvalidDocument: a required field is missing or empty, a value is not
            allowed, or a date cannot be read; the reason names the field.
    """
    if not isinstance(raw, dict):
        raise InvalidDocument(
            path, f"metadane muszą być polami w postaci 'pole: wartość', a są typu {type(raw).__name__}"
        )
    for name in REQUIRED_FIELDS:
        value = raw.get(name)
        if value is None or not str(value).strip():
            raise InvalidDocument(path, f"brak wymaganego pola metadanych '{name}'")
    kind = str(raw["kind"]).strip()
    if kind not in KINDS:
        raise InvalidDocument(
            path, f"pole 'kind' ma niedozwoloną wartość {kind!r} (dozwolone: {', '.join(KINDS)})"
        )
    status = str(raw["status"]).strip()
    if status not in STATUSES:
        raise InvalidDocument(
            path, f"pole 'status' ma niedozwoloną wartość {status!r} (dozwolone: {', '.join(STATUSES)})"
        )
    dates = {name: _parse_date(raw.get(name), name, path) for name in DATE_FIELDS}
    start, end = dates["effective_from"], dates["effective_to"]
    if start and end and start > end:
        raise InvalidDocument(
            path, f"data w polu 'effective_from' ({start}) jest późniejsza niż w 'effective_to' ({end})"
        )
    texts = {name: _optional_text(raw.get(name)) for name in TEXT_FIELDS}
    extra = {
        str(key): text
        for key, value in raw.items()
        if str(key) not in KNOWN_FIELDS and (text := _optional_text(value)) is not None
    }
    return DocumentMeta(
        title=str(raw["title"]).strip(),
        kind=kind,  # checked against KINDS above
        status=status,  # checked against STATUSES above
        source_url=str(raw["source_url"]).strip(),
        act=texts["act"],
        published=texts["published"],
        date=dates["date"],
        effective_from=start,
        effective_to=end,
        language=texts["language"] or "pl",
        extra=extra,
    )


def effective_status(meta: DocumentMeta, today: date) -> Status:
    """The status of ``meta`` on ``today``.

    Drafts and announcements keep their declared status. Otherwise, when
    ``effective_from`` or ``effective_to`` is given, the dates decide:
    before ``effective_from`` → "upcoming", after ``effective_to`` (its last
    day) → "historical", else "in_force". A document declared "historical"
    without an end date stays historical: its author knows it was superseded.
    """
    # A draft stays a draft until someone files the enacted text as a new document.
    if meta.status in PROPOSED_STATUSES:
        return meta.status
    if meta.effective_from is None and meta.effective_to is None:
        return meta.status
    if meta.effective_to is not None and today > meta.effective_to:
        return "historical"
    if meta.effective_from is not None and today < meta.effective_from:
        return "upcoming"
    if meta.status == "historical" and meta.effective_to is None:
        return "historical"
    return "in_force"


def format_date(day: date) -> str:
    """A date as Polish documents write it: day without a leading zero, "1.01.2025"."""
    return f"{day.day}.{day.month:02d}.{day.year}"


def _parse_date(value: Any, name: str, path: Path | str) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidDocument(
            path, f"pole '{name}' nie zawiera daty w formacie RRRR-MM-DD (np. 2025-01-31): {value!r}"
        ) from None


def _optional_text(value: Any) -> str | None:
    """Metadata values as display strings: lists joined, dates in ISO form."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        text = ", ".join(str(item).strip() for item in value if item is not None)
    elif isinstance(value, (date, datetime)):
        text = value.isoformat()
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    text = text.strip()
    return text or None
