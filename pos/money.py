"""Money as integer kopecks, and its Russian spelling (``48,58 ₽``)."""

from __future__ import annotations

import re

_RUB = re.compile(r"(\d{1,7})(?:[,.](\d{1,2}))?(?:₽|руб\.?|р\.?)?")
# Russian Excel groups thousands with a no-break space (U+00A0) or a narrow one (U+202F, as
# `format_rub` does); people type a plain or a thin space.
_GROUPING = str.maketrans("", "", " \u00a0\u202f\u2009")


def format_rub(kopecks: int) -> str:
    """``4858`` -> ``48,58 ₽``; thousands are grouped with a narrow no-break space."""
    sign = "-" if kopecks < 0 else ""
    rubles, kop = divmod(abs(kopecks), 100)
    grouped = f"{rubles:,}".replace(",", "\u202f")
    return f"{sign}{grouped},{kop:02d} ₽"


def parse_rub(text: str) -> int:
    """``"48,58"`` (or ``"48.58"``, ``"48,5"``, ``"108"``, ``"1 000,50 ₽"``) -> kopecks.

    Raises ValueError (Russian message) on anything else, a sign included.
    """
    m = _RUB.fullmatch(text.strip().translate(_GROUPING))
    if not m:
        if text.strip().startswith(("-", "−")) and _RUB.fullmatch(text.strip()[1:].translate(_GROUPING)):
            raise ValueError(f"сумма не может быть отрицательной: «{text.strip()[:40]}»")
        raise ValueError(f"сумма должна быть в рублях с копейками, например «48,58», а не «{text.strip()[:40]}»")
    return int(m[1]) * 100 + int((m[2] or "0").ljust(2, "0"))
