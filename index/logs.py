"""Logging set-up shared by the command lines (``python -m index``, ``python -m bot``)."""

from __future__ import annotations

import logging


def configure_logging(verbose: bool) -> None:
    """INFO with ``verbose``, else WARNING; httpx stays quiet."""
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO, and Bot API URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
