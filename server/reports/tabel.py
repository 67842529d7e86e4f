"""Табель учёта питания of a class for a month (seed 004 §1.23–1.24, seed 002 §4.8; OFFICE.md «Табель»).

The students who were in the class on any day of the month (`server.history`: a student who moved class
mid-month is in each class for the days there, «—» on the others), grouped by the benefit category that
made their meals free (recorded at the window on the events; for older events, from history), a column per
school day of the class (and any other day something was served, marked), in each cell the meals received
(З завтрак, О обед, П полдник), «Н» where the student was marked absent and ate nothing, «С» a food
parcel, «К» a compensation; per student the days and meals and the sums per budget line — free meals at
the amounts recorded on the events (the price band of the day, as the window decided), paid meals at what
was paid, parcels at their amounts — then the totals per category and for the class, and signature lines.
Milk is not here: it has its own register (`server.reports.milk`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection

from pos.domain import Meal, ru_date
from server.reports.common import (
    ABSENT,
    GRADE_RIGHT,
    MARKS,
    NOT_IN_CLASS,
    PARCEL_MARKS,
    Grid,
    Money,
    Month,
    ReportError,
    Tally,
    add,
    check_class,
    class_students,
    columns,
    grid_csv,
    grid_html,
    grid_xlsx,
    load_month,
    month_key,
    month_title,
    safe_name,
    without_gc,
)

KIND = "tabel"
TITLE = "Табель учёта питания"
MEALS = (Meal.BREAKFAST.value, Meal.LUNCH.value, Meal.SNACK.value)
CLASS_REQUIRED = True


@dataclass(frozen=True)
class Totals:
    students: int
    days: int  # days with a meal, a parcel or a compensation
    meals: tuple[int, ...]  # per MEALS
    free: tuple[Tally, ...]  # per budget line
    paid: Tally
    parcels: tuple[Tally, ...]  # food parcels and compensations, per budget line

    @property
    def free_total(self) -> Tally:
        return sum(self.free, Tally())

    @property
    def parcels_total(self) -> Tally:
        return sum(self.parcels, Tally())


@dataclass(frozen=True)
class StudentRow:
    student_id: str
    name: str
    cells: tuple[str, ...]  # per day column
    totals: Totals


@dataclass(frozen=True)
class Group:
    category: str | None
    title: str
    rows: tuple[StudentRow, ...]
    totals: Totals


@dataclass(frozen=True)
class Tabel:
    school_id: str
    school_name: str
    class_id: str
    class_name: str
    month: date
    days: tuple[date, ...]
    other_days: tuple[date, ...]  # columns that are not school days of the class
    budget_lines: tuple[tuple[str, str], ...]
    groups: tuple[Group, ...]
    totals: Totals
    warnings: tuple[str, ...] = ()

    @property
    def header(self) -> list[str]:
        t = self.totals
        lines = [self.school_name, f"Класс {self.class_name}, {month_title(self.month)}",
                 f"Учебных дней: {len(self.days) - len(self.other_days)}; учеников: {t.students}"]
        lines += [f"{g.title}: учеников {g.totals.students}, бесплатных приёмов пищи {g.totals.free_total.count}"
                  for g in self.groups]
        return lines


def _totals(rows: list[Totals], lines: int) -> Totals:
    return Totals(
        students=sum(r.students for r in rows), days=sum(r.days for r in rows),
        meals=tuple(sum(r.meals[i] for r in rows) for i in range(len(MEALS))),
        free=tuple(sum((r.free[i] for r in rows), Tally()) for i in range(lines)),
        paid=sum((r.paid for r in rows), Tally()),
        parcels=tuple(sum((r.parcels[i] for r in rows), Tally()) for i in range(lines)))


def build(conn: Connection, school_id: str, month: date, *, class_id: str | None = None) -> Tabel:
    """The табель of `class_id` for the month (first day); ReportError without a class or for an unknown one."""
    if not class_id:
        raise ReportError("табель составляется по классу: укажите класс")
    check_class(conn, school_id, class_id)
    return from_month(load_month(conn, school_id, month, class_students(conn, school_id, class_id)), class_id)


def build_all(conn: Connection, school_id: str, month: date) -> list[Tabel]:
    """The табель of every class of the school, from one read of the month."""
    m = load_month(conn, school_id, month)
    return [from_month(m, c.id) for c in sorted(m.classes.values(), key=lambda c: (c.grade, c.name))]


@without_gc
def from_month(m: Month, class_id: str) -> Tabel:
    cls = m.classes[class_id]
    lines = m.budget_lines()
    codes = [code for code, _t in lines]
    # Who was in the class on a day of the month, and on which days.
    days_of = m.members(class_id)
    # The student's meals on the days in the class (all of them for a student here all month; milk is left
    # to its own register by the row).
    whole = len(m.days)
    served = {sid: m.served_of(sid) if len(days) == whole else [s for s in m.served_of(sid) if s.day in days]
              for sid, days in days_of.items()}
    parcels = {sid: [p for p in m.parcels_of(sid) if p.day in days] for sid, days in days_of.items()}
    school = set(m.calendar.school_days(m.month, m.end, class_id))
    extra = [p.day for rows in parcels.values() for p in rows]
    if not m.served_days() <= school:  # something was served on a day without lessons: was it here?
        extra += [s.day for rows in served.values() for s in rows if s.meal in MEAL_BIT and s.day not in school]
    day_cols, other = columns(m, class_id, extra)
    groups: dict[str | None, list[StudentRow]] = {}
    for student_id, in_class in days_of.items():
        eaten, given = served.get(student_id, []), parcels.get(student_id, [])
        row = _student_row(m, student_id, in_class, day_cols, codes, eaten, given)
        groups.setdefault(_category(m, student_id, cls, in_class, eaten, given), []).append(row)
    out = []
    for category in sorted(groups, key=m.category_rank):
        rows = sorted(groups[category], key=lambda r: (r.name, r.student_id))
        out.append(Group(category, m.category_title(category), tuple(rows),
                         _totals([r.totals for r in rows], len(codes))))
    return Tabel(school_id=m.school_id, school_name=m.school_name, class_id=class_id, class_name=cls.name,
                 month=m.month, days=day_cols, other_days=other, budget_lines=lines, groups=tuple(out),
                 totals=_totals([g.totals for g in out], len(codes)), warnings=tuple(m.warnings))


def _student_row(m: Month, student_id: str, in_class: set[date], day_cols: tuple[date, ...], codes: list[str],
                 served: list[Any], parcels: list[Any]) -> StudentRow:
    # Tight loops: a school's табели run over every meal of the month (~100,000). A day's meals are kept as
    # one number (`MEAL_BIT`), read back as marks by `_marks`.
    meals_on: dict[date, int] = {}
    line_at = {code: i for i, code in enumerate(codes)}
    free_n = [0] * len(codes)
    free_k = [0] * len(codes)
    paid_n = paid_k = 0
    for _id, _student, served_on, meal, paid, free, line, _basis, _free, _recorded in served:
        at = MEAL_BIT.get(meal)
        if at is None:  # milk: its own register
            continue
        meals_on[served_on] = meals_on.get(served_on, 0) + at
        paid_k += paid  # on a free meal: a copay above a daily cap
        if line:
            i = line_at[line]
            free_n[i] += 1
            free_k[i] += free
        else:
            paid_n += 1
    given: dict[date, list[str]] = {}
    by_line: dict[str, Tally] = {}
    for p in parcels:
        given.setdefault(p.day, []).append(PARCEL_MARKS.get(p.kind, "?"))
        add(by_line, p.budget_line, 1, p.kopecks)
    cells = []
    whole = len(in_class) == len(m.days)
    for d in day_cols:
        if not whole and d not in in_class:
            cells.append(NOT_IN_CLASS)
            continue
        eaten = meals_on.get(d)
        mark = _marks(eaten) if eaten else ""
        if given and d in given:
            mark += "".join(given[d])
        if not mark and (student_id, d) in m.absences:
            mark = ABSENT
        cells.append(mark)
    month = sum(meals_on.values())  # the fields add up: a meal's count of the month stays far below 65,536
    student = m.students.get(student_id)
    return StudentRow(student_id, student.full_name if student else student_id, tuple(cells), Totals(
        students=1, days=len(meals_on.keys() | given.keys()),
        meals=tuple((month >> (BITS * i)) & FIELD for i in range(len(MEALS))),
        free=tuple(Tally(n, k) for n, k in zip(free_n, free_k, strict=True)),
        paid=Tally(paid_n, paid_k), parcels=tuple(by_line.get(c, Tally()) for c in codes)))


BITS, FIELD = 16, 0xFFFF  # a day's (and a month's) meals as one number: 16 bits per meal, how many of it
MEAL_BIT = {meal: 1 << (BITS * i) for i, meal in enumerate(MEALS)}
_MARKS: dict[int, str] = {}


def _marks(day: int) -> str:
    """«ЗО» for a breakfast and a lunch: a letter per meal received, in the order of MEALS."""
    found = _MARKS.get(day)
    if found is None:
        found = _MARKS[day] = "".join(MARKS[meal] * ((day >> (BITS * i)) & FIELD) for i, meal in enumerate(MEALS))
    return found


def _category(m: Month, student_id: str, cls: Any, in_class: set[date], served: list[Any],
              parcels: list[Any]) -> str | None:
    """The category that made the student's meals free this month: the most frequent on the free meals (then
    the parcels); without any, a benefit in force on a day in the class; else the grade's own right where the
    policy gives one, else none."""
    found = Counter(s.category for s in served if s.free and s.meal in MEAL_BIT)
    found.update(p.category for p in parcels)
    if found:
        best: str | None = sorted(found.items(), key=lambda kv: (-kv[1], m.category_rank(kv[0])))[0][0]
        return best
    if student_id in m.benefits:
        for d in sorted(in_class):
            held = m.categories_in_force(student_id, d)
            if held:
                return sorted(held, key=m.category_rank)[0]
    if m.policy is not None and any(r.applies(cls.grade, cls.shift, frozenset()) for r in m.policy.rules):
        return GRADE_RIGHT
    return None


# --- formats ---------------------------------------------------------------------------------------------

def _sum_cells(t: Totals, codes: int) -> list[Any]:
    out: list[Any] = [t.days, *t.meals]
    for i in range(codes):
        out += [t.free[i].count, Money(t.free[i].kopecks)]
    out += [t.paid.count, Money(t.paid.kopecks)]
    out += [Money(t.parcels[i].kopecks) for i in range(codes)]
    return out


def grid(t: Tabel) -> Grid:
    n = len(t.budget_lines)
    day_heads = [f"{d:%d.%m}" + ("*" if d in t.other_days else "") for d in t.days]
    sums = [h for code, _ in t.budget_lines for h in (f"{code}: кол-во", f"{code}: сумма")]
    head = ("№", "Ученик", *day_heads, "Дней", "З", "О", "П", *sums, "Платно: кол-во", "Платно: сумма",
            *(f"Паёк/компенс. {code}" for code, _ in t.budget_lines))
    rows: list[tuple[str, tuple[Any, ...]]] = []
    number = 0
    for g in t.groups:
        rows.append(("group", (g.title,)))
        for r in g.rows:
            number += 1
            rows.append(("row", (number, r.name, *r.cells, *_sum_cells(r.totals, n))))
        rows.append(("total", ("", f"Итого: {g.title}", *[""] * len(t.days), *_sum_cells(g.totals, n))))
    rows.append(("total", ("", "Итого по классу", *[""] * len(t.days), *_sum_cells(t.totals, n))))
    notes = ["З — завтрак, О — обед, П — полдник, Н — отсутствовал(а) по отметке «не придёт», С — сухой паёк, "
             "К — денежная компенсация, — — не в этом классе в этот день."]
    if t.other_days:
        notes.append("* — не учебный день класса: " + ", ".join(ru_date(d) for d in t.other_days) + ".")
    notes += [f"{code} — {title}" for code, title in t.budget_lines]
    notes += list(t.warnings)
    return Grid(title=TITLE, lines=tuple(t.header), head=(head,), rows=tuple(rows), notes=tuple(notes),
                signatures=("Классный руководитель ____________________ / ____________________ /",
                            "Ответственный за организацию питания ____________________ / ____________________ /",
                            "Директор ____________________ / ____________________ /   М.П."),
                sheet="Табель", widths=(4, 28))


def to_json(t: Tabel) -> dict[str, Any]:
    codes = [code for code, _ in t.budget_lines]

    def totals(x: Totals) -> dict[str, Any]:
        return {"students": x.students, "days": x.days, "meals": dict(zip(MEALS, x.meals, strict=True)),
                "free": {c: {"count": v.count, "kopecks": v.kopecks} for c, v in zip(codes, x.free, strict=True)},
                "paid": {"count": x.paid.count, "kopecks": x.paid.kopecks},
                "parcels": {c: {"count": v.count, "kopecks": v.kopecks}
                            for c, v in zip(codes, x.parcels, strict=True)}}

    return {"kind": KIND, "school_id": t.school_id, "school_name": t.school_name, "class_id": t.class_id,
            "class_name": t.class_name, "month": month_key(t.month), "days": [d.isoformat() for d in t.days],
            "not_school_days": [d.isoformat() for d in t.other_days],
            "budget_lines": [{"code": c, "title": title} for c, title in t.budget_lines],
            "groups": [{"category": g.category, "title": g.title, "totals": totals(g.totals), "students": [
                {"student_id": r.student_id, "name": r.name, "cells": dict(zip(
                    (d.isoformat() for d in t.days), r.cells, strict=True)), "totals": totals(r.totals)}
                for r in g.rows]} for g in t.groups],
            "totals": totals(t.totals), "warnings": list(t.warnings)}


def figures(t: Tabel) -> dict[str, Any]:
    """The figures an export records (cell and total -> value), to show what changed since."""
    out: dict[str, Any] = {}
    for g in t.groups:
        for r in g.rows:
            out[f"{r.name}: категория"] = g.title
            for d, mark in zip(t.days, r.cells, strict=True):
                if mark:
                    out[f"{r.name}, {ru_date(d)}"] = mark
            for (code, _title), v in zip(t.budget_lines, r.totals.free, strict=True):
                if v.count:
                    out[f"{r.name}: бесплатно {code}, ₽"] = v.kopecks
            if r.totals.paid.count:
                out[f"{r.name}: платно, ₽"] = r.totals.paid.kopecks
    for (code, _title), v, p in zip(t.budget_lines, t.totals.free, t.totals.parcels, strict=True):
        out[f"Итого по классу: бесплатно {code}, приёмов пищи"] = v.count
        out[f"Итого по классу: бесплатно {code}, ₽"] = v.kopecks
        if p.count:
            out[f"Итого по классу: паёк/компенсация {code}, ₽"] = p.kopecks
    return out


def to_csv(t: Tabel) -> str:
    return grid_csv(grid(t))


def to_xlsx(t: Tabel) -> bytes:
    return grid_xlsx(grid(t))


def to_html(t: Tabel) -> str:
    return grid_html(grid(t))


def file_name(t: Tabel, form: str) -> str:
    return f"tabel-{safe_name(t.school_id)}-{safe_name(t.class_id)}-{month_key(t.month)}.{form}"
