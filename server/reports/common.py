"""What the registers share: the month asked for, the school's month read once (roster with each student's
class on each day, the served meals not cancelled by a reversal, absences, food parcels), the basis of a
free meal (as recorded at the window, else from history), and the small helpers of their formats.

One read of a school-month (`load_month`) feeds every register of it: the табель of each class, the milk
register and the monthly report compute from the same rows, so a figure is never computed twice.
"""

from __future__ import annotations

import functools
import gc
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, cast

from sqlalchemy import Connection, Select, case, func, select
from sqlalchemy.orm import aliased

from pos.calendar import Calendar
from pos.domain import Meal, age_on, in_force, ru_date
from pos.ledger import SERVED_KINDS, EventKind
from pos.money import format_rub
from pos.policy import Policy
from server.calendar import load_calendar
from server.free_meals import FreeMeals
from server.history import ClassBook, NoPolicy, Policies, class_book, policies
from server.models import Absence, Entitlement, Event, FoodParcel, School, SchoolClass, Student
from server.office.dates import YEARS

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
MONTHS_RU = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
             "ноябрь", "декабрь")
MARKS = {Meal.BREAKFAST.value: "З", Meal.LUNCH.value: "О", Meal.SNACK.value: "П", Meal.MILK.value: "М"}
ABSENT, PARCEL, COMPENSATION, NOT_IN_CLASS = "Н", "С", "К", "—"
PARCEL_KINDS = {"parcel": "сухой паёк", "compensation": "денежная компенсация"}
PARCEL_MARKS = {"parcel": PARCEL, "compensation": COMPENSATION}
GRADE_RIGHT = ""  # the category of a meal free by the grade's own right
GRADE_RIGHT_TITLE = "Без льготной категории (бесплатно по классу обучения)"
NO_FREE_TITLE = "Без бесплатного питания"
UNKNOWN_TITLE = "Основание не определено (нет политики на учебный год)"
FORMATS = ("json", "csv", "xlsx", "pdf")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = '#,##0.00\\ "₽"'  # shown «1 234,56 ₽» by a Russian Excel
TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates"


_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_on = True


def without_gc(fn: F) -> F:
    """Runs `fn` with Python's cycle collector paused (then restores it): a school-month is ~100,000 rows of
    plain values that make no reference cycles, and the collector's passes over them cost a quarter of a
    register's time. Counted across threads, so the collector is never left off."""

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        global _gc_holders, _gc_was_on
        with _gc_lock:
            if _gc_holders == 0:
                _gc_was_on = gc.isenabled()
                gc.disable()
            _gc_holders += 1
        try:
            return fn(*args, **kwargs)
        finally:
            with _gc_lock:
                _gc_holders -= 1
                if _gc_holders == 0 and _gc_was_on:
                    gc.enable()

    return cast(F, wrapped)


class ReportError(ValueError):
    """A register asked for wrongly (month, class, format): the Russian reason, HTTP 400 / exit 2."""


class NoSchool(ReportError):
    """No such school (HTTP 404)."""


def parse_month(text: str | None) -> date:
    """The first day of a month from ``2026-12`` (or ``12.2026``); ReportError (Russian) on anything else."""
    value = (text or "").strip()[:40]
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", value) or re.fullmatch(r"(\d{1,2})\.(\d{4})", value)
    if m is None:
        raise ReportError(f"месяц: ГГГГ-ММ, например 2026-12, а не «{value}»" if value
                          else "укажите месяц: ГГГГ-ММ, например 2026-12")
    year, month = (int(m[1]), int(m[2])) if "-" in value else (int(m[2]), int(m[1]))
    if not 1 <= month <= 12:
        raise ReportError(f"месяц: номер от 1 до 12, а не {month}")
    if not YEARS[0] <= year <= YEARS[1]:
        raise ReportError(f"месяц: год от {YEARS[0]} до {YEARS[1]}")
    return date(year, month, 1)


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def month_title(month: date) -> str:
    """«декабрь 2026»."""
    return f"{MONTHS_RU[month.month - 1]} {month.year}"


def month_key(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def meal_title(meal: str) -> str:
    return Meal(meal).ru if meal in Meal._value2member_map_ else meal


def rub(kopecks: int) -> str:
    """48,58 — money in a CSV cell for a Russian Excel (the ₽ is in the column's name)."""
    return format_rub(kopecks).removesuffix(" ₽").replace("\u202f", " ")


def safe_name(text: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in text)


@dataclass(frozen=True)
class Tally:
    count: int = 0
    kopecks: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.count + other.count, self.kopecks + other.kopecks)


def add(into: dict[Any, Tally], key: Any, count: int, kopecks: int) -> None:
    into[key] = into.get(key, Tally()) + Tally(count, kopecks)


# --- the month's rows ------------------------------------------------------------------------------------

class Served(NamedTuple):
    """A served meal of the month, not cancelled by a reversal, as recorded at the window (a named tuple: a
    school-month has ~100,000 of them)."""

    id: str
    student_id: str
    day: date
    meal: str
    paid_kopecks: int
    free_kopecks: int
    budget_line: str  # "" for a paid meal
    category: str | None  # what made it free (GRADE_RIGHT for the grade's own right); None for a paid meal
    free: bool
    recorded: bool  # the basis as recorded at the window (else completed from history)


@dataclass(frozen=True)
class Parcel:
    id: int
    student_id: str
    day: date
    kind: str
    category: str
    budget_line: str
    kopecks: int
    note: str


@dataclass
class Month:
    """A school's month as the registers read it."""

    school_id: str
    school_name: str
    month: date
    end: date
    calendar: Calendar
    policies: Policies
    policy: Policy | None  # of the month's school year (None: none set)
    classes: dict[str, Any]  # id -> (id, name, grade, shift)
    students: dict[str, Any]  # id -> (id, full_name, class_id, birth_date)
    book: ClassBook
    benefits: dict[str, list[Any]]
    served: list[Served]
    absences: set[tuple[str, date]]
    parcels: list[Parcel]
    warnings: dict[str, None] = field(default_factory=dict)
    _members: dict[str, dict[str, set[date]]] | None = None
    _served_by: dict[str, list[Served]] | None = None
    _parcels_by: dict[str, list[Parcel]] | None = None
    _lines: tuple[tuple[str, str], ...] | None = None
    _served_days: frozenset[date] | None = None
    _days: tuple[date, ...] | None = None

    def members(self, class_id: str) -> dict[str, set[date]]:
        """The students in the class on some day of the month, with those days (computed once for all classes)."""
        if self._members is None:
            found: dict[str, dict[str, set[date]]] = defaultdict(dict)
            days = self.days
            whole = frozenset(days)
            for student_id in set(self.book.spans) | set(self.students):
                first, last = self.class_on(student_id, self.month), self.class_on(student_id, self.end)
                if first is not None and first == last and self.book.moves_between(student_id, self.month,
                                                                                      self.end) == 0:
                    found[first][student_id] = set(whole)
                    continue
                for d in days:
                    c = self.class_on(student_id, d)
                    if c is not None:
                        found[c].setdefault(student_id, set()).add(d)
            self._members = dict(found)
        return self._members.get(class_id, {})

    def served_of(self, student_id: str) -> list[Served]:
        if self._served_by is None:
            self._served_by = by_student(self.served)
        return self._served_by.get(student_id, [])

    def served_days(self) -> frozenset[date]:
        """The days of the month anything was served on."""
        if self._served_days is None:
            self._served_days = frozenset(s.day for s in self.served)
        return self._served_days

    def parcels_of(self, student_id: str) -> list[Parcel]:
        if self._parcels_by is None:
            self._parcels_by = by_student(self.parcels)
        return self._parcels_by.get(student_id, [])

    @property
    def days(self) -> tuple[date, ...]:
        if self._days is None:
            self._days = tuple(self.month + timedelta(days=i) for i in range((self.end - self.month).days + 1))
        return self._days

    def class_on(self, student_id: str, day: date) -> str | None:
        """The student's class on the day (history; a student without any span: the roster's class)."""
        if student_id in self.book.spans:
            return self.book.class_on(student_id, day)
        student = self.students.get(student_id)
        return student.class_id if student else None

    def budget_lines(self) -> tuple[tuple[str, str], ...]:
        """The policy's budget lines, then any other line the month's events or parcels carry."""
        if self._lines is not None:
            return self._lines
        lines = dict(self.policy.budget_lines) if self.policy else {}
        for code in sorted({s.budget_line for s in self.served if s.budget_line}
                           | {p.budget_line for p in self.parcels if p.budget_line}):
            lines.setdefault(code, code)
        self._lines = tuple(lines.items())
        return self._lines

    def category_title(self, category: str | None) -> str:
        if category is None:
            return NO_FREE_TITLE
        if category == GRADE_RIGHT:
            return GRADE_RIGHT_TITLE
        if category == "?":
            return UNKNOWN_TITLE
        if self.policy and category in self.policy.categories:
            return self.policy.categories[category]
        for year in sorted(self.policies.texts, reverse=True):
            try:
                found = self.policies.for_day(date(int(year[:4]), 9, 1))
            except (NoPolicy, ValueError):
                continue
            if category in found.categories:
                return found.categories[category]
        return category

    def category_rank(self, category: str | None) -> tuple[int, str]:
        codes = list(self.policy.categories) if self.policy else []
        if category is None:
            return (len(codes) + 3, "")
        if category == GRADE_RIGHT:
            return (len(codes) + 1, "")
        if category in codes:
            return (codes.index(category), category)
        return (len(codes) + 2, category)

    def categories_in_force(self, student_id: str, day: date) -> frozenset[str]:
        return frozenset(b.category for b in self.benefits.get(student_id, ()) if in_force(b.starts, b.ends, day))

    def warn(self, text: str) -> None:
        self.warnings[text] = None


def _school(conn: Connection, school_id: str) -> Any:
    school = conn.execute(select(School.id, School.name).where(School.id == school_id)).first()
    if school is None:
        raise NoSchool(f"школа {school_id} не найдена")
    return school


def check_class(conn: Connection, school_id: str, class_id: str | None) -> None:
    if class_id is not None and conn.execute(select(SchoolClass.id).where(
            SchoolClass.school_id == school_id, SchoolClass.id == class_id)).scalar() is None:
        raise ReportError(f"класс «{class_id[:40]}» в школе не найден")


def class_students(conn: Connection, school_id: str, class_id: str) -> set[str]:
    """The students who may have been in the class at some time: a span in it, or the roster's class."""
    from server.models import StudentClassSpan

    return set(conn.execute(select(StudentClassSpan.student_id).where(
        StudentClassSpan.school_id == school_id, StudentClassSpan.class_id == class_id)).scalars()) | set(
        conn.execute(select(Student.id).where(Student.school_id == school_id, Student.class_id == class_id)).scalars())


@without_gc
def load_month(conn: Connection, school_id: str, month: date, students: set[str] | None = None) -> Month:
    """Everything the registers of the school's month need, read once (of `students` only, when given: one
    class's табель reads its own rows, not the school's)."""
    school = _school(conn, school_id)
    end = month_end(month)
    every = policies(conn, school_id)
    try:
        policy: Policy | None = every.for_day(month)
    except NoPolicy:
        policy = None
    # A reversal cancels its serve whatever day it was made or arrived on (NOT EXISTS by the serve's id). The
    # rows come back as the fields of `Served`; only a free meal of a terminal older than the recorded basis
    # (no rule) has its category completed from history.
    reversal = aliased(Event)
    recorded = (Event.free_rule != "") | Event.budget_line.is_(None)
    served_rows = _fetch(conn, select(
               Event.id, Event.student_id, Event.local_date.label("day"), Event.meal, Event.paid_kopecks,
               Event.free_kopecks, func.coalesce(Event.budget_line, "").label("budget_line"),
               case((Event.budget_line.is_(None), None), else_=Event.free_category).label("category"),
               Event.budget_line.is_not(None).label("free"), recorded.label("recorded"))
        .where(Event.school_id == school_id, Event.local_date >= month, Event.local_date <= end,
               Event.kind.in_(SERVED_KINDS), Event.student_id.is_not(None), Event.meal.is_not(None),
               *([Event.student_id.in_(sorted(students))] if students is not None else []),
               ~select(reversal.id).where(reversal.school_id == school_id, reversal.kind == EventKind.REVERSAL,
                                          reversal.ref_event_id == Event.id).exists()),
                         cast(Callable[[Sequence[Any]], Served], functools.partial(tuple.__new__, Served)))
    benefits: dict[str, list[Any]] = defaultdict(list)
    for b in conn.execute(select(Entitlement.student_id, Entitlement.category, Entitlement.starts, Entitlement.ends)
                          .where(Entitlement.school_id == school_id, Entitlement.starts <= end,
                                 (Entitlement.ends.is_(None)) | (Entitlement.ends >= month),
                                 *([Entitlement.student_id.in_(sorted(students))] if students is not None else []))):
        benefits[b.student_id].append(b)
    data = Month(
        school_id=school_id, school_name=school.name, month=month, end=end,
        calendar=load_calendar(conn, school_id, month, end), policies=every, policy=policy,
        classes={c.id: c for c in conn.execute(select(SchoolClass.id, SchoolClass.name, SchoolClass.grade,
                                                      SchoolClass.shift).where(SchoolClass.school_id == school_id))},
        students={s.id: s for s in conn.execute(select(
            Student.id, Student.full_name, Student.class_id, Student.birth_date).where(
            Student.school_id == school_id, *([Student.id.in_(sorted(students))] if students is not None else [])))},
        book=class_book(conn, school_id, sorted(students) if students is not None else None), benefits=benefits,
        served=[],
        absences=set(conn.execute(select(Absence.student_id, Absence.day).where(
            Absence.school_id == school_id, Absence.day >= month, Absence.day <= end)).tuples()),
        parcels=[Parcel(p.id, p.student_id, p.day, p.kind, p.category, p.budget_line, p.amount_kopecks, p.note)
                 for p in conn.execute(select(FoodParcel).where(
                     FoodParcel.school_id == school_id, FoodParcel.day >= month, FoodParcel.day <= end)
                     .order_by(FoodParcel.day, FoodParcel.id))])
    basis = _Basis(data)
    data.served = [e if e.recorded else e._replace(category=basis.category(e), recorded=True) for e in served_rows]
    return data


def _fetch(conn: Connection, query: Select[Any], make: Callable[[Sequence[Any]], T]) -> list[T]:
    """The rows of `query` built by `make`. On PostgreSQL straight from psycopg's tuples, without SQLAlchemy's
    Row and result processing in between (a school-month has ~100,000 rows; the columns read must be ones
    psycopg returns as their Python values: text, integers, dates, booleans)."""
    if conn.dialect.driver == "psycopg":
        compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        raw: Any = conn.connection.driver_connection
        with raw.cursor(row_factory=lambda _cursor: make) as cursor:
            cursor.execute(str(compiled), compiled.params)
            return list(cursor.fetchall())
    return [make(row) for row in conn.execute(query)]


class _Basis:
    """What made a free meal free: the category recorded at the window, else (events of terminals older
    than that field) the day's policy applied to the student's class on the day and the benefits then."""

    def __init__(self, month: Month) -> None:
        self.month = month
        self.grants: dict[str, FreeMeals] = {}

    def category(self, e: Any) -> str:
        m = self.month
        try:
            policy = m.policies.for_day(e.day)
        except NoPolicy as exc:
            m.warn(f"{exc}: основание бесплатного питания не определено")
            return "?"
        class_id = m.class_on(e.student_id, e.day)
        cls = m.classes.get(class_id) if class_id else None
        student = m.students.get(e.student_id)
        if cls is None or student is None:
            return "?"
        grants = self.grants.setdefault(policy.id, FreeMeals(policy))
        free = grants.of(cls.grade, cls.shift, m.categories_in_force(e.student_id, e.day),
                         age_on(student.birth_date, e.day) if student.birth_date else None)
        if free is None or e.meal not in free:
            return "?"
        return free[e.meal].category


def by_student(rows: Iterable[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        out[r.student_id].append(r)
    return out


def columns(m: Month, class_id: str | None, extra: Iterable[date]) -> tuple[tuple[date, ...], tuple[date, ...]]:
    """(the register's day columns, those of them that are not school days): the school days of the month
    (of the class), and any other day something was served or issued on."""
    school = set(m.calendar.school_days(m.month, m.end, class_id))
    other = {d for d in extra if d not in school}
    return tuple(sorted(school | other)), tuple(sorted(other))


# --- formats ------------------------------------------------------------------------------------------

def render(template: str, **context: Any) -> str:
    """A register's printable HTML outside a request (CLI, API, PDF): the same template as the page's print."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters["rub"] = lambda k: "" if k is None else format_rub(int(k))
    env.filters["ru_date"] = lambda d: "" if d is None else ru_date(d)
    env.filters["meal"] = meal_title
    return env.get_template(template).render(**context)


def xlsx_text(value: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from server.tabular import excel_safe

    return str(excel_safe(ILLEGAL_CHARACTERS_RE.sub("", value)))


def print_setup(sheet: Any, *, title_rows: str, header: str, landscape: bool = True) -> None:
    """A4, fit to width, title rows repeated on every page, page numbers."""
    from openpyxl.worksheet.page import PageMargins

    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.print_title_rows = title_rows
    sheet.oddFooter.center.text = "Страница &P из &N"
    sheet.oddHeader.right.text = xlsx_text(header)


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


@dataclass(frozen=True)
class Money:
    """A money cell of a grid (kopecks): a number with the ₽ format in XLSX, «48,58» in CSV."""

    kopecks: int


@dataclass(frozen=True)
class Grid:
    """A register laid out as one table: what CSV, XLSX and the printed page (and so the PDF) all show.

    `head` is the table's header rows (repeated on each printed page); each row of `rows` is (style,
    cells) with style "group" (a title across the table), "row" or "total"; a cell is text, an int, a
    date or `Money`."""

    title: str
    lines: tuple[str, ...]  # under the title: school, class, month, totals
    head: tuple[tuple[str, ...], ...]
    rows: tuple[tuple[str, tuple[Any, ...]], ...]
    notes: tuple[str, ...] = ()
    signatures: tuple[str, ...] = ()
    landscape: bool = True
    sheet: str = "Реестр"
    widths: tuple[float, ...] = ()  # of the first columns; the rest narrow


def _csv_cell(value: Any) -> Any:
    if isinstance(value, Money):
        return rub(value.kopecks)
    if isinstance(value, date):
        return ru_date(value)
    return value


def grid_csv(g: Grid) -> str:
    """The grid as CSV for a Russian Excel (BOM, semicolons): the header lines, the table, the notes."""
    from server.tabular import csv_text

    body = [*g.head, *([_csv_cell(c) for c in cells] for _style, cells in g.rows)]
    text = csv_text([g.title], [*([line] for line in g.lines), [], *body, *([n] for n in g.notes)])
    return "\ufeff" + text


def grid_xlsx(g: Grid) -> bytes:
    """The grid as one printable A4 sheet: title, header lines, the table (its header rows repeat on every
    page), notes and signature lines; money as numbers in roubles shown «1 234,56 ₽», dates dd.mm.yyyy."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = g.sheet[:31]
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    width = max(len(h) for h in g.head)
    sheet.cell(1, 1, xlsx_text(g.title)).font = Font(bold=True, size=13)
    row = 1
    for line in g.lines:
        row += 1
        sheet.cell(row, 1, xlsx_text(line))
    row += 2
    head_top = row
    for cells in g.head:
        for col, value in enumerate(cells, 1):
            cell = sheet.cell(row, col, xlsx_text(value))
            cell.font = Font(bold=True)
            cell.border = box
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        row += 1
    sheet.print_title_rows = f"{head_top}:{row - 1}"
    for style, cells in g.rows:
        if style == "group":
            cell = sheet.cell(row, 1, xlsx_text(str(cells[0])))
            cell.font = Font(bold=True)
            sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
            row += 1
            continue
        for col, value in enumerate(cells, 1):
            if isinstance(value, Money):
                cell = sheet.cell(row, col, value.kopecks / 100)
                cell.number_format = MONEY_FORMAT
            elif isinstance(value, date):
                cell = sheet.cell(row, col, value)
                cell.number_format = "DD.MM.YYYY"
            elif isinstance(value, str):
                cell = sheet.cell(row, col, xlsx_text(value))
            else:
                cell = sheet.cell(row, col, value)
                if isinstance(value, int):
                    cell.number_format = "0"
            cell.border = box
            if style == "total":
                cell.font = Font(bold=True)
        row += 1
    row += 1
    for note in g.notes:
        sheet.cell(row, 1, xlsx_text(note)).font = Font(italic=True, size=9)
        row += 1
    for line in g.signatures:
        row += 1
        sheet.cell(row, 1, xlsx_text(line))
        row += 1
    for col in range(1, width + 1):
        known = g.widths[col - 1] if col <= len(g.widths) else 7.0
        sheet.column_dimensions[get_column_letter(col)].width = known
    print_setup(sheet, title_rows=sheet.print_title_rows, header=f"{g.title}: {g.lines[0] if g.lines else ''}",
                landscape=g.landscape)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def grid_html(g: Grid) -> str:
    """The printable page of a grid (the PDF is this HTML through WeasyPrint)."""
    return render("report_print.html", grid=g)


def money_cells(tallies: Iterable[Tally]) -> list[Any]:
    out: list[Any] = []
    for t in tallies:
        out += [t.count, Money(t.kopecks)]
    return out
