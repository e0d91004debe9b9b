"""A fake Sejm ELI API on 127.0.0.1, with fixture acts shaped like the real service's answers.

The shapes follow the official documentation and public clients (the team's notes
on the API): act details with ``ELI``, ``address``, ``displayAddress``,
``announcementDate`` (the act's own date), ``promulgation``, ``legalStatusDate``,
``textHTML``/``textPDF``, ``texts`` and inline ``references`` naming acts by
``id``; ``/references`` wrapping each act header in ``{"act": …, "date"?}``;
``text.html`` answering 200 with an empty body for a PDF-only text.

The server runs its own event loop in a thread, so synchronous code (the sync's
httpx client) can call it. Tests change ``acts``, ``references`` and ``files``
between runs and make paths fail with ``fail``.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

UPS = "DU/2004/593"
UPS_TJ = "DU/2025/1214"
UPS_OLD_TJ = "DU/2024/1283"
OLD_AMENDMENT = "DU/2024/743"
NEW_AMENDMENT = "DU/2025/1600"  # a fixture act, published after the consolidated text
CUS = "DU/2019/1818"

FONT_CANDIDATES = [
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    *Path(__file__)
    .resolve()
    .parents[2]
    .glob(".venv/lib/python3*/site-packages/matplotlib/mpl-data/fonts/ttf/DejaVuSans.ttf"),
]


def header(eli: str, **fields: Any) -> dict[str, Any]:
    """An act header (ActInfo) as the API lists it."""
    publisher, year, pos = eli.split("/")
    base = {
        "ELI": eli,
        "address": f"W{publisher}{year}{0:03d}{int(pos):04d}",
        "publisher": publisher,
        "year": int(year),
        "volume": 0,
        "pos": int(pos),
        "displayAddress": f"Dz.U. {year} poz. {pos}",
        "changeDate": f"{year}-12-01T10:27:18",
        "textPDF": True,
        "textHTML": False,
        "type": "Ustawa",
        "status": "obowiązujący",
    }
    return base | fields


def details(eli: str, **fields: Any) -> dict[str, Any]:
    """Full act details: the header plus dates, ``inForce``, ``texts`` and more."""
    return header(eli, **fields) | {
        "inForce": fields.get("inForce", "IN_FORCE"),
        "releasedBy": ["SEJM"],
        "keywords": ["pomoc społeczna"],
        "directives": [],
        "prints": [],
        "texts": [{"fileName": f"D{eli.split('/')[1]}{int(eli.split('/')[2]):04d}L.pdf", "type": "O"}],
    }


UPS_TITLE = "Ustawa z dnia 12 marca 2004 r. o pomocy społecznej"

ACTS: dict[str, dict[str, Any]] = {
    UPS: details(
        UPS,
        title=UPS_TITLE,
        address="WDU20040640593",
        volume=64,
        displayAddress="Dz.U. 2004 nr 64 poz. 593",
        announcementDate="2004-03-12",
        promulgation="2004-04-15",
        entryIntoForce="2004-05-01",
        validFrom="2004-05-01",
        references={
            "Inf. o tekście jednolitym": [{"id": UPS_OLD_TJ}, {"id": UPS_TJ}],
            "Akty zmieniające": [
                {"id": OLD_AMENDMENT, "date": "2024-06-01"},
                {"id": NEW_AMENDMENT, "date": "2026-01-01"},
            ],
        },
    ),
    UPS_TJ: details(
        UPS_TJ,
        type="Obwieszczenie",
        title=(
            "Obwieszczenie Marszałka Sejmu Rzeczypospolitej Polskiej z dnia 22 sierpnia 2025 r. "
            "w sprawie ogłoszenia jednolitego tekstu ustawy o pomocy społecznej"
        ),
        announcementDate="2025-08-22",
        promulgation="2025-09-10",
        entryIntoForce="2025-09-10",
        legalStatusDate="2025-08-22",
        references={"Tekst jednolity dla aktu": [{"id": UPS}]},
    ),
    NEW_AMENDMENT: details(
        NEW_AMENDMENT,
        title="Ustawa z dnia 10 października 2025 r. o zmianie ustawy o pomocy społecznej",
        announcementDate="2025-10-10",
        promulgation="2025-11-03",
        entryIntoForce="2026-01-01",
    ),
    CUS: details(
        CUS,
        title=(
            "Ustawa z dnia 19 lipca 2019 r. o realizowaniu usług społecznych przez centrum usług społecznych"
        ),
        announcementDate="2019-07-19",
        promulgation="2019-09-24",
        entryIntoForce="2020-01-01",
        textHTML=True,
        references={},
    ),
}

REFERENCES: dict[str, dict[str, Any]] = {
    # Unsorted on purpose, the expired text listed last (clients must not trust the order).
    UPS: {
        "Inf. o tekście jednolitym": [
            {"act": header(UPS_TJ, title=ACTS[UPS_TJ]["title"], type="Obwieszczenie")},
            {
                "act": header(
                    UPS_OLD_TJ,
                    title="Obwieszczenie … w sprawie jednolitego tekstu ustawy o pomocy społecznej",
                    type="Obwieszczenie",
                    status="wygaśnięcie aktu",
                )
            },
        ],
        "Akty zmieniające": [
            {
                "act": header(
                    OLD_AMENDMENT,
                    title=(
                        "Ustawa z dnia 26 kwietnia 2024 r. o zmianie ustawy o pomocy społecznej "
                        "oraz niektórych innych ustaw"
                    ),
                    announcementDate="2024-04-26",
                    promulgation="2024-05-20",
                ),
                "date": "2024-06-01",
            },
            {
                "act": header(
                    NEW_AMENDMENT,
                    title=ACTS[NEW_AMENDMENT]["title"],
                    announcementDate="2025-10-10",
                    promulgation="2025-11-03",
                ),
                "date": "2026-01-01",
            },
        ],
        "Akty wykonawcze": [],
    },
    CUS: {},
}

CUS_HTML = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>DU/2019/1818</title></head>
<body><h1><span class="head-type">USTAWA</span> <span class="head-date">z dnia 19 lipca 2019 r.</span>
<span class="head-title">o realizowaniu usług społecznych przez centrum usług społecznych</span></h1>
<div class="unit unit_chpt"><h3>Rozdział 1</h3><h3>Przepisy ogólne</h3></div>
<div class="unit unit_arti" data-id="arti_1"><p>Art. 1.</p><p>1. Ustawa określa zasady realizowania usług
społecznych przez centrum usług społecznych.</p><p>2. Gmina może utworzyć centrum usług społecznych.</p></div>
<div class="unit unit_arti" data-id="arti_2"><p>Art. 2.</p><p>1. Usługami społecznymi są działania z zakresu
polityki społecznej prowadzone przez gminę.</p></div></body></html>"""

# Page contents of the consolidated text, as ISAP lays it out: every page has the running
# header ("©Kancelaria Sejmu", page number, print date) and footnotes at the bottom.
UPS_PAGES: list[dict[str, list[str]]] = [
    {
        "lines": [
            "Dz.U. 2025 poz. 1214",
            "OBWIESZCZENIE",
            "MARSZAŁKA SEJMU RZECZYPOSPOLITEJ POLSKIEJ",
            "z dnia 22 sierpnia 2025 r.",
            "w sprawie ogłoszenia jednolitego tekstu ustawy o pomocy społecznej",
            "USTAWA",
            "z dnia 12 marca 2004 r.",
            "o pomocy społecznej1)",
            "Art. 1. 1. Ustawa określa:",
            "1) zadania w zakresie pomocy społecznej;",
            "2) rodzaje świadczeń z pomocy społecznej oraz zasady i tryb ich udzielania;",
            "3) organizację pomocy społecznej.",
            "2. Pomoc społeczna jest instytucją polityki społecznej państwa.",
        ],
        "footnotes": [
            "1) Niniejsza ustawa dokonuje w zakresie swojej regulacji wdrożenia dyrektyw Unii Europejskiej.",
        ],
    },
    {
        "lines": [
            "Art. 7. Pomocy społecznej udziela się osobom i rodzinom, w szczególności z powodu:",
            "1) ubóstwa;",
            "2) sieroctwa;",
            "3) bezdomności;",
            "4) bezrobocia;",
            "5) niepełnosprawności.",
            "Art. 8. 1. Prawo do świadczeń pieniężnych z pomocy społecznej przysługuje:",
            "1) osobie samotnie gospodarującej, której dochód nie przekracza kwoty",
            "1010 zł, zwanej dalej „kryterium dochodowym osoby samotnie gospodarującej”2);",
            "2) osobie w rodzinie, w której dochód na osobę nie przekracza kwoty 823 zł.",
        ],
        "footnotes": [
            "2) W brzmieniu ustalonym przez rozporządzenie Rady Ministrów, które weszło w życie",
            "z dniem 1 stycznia 2025 r.",
        ],
    },
    {
        "lines": [
            "2. Kryterium dochodowe podlega weryfikacji co 3 lata.",
            "Art. 37. 1. Zasiłek stały przysługuje pełnoletniej osobie samotnie gospodarującej,",
            "niezdolnej do pracy z powodu wieku lub całkowicie niezdolnej do pracy.",
            "2. Zasiłek stały ustala się w wysokości różnicy między kryterium dochodowym",
            "a dochodem tej osoby.",
        ],
        "footnotes": [],
    },
]


def polish_font() -> Path:
    """A TTF font with Polish letters, or skip the test."""
    for path in FONT_CANDIDATES:
        if path.exists():
            return path
    pytest.skip("no TTF font with Polish letters (DejaVuSans) found")


def isap_pdf(pages: list[dict[str, list[str]]] = UPS_PAGES) -> bytes:
    """A text PDF laid out like ISAP's consolidated texts (header, page numbers, footnotes)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.add_font("DejaVu", fname=str(polish_font()))
    for number, page in enumerate(pages, start=1):
        pdf.add_page()
        pdf.set_font("DejaVu", size=8)
        pdf.cell(0, 5, f"©Kancelaria Sejmu s. {number}/{len(pages)}", new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 5, "2025-09-12", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=11)
        for line in page["lines"]:
            pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
        if page["footnotes"]:
            pdf.set_y(-20 - 5 * len(page["footnotes"]))
            pdf.set_font("DejaVu", size=8)
            pdf.cell(0, 4, "_" * 20, new_x="LMARGIN", new_y="NEXT")
            for line in page["footnotes"]:
                pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


class FakeEliApi:
    """``with FakeEliApi() as api:`` serves ``api.base_url`` (``…/eli``) until the block ends."""

    def __init__(self) -> None:
        self.acts = copy.deepcopy(ACTS)
        self.references = copy.deepcopy(REFERENCES)
        self.files: dict[str, bytes] = {
            f"{UPS_TJ}/text.html": b"",  # PDF-only: 200 with an empty body, as the real API does
            f"{UPS_TJ}/text.pdf": isap_pdf(),
            f"{CUS}/text.html": CUS_HTML.encode("utf-8"),
            f"{CUS}/text.pdf": b"%PDF-1.7 not used",
        }
        self.requests: Counter[str] = Counter()
        self._failures: dict[str, list[int]] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/eli"

    def fail(self, path: str, status: int = 503, times: int = 1000) -> None:
        """Answer ``times`` requests of ``/eli/acts/<path>`` with HTTP ``status``."""
        self._failures[path] = [status] * times

    def __enter__(self) -> FakeEliApi:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/eli/acts/{path:.+}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # the port the OS chose

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        self.requests[path] += 1
        failures = self._failures.get(path)
        if failures:
            return web.Response(status=failures.pop(0), text="Service Unavailable")
        if path in self.files:
            kind = "application/pdf" if path.endswith(".pdf") else "text/html"
            return web.Response(body=self.files[path], content_type=kind)
        if path.endswith("/references"):
            eli = path.removesuffix("/references")
            if eli in self.references:
                return web.json_response(self.references[eli])
        elif path in self.acts:
            return web.json_response(self.acts[path])
        return web.json_response({"message": "Not found"}, status=404)
