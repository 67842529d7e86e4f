"""The canteen schedule (информация о графике питания, seed 004 приложение 6): counts of classes and
students, of them primary, the benefit students of grades 5–11, the dining hall's seats, the breaks with
their times and minutes, and per time slot the meal, the classes and the head count.

Counted on the 1st of the month: active students in their class that day (`server.history.class_book`,
the current class without a class history); a class counts when it has students. Benefit students of
5–11: distinct students of grades 5–11 with an entitlement in force that day. The head count of a slot is
the number of students of the classes that eat the meal at that break (the class sizes, as seed 002's
schedule gives them). The seats are not stored by the school: the page and the CLI take them as an
argument (`seats`), else the form shows «—».
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from pos.domain import Meal, ru_date
from server.history import class_book
from server.models import Break, Entitlement, MealSlot, SchoolClass, Student
from server.office.changes import OfficeError
from server.office.changes import today as school_today
from server.reports.common import month_title
from server.reports.request import (
    find_class,
    print_setup,
    render,
    safe_name,
    school_row,
    workbook_bytes,
    xlsx_text,
)
from server.tabular import csv_text

TITLE = "Информация о графике питания школьников (приложение 6)"
SEATS_MAX = 100_000


@dataclass(frozen=True)
class BreakRow:
    shift: int
    number: int
    starts: str
    ends: str

    @property
    def minutes(self) -> int | None:
        try:
            h1, m1 = map(int, self.starts.split(":"))
            h2, m2 = map(int, self.ends.split(":"))
        except ValueError:
            return None
        return (h2 * 60 + m2) - (h1 * 60 + m1)

    @property
    def text(self) -> str:
        minutes = self.minutes
        return f"с {self.starts} по {self.ends}" + (f" ({minutes} мин)" if minutes is not None else "")


@dataclass(frozen=True)
class Slot:
    shift: int
    break_no: int
    starts: str
    ends: str
    meal: str
    classes: tuple[str, ...]
    heads: int

    @property
    def time(self) -> str:
        return f"с {self.starts} по {self.ends}" if self.starts else f"{self.break_no} перемена (время не задано)"

    @property
    def meal_title(self) -> str:
        return Meal(self.meal).ru if self.meal in Meal._value2member_map_ else self.meal


@dataclass(frozen=True)
class Schedule:
    school_id: str
    school_name: str
    month: date
    day: date
    classes: int
    students: int
    primary_classes: int
    primary_students: int
    benefit_senior: int
    seats: int | None
    breaks: tuple[BreakRow, ...]
    slots: tuple[Slot, ...]
    class_name: str | None

    @property
    def month_title(self) -> str:
        return month_title(self.month)

    @property
    def seats_text(self) -> str:
        return "—" if self.seats is None else str(self.seats)

    @property
    def shifts(self) -> tuple[int, ...]:
        return tuple(sorted({b.shift for b in self.breaks} | {s.shift for s in self.slots}))


def default_month(conn: Connection, school_id: str) -> date:
    return school_today(conn, school_id).replace(day=1)


def options(args: Mapping[str, str]) -> dict[str, Any]:
    """`seats`: the dining hall's seats (a whole number), not kept by the school."""
    text = (args.get("seats") or "").strip()[:20]
    if not text:
        return {}
    if not text.isdigit() or not 0 < int(text) <= SEATS_MAX:
        raise OfficeError(f"посадочных мест: целое число от 1 до {SEATS_MAX}, а не «{text}»")
    return {"seats": int(text)}


def build(conn: Connection, school_id: str, month: date, *, class_id: str | None = None,
          seats: int | None = None) -> Schedule:
    """The schedule as of the 1st of `month` (of one class's slots when `class_id` is given; the counts stay
    the school's). Raises OfficeError / NotFound (Russian)."""
    month = month.replace(day=1)
    school = school_row(conn, school_id)
    classes = {c.id: c for c in conn.execute(select(SchoolClass.id, SchoolClass.name, SchoolClass.grade)
                                             .where(SchoolClass.school_id == school_id))}
    class_id = find_class(classes, class_id)
    book = class_book(conn, school_id)
    size: dict[str, int] = {}
    class_of: dict[str, str] = {}
    for s in conn.execute(select(Student.id, Student.class_id).where(Student.school_id == school_id,
                                                                     Student.active.is_(True))):
        cls = book.class_on(s.id, month) or s.class_id
        class_of[s.id] = cls
        size[cls] = size.get(cls, 0) + 1
    known = {c: n for c, n in size.items() if c in classes}
    entitled = {e.student_id for e in conn.execute(select(Entitlement.student_id).where(
        Entitlement.school_id == school_id, Entitlement.starts <= month,
        (Entitlement.ends.is_(None)) | (Entitlement.ends >= month)))}
    benefit_senior = sum(1 for s in entitled if s in class_of and class_of[s] in classes
                         and classes[class_of[s]].grade >= 5)
    breaks = {(b.shift, b.number): BreakRow(b.shift, b.number, b.starts, b.ends) for b in conn.execute(
        select(Break.shift, Break.number, Break.starts, Break.ends).where(Break.school_id == school_id))}
    grouped: dict[tuple[int, int, str], list[str]] = {}
    for m in conn.execute(select(MealSlot.class_id, MealSlot.meal, MealSlot.shift, MealSlot.break_no).where(
            MealSlot.school_id == school_id)):
        if m.class_id in classes and (not class_id or m.class_id == class_id):
            grouped.setdefault((m.shift, m.break_no, m.meal), []).append(m.class_id)
    meal_rank = {m.value: n for n, m in enumerate(Meal)}
    slots = []
    for (shift, number, meal), ids in sorted(grouped.items(), key=lambda kv: (
            kv[0][0], breaks[kv[0][:2]].starts if kv[0][:2] in breaks else "99", kv[0][1], meal_rank.get(kv[0][2], 9))):
        ids.sort(key=lambda c: (classes[c].grade, classes[c].name))
        b = breaks.get((shift, number))
        slots.append(Slot(shift, number, b.starts if b else "", b.ends if b else "", meal,
                          tuple(classes[c].name for c in ids), sum(known.get(c, 0) for c in ids)))
    primary = {c: n for c, n in known.items() if classes[c].grade <= 4}
    return Schedule(
        school_id=school_id, school_name=school.name, month=month, day=month, classes=len(known),
        students=sum(known.values()), primary_classes=len(primary), primary_students=sum(primary.values()),
        benefit_senior=benefit_senior, seats=seats, breaks=tuple(breaks[k] for k in sorted(breaks)),
        slots=tuple(slots), class_name=classes[class_id].name if class_id else None)


# --- formats --------------------------------------------------------------------------------------------------

def to_json(s: Schedule) -> dict[str, Any]:
    return {
        "kind": "schedule", "school_id": s.school_id, "school_name": s.school_name, "month": f"{s.month:%Y-%m}",
        "day": s.day.isoformat(), "class_name": s.class_name,
        "classes": s.classes, "students": s.students, "primary_classes": s.primary_classes,
        "primary_students": s.primary_students, "benefit_students_5_11": s.benefit_senior, "seats": s.seats,
        "breaks": [{"shift": b.shift, "number": b.number, "starts": b.starts, "ends": b.ends, "minutes": b.minutes}
                   for b in s.breaks],
        "slots": [{"shift": x.shift, "break_no": x.break_no, "starts": x.starts, "ends": x.ends, "meal": x.meal,
                   "classes": list(x.classes), "heads": x.heads} for x in s.slots]}


def summary(s: Schedule) -> list[tuple[str, str]]:
    """The form's upper table: (label, value)."""
    return [("К-во обучающихся", f"{s.classes} классов / {s.students} учащихся"),
            ("В т. ч. нач. школа", f"{s.primary_classes} классов / {s.primary_students} учащихся"),
            ("К-во льготников в 5–11 классах", f"{s.benefit_senior} чел."),
            ("К-во посадочных мест в обеденном зале", f"{s.seats_text} мест" if s.seats else "—"),
            *[(f"Перемены, {shift} смена", "; ".join(f"{b.number}. {b.text}" for b in s.breaks if b.shift == shift))
              for shift in sorted({b.shift for b in s.breaks})]]


def to_csv(s: Schedule) -> str:
    text = csv_text(["Показатель", "Значение"], summary(s))
    text += "\r\n" + csv_text(["Смена", "Перемена", "Время", "Вид питания", "Классы", "К-во детей"], [
        [x.shift, x.break_no, x.time, x.meal_title, ", ".join(x.classes), x.heads] for x in s.slots])
    return "\ufeff" + text


def header_lines(s: Schedule) -> list[str]:
    where = f"; слоты класса {s.class_name}" if s.class_name else ""
    return [s.school_name, f"по состоянию на {ru_date(s.day)}{where}"]


def to_xlsx(s: Schedule) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "График питания"
    box = Border(*(Side(style="thin"),) * 4)
    sheet.cell(1, 1, TITLE).font = Font(bold=True, size=12)
    row = 2
    for line in header_lines(s):
        sheet.cell(row, 1, xlsx_text(line))
        row += 1
    row += 1
    for label, value in summary(s):
        for col, v in ((1, label), (2, value)):
            cell = sheet.cell(row, col, xlsx_text(v))
            cell.border = box
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.merge_cells(start_row=row, start_column=2, end_row=row, end_column=4)
        row += 1
    row += 1
    sheet.cell(row, 1, "График питания:").font = Font(bold=True)
    row += 1
    head = row
    for col, title in enumerate(("Время", "Вид питания", "Классы (или категории детей)", "К-во детей"), 1):
        cell = sheet.cell(row, col, title)
        cell.font, cell.border = Font(bold=True), box
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    row += 1
    for x in s.slots:
        values: list[Any] = [xlsx_text(f"{x.shift} смена: {x.time}"), xlsx_text(x.meal_title),
                             xlsx_text(", ".join(x.classes)), x.heads]
        for col, value in enumerate(values, 1):
            cell = sheet.cell(row, col, value)
            cell.border = box
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.cell(row, 4).number_format = "0"
        row += 1
    row += 2
    sheet.cell(row, 1, "Директор школы ____________________ ( ____________________ )")
    for letter, width in zip("ABCD", (38, 14, 40, 12), strict=True):
        sheet.column_dimensions[letter].width = width
    print_setup(sheet, landscape=False, title_rows=f"{head}:{head}",
                header=f"{s.school_name}, график питания на {ru_date(s.day)}")
    return workbook_bytes(book)


def to_html(s: Schedule) -> str:
    return render("report_schedule.html", data=s, header=header_lines(s), summary=summary(s))


def to_pdf(s: Schedule) -> bytes:
    from server.reports.pdf import to_pdf as pdf

    return pdf(to_html(s))


def file_name(s: Schedule, form: str) -> str:
    return safe_name("schedule", s.school_id, s.month, form)
