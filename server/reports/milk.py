"""The milk register (seed 004 §1.8, §1.23–1.24: milk is kept apart from the meals): the primary students
(grades 1–4 on the day, by history) of the school or of one class, a column per school day, «1» where the
student got milk that day (served `Meal.MILK` events not cancelled: actual attendance), «Н» where marked
absent; per student and per day the count, the sums per budget line at the amounts recorded on the events,
and the class and school totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection

from pos.domain import Meal, ru_date
from server.reports.common import (
    ABSENT,
    NOT_IN_CLASS,
    Grid,
    Money,
    Month,
    Tally,
    add,
    by_student,
    check_class,
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

KIND = "milk"
TITLE = "Учёт выдачи бесплатного молока обучающимся начальных классов"
PRIMARY = range(1, 5)
CLASS_REQUIRED = False


@dataclass(frozen=True)
class MilkRow:
    student_id: str
    name: str
    cells: tuple[str, ...]
    count: int
    lines: tuple[Tally, ...]  # per budget line (free)
    paid: Tally


@dataclass(frozen=True)
class MilkClass:
    class_id: str
    class_name: str
    rows: tuple[MilkRow, ...]
    per_day: tuple[int, ...]
    count: int
    lines: tuple[Tally, ...]
    paid: Tally


@dataclass(frozen=True)
class MilkRegister:
    school_id: str
    school_name: str
    month: date
    class_id: str | None
    days: tuple[date, ...]
    other_days: tuple[date, ...]
    budget_lines: tuple[tuple[str, str], ...]
    classes: tuple[MilkClass, ...]
    per_day: tuple[int, ...]
    count: int
    lines: tuple[Tally, ...]
    paid: Tally
    warnings: tuple[str, ...] = ()

    @property
    def students(self) -> int:
        return sum(len(c.rows) for c in self.classes)

    @property
    def header(self) -> list[str]:
        who = f"Класс {self.classes[0].class_name}" if self.class_id and self.classes else "Начальные классы (1–4)"
        return [self.school_name, f"{who}, {month_title(self.month)}",
                f"Учебных дней: {len(self.days) - len(self.other_days)}; учеников: {self.students}; "
                f"выдано молока: {self.count}"]


def build(conn: Connection, school_id: str, month: date, *, class_id: str | None = None) -> MilkRegister:
    check_class(conn, school_id, class_id)
    return from_month(load_month(conn, school_id, month), class_id)


@without_gc
def from_month(m: Month, class_id: str | None = None) -> MilkRegister:
    lines = m.budget_lines()
    codes = [c for c, _ in lines]
    primary = {c.id for c in m.classes.values() if c.grade in PRIMARY and (class_id is None or c.id == class_id)}
    days_of: dict[str, dict[date, str]] = {}  # student -> day -> class, for the days in a primary class
    for c in sorted(primary):
        for student_id, days in m.members(c).items():
            for d in days:
                days_of.setdefault(student_id, {})[d] = c
    milk = by_student(s for s in m.served if s.meal == Meal.MILK.value and s.day in days_of.get(s.student_id, {}))
    day_cols, other = columns(m, class_id, [s.day for rows in milk.values() for s in rows])
    per_class: dict[str, list[MilkRow]] = {}
    for student_id, where in days_of.items():
        got = {s.day: s for s in milk.get(student_id, [])}
        free: dict[str, Tally] = {}
        paid = Tally()
        for s in milk.get(student_id, []):
            if s.free:
                add(free, s.budget_line, 1, s.free_kopecks)
            else:
                paid += Tally(1, s.paid_kopecks)
        student = m.students.get(student_id)
        name = student.full_name if student else student_id
        for c in sorted(set(where.values())):
            cells = []
            for d in day_cols:
                if where.get(d) != c:
                    cells.append(NOT_IN_CLASS)
                elif d in got:
                    cells.append(str(sum(1 for s in milk[student_id] if s.day == d)))
                else:
                    cells.append(ABSENT if (student_id, d) in m.absences else "")
            mine = [s for s in milk.get(student_id, []) if where.get(s.day) == c]
            c_free: dict[str, Tally] = {}
            c_paid = Tally()
            for s in mine:
                if s.free:
                    add(c_free, s.budget_line, 1, s.free_kopecks)
                else:
                    c_paid += Tally(1, s.paid_kopecks)
            per_class.setdefault(c, []).append(MilkRow(student_id, name, tuple(cells), len(mine),
                                                       tuple(c_free.get(x, Tally()) for x in codes), c_paid))
    out = []
    for c in sorted(per_class, key=lambda c: (m.classes[c].grade, m.classes[c].name)):
        rows = tuple(sorted(per_class[c], key=lambda r: (r.name, r.student_id)))
        out.append(MilkClass(c, m.classes[c].name, rows, _per_day(rows), sum(r.count for r in rows),
                             tuple(sum((r.lines[i] for r in rows), Tally()) for i in range(len(codes))),
                             sum((r.paid for r in rows), Tally())))
    return MilkRegister(
        school_id=m.school_id, school_name=m.school_name, month=m.month, class_id=class_id, days=day_cols,
        other_days=other, budget_lines=lines, classes=tuple(out),
        per_day=tuple(sum(c.per_day[i] for c in out) for i in range(len(day_cols))),
        count=sum(c.count for c in out),
        lines=tuple(sum((c.lines[i] for c in out), Tally()) for i in range(len(codes))),
        paid=sum((c.paid for c in out), Tally()), warnings=tuple(m.warnings))


def _per_day(rows: tuple[MilkRow, ...]) -> tuple[int, ...]:
    if not rows:
        return ()
    return tuple(sum(int(r.cells[i]) for r in rows if r.cells[i].isdigit()) for i in range(len(rows[0].cells)))


# --- formats ---------------------------------------------------------------------------------------------

def _sums(count: int, lines: tuple[Tally, ...], paid: Tally) -> list[Any]:
    out: list[Any] = [count]
    for t in lines:
        out.append(Money(t.kopecks))
    return [*out, paid.count, Money(paid.kopecks)]


def grid(r: MilkRegister) -> Grid:
    head = ("№", "Ученик", *(f"{d:%d.%m}" + ("*" if d in r.other_days else "") for d in r.days), "Всего",
            *(f"{code}, сумма" for code, _ in r.budget_lines), "Платно: кол-во", "Платно: сумма")
    rows: list[tuple[str, tuple[Any, ...]]] = []
    for c in r.classes:
        rows.append(("group", (f"Класс {c.class_name}",)))
        for number, row in enumerate(c.rows, 1):
            rows.append(("row", (number, row.name, *row.cells, *_sums(row.count, row.lines, row.paid))))
        rows.append(("total", ("", f"Итого по классу {c.class_name}", *c.per_day, *_sums(c.count, c.lines, c.paid))))
    if len(r.classes) != 1:
        rows.append(("total", ("", "Итого", *r.per_day, *_sums(r.count, r.lines, r.paid))))
    notes = ["1 — выдано молоко (0,2 л), Н — отсутствовал(а) по отметке «не придёт», — — не в этом классе в этот день."]
    if r.other_days:
        notes.append("* — не учебный день: " + ", ".join(ru_date(d) for d in r.other_days) + ".")
    notes += [f"{code} — {title}" for code, title in r.budget_lines]
    notes += list(r.warnings)
    return Grid(title=TITLE, lines=tuple(r.header), head=(head,), rows=tuple(rows), notes=tuple(notes),
                signatures=("Ответственный за организацию питания ____________________ / ____________________ /",
                            "Директор ____________________ / ____________________ /   М.П."),
                sheet="Молоко", widths=(4, 28))


def to_json(r: MilkRegister) -> dict[str, Any]:
    codes = [c for c, _ in r.budget_lines]

    def sums(count: int, lines: tuple[Tally, ...], paid: Tally) -> dict[str, Any]:
        return {"count": count, "free": {c: {"count": t.count, "kopecks": t.kopecks}
                                         for c, t in zip(codes, lines, strict=True)},
                "paid": {"count": paid.count, "kopecks": paid.kopecks}}

    days = [d.isoformat() for d in r.days]
    return {"kind": KIND, "school_id": r.school_id, "school_name": r.school_name, "month": month_key(r.month),
            "class_id": r.class_id, "days": days, "not_school_days": [d.isoformat() for d in r.other_days],
            "budget_lines": [{"code": c, "title": t} for c, t in r.budget_lines],
            "classes": [{"class_id": c.class_id, "class_name": c.class_name,
                         "per_day": dict(zip(days, c.per_day, strict=True)), **sums(c.count, c.lines, c.paid),
                         "students": [{"student_id": x.student_id, "name": x.name,
                                       "cells": dict(zip(days, x.cells, strict=True)), **sums(x.count, x.lines, x.paid)}
                                      for x in c.rows]} for c in r.classes],
            "per_day": dict(zip(days, r.per_day, strict=True)), **sums(r.count, r.lines, r.paid),
            "warnings": list(r.warnings)}


def figures(r: MilkRegister) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in r.classes:
        for row in c.rows:
            if row.count:
                out[f"{row.name} ({c.class_name}): молоко, раз"] = row.count
        for d, n in zip(r.days, c.per_day, strict=True):
            if n:
                out[f"{c.class_name}, {ru_date(d)}: молоко"] = n
    out["Итого: молоко, раз"] = r.count
    for (code, _t), t in zip(r.budget_lines, r.lines, strict=True):
        out[f"Итого: {code}, ₽"] = t.kopecks
    return out


def to_csv(r: MilkRegister) -> str:
    return grid_csv(grid(r))


def to_xlsx(r: MilkRegister) -> bytes:
    return grid_xlsx(grid(r))


def to_html(r: MilkRegister) -> str:
    return grid_html(grid(r))


def file_name(r: MilkRegister, form: str) -> str:
    part = f"-{safe_name(r.class_id)}" if r.class_id else ""
    return f"milk-{safe_name(r.school_id)}{part}-{month_key(r.month)}.{form}"
