"""The plain forms numbers and dates must have where text comes in (API bodies, query parameters, the CLI).

Python's own parsers are generous: ``Decimal``, ``int`` and ``float`` take other scripts' digits
(``"１２"``, ``"٣"``), underscores (``"1_000"``), spaces and exponents; ``date.fromisoformat`` takes
``"20241029"`` and ``"２０２４-10-29"``; the regex ``\\d`` matches any script's digit. None of those is
what a client meant by a number or a ``YYYY-MM-DD`` date, so the edges check the form first, here.
"""

from __future__ import annotations

import re
from datetime import date

ASCII_DIGITS = r"[0-9]+"
PLAIN_DECIMAL = r"-?[0-9]+(\.[0-9]+)?"
ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"


def is_ascii_number(text: str) -> bool:
    """True when ``text`` is one or more ASCII digits (``str.isdigit`` also admits ``²`` and ``٣``)."""
    return re.fullmatch(ASCII_DIGITS, text) is not None


def is_plain_decimal(text: str) -> bool:
    """True when ``text`` is ASCII digits with an optional ``-`` and an optional fraction (``"-12.50"``)."""
    return re.fullmatch(PLAIN_DECIMAL, text) is not None


def is_iso_date(text: str) -> bool:
    """True when ``text`` has the form ``YYYY-MM-DD`` in ASCII digits (it may still be no day, ``2024-13-01``)."""
    return re.fullmatch(ISO_DATE, text) is not None


def parse_iso_date(text: str) -> date:
    """The day ``text`` names in the form ``YYYY-MM-DD``; ``ValueError`` saying why when it names none."""
    if not is_iso_date(text):
        raise ValueError(f"{text!r} is not a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date: {exc}") from None
