"""Masking of personal data before any text is stored.

Social workers paste client data into questions. Whatever is written to disk
(feedback, unanswered questions) goes through ``mask_pii`` first. Numbers are
masked only when they really look like an identifier: a PESEL must pass its
checksum and an ID-card number its check digit, so amounts such as "1010 zł" or
article numbers stay readable.
"""

from __future__ import annotations

import re

PESEL_MASK = "[PESEL]"
PHONE_MASK = "[TELEFON]"
EMAIL_MASK = "[EMAIL]"
ID_CARD_MASK = "[DOWÓD]"
ACCOUNT_MASK = "[KONTO]"

_PESEL_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
_ID_CARD_WEIGHTS = (7, 3, 1, 9, 7, 3, 1, 7, 3)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# 26-digit bank account numbers (NRB/IBAN), spaced in groups of four or not.
_ACCOUNT = re.compile(r"(?<!\d)(?:PL\s?)?\d{2}(?:\s?\d{4}){6}(?!\d)")
_ELEVEN_DIGITS = re.compile(r"(?<!\d)\d{11}(?!\d)")
_ID_CARD = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{3})\s?(\d{6})(?![A-Za-z0-9])")
# Polish phone numbers: optional +48/0048, then 9 digits, grouped 3-3-3, 2-3-2-2 or not at all.
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)48[\s-]?)?"
    r"(?:\d{3}[\s-]?\d{3}[\s-]?\d{3}|\(?\d{2}\)?[\s-]?\d{3}[\s-]?\d{2}[\s-]?\d{2})"
    r"(?![\w])"
)


def is_valid_pesel(digits: str) -> bool:
    """True when ``digits`` is 11 digits with a correct PESEL check digit."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:10], _PESEL_WEIGHTS, strict=True))
    return (10 - total % 10) % 10 == int(digits[10])


def is_valid_id_card(series: str) -> bool:
    """True for a Polish ID-card number (3 letters + 6 digits) with a correct check digit."""
    series = series.upper()
    if not re.fullmatch(r"[A-Z]{3}\d{6}", series):
        return False
    values = [ord(c) - 55 for c in series[:3]] + [int(c) for c in series[3:]]
    total = sum(v * w for v, w in zip(values, _ID_CARD_WEIGHTS, strict=True) if w != 9)
    return total % 10 == values[3]


def mask_pii(text: str) -> str:
    """Return ``text`` with e-mails, account numbers, PESELs, ID cards and phones masked."""
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _ACCOUNT.sub(ACCOUNT_MASK, text)
    text = _ELEVEN_DIGITS.sub(lambda m: PESEL_MASK if is_valid_pesel(m.group()) else m.group(), text)
    text = _ID_CARD.sub(
        lambda m: ID_CARD_MASK if is_valid_id_card(m.group(1) + m.group(2)) else m.group(), text
    )
    return _PHONE.sub(PHONE_MASK, text)
