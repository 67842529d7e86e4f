"""The one reader of a day typed or sent to the office (pages, API, CLI): ``2026-12-04`` or ``04.12.2026``,
in the years a school may ask about; anything else is a Russian `OfficeError`, never an overflow further on."""

from __future__ import annotations

from datetime import date, datetime

from pos.domain import ru_date
from server.office.changes import OfficeError

YEARS = (2000, 2100)  # the days a school may ask about


def parse_day(text: str | None) -> date:
    """A day from ``2026-12-04`` or ``04.12.2026``; OfficeError (Russian) on anything else."""
    value = (text or "").strip()[:40]
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            day = datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        if not in_range(day):
            raise OfficeError(f"дата {ru_date(day)}: год от {YEARS[0]} до {YEARS[1]}")
        return day
    raise OfficeError(f"дата: ГГГГ-ММ-ДД или ДД.ММ.ГГГГ, а не «{value}»" if value else "укажите дату: ДД.ММ.ГГГГ")


def in_range(day: date) -> bool:
    return YEARS[0] <= day.year <= YEARS[1]
