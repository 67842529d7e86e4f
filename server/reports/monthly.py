"""The school's monthly report on meals: the free meals per benefit category × meal × day (with the budget
line they are paid from), the paid meals per meal × day, the food parcels and compensations, and the cost
per budget line — free at the amounts recorded on the events, paid at what was paid (`paid_kopecks`; a
copay above a daily cap included), parcels at their amounts. Milk is a meal row like the others here
(its own register is `server.reports.milk`). With a class: the same for the class's students on their
days in it (history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection

from pos.domain import Meal, ru_date
from server.reports.common import (
    PARCEL_KINDS,
    Grid,
    Money,
    Month,
    Tally,
    add,
    check_class,
    columns,
    grid_csv,
    grid_html,
    grid_xlsx,
    load_month,
    meal_title,
    month_key,
    month_title,
    safe_name,
    without_gc,
)

KIND = "monthly"
TITLE = "Отчёт об организации питания за месяц"
CLASS_REQUIRED = False
_MEALS = list(Meal._value2member_map_)


@dataclass(frozen=True)
class Line:
    """A row of counts: per day column, the total and its money."""

    title: str
    per_day: tuple[int, ...]
    total: Tally
    budget_line: str = ""
    category: str | None = None
    meal: str = ""
    kind: str = ""


@dataclass(frozen=True)
class Monthly:
    school_id: str
    school_name: str
    month: date
    class_id: str | None
    class_name: str
    days: tuple[date, ...]
    other_days: tuple[date, ...]
    budget_lines: tuple[tuple[str, str], ...]
    free: tuple[Line, ...]  # per (category, meal, budget line)
    paid: tuple[Line, ...]  # per meal
    parcels: tuple[Line, ...]  # per (kind, category, budget line)
    by_line: tuple[tuple[str, Tally, Tally], ...]  # budget line -> (free meals, parcels and compensations)
    copay_kopecks: int  # paid from the accounts on free meals above a daily cap
    warnings: tuple[str, ...] = ()

    @property
    def free_total(self) -> Tally:
        return sum((x.total for x in self.free), Tally())

    @property
    def paid_total(self) -> Tally:
        return sum((x.total for x in self.paid), Tally())

    @property
    def parcels_total(self) -> Tally:
        return sum((x.total for x in self.parcels), Tally())

    @property
    def header(self) -> list[str]:
        who = f"Класс {self.class_name}, " if self.class_id else ""
        f, p, c = self.free_total, self.paid_total, self.parcels_total
        return [self.school_name, f"{who}{month_title(self.month)}",
                f"Учебных дней: {len(self.days) - len(self.other_days)}; бесплатных приёмов пищи: {f.count}; "
                f"платных: {p.count}; сухих пайков и компенсаций: {c.count}"]


def build(conn: Connection, school_id: str, month: date, *, class_id: str | None = None) -> Monthly:
    check_class(conn, school_id, class_id)
    return from_month(load_month(conn, school_id, month), class_id)


@without_gc
def from_month(m: Month, class_id: str | None = None) -> Monthly:
    lines = m.budget_lines()
    codes = [c for c, _ in lines]

    def mine(student_id: str, day: date) -> bool:
        return class_id is None or m.class_on(student_id, day) == class_id

    served = m.served if class_id is None else [s for s in m.served if mine(s.student_id, s.day)]
    parcels = m.parcels if class_id is None else [p for p in m.parcels if mine(p.student_id, p.day)]
    day_cols, other = columns(m, class_id, [s.day for s in served] + [p.day for p in parcels])
    at = {d: i for i, d in enumerate(day_cols)}
    free: dict[tuple[str | None, str, str], list[int]] = {}
    free_k: dict[tuple[str | None, str, str], int] = {}
    paid: dict[str, list[int]] = {}
    paid_k: dict[str, int] = {}
    copay = 0
    for _id, _student, day, meal, paid_kopecks, free_kopecks, line, category, _free, _recorded in served:
        i = at[day]
        if line:
            key = (category, meal, line)
            row = free.get(key)
            if row is None:
                row = free[key] = [0] * len(day_cols)
                free_k[key] = 0
            row[i] += 1
            free_k[key] += free_kopecks
            copay += paid_kopecks
        else:
            prow = paid.get(meal)
            if prow is None:
                prow = paid[meal] = [0] * len(day_cols)
                paid_k[meal] = 0
            prow[i] += 1
            paid_k[meal] += paid_kopecks
    free_sum = {k: Tally(sum(v), free_k[k]) for k, v in free.items()}
    paid_sum = {k: Tally(sum(v), paid_k[k]) for k, v in paid.items()}
    given: dict[tuple[str, str, str], list[int]] = {}
    given_sum: dict[tuple[str, str, str], Tally] = {}
    for p in parcels:
        pkey = (p.kind, p.category, p.budget_line)
        given.setdefault(pkey, [0] * len(day_cols))[at[p.day]] += 1
        add(given_sum, pkey, 1, p.kopecks)

    def meal_rank(meal: str) -> int:
        return _MEALS.index(meal) if meal in _MEALS else len(_MEALS)

    free_rows = tuple(
        Line(f"{m.category_title(k[0])}: {meal_title(k[1])}", tuple(free[k]), free_sum[k], k[2], k[0], k[1])
        for k in sorted(free, key=lambda k: (m.category_rank(k[0]), meal_rank(k[1]), k[2])))
    paid_rows = tuple(Line(f"Платно: {meal_title(meal)}", tuple(paid[meal]), paid_sum[meal], meal=meal)
                      for meal in sorted(paid, key=meal_rank))
    parcel_rows = tuple(
        Line(f"{PARCEL_KINDS.get(k[0], k[0]).capitalize()}: {m.category_title(k[1])}", tuple(given[k]),
             given_sum[k], k[2], k[1], kind=k[0]) for k in sorted(given, key=lambda k: (k[0], m.category_rank(k[1]))))
    by_line = tuple((c, sum((x.total for x in free_rows if x.budget_line == c), Tally()),
                     sum((x.total for x in parcel_rows if x.budget_line == c), Tally())) for c in codes)
    cls = m.classes.get(class_id) if class_id else None
    return Monthly(school_id=m.school_id, school_name=m.school_name, month=m.month, class_id=class_id,
                   class_name=cls.name if cls else "", days=day_cols, other_days=other, budget_lines=lines,
                   free=free_rows, paid=paid_rows, parcels=parcel_rows, by_line=by_line, copay_kopecks=copay,
                   warnings=tuple(m.warnings))


# --- formats ---------------------------------------------------------------------------------------------

def _day_sums(rows: tuple[Line, ...], n: int) -> list[int]:
    return [sum(x.per_day[i] for x in rows) for i in range(n)]


def grid(r: Monthly) -> Grid:
    n = len(r.days)
    head = ("Строка", "Статья", *(f"{d:%d.%m}" + ("*" if d in r.other_days else "") for d in r.days),
            "Всего", "Сумма")
    rows: list[tuple[str, tuple[Any, ...]]] = [("group", ("Бесплатное питание по категориям",))]
    rows += [("row", (x.title, x.budget_line, *x.per_day, x.total.count, Money(x.total.kopecks))) for x in r.free]
    f = r.free_total
    rows.append(("total", ("Итого бесплатно", "", *_day_sums(r.free, n), f.count, Money(f.kopecks))))
    rows.append(("group", ("Платное питание",)))
    rows += [("row", (x.title, "", *x.per_day, x.total.count, Money(x.total.kopecks))) for x in r.paid]
    if r.copay_kopecks:
        rows.append(("row", ("Доплата сверх лимита льготы", "", *[""] * n, "", Money(r.copay_kopecks))))
    p = r.paid_total
    rows.append(("total", ("Итого платно", "", *_day_sums(r.paid, n), p.count, Money(p.kopecks + r.copay_kopecks))))
    if r.parcels:
        rows.append(("group", ("Сухой паёк и денежная компенсация",)))
        rows += [("row", (x.title, x.budget_line, *x.per_day, x.total.count, Money(x.total.kopecks)))
                 for x in r.parcels]
        c = r.parcels_total
        rows.append(("total", ("Итого паёк и компенсация", "", *_day_sums(r.parcels, n), c.count, Money(c.kopecks))))
    rows.append(("group", ("Расходы по статьям бюджета",)))
    for code, meals, given in r.by_line:
        rows.append(("row", ("Бесплатное питание", code, *[""] * n, meals.count, Money(meals.kopecks))))
        if given.count:
            rows.append(("row", ("Паёк и компенсация", code, *[""] * n, given.count, Money(given.kopecks))))
    total = Money(f.kopecks + r.parcels_total.kopecks)
    rows.append(("total", ("Итого за счёт бюджета", "", *[""] * n, f.count + r.parcels_total.count, total)))
    notes = [f"{code} — {title}" for code, title in r.budget_lines]
    if r.other_days:
        notes.append("* — не учебный день: " + ", ".join(ru_date(d) for d in r.other_days) + ".")
    notes += list(r.warnings)
    return Grid(title=TITLE, lines=tuple(r.header), head=(head,), rows=tuple(rows), notes=tuple(notes),
                signatures=("Ответственный за организацию питания ____________________ / ____________________ /",
                            "Директор ____________________ / ____________________ /   М.П."),
                sheet="Отчёт", widths=(44, 12))


def to_json(r: Monthly) -> dict[str, Any]:
    days = [d.isoformat() for d in r.days]

    def line(x: Line) -> dict[str, Any]:
        return {"title": x.title, "category": x.category, "meal": x.meal or None, "kind": x.kind or None,
                "budget_line": x.budget_line or None, "per_day": dict(zip(days, x.per_day, strict=True)),
                "count": x.total.count, "kopecks": x.total.kopecks}

    return {"kind": KIND, "school_id": r.school_id, "school_name": r.school_name, "month": month_key(r.month),
            "class_id": r.class_id, "days": days, "not_school_days": [d.isoformat() for d in r.other_days],
            "budget_lines": [{"code": c, "title": t} for c, t in r.budget_lines],
            "free": [line(x) for x in r.free], "paid": [line(x) for x in r.paid],
            "parcels": [line(x) for x in r.parcels],
            "by_budget_line": [{"code": c, "meals": {"count": a.count, "kopecks": a.kopecks},
                                "parcels": {"count": b.count, "kopecks": b.kopecks}} for c, a, b in r.by_line],
            "copay_kopecks": r.copay_kopecks,
            "totals": {"free": {"count": r.free_total.count, "kopecks": r.free_total.kopecks},
                       "paid": {"count": r.paid_total.count, "kopecks": r.paid_total.kopecks + r.copay_kopecks},
                       "parcels": {"count": r.parcels_total.count, "kopecks": r.parcels_total.kopecks}},
            "warnings": list(r.warnings)}


def figures(r: Monthly) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for x in (*r.free, *r.paid, *r.parcels):
        label = f"{x.title} ({x.budget_line})" if x.budget_line else x.title
        for d, n in zip(r.days, x.per_day, strict=True):
            if n:
                out[f"{label}, {ru_date(d)}"] = n
        out[f"{label}: всего"] = x.total.count
        out[f"{label}: ₽"] = x.total.kopecks
    for code, meals, given in r.by_line:
        out[f"Статья {code}: бесплатное питание, ₽"] = meals.kopecks
        if given.count:
            out[f"Статья {code}: паёк и компенсация, ₽"] = given.kopecks
    return out


def to_csv(r: Monthly) -> str:
    return grid_csv(grid(r))


def to_xlsx(r: Monthly) -> bytes:
    return grid_xlsx(grid(r))


def to_html(r: Monthly) -> str:
    return grid_html(grid(r))


def file_name(r: Monthly, form: str) -> str:
    part = f"-{safe_name(r.class_id)}" if r.class_id else ""
    return f"monthly-{safe_name(r.school_id)}{part}-{month_key(r.month)}.{form}"
