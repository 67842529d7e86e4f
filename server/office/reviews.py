"""The review queue: the served-vs-ordered items and the flags on events, each resolved by the office
with a reason, a comment, who and when; filters, counts per kind and the Russian CSV/XLSX export.

The items come from `server.mismatches.items` (one place computes them). An item is keyed by
(day, subject, meal, kind), the subject being the student or, for a terminal's item, the terminal;
its fingerprint is a hash of the data that made it (its events' ids, the count, the money). A
resolution is stored against the fingerprint it was made on, append-only: a new one supersedes the
older, none is edited or deleted. An item is resolved while its latest resolution's fingerprint is
its current one; when new data changes it (another serve, a reversal, a price) it reopens.

The queue never shows a day after the school's today, and a meal of today is not yet "ordered but
not served" (the day is not over): those items appear from the next day on.
"""

from __future__ import annotations

import csv
import hashlib
import io
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, insert, select

from pos.domain import Meal
from pos.money import format_rub
from server.accounts import utcnow
from server.mismatches import KINDS as MISMATCH_KINDS
from server.mismatches import Item, items
from server.models import ReviewResolution, School
from server.rejected import safe_text
from server.reports import edit_check
from server.tabular import excel_safe

# The queue's kinds: the mismatches and flags, and the daily edit check of the claim (tabel helper).
KINDS: dict[str, str] = {**MISMATCH_KINDS, **edit_check.KINDS}

REASONS: dict[str, str] = {
    "absent": "отсутствие ученика",
    "order_error": "ошибка в заявке",
    "serving_error": "ошибка на раздаче",
    "excused": "выдано по уважительной причине",
    "other": "другое",
}
STATUSES = {"open": "открыто", "reopened": "открыто снова: данные изменились", "resolved": "решено"}
COMMENT_MAX = 2000
PERIOD_MAX_DAYS = 366
RESOLVE_MAX = 1000  # items resolved by one request
NOT_YET = "ordered_not_served"  # not judged for today: the day is not over


class ReviewError(ValueError):
    """A request about the queue that cannot be done: a Russian message and the HTTP status it means."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True, order=True)
class Key:
    day: date
    subject: str  # student id, or terminal id for a terminal's item
    meal: str  # "" for a terminal's item
    kind: str

    def as_dict(self) -> dict[str, str]:
        return {"day": self.day.isoformat(), "subject": self.subject, "meal": self.meal, "kind": self.kind}


@dataclass(frozen=True)
class Resolution:
    reason: str
    comment: str
    resolved_by: str
    resolved_at: datetime  # naive UTC
    fingerprint: str

    def as_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "reason_name": REASONS.get(self.reason, self.reason), "comment": self.comment,
                "resolved_by": self.resolved_by, "resolved_at": self.resolved_at.replace(tzinfo=UTC).isoformat(),
                "fingerprint": self.fingerprint}


@dataclass
class Entry:
    """An item of the queue with its key, fingerprint and latest resolution."""

    item: Item
    key: Key
    fingerprint: str
    resolution: Resolution | None = None

    @property
    def status(self) -> str:
        if self.resolution is None:
            return "open"
        return "resolved" if self.resolution.fingerprint == self.fingerprint else "reopened"

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"

    def as_dict(self) -> dict[str, Any]:
        it = self.item
        return {"key": self.key.as_dict(), "day": it.day, "class_id": it.class_id, "class_name": it.class_name,
                "student_id": it.student_id, "student_name": it.student_name, "terminal_id": it.terminal_id,
                "meal": it.meal, "kind": str(it.kind), "kind_name": KINDS[it.kind], "count": it.count,
                "kopecks": it.kopecks, "money": format_rub(it.kopecks), "event_ids": it.event_ids,
                "fingerprint": self.fingerprint, "status": self.status,
                "resolution": self.resolution.as_dict() if self.resolution else None}


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    class_id: str | None = None
    kinds: frozenset[str] | None = None  # None: every kind
    status: str = "open"  # open (open and reopened) | resolved | all

    def check(self) -> None:
        if self.end < self.start or (self.end - self.start).days >= PERIOD_MAX_DAYS:
            raise ReviewError(f"период: начало не позже конца и не длиннее {PERIOD_MAX_DAYS} дней")
        if self.status not in ("open", "resolved", "all"):
            raise ReviewError("состояние: open, resolved или all")
        if self.kinds is not None and (unknown := self.kinds - KINDS.keys()):
            raise ReviewError(f"неизвестный вид расхождения: {', '.join(sorted(unknown))}; "
                              f"допустимо: {', '.join(KINDS)}")


@dataclass
class Queue:
    school_id: str
    timezone: str
    today: date
    filters: Filters
    entries: list[Entry] = field(default_factory=list)  # those of the status asked for
    every: list[Entry] = field(default_factory=list)  # of any status: what the counts count

    def counts(self) -> dict[str, dict[str, int]]:
        """Per kind: open items, resolved items and the money at stake in the open ones (for a dashboard),
        whatever the status filter."""
        out = {str(k): {"open": 0, "resolved": 0, "open_kopecks": 0} for k in KINDS}
        for e in self.every:
            row = out[str(e.item.kind)]
            if e.is_open:
                row["open"] += 1
                row["open_kopecks"] += e.item.kopecks
            else:
                row["resolved"] += 1
        return out

    def as_dict(self) -> dict[str, Any]:
        f = self.filters
        return {"school_id": self.school_id, "today": self.today.isoformat(), "from": f.start.isoformat(),
                "to": f.end.isoformat(), "status": f.status, "kinds": {str(k): v for k, v in KINDS.items()},
                "reasons": REASONS, "counts": self.counts(), "items": [e.as_dict() for e in self.entries]}


def fingerprint(item: Item) -> str:
    """A hash of what made the item: its events (never edited once stored), the count and the money."""
    data = f"{item.count}|{item.kopecks}|{','.join(sorted(item.event_ids))}"
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def key_of(item: Item) -> Key:
    return Key(date.fromisoformat(item.day), item.subject, item.meal, str(item.kind))


def school_today(conn: Connection, school_id: str) -> tuple[date, str]:
    """The school's today in its own time zone, and the zone; ReviewError 404 for no such school."""
    tz = conn.execute(select(School.timezone).where(School.id == school_id)).scalar()
    if tz is None:
        raise ReviewError(f"школа {school_id} не найдена", 404)
    return datetime.now(ZoneInfo(tz)).date(), tz


def _entries(conn: Connection, school_id: str, start: date, end: date, today: date) -> list[Entry]:
    """Every item of the days start..end up to today, with its latest resolution."""
    end = min(end, today)
    if end < start:
        return []
    found = [i for i in items(conn, school_id, start, end) if not (i.kind == NOT_YET and i.day == today.isoformat())]
    found += edit_check.items(conn, school_id, start, end, today)
    latest: dict[Key, Resolution] = {}
    for r in conn.execute(select(ReviewResolution).where(
            ReviewResolution.school_id == school_id, ReviewResolution.day >= start, ReviewResolution.day <= end)
            .order_by(ReviewResolution.id)):
        latest[Key(r.day, r.subject, r.meal, r.kind)] = Resolution(r.reason, r.comment, r.resolved_by,
                                                                   r.resolved_at, r.fingerprint)
    out = []
    for item in found:
        key = key_of(item)
        out.append(Entry(item, key, fingerprint(item), latest.get(key)))
    return out


def queue(conn: Connection, school_id: str, filters: Filters, *, today: date | None = None) -> Queue:
    """The school's queue for the filters, by day, class and student."""
    filters.check()
    school_day, tz = school_today(conn, school_id)
    today = today or school_day
    every = sorted((e for e in _entries(conn, school_id, filters.start, filters.end, today)
                    if (filters.class_id is None or e.item.class_id == filters.class_id)
                    and (filters.kinds is None or e.item.kind in filters.kinds)),
                   key=lambda e: (e.key.day, e.item.class_name, e.item.student_name, e.key))
    entries = [e for e in every if filters.status == "all" or (filters.status == "open") == e.is_open]
    return Queue(school_id, tz, today, filters, entries, every)


COUNTS_TTL_S = 60.0  # the longest «Сегодня» shows open items unchanged
_counts_lock = threading.Lock()


def dashboard_counts(conn: Connection, school_id: str, kept_counts: dict[str, Any]
                     ) -> tuple[date, date, dict[str, dict[str, int]]]:
    """The default period's open items per kind, for «Сегодня»: the queue of a month takes seconds to
    compute, so its counts are kept (in `kept_counts`, the app's) until the school's data (its rev:
    events, orders, benefits, prices) or its resolutions change, and at most `COUNTS_TTL_S`."""
    day, _tz = school_today(conn, school_id)
    start, end = default_period(day)
    rev = conn.execute(select(School.rev).where(School.id == school_id)).scalar()
    last = conn.execute(select(func.max(ReviewResolution.id)).where(ReviewResolution.school_id == school_id)).scalar()
    key = (day, rev, last)
    with _counts_lock:
        kept = kept_counts.get(school_id)
    if kept is not None and kept[0] == key and time.monotonic() - kept[1] < COUNTS_TTL_S:
        return start, end, kept[2]
    counts = queue(conn, school_id, Filters(start, end), today=day).counts()
    with _counts_lock:
        kept_counts[school_id] = (key, time.monotonic(), counts)
    return start, end, counts


def resolve(conn: Connection, school_id: str, picks: Sequence[tuple[Key, str | None]], *, reason: str,
            comment: str, who: str, today: date | None = None, now: datetime | None = None) -> list[Entry]:
    """Resolve items (key, the fingerprint the user saw or None for the current one) with one reason
    and comment: all or none. Refused when an item is gone or changed since it was shown."""
    if reason not in REASONS:
        raise ReviewError(f"причина: одна из {', '.join(f'{k} ({v})' for k, v in REASONS.items())}")
    comment = safe_text(comment.strip(), COMMENT_MAX)
    if reason == "other" and not comment:
        raise ReviewError("для причины «другое» нужен комментарий")
    if not picks:
        raise ReviewError("не выбрано ни одного расхождения")
    if len(picks) > RESOLVE_MAX:
        raise ReviewError(f"за один раз можно решить не больше {RESOLVE_MAX} расхождений")
    school_day, _tz = school_today(conn, school_id)
    days = [key.day for key, _ in picks]
    if (max(days) - min(days)).days >= PERIOD_MAX_DAYS:  # the items of the span are computed to check them
        raise ReviewError(f"за один раз — расхождения не более чем {PERIOD_MAX_DAYS} дней")
    current = {e.key: e for e in _entries(conn, school_id, min(days), max(days), today or school_day)}
    chosen = []
    for key, seen in dict(picks).items():  # an item picked twice is resolved once
        entry = current.get(key)
        if entry is None:
            raise ReviewError(f"расхождение {_describe(key)} не найдено: его уже нет или день ещё не наступил", 404)
        if seen is not None and seen != entry.fingerprint:
            raise ReviewError(f"расхождение {_describe(key)} изменилось после показа: обновите список", 409)
        chosen.append(entry)
    if not comment and any(e.key.kind in edit_check.KINDS for e in chosen):
        raise ReviewError("для проверки заявленного питания нужен комментарий: что произошло в этот день")
    at = now or utcnow()
    conn.execute(insert(ReviewResolution), [
        {"school_id": school_id, "day": e.key.day, "subject": e.key.subject, "meal": e.key.meal, "kind": e.key.kind,
         "fingerprint": e.fingerprint, "reason": reason, "comment": comment, "resolved_by": who[:64],
         "resolved_at": at} for e in chosen])
    for e in chosen:
        e.resolution = Resolution(reason, comment, who[:64], at, e.fingerprint)
    return chosen


def history(conn: Connection, school_id: str, key: Key) -> list[Resolution]:
    """Every resolution of an item, oldest first (the last is in force)."""
    rows = conn.execute(select(ReviewResolution).where(
        ReviewResolution.school_id == school_id, ReviewResolution.day == key.day,
        ReviewResolution.subject == key.subject, ReviewResolution.meal == key.meal,
        ReviewResolution.kind == key.kind).order_by(ReviewResolution.id))
    return [Resolution(r.reason, r.comment, r.resolved_by, r.resolved_at, r.fingerprint) for r in rows]


def histories(conn: Connection, school_id: str, start: date, end: date) -> dict[Key, list[Resolution]]:
    """Every resolution of the items of days start..end, per item, oldest first (the last is in force)."""
    out: dict[Key, list[Resolution]] = {}
    for r in conn.execute(select(ReviewResolution).where(
            ReviewResolution.school_id == school_id, ReviewResolution.day >= start, ReviewResolution.day <= end)
            .order_by(ReviewResolution.id)):
        out.setdefault(Key(r.day, r.subject, r.meal, r.kind), []).append(
            Resolution(r.reason, r.comment, r.resolved_by, r.resolved_at, r.fingerprint))
    return out


def _describe(key: Key) -> str:
    return f"«{KINDS.get(key.kind, key.kind[:40])}» за {key.day:%d.%m.%Y} ({key.subject[:64]})"


# -- export ------------------------------------------------------------------------------------------

HEADERS = ("Дата", "Класс", "Код", "Ученик или терминал", "Приём пищи", "Расхождение", "Количество", "Сумма",
           "Состояние", "Причина", "Комментарий", "Кто решил", "Когда решено")
def meal_name(meal: str) -> str:
    return Meal(meal).ru if meal in Meal._value2member_map_ else meal


def _rows(q: Queue) -> Iterable[tuple[date, list[Any], int, datetime | None]]:
    """(day, text cells, kopecks, resolved at in school time) per entry; cells in HEADERS order but for
    the date, the money and the time, which each format writes its own way."""
    tz = ZoneInfo(q.timezone)
    for e in q.entries:
        it, r = e.item, e.resolution
        at = r.resolved_at.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None) if r else None
        cells = [it.class_name, it.subject, it.student_name, meal_name(it.meal), KINDS[it.kind], it.count,
                 STATUSES[e.status], REASONS.get(r.reason, r.reason) if r else "", r.comment if r else "",
                 r.resolved_by if r else ""]
        yield e.key.day, cells, it.kopecks, at


def to_csv(q: Queue) -> str:
    """The queue as CSV for a Russian Excel: semicolons, dd.mm.yyyy, «48,58 ₽», a BOM for the encoding."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    for day, cells, kopecks, at in _rows(q):
        text = [excel_safe(c) if isinstance(c, str) else c for c in cells]
        writer.writerow([day.strftime("%d.%m.%Y"), *text[:5], text[5], format_rub(kopecks), *text[6:],
                         at.strftime("%d.%m.%Y %H:%M") if at else ""])
    return "\ufeff" + out.getvalue()


def to_xlsx(q: Queue) -> bytes:
    """The queue as an XLSX sheet: real dates and money (shown dd.mm.yyyy and «48,58 ₽»), so sums work."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Сверка"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for day, cells, kopecks, at in _rows(q):
        text = [excel_safe(ILLEGAL_CHARACTERS_RE.sub("", c)) if isinstance(c, str) else c for c in cells]
        sheet.append([day, *text[:5], text[5], kopecks / 100, *text[6:], at])
        row = sheet.max_row
        sheet.cell(row, 1).number_format = "DD.MM.YYYY"
        sheet.cell(row, 8).number_format = '#,##0.00\\ "₽"'
        sheet.cell(row, 13).number_format = "DD.MM.YYYY HH:MM"
    for letter, width in zip("ABCDEFGHIJKLM", (11, 7, 12, 30, 10, 36, 11, 12, 30, 30, 40, 16, 17), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def default_period(today: date) -> tuple[date, date]:
    """The last 31 days up to today: what the queue shows when no period is asked for."""
    return today - timedelta(days=30), today
