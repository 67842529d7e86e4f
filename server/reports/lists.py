"""Lists of students per benefit category (seed 004 приложение 5; seed 002 §4.7: made as of the 1st and
corrected monthly): per category a table № / ФИО / дата рождения / класс / документ-основание.

The students are those with the category's entitlement in force on the list's day (the 1st of the month
unless another day of the month is asked), in their class on that day (`server.history.class_book`; the
current class for a student without a class history). The basis of each: the documents of the application
that prove the category (those handed in, less the common ones every application carries), the
commission's protocol and the director's приказ with its date (`server.office.benefits`); for an
entitlement that came without an application (a file import), its own reason and приказ. The categories
are the policy's of the month's school year, in its order, each with its row of приложение 4
(`server.reports.request.FORM_ROWS`); a category in force but unknown to that policy is listed after them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from pos.domain import ru_date
from pos.policy import Policy, parse_policy
from server.history import NoPolicy, class_book, policy_for
from server.models import School, SchoolClass
from server.office import benefits
from server.office.changes import OfficeError
from server.office.changes import today as school_today
from server.reports.common import month_end, month_title
from server.reports.request import (
    find_class,
    form_row_of,
    print_setup,
    render,
    safe_name,
    school_row,
    workbook_bytes,
    xlsx_text,
)
from server.tabular import csv_text

TITLE = "Списки обучающихся, получающих бесплатное питание, по категориям (приложение 5)"
HEAD = ("№ п/п", "ФИО ребёнка", "Дата рождения", "Класс", "Основание")


@dataclass(frozen=True)
class ListRow:
    student_id: str
    full_name: str
    birth_date: date | None
    class_name: str
    documents: tuple[str, ...]
    protocol: str  # «протокол № 3 от 01.10.2026» or ""
    order: str  # «приказ № 01-04-9 от 01.10.2026» or ""
    reason: str  # the entitlement's own reason, where no application made it
    starts: date
    ends: date | None

    @property
    def basis(self) -> str:
        return "; ".join(p for p in (*self.documents, self.protocol or self.reason, self.order) if p)


@dataclass(frozen=True)
class CategoryList:
    code: str
    title: str
    form_row: str
    rows: tuple[ListRow, ...]


@dataclass(frozen=True)
class Lists:
    school_id: str
    school_name: str
    month: date
    day: date
    class_name: str | None
    policy_id: str
    lists: tuple[CategoryList, ...]
    warnings: tuple[str, ...]

    @property
    def month_title(self) -> str:
        return month_title(self.month)

    @property
    def count(self) -> int:
        return len({r.student_id for c in self.lists for r in c.rows})


def default_month(conn: Connection, school_id: str) -> date:
    """This month (lists are made as of its 1st)."""
    return school_today(conn, school_id).replace(day=1)


def options(args: Mapping[str, str]) -> dict[str, Any]:
    """`day`: the day of the month the lists are made for (ДД.ММ.ГГГГ or ГГГГ-ММ-ДД), the 1st by default."""
    from server.office.dates import parse_day

    text = (args.get("day") or "").strip()
    return {"day": parse_day(text)} if text else {}


def _policy(conn: Connection, school_id: str, month: date, warnings: list[str]) -> Policy:
    """The policy of the month's school year; without one, the school's current policy names the categories."""
    try:
        return policy_for(conn, school_id, month)
    except NoPolicy as exc:
        warnings.append(f"{exc}. Названия категорий — по текущей политике школы.")
    text = conn.execute(select(School.policy_text).where(School.id == school_id)).scalar_one()
    return parse_policy(text, f"policy:{school_id}")


def build(conn: Connection, school_id: str, month: date, *, class_id: str | None = None,
          day: date | None = None) -> Lists:
    """The lists as of `day` (the 1st of `month` by default; it must lie in the month), of one class when
    `class_id` is given. Raises OfficeError / NotFound (Russian)."""
    month = month.replace(day=1)
    day = day or month
    if not month <= day <= month_end(month):
        raise OfficeError(f"день списка {ru_date(day)} не в месяце {month_title(month)}")
    school = school_row(conn, school_id)
    classes = {c.id: c for c in conn.execute(select(SchoolClass.id, SchoolClass.name, SchoolClass.grade)
                                             .where(SchoolClass.school_id == school_id))}
    class_id = find_class(classes, class_id)
    warnings: list[str] = []
    policy = _policy(conn, school_id, month, warnings)
    book = class_book(conn, school_id)
    bases = benefits.application_bases(conn, school_id)
    grouped: dict[str, list[tuple[Any, ListRow]]] = {}
    for e in benefits.in_force_on(conn, school_id, day):
        cls_id = book.class_on(e.student_id, day) or e.class_id
        if class_id and cls_id != class_id:
            continue
        cls = classes.get(cls_id)
        app = bases.get(e.id)
        protocol = ""
        if app and app["protocol_no"]:
            protocol = f"протокол № {app['protocol_no']}" + (f" от {ru_date(app['decided_on'])}"
                                                             if app["decided_on"] else "")
        documents = app["documents"] if app else policy.category_documents.get(e.category, ()) if not (
            e.reason or e.order_no) else ()
        row = ListRow(e.student_id, e.full_name, e.birth_date, cls.name if cls else cls_id, tuple(documents),
                      protocol, benefits.order_text(e.order_no, e.order_date), "" if app else e.reason,
                      e.starts, e.ends)
        grouped.setdefault(e.category, []).append(((cls.grade if cls else 99, row.class_name, row.full_name), row))
    codes = list(policy.categories) + sorted(c for c in grouped if c not in policy.categories)
    lists = tuple(CategoryList(code, policy.categories.get(code, code), form_row_of(code),
                               tuple(r for _k, r in sorted(grouped.get(code, []), key=lambda kr: kr[0])))
                  for code in codes)
    return Lists(school_id, school.name, month, day, classes[class_id].name if class_id else None, policy.id,
                 lists, tuple(warnings))


# --- formats --------------------------------------------------------------------------------------------------

def to_json(data: Lists) -> dict[str, Any]:
    return {
        "kind": "lists", "school_id": data.school_id, "school_name": data.school_name, "month": f"{data.month:%Y-%m}",
        "day": data.day.isoformat(), "class_name": data.class_name, "policy": data.policy_id,
        "lists": [{"category": c.code, "title": c.title, "form_row": c.form_row, "students": [
            {"n": n, "student_id": r.student_id, "full_name": r.full_name,
             "birth_date": r.birth_date.isoformat() if r.birth_date else None, "class_name": r.class_name,
             "documents": list(r.documents), "protocol": r.protocol, "order": r.order, "basis": r.basis,
             "starts": r.starts.isoformat(), "ends": r.ends.isoformat() if r.ends else None}
            for n, r in enumerate(c.rows, 1)]} for c in data.lists],
        "warnings": list(data.warnings)}


def to_csv(data: Lists) -> str:
    rows = [[c.form_row, c.title, n, r.full_name, ru_date(r.birth_date) if r.birth_date else "", r.class_name,
             r.basis] for c in data.lists for n, r in enumerate(c.rows, 1)]
    return "\ufeff" + csv_text(["Строка заявки", "Категория", *HEAD], rows)


def header_lines(data: Lists) -> list[str]:
    where = f", класс {data.class_name}" if data.class_name else ""
    return [data.school_name, f"по состоянию на {ru_date(data.day)}{where}; всего {data.count} чел."]


def to_xlsx(data: Lists) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Списки"
    box = Border(*(Side(style="thin"),) * 4)
    sheet.cell(1, 1, "УТВЕРЖДЕН: Директор ____________________ ( ____________________ ) "
                     "Приказ от ____________ № ______")
    sheet.cell(2, 1, "Протокол заседания комиссии от ____________ № ______")
    sheet.cell(3, 1, TITLE).font = Font(bold=True, size=12)
    row = 4
    for line in header_lines(data):
        sheet.cell(row, 1, xlsx_text(line))
        row += 1
    row += 1
    head = row
    for col, title in enumerate(HEAD, 1):
        cell = sheet.cell(head, col, title)
        cell.font, cell.border = Font(bold=True), box
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    row += 1
    for c in data.lists:
        cell = sheet.cell(row, 1, xlsx_text(f"{c.form_row}. {c.title} ({len(c.rows)})"))
        cell.font = Font(bold=True)
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(HEAD))
        row += 1
        if not c.rows:
            sheet.cell(row, 2, "нет")
            row += 1
        for n, r in enumerate(c.rows, 1):
            values: list[Any] = [n, xlsx_text(r.full_name), r.birth_date, xlsx_text(r.class_name), xlsx_text(r.basis)]
            for col, value in enumerate(values, 1):
                cell = sheet.cell(row, col, value)
                cell.border = box
                cell.alignment = Alignment(wrap_text=col in (2, 5), vertical="top")
            sheet.cell(row, 1).number_format = "0"
            sheet.cell(row, 3).number_format = "DD.MM.YYYY"
            row += 1
    for line in data.warnings:
        sheet.cell(row, 1, xlsx_text(line))
        row += 1
    row += 2
    sheet.cell(row, 1, "Организатор питания ____________________ ( ____________________ )")
    sheet.cell(row + 2, 1, "Тел. ____________________")
    for letter, width in zip("ABCDE", (7, 36, 13, 8, 70), strict=True):
        sheet.column_dimensions[letter].width = width
    print_setup(sheet, landscape=True, title_rows=f"{head}:{head}",
                header=f"{data.school_name}, списки на {ru_date(data.day)}")
    return workbook_bytes(book)


def to_html(data: Lists) -> str:
    return render("report_lists.html", data=data, header=header_lines(data))


def to_pdf(data: Lists) -> bytes:
    from server.reports.pdf import to_pdf as pdf

    return pdf(to_html(data))


def file_name(data: Lists, form: str) -> str:
    return safe_name("lists", data.school_id, data.month, form)

