"""Money as integer kopecks, and its Russian spelling (``48,58 ₽``)."""

from __future__ import annotations

import re

_RUB = re.compile(r"(\d{1,7})(?:[,.](\d{2}))?")


def format_rub(kopecks: int) -> str:
    """``4858`` -> ``48,58 ₽``; thousands are grouped with a narrow no-break space."""
    sign = "-" if kopecks < 0 else ""
    rubles, kop = divmod(abs(kopecks), 100)
    grouped = f"{rubles:,}".replace(",", "\u202f")
    return f"{sign}{grouped},{kop:02d} ₽"


def parse_rub(text: str) -> int:
    """``"48,58"`` (or ``"48.58"``, ``"108"``) -> kopecks. Raises ValueError on anything else."""
    m = _RUB.fullmatch(text.strip().replace("\u202f", "").replace(" ", ""))
    if not m:
        raise ValueError(f"сумма должна быть в рублях с копейками, например «48,58», а не {text!r}")
    return int(m[1]) * 100 + int(m[2] or 0)
