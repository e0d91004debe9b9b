"""A small client of the Sejm's ELI API (https://api.sejm.gov.pl/eli) and readers of its JSON.

Shapes come from the official documentation and public clients (see
``docs/operations.md`` and the team's notes on the API), never from guesses:

- ``GET /acts/{publisher}/{year}/{pos}``: an act's details (``ELI``, ``title``,
  ``displayAddress``, ``address``, ``status``, ``inForce``, ``entryIntoForce``,
  ``announcementDate`` (the act's own date), ``promulgation`` (the journal date),
  ``legalStatusDate``, ``textHTML``, ``textPDF`` …);
- ``GET …/references``: ``{category: [{"act": {header}, "date"?, "art"?}]}``; the
  inline ``references`` of an act use ``{"id": "DU/2026/468"}`` instead. Both are read;
- ``GET …/text.html`` (answers 200 with an empty body for PDF-only acts) and ``…/text.pdf``.

Reference categories used here: "Inf. o tekście jednolitym" (on a base act: the
announcements of its consolidated texts) and "Akty zmieniające" (its amending acts;
the entry's ``date`` is when the change takes effect).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx

from index.errors import PomocnikError

log = logging.getLogger(__name__)

DEFAULT_URL = "https://api.sejm.gov.pl/eli"
CONSOLIDATED_TEXTS = "Inf. o tekście jednolitym"
AMENDING_ACTS = "Akty zmieniające"
# Older consolidated texts carry this status once a newer one is announced.
_EXPIRED_STATUSES = ("wygaśnięcie", "uchylony", "nieobowiązujący")
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class EliError(PomocnikError):
    """The ELI API could not give what was asked (after retries), or gave something unreadable."""


@dataclass(frozen=True)
class ActInfo:
    """What the sync needs of one act, read from its header or details."""

    eli: str  # "DU/2004/593"
    title: str
    display_address: str  # "Dz.U. 2025 poz. 1214"
    address: str  # "WDU20250001214", the ISAP id
    status: str  # Polish, e.g. "obowiązujący", "wygaśnięcie aktu"
    type: str  # "Ustawa", "Obwieszczenie", "Rozporządzenie" …
    announcement_date: date | None  # the act's own date ("z dnia …")
    promulgation: date | None  # when the journal published it
    entry_into_force: date | None
    legal_status_date: date | None  # a consolidated text: the legal state it shows
    text_html: bool
    text_pdf: bool

    @property
    def isap_url(self) -> str:
        """The act's page in ISAP, for people."""
        return f"https://isap.sejm.gov.pl/isap.nsf/DocDetails.xsp?id={self.address}"


@dataclass(frozen=True)
class Reference:
    """One entry of a reference category: the other act (header or bare id) and its date."""

    eli: str
    act: ActInfo | None  # None when the entry names the act by id only
    date: date | None


def parse_act(raw: Mapping[str, Any]) -> ActInfo:
    """An ``ActInfo`` from an act header or details object.

    Raises:
        EliError: the object has no ``ELI`` (or publisher/year/pos) to identify it.
    """
    eli = raw.get("ELI") or _eli_from_parts(raw)
    if not eli:
        raise EliError(f"odpowiedź API ELI bez identyfikatora aktu: {dict(raw)!r:.200}")
    return ActInfo(
        eli=str(eli),
        title=" ".join(str(raw.get("title") or "").split()),
        display_address=str(raw.get("displayAddress") or ""),
        address=str(raw.get("address") or ""),
        status=str(raw.get("status") or ""),
        type=str(raw.get("type") or ""),
        announcement_date=parse_day(raw.get("announcementDate")),
        promulgation=parse_day(raw.get("promulgation")),
        entry_into_force=parse_day(raw.get("entryIntoForce")),
        legal_status_date=parse_day(raw.get("legalStatusDate")),
        text_html=bool(raw.get("textHTML")),
        text_pdf=bool(raw.get("textPDF")),
    )


def parse_references(raw: Mapping[str, Any], category: str) -> list[Reference]:
    """The entries of one category, from ``/references`` or from an act's inline ``references``."""
    entries = raw.get(category) or []
    references = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        act = parse_act(entry["act"]) if isinstance(entry.get("act"), Mapping) else None
        eli = act.eli if act else str(entry.get("id") or "")
        if eli:
            references.append(Reference(eli=eli, act=act, date=parse_day(entry.get("date"))))
    return references


def newest_consolidated(references: list[Reference]) -> Reference | None:
    """The newest consolidated text that has not expired (the list may be unsorted)."""
    current = [r for r in references if not _expired(r)]
    pool = current or references
    return max(pool, key=lambda r: _year_pos(r.eli), default=None)


def parse_day(value: object) -> date | None:
    """A date from "2025-08-22" or "2020-01-03T10:27:18"; None when absent or unreadable."""
    if not value:
        return None
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text).date() if "T" in text else date.fromisoformat(text[:10])
    except ValueError:
        log.warning("unreadable date from the ELI API: %r", text)
        return None


def _expired(reference: Reference) -> bool:
    status = (reference.act.status if reference.act else "").lower()
    return any(word in status for word in _EXPIRED_STATUSES)


def _year_pos(eli: str) -> tuple[int, int]:
    try:
        _, year, pos = eli.split("/")
        return int(year), int(pos)
    except ValueError:
        return (0, 0)


def _eli_from_parts(raw: Mapping[str, Any]) -> str | None:
    publisher, year, pos = raw.get("publisher"), raw.get("year"), raw.get("pos")
    return f"{publisher}/{year}/{pos}" if publisher and year and pos else None


class EliClient:
    """GETs against the ELI API with a timeout and retries (``close()`` when done).

    Transport errors, timeouts, 429 and 5xx are retried with exponential backoff;
    404 and other answers are not. Every failure becomes an ``EliError`` naming the URL.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        timeout: float = 30.0,
        attempts: int = 3,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._attempts = attempts
        self._backoff = backoff
        self._sleep = sleep
        self._http = httpx.Client(
            timeout=timeout, follow_redirects=True, headers={"User-Agent": "pomocnik-sync"}
        )

    def act(self, eli: str) -> ActInfo:
        """The details of act ``eli`` ("DU/2004/593")."""
        return parse_act(self._json(f"/acts/{eli}"))

    def references(self, eli: str) -> dict[str, Any]:
        """The reference categories of act ``eli``."""
        data = self._json(f"/acts/{eli}/references")
        if not isinstance(data, dict):
            raise EliError(f"{self.base_url}/acts/{eli}/references: oczekiwano obiektu JSON")
        return data

    def text(self, act: ActInfo) -> tuple[bytes, str]:
        """The act's text and its suffix: HTML when the API has it, else PDF.

        Raises:
            EliError: neither form could be downloaded, or the PDF is not a PDF.
        """
        if act.text_html:
            body = self._get(f"/acts/{act.eli}/text.html").content
            if body.strip():  # PDF-only acts answer 200 with an empty body
                return body, ".html"
            log.info("%s: text.html is empty, taking the PDF", act.eli)
        if not act.text_pdf and not act.text_html:
            raise EliError(f"akt {act.eli} nie ma w API ELI tekstu (ani HTML, ani PDF)")
        body = self._get(f"/acts/{act.eli}/text.pdf").content
        if not body.startswith(b"%PDF"):
            raise EliError(f"{self.base_url}/acts/{act.eli}/text.pdf nie zwrócił pliku PDF")
        return body, ".pdf"

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def _json(self, path: str) -> Any:
        response = self._get(path)
        try:
            return response.json()
        except ValueError:
            raise EliError(f"{self.base_url}{path}: odpowiedź nie jest poprawnym JSON-em") from None

    def _get(self, path: str) -> httpx.Response:
        url = f"{self.base_url}{path}"
        problem = ""
        for attempt in range(1, self._attempts + 1):
            try:
                response = self._http.get(url)
            except httpx.HTTPError as error:  # timeouts, refused connections, broken bodies
                problem = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            else:
                if response.status_code == 200:
                    return response
                problem = f"HTTP {response.status_code}"
                if response.status_code not in _RETRY_STATUSES:
                    break
            if attempt < self._attempts:
                delay = self._backoff * 2 ** (attempt - 1)
                log.info("%s: %s; attempt %d/%d in %.1f s", url, problem, attempt + 1, self._attempts, delay)
                self._sleep(delay)
        raise EliError(f"nie udało się pobrać {url} ({problem})")
