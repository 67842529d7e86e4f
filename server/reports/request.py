"""Next month's funding request (seed 004 п. 1.21, приложение 4): heads per category in the form's rows,
the school days of the month for primary and for grades 5–11, the basis (the commission's protocols),
signatures, and our forecast of the sums.

The rows are the form's: 1 (all benefit students) with 1.1–1.8 and the sub-rows of 1.8, then 2 (primary for
free meals) and 3 (primary for milk). `FORM_ROWS` below is the one table that maps a policy's categories to
them; a category of another region's policy without a row of its own goes to «1.9* прочие» (not in the
seed's form, marked so).

The forecast, per active student: the class on the 1st of the month (`server.history.class_book`; a student
without a class history is taken in the current class), the school days of that class in the month
(`server.calendar.load_calendar(...).school_days`, so a class's days off count), and on each of those days
the free meals of the policy of the month's school year (`server.history.policy_for`) with the entitlements
in force THAT day — a benefit starting mid-month counts from its first day only, one ending mid-month to
its last. Each free meal goes to the row of the category the policy gives it for (`FreeMeal.category`; ""
— the grade's own right — is row 2 for grades 1–4), milk to row 3; a daily cap cuts the meals in meal
order, as the terminal does. A row's heads are the students with at least one such meal in the month, its
student-days the (student, day) pairs, its sum the prices of those meals: heads × days × price where every
student eats every day at one price, per student where the price depends on age (it follows birthdays).
The days for primary and for grades 5–11 are the days on which at least one class of the level has lessons.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from pos.domain import Meal, ru_date
from pos.money import format_rub
from pos.policy import Policy
from server.calendar import load_calendar
from server.free_meals import FreeMeals
from server.history import NoPolicy, class_book, policy_for, school_year_label, school_year_of
from server.models import BenefitApplication, Entitlement, School, SchoolClass, Student
from server.office.changes import NotFound, OfficeError
from server.office.changes import today as school_today
from server.office.dates import YEARS
from server.reports.common import month_end, month_title
from server.tabular import csv_text, excel_safe

TITLE = "Заявка на финансирование бесплатного питания на следующий месяц (приложение 4)"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = '#,##0.00\\ "₽"'  # «1 234,56 ₽» in a Russian Excel
DATE_FORMAT = "DD.MM.YYYY"
PRIMARY, MILK, OTHER = "#primary", "#milk", "#other"  # buckets of meals that are not a benefit category

# The one table: the seed's row, its wording (seed 004 приложение 4), its depth (0 bold, 1 row, 2 sub-row of
# 1.8) and the policy categories it holds (codes of the shipped policies: kirovsk-2020 is the seed's own;
# nazarovo-2021 and ryazan-2024 codes of the same meaning share the row). A row's figures are its own
# categories' plus those of the rows under it (1: every category row; 1.8: its sub-rows).
FORM_ROWS: tuple[tuple[str, str, int, tuple[str, ...]], ...] = (
    ("1", "Обучающиеся, нуждающиеся в бесплатном питании, всего", 0, ()),
    ("1.1", "Обучающиеся, состоящие на учёте в противотуберкулёзном диспансере", 1, ("tb_register",)),
    ("1.2", "Обучающиеся из неполных семей, родители которых (один из родителей) погибли (погиб) при выполнении "
            "служебных обязанностей", 1, ("parent_killed_on_duty", "svo_killed")),
    ("1.3", "Усыновлённые обучающиеся", 1, ("adopted",)),
    ("1.4", "Дети с ограниченными возможностями здоровья", 1, ("ovz",)),
    ("1.5", "Обучающиеся из приёмных семей, где среднедушевой доход члена семьи не превышает 70 % от величины "
            "среднего дохода", 1, ("foster_family",)),
    ("1.6", "Обучающиеся из многодетных семей, где среднедушевой доход члена семьи не превышает 70 % от "
            "величины среднего дохода", 1, ("large_family",)),
    ("1.7", "Дети, проживающие в малоимущих семьях, где среднедушевой доход члена семьи не превышает 40 % от "
            "величины среднего дохода", 1, ("low_income",)),
    ("1.8", "Дети, находящиеся в трудной жизненной ситуации, всего, в т. ч.", 1, ("hard_life",)),
    ("1.8.1", "дети-инвалиды", 2, ("disabled",)),
    ("1.8.2", "дети, оставшиеся без попечения родителей", 2, ("orphan",)),
    ("1.8.3", "дети — жертвы вооружённых и межнациональных конфликтов, экологических и техногенных катастроф, "
              "стихийных бедствий", 2, ()),
    ("1.8.4", "дети, оказавшиеся в экстремальных условиях, дети — жертвы насилия, дети, жизнедеятельность "
              "которых объективно нарушена, дети с отклонениями в поведении", 2, ("social_danger",)),
    ("1.9*", "Прочие льготные категории политики школы (строки в форме нет)", 1, (OTHER,)),
    ("2", "Обучающиеся начальных классов для обеспечения бесплатным питанием", 0, (PRIMARY,)),
    ("3", "Обучающиеся начальных классов для обеспечения бесплатным молоком", 0, (MILK,)),
)
_MAPPED = {code: number for number, _t, _d, codes in FORM_ROWS for code in codes}


def form_row_of(category: str) -> str:
    """The form's row a policy category goes to («1.9*» for one the form has no row for)."""
    return _MAPPED.get(category, _MAPPED[OTHER])


def _children(number: str) -> list[str]:
    """The rows a row sums: itself and, for 1 and 1.8, the rows under it (1: 1.1–1.9*)."""
    if number == "1":
        return [n for n, _t, depth, _c in FORM_ROWS if depth > 0]
    return [n for n, _t, _d, _c in FORM_ROWS if n == number or n.startswith(number + ".")]


# --- months, rendering, sheets: shared by the request's kinds (request, lists, schedule) ----------------------

def parse_month(text: str | None) -> date:
    """``2027-01`` (or ``01.2027``) -> 01.01.2027; OfficeError (Russian) on anything else."""
    value = (text or "").strip()[:40]
    for fmt in ("%Y-%m", "%m.%Y"):
        try:
            month = datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        if not YEARS[0] <= month.year <= YEARS[1]:
            raise OfficeError(f"месяц {month:%m.%Y}: год от {YEARS[0]} до {YEARS[1]}")
        return month
    raise OfficeError(f"месяц: ГГГГ-ММ, например 2027-01, а не «{value}»" if value else "укажите месяц: ГГГГ-ММ")


def next_month(day: date) -> date:
    return month_end(day) + timedelta(days=1)


def default_month(conn: Connection, school_id: str) -> date:
    """The month the request is made for: the next one (it is due by the 30th of this one)."""
    return next_month(school_today(conn, school_id))


def options(args: Mapping[str, str]) -> dict[str, Any]:
    """The request's own query arguments: none."""
    return {}


def school_row(conn: Connection, school_id: str) -> Any:
    row = conn.execute(select(School.id, School.name).where(School.id == school_id)).first()
    if row is None:
        raise NotFound(f"школа {school_id} не найдена")
    return row


def the_policy(conn: Connection, school_id: str, month: date) -> Policy:
    """The policy of the month's school year; OfficeError (Russian) when the year has none."""
    try:
        return policy_for(conn, school_id, month)
    except NoPolicy as exc:
        raise OfficeError(str(exc)) from None


def find_class(classes: Mapping[str, Any], asked: str | None) -> str | None:
    """The id of a class asked by its id or its name (any case); None when none is asked; OfficeError else."""
    if not asked:
        return None
    if asked in classes:
        return asked
    found = [cid for cid, c in classes.items() if c.name.casefold() == asked.strip().casefold()]
    if not found:
        raise OfficeError(f"класса «{asked[:40]}» нет в школе")
    return found[0]


def safe_name(kind: str, school_id: str, month: date, form: str) -> str:
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in school_id)
    return f"{kind}-{safe}-{month:%Y-%m}.{form}"


def render(template: str, **context: Any) -> str:
    """A register's print template rendered outside a request (the CLI's and the API's PDF), with the filters
    the office's templates use."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(Path(__file__).parents[1] / "web" / "templates"),
                      autoescape=select_autoescape(["html"]))
    env.filters["ru_date"] = lambda d: "" if d is None else ru_date(d)
    env.filters["rub"] = lambda k: "" if k is None else format_rub(int(k))
    return env.get_template(template).render(**context)


def xlsx_text(value: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return str(excel_safe(ILLEGAL_CHARACTERS_RE.sub("", value)))


def print_setup(sheet: Any, *, landscape: bool, title_rows: str | None, header: str) -> None:
    """A4, fit to the page's width, the table's header rows repeated on every page, page numbers."""
    from openpyxl.worksheet.page import PageMargins

    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        sheet.print_title_rows = title_rows
    sheet.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    sheet.oddFooter.center.text = "Страница &P из &N"
    sheet.oddHeader.right.text = xlsx_text(header)


def workbook_bytes(book: Any) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- the request ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FormRow:
    number: str
    title: str
    depth: int
    categories: tuple[str, ...]  # the policy's titles of the categories in this row (its own, not its children's)
    heads: int
    student_days: int
    kopecks: int
    day_prices: tuple[int, ...]  # the distinct daily sums of a student in this row, ascending

    @property
    def price_text(self) -> str:
        if not self.day_prices:
            return ""
        low, high = self.day_prices[0], self.day_prices[-1]
        return format_rub(low) if low == high else f"{format_rub(low)} – {format_rub(high)}"


@dataclass(frozen=True)
class Protocol:
    number: str
    day: date | None


@dataclass(frozen=True)
class FundingRequest:
    school_id: str
    school_name: str
    month: date
    policy_id: str
    policy_source: str
    school_year: str
    rows: tuple[FormRow, ...]
    days_primary: int
    days_senior: int
    protocols: tuple[Protocol, ...]
    warnings: tuple[str, ...]

    @property
    def month_title(self) -> str:
        return month_title(self.month)

    def row(self, number: str) -> FormRow:
        return next(r for r in self.rows if r.number == number)

    @property
    def total_kopecks(self) -> int:
        return sum(self.row(n).kopecks for n in ("1", "2", "3"))

    @property
    def basis_text(self) -> str:
        if not self.protocols:
            return "решение комиссии по питанию протокол от ____________ № ______"
        return "решение комиссии по питанию: " + "; ".join(
            "протокол " + (f"от {ru_date(p.day)} " if p.day else "") + f"№ {p.number}" for p in self.protocols)


def _level_days(calendar: Any, classes: Iterable[Any], start: date, end: date) -> int:
    """Days of the month on which at least one of `classes` has lessons (the school's days without classes)."""
    listed = list(classes)
    if not listed:
        return len(calendar.school_days(start, end))
    days: set[date] = set()
    for c in listed:
        days.update(calendar.school_days(start, end, c.id))
    return len(days)


def build(conn: Connection, school_id: str, month: date, *, class_id: str | None = None) -> FundingRequest:
    """The request for `month` (its first day, or any day of it). Raises OfficeError / NotFound (Russian)."""
    if class_id:
        raise OfficeError("заявка на финансирование составляется на всю школу: класс не указывают")
    month = month.replace(day=1)
    end = month_end(month)
    school = school_row(conn, school_id)
    policy = the_policy(conn, school_id, month)
    calendar = load_calendar(conn, school_id, month, end)
    classes = {c.id: c for c in conn.execute(select(SchoolClass.id, SchoolClass.name, SchoolClass.grade,
                                                    SchoolClass.shift).where(SchoolClass.school_id == school_id))}
    students = conn.execute(select(Student.id, Student.full_name, Student.class_id, Student.birth_date).where(
        Student.school_id == school_id, Student.active.is_(True)).order_by(Student.id)).all()
    benefits: dict[str, list[Any]] = defaultdict(list)
    for b in conn.execute(select(Entitlement.id, Entitlement.student_id, Entitlement.category, Entitlement.starts,
                                 Entitlement.ends).where(
            Entitlement.school_id == school_id, Entitlement.starts <= end,
            (Entitlement.ends.is_(None)) | (Entitlement.ends >= month))):
        benefits[b.student_id].append(b)
    book = class_book(conn, school_id)
    grants = FreeMeals(policy)
    class_days: dict[str, list[date]] = {}
    # bucket (a category, PRIMARY, MILK or OTHER) -> student -> day -> kopecks
    acc: dict[str, dict[str, dict[date, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    unpriced: list[str] = []
    no_class: list[str] = []
    for s in students:
        cls = classes.get(book.class_on(s.id, month) or s.class_id)
        if cls is None:
            no_class.append(s.full_name)
            continue
        if cls.id not in class_days:
            class_days[cls.id] = calendar.school_days(month, end, cls.id)
        own = benefits.get(s.id, [])
        for day in class_days[cls.id]:
            free = grants.on(day, grade=cls.grade, shift=cls.shift, birth_date=s.birth_date, benefits=own)
            if free is None:
                unpriced.append(s.full_name)
                break
            used = 0
            for meal in Meal:
                grant = free.get(meal.value)
                if grant is None:
                    continue
                part = grant.price_kopecks
                if policy.daily_cap is not None:
                    part = max(0, min(part, policy.daily_cap - used))
                    used += part
                if meal is Meal.MILK:
                    bucket = MILK
                elif grant.category:
                    bucket = grant.category if grant.category in _MAPPED else OTHER
                else:
                    bucket = PRIMARY if cls.grade <= 4 else OTHER
                acc[bucket][s.id][day] += part
    rows = []
    for number, title, depth, codes in FORM_ROWS:
        merged: dict[tuple[str, date], int] = defaultdict(int)
        for child in _children(number):
            for bucket in _row_buckets(child, acc):
                for student_id, days in acc[bucket].items():
                    for day, kopecks in days.items():
                        merged[student_id, day] += kopecks
        own_titles = tuple(policy.categories[c] for c in policy.categories
                           if (c in codes) or (OTHER in codes and c not in _MAPPED))
        rows.append(FormRow(number, title, depth, own_titles, len({k[0] for k in merged}), len(merged),
                            sum(merged.values()), tuple(sorted(set(merged.values())))))
    warnings = []
    if unpriced:
        names = sorted(set(unpriced))
        warnings.append(f"Без даты рождения цену не определить (цены политики зависят от возраста): "
                        f"{', '.join(names[:5])}{' …' if len(names) > 5 else ''} — в прогноз не вошли.")
    if no_class:
        warnings.append(f"Класс не найден в списке классов: {', '.join(sorted(no_class)[:5])} — в прогноз не вошли.")
    granted = {b.id for bs in benefits.values() for b in bs}
    protocols = sorted({(a.protocol_no, a.decided_on) for a in conn.execute(
        select(BenefitApplication.protocol_no, BenefitApplication.decided_on, BenefitApplication.entitlement_id)
        .where(BenefitApplication.school_id == school_id, BenefitApplication.protocol_no != "",
               BenefitApplication.entitlement_id.is_not(None)))
        if a.entitlement_id in granted}, key=lambda p: (p[1] or date.min, p[0]))
    primary = [c for c in classes.values() if c.grade <= 4]
    senior = [c for c in classes.values() if c.grade >= 5]
    return FundingRequest(
        school_id=school_id, school_name=school.name, month=month, policy_id=policy.id,
        policy_source=policy.source, school_year=school_year_label(school_year_of(month)),
        rows=tuple(rows), days_primary=_level_days(calendar, primary, month, end),
        days_senior=_level_days(calendar, senior, month, end),
        protocols=tuple(Protocol(n, d) for n, d in protocols), warnings=tuple(warnings))


def _row_buckets(number: str, acc: Mapping[str, Any]) -> list[str]:
    codes = next(c for n, _t, _d, c in FORM_ROWS if n == number)
    return [b for b in acc if b in codes]


# --- formats --------------------------------------------------------------------------------------------------

def to_json(r: FundingRequest) -> dict[str, Any]:
    """JSON-ready: dates ISO, money in kopecks."""
    return {
        "kind": "request", "school_id": r.school_id, "school_name": r.school_name, "month": f"{r.month:%Y-%m}",
        "policy": r.policy_id, "school_year": r.school_year,
        "rows": [{"number": x.number, "title": x.title, "categories": list(x.categories), "heads": x.heads,
                  "student_days": x.student_days, "day_prices_kopecks": list(x.day_prices), "kopecks": x.kopecks}
                 for x in r.rows],
        "school_days": {"primary": r.days_primary, "grades_5_11": r.days_senior},
        "protocols": [{"number": p.number, "date": p.day.isoformat() if p.day else None} for p in r.protocols],
        "total_kopecks": r.total_kopecks, "warnings": list(r.warnings)}


def _rub(kopecks: int) -> str:
    return format_rub(kopecks).removesuffix(" ₽").replace("\u202f", " ")


def to_csv(r: FundingRequest) -> str:
    """CSV for a Russian Excel (BOM, semicolons): the form's rows with the forecast, then the days and basis."""
    rows: list[list[Any]] = [[x.number, x.title, x.heads, x.student_days, x.price_text.replace("\u202f", " "),
                              _rub(x.kopecks)] for x in r.rows]
    rows += [["", "Итого прогноз (1 + 2 + 3)", "", "", "", _rub(r.total_kopecks)],
             ["", "Количество учебных дней: начальные классы", r.days_primary, "", "", ""],
             ["", "Количество учебных дней: 2 и 3 ступень (5–11 классы)", r.days_senior, "", "", ""],
             ["", f"Основание: {r.basis_text}", "", "", "", ""]]
    return "\ufeff" + csv_text(["№", "Основания для предоставления льготы", "Кол-во учащихся", "Дето-дни",
                                "Цена в день, ₽", "Сумма (прогноз), ₽"], rows)


def header_lines(r: FundingRequest) -> list[str]:
    return [r.school_name,
            f"просит выделить финансирование на {r.month_title} г. для обеспечения бесплатным питанием учащихся "
            f"школы",
            f"Прогноз сумм по политике {r.policy_id} ({r.school_year} учебный год): учащиеся × учебные дни × цена"]


def to_xlsx(r: FundingRequest) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Заявка"
    box = Border(*(Side(style="thin"),) * 4)
    sheet.cell(1, 1, "Приложение 4").font = Font(italic=True, size=9)
    sheet.cell(2, 1, TITLE).font = Font(bold=True, size=12)
    row = 3
    for line in header_lines(r):
        sheet.cell(row, 1, xlsx_text(line))
        row += 1
    row += 1
    head = row
    for col, title in enumerate(["№", "Основания для предоставления льготы", "К-во уч-ся", "Дето-дни",
                                 "Цена в день", "Сумма (прогноз)"], 1):
        cell = sheet.cell(head, col, title)
        cell.font, cell.border = Font(bold=True), box
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    row = head + 1
    for x in r.rows:
        title = ("    " * x.depth) + x.title + (f" ({'; '.join(x.categories)})" if x.categories else "")
        values: list[Any] = [x.number, xlsx_text(title), x.heads, x.student_days, xlsx_text(x.price_text),
                             x.kopecks / 100]
        for col, value in enumerate(values, 1):
            cell = sheet.cell(row, col, value)
            cell.border = box
            cell.alignment = Alignment(wrap_text=col == 2, vertical="top")
            if x.depth == 0:
                cell.font = Font(bold=True)
        sheet.cell(row, 3).number_format = sheet.cell(row, 4).number_format = "0"
        sheet.cell(row, 6).number_format = MONEY_FORMAT
        row += 1
    sheet.cell(row, 2, "Итого прогноз (1 + 2 + 3)").font = Font(bold=True)
    total = sheet.cell(row, 6, r.total_kopecks / 100)
    total.number_format, total.font = MONEY_FORMAT, Font(bold=True)
    row += 2
    for line in (f"Количество учебных дней: начальные классы {r.days_primary} дн.",
                 f"2 и 3 ступень {r.days_senior} дн.", f"Основание: {r.basis_text}", *r.warnings):
        sheet.cell(row, 1, xlsx_text(line))
        row += 1
    row += 1
    sheet.cell(row, 1, "Дата: ____________")
    for line in ("Руководитель ОУ ____________________ / ____________________ /",
                 "Ответственный за организацию питания ____________________ ( ____________________ )",
                 "Тел. ____________________"):
        row += 2
        sheet.cell(row, 1, line)
    for letter, width in zip("ABCDEF", (7, 62, 10, 10, 20, 18), strict=True):
        sheet.column_dimensions[letter].width = width
    print_setup(sheet, landscape=False, title_rows=f"{head}:{head}", header=f"{r.school_name}, заявка на "
                                                                            f"{r.month_title}")
    return workbook_bytes(book)


def to_html(r: FundingRequest) -> str:
    """The printed request (the page's print view and the PDF)."""
    return render("report_request.html", data=r, header=header_lines(r))


def to_pdf(r: FundingRequest) -> bytes:
    from server.reports.pdf import to_pdf as pdf

    return pdf(to_html(r))


def file_name(r: FundingRequest, form: str) -> str:
    return safe_name("request", r.school_id, r.month, form)
