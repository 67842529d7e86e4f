"""The school's settings on a terminal, typed: read from the `meta` table in one place.

Sync (from the server's pull) and the demo write them as text keys of `meta`; this module is the
only reader: booleans and week days are parsed here, and the fallbacks for a store written by an
older version live here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, delete, insert, select

from pos.calendar import DEFAULT_DEADLINE, parse_deadline
from pos.models import Meta
from pos.policy import Policy, parse_policy
from pos.schedule import DEFAULT_WINDOW_MIN, Tolerance
from pos.store import StoreError

DEFAULT_TIMEZONE = "Europe/Moscow"
DEFAULT_WEEK_DAYS = frozenset({1, 2, 3, 4, 5})  # ISO weekdays: Monday to Friday


def parse_week_days(text: str) -> frozenset[int]:
    """``"1,2,3,4,5"`` -> ISO weekdays; blanks and anything outside 1..7 are dropped."""
    days = {int(d) for d in text.split(",") if d.strip().isdigit()}
    return frozenset(d for d in days if 1 <= d <= 7)


def zone(name: str) -> ZoneInfo:
    """The school's time zone; the default for a missing or unknown name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


@dataclass(frozen=True)
class SchoolSettings:
    """The terminal's school settings."""

    terminal_id: str  # this window's id in the journal (from its sync token)
    school_id: str
    school_name: str  # on the top line of the screen
    timezone: str  # IANA name; the school's local date and clock come from it
    week_days: frozenset[int]  # ISO weekdays the school serves: 1 = Monday
    tolerance: Tolerance  # minutes a break's serving window opens early and closes late
    refuse_outside_window: bool  # refuse (not just warn) a meal outside the class's window
    policy: Policy  # the region's rules: who eats free, what it costs
    year_starts: date | None = None  # the school year (`pos.calendar`); None: not set in the office
    year_ends: date | None = None
    order_deadline: time = DEFAULT_DEADLINE  # school time on the school day before the ordered day

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    @classmethod
    def from_meta(cls, meta: Mapping[str, str]) -> SchoolSettings:
        if "policy" not in meta:
            raise StoreError("терминал не настроен: нет данных школы (выполните синхронизацию или демо)")
        school_id = meta.get("school_id", "")
        return cls(
            terminal_id=meta.get("terminal_id", "T-UNSET"),
            school_id=school_id,
            school_name=meta.get("school_name", ""),
            timezone=meta.get("timezone", DEFAULT_TIMEZONE),
            week_days=parse_week_days(meta["week_days"]) if "week_days" in meta else DEFAULT_WEEK_DAYS,
            tolerance=Tolerance(int(meta.get("window_early_min", DEFAULT_WINDOW_MIN)),
                                int(meta.get("window_late_min", DEFAULT_WINDOW_MIN))),
            refuse_outside_window=meta.get("refuse_outside_window", "0") == "1",
            policy=parse_policy(meta["policy"], f"policy:{school_id}"),
            year_starts=_day(meta.get("year_starts", "")),
            year_ends=_day(meta.get("year_ends", "")),
            order_deadline=_deadline(meta.get("order_deadline", "")),
        )


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _deadline(text: str) -> time:
    try:
        return parse_deadline(text) if text else DEFAULT_DEADLINE
    except ValueError:
        return DEFAULT_DEADLINE


def read_meta(conn: Connection) -> dict[str, str]:
    return dict(conn.execute(select(Meta.key, Meta.value)).tuples().all())


def load_settings(conn: Connection) -> SchoolSettings:
    return SchoolSettings.from_meta(read_meta(conn))


def school_meta(*, school_id: str, school_name: str, timezone: str, week_days: frozenset[int] | set[int],
                policy_text: str, tolerance: Tolerance | None = None, refuse_outside_window: bool = False,
                year_starts: date | None = None, year_ends: date | None = None, order_deadline: str = "10:00",
                ) -> dict[str, str]:
    """The `meta` keys of a school's settings, encoded as `SchoolSettings.from_meta` reads them."""
    tolerance = tolerance or Tolerance()
    return {
        "school_id": school_id, "school_name": school_name, "timezone": timezone,
        "week_days": ",".join(str(d) for d in sorted(week_days)),
        "window_early_min": str(tolerance.early_min), "window_late_min": str(tolerance.late_min),
        "refuse_outside_window": "1" if refuse_outside_window else "0", "policy": policy_text,
        "year_starts": year_starts.isoformat() if year_starts else "",
        "year_ends": year_ends.isoformat() if year_ends else "", "order_deadline": order_deadline,
    }


def write_meta(conn: Connection, values: Mapping[str, str]) -> None:
    for key, value in values.items():
        conn.execute(delete(Meta).where(Meta.key == key))
        conn.execute(insert(Meta).values(key=key, value=value))
