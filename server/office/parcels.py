"""Food parcels (сухой паёк) and money compensations, given to a student for school days instead of meals at
the window (home-schooled ОВЗ students, seed 004 §1.7; Ryazan's compensation, seed 003 §2).

Issued per school day of the student's class (history: the class on each day), for a range of days: the
non-school days of the range are skipped and named. The amount is the policy's price of the day's free
meals for the student (grade, shift, age, the category) — capped by the policy's daily cap — unless the
coordinator gives one; where the policy gives the student nothing free, an amount and a budget line must
be given. A day already given the same kind is refused, and so is a month whose monthly report the school
has submitted (corrections after that go through the district). The табель marks them «С» / «К», the
registers count them per budget line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from pos.domain import Meal, age_on, ru_date
from pos.money import parse_rub
from pos.policy import EligibilityError
from server.accounts import utcnow
from server.calendar import load_calendar
from server.history import NoPolicy, class_book, policy_for
from server.models import Entitlement, FoodParcel, ReportExport, SchoolClass, Student
from server.office.audit import record_change
from server.office.changes import NotFound, OfficeError
from server.reports.common import PARCEL_KINDS, month_end, month_key

MAX_DAYS = 31
NOTE_MAX = 500


@dataclass(frozen=True)
class Issued:
    days: tuple[date, ...]
    skipped: tuple[str, ...]  # why each non-school day of the range was skipped
    amount_kopecks: int
    budget_line: str
    category: str

    @property
    def message(self) -> str:
        what = ", ".join(ru_date(d) for d in self.days)
        text = f"Записано на {len(self.days)} уч. дн.: {what}."
        if self.skipped:
            text += " Пропущены: " + "; ".join(self.skipped) + "."
        return text


def _student(conn: Connection, school_id: str, student_id: str) -> Any:
    row = conn.execute(select(Student.id, Student.full_name, Student.class_id, Student.birth_date).where(
        Student.school_id == school_id, Student.id == student_id)).first()
    if row is None:
        raise NotFound(f"ученик {student_id[:64]} в школе не найден")
    return row


def issue(conn: Connection, actor: str, school_id: str, student_id: str, start: date, end: date, kind: str, *,
          category: str | None = None, amount: str | int | None = None, budget_line: str | None = None,
          note: str = "") -> Issued:
    """Record a parcel or compensation for each school day of start..end; OfficeError (Russian) if not."""
    if kind not in PARCEL_KINDS:
        raise OfficeError(f"вид: {' или '.join(f'{k} ({v})' for k, v in PARCEL_KINDS.items())}")
    if end < start:
        raise OfficeError("период: первый день не позже последнего")
    if (end - start).days >= MAX_DAYS:
        raise OfficeError(f"период: не длиннее {MAX_DAYS} дней")
    student = _student(conn, school_id, student_id)
    note = note.strip()[:NOTE_MAX]
    kopecks: int | None
    if amount is None or amount == "":
        kopecks = None
    elif isinstance(amount, int):
        kopecks = amount
    else:
        try:
            kopecks = parse_rub(amount)
        except ValueError as exc:
            raise OfficeError(str(exc)) from None
    if kopecks is not None and not 0 < kopecks <= 1_000_000:
        raise OfficeError("сумма: больше 0,00 ₽ и не больше 10 000,00 ₽ в день")
    book = class_book(conn, school_id, [student_id])
    calendar = load_calendar(conn, school_id, start, end)
    classes = {c.id: c for c in conn.execute(select(SchoolClass.id, SchoolClass.grade, SchoolClass.shift).where(
        SchoolClass.school_id == school_id))}
    benefits = conn.execute(select(Entitlement.category, Entitlement.starts, Entitlement.ends).where(
        Entitlement.school_id == school_id, Entitlement.student_id == student_id)).all()
    days, skipped = [], []
    for i in range((end - start).days + 1):
        day = start + timedelta(days=i)
        class_id = book.class_on(student_id, day) if book.spans else student.class_id
        why = calendar.why_not(day, class_id)
        if why is not None or class_id is None:
            skipped.append(why or f"{ru_date(day)} — ученик ещё не в школе")
        else:
            days.append((day, class_id))
    if not days:
        raise OfficeError("в выбранные дни нет учебных дней ученика: " + "; ".join(skipped[:5]))
    submitted = sorted({month_key(d) for d, _c in days} & set(conn.execute(select(ReportExport.month).where(
        ReportExport.school_id == school_id, ReportExport.kind == "monthly", ReportExport.submitted.is_(True)))
        .scalars()))
    if submitted:
        raise OfficeError(f"отчёт за {', '.join(submitted)} уже сдан: сухой паёк за этот месяц не записывается")
    taken = set(conn.execute(select(FoodParcel.day).where(
        FoodParcel.school_id == school_id, FoodParcel.student_id == student_id, FoodParcel.kind == kind,
        FoodParcel.day >= start, FoodParcel.day <= end)).scalars())
    if taken:
        raise OfficeError(f"{PARCEL_KINDS[kind]} уже записан(а) на " + ", ".join(ru_date(d) for d in sorted(taken)))
    rows: list[dict[str, Any]] = []
    for day, class_id in days:
        held = {b.category for b in benefits if b.starts <= day and (b.ends is None or day <= b.ends)}
        cat = category if category is not None else (sorted(held)[0] if held else "")
        price, line = _policy_price(conn, school_id, day, classes.get(class_id), student.birth_date,
                                    held | ({cat} if cat else set()))
        if category and category not in _categories(conn, school_id, day):
            raise OfficeError(f"категория «{category[:40]}» не из политики школы")
        value = kopecks if kopecks is not None else price
        chosen = budget_line or line
        if value is None or not chosen:
            raise OfficeError(f"{ru_date(day)}: политика не даёт ученику бесплатного питания — укажите сумму "
                              f"и статью бюджета")
        rows.append({"school_id": school_id, "student_id": student_id, "day": day, "kind": kind, "category": cat,
                     "budget_line": chosen[:64], "amount_kopecks": value, "note": note, "created_by": actor[:64],
                     "created_at": utcnow()})
    conn.execute(insert(FoodParcel), rows)
    record_change(conn, actor, school_id, "food_parcel", student_id, "issue", None,
                  {"kind": kind, "days": [r["day"].isoformat() for r in rows],
                   "amounts": [r["amount_kopecks"] for r in rows], "budget_line": rows[0]["budget_line"],
                   "category": rows[0]["category"], "note": note})
    first = rows[0]
    return Issued(tuple(d for d, _c in days), tuple(skipped), first["amount_kopecks"], first["budget_line"],
                  first["category"])


def _categories(conn: Connection, school_id: str, day: date) -> set[str]:
    try:
        return set(policy_for(conn, school_id, day).categories)
    except NoPolicy as exc:
        raise OfficeError(str(exc)) from None


def _policy_price(conn: Connection, school_id: str, day: date, cls: Any, birth: date | None, categories: set[str]
                  ) -> tuple[int | None, str]:
    """The day's free meals of the student by the policy: (their price, capped; their first budget line)."""
    if cls is None:
        return None, ""
    try:
        policy = policy_for(conn, school_id, day)
        meals = policy.free_meals(grade=cls.grade, shift=cls.shift, categories=categories,
                                  age=age_on(birth, day) if birth else None)
    except NoPolicy as exc:
        raise OfficeError(str(exc)) from None
    except EligibilityError:
        return None, ""
    meals = [m for m in meals if m.meal is not Meal.MILK]  # milk is counted apart, by attendance
    if not meals:
        return None, ""
    total = sum(m.price_kopecks for m in meals)
    if policy.daily_cap is not None:
        total = min(total, policy.daily_cap)
    return total, meals[0].budget_line


def remove(conn: Connection, actor: str, school_id: str, parcel_id: int) -> None:
    row = conn.execute(select(FoodParcel).where(FoodParcel.school_id == school_id, FoodParcel.id == parcel_id)
                       ).first()
    if row is None:
        raise NotFound("запись о сухом пайке не найдена")
    conn.execute(delete(FoodParcel).where(FoodParcel.id == parcel_id))
    record_change(conn, actor, school_id, "food_parcel", row.student_id, "remove",
                  {"kind": row.kind, "day": row.day.isoformat(), "amount": row.amount_kopecks,
                   "budget_line": row.budget_line, "category": row.category}, None)


@dataclass(frozen=True)
class Entry:
    id: int
    day: date
    student_id: str
    student_name: str
    kind: str
    category: str
    budget_line: str
    amount_kopecks: int
    note: str
    created_by: str

    @property
    def kind_title(self) -> str:
        return PARCEL_KINDS.get(self.kind, self.kind)


def month_entries(conn: Connection, school_id: str, month: date) -> list[Entry]:
    names = dict(conn.execute(select(Student.id, Student.full_name).where(Student.school_id == school_id))
                 .tuples().all())
    return [Entry(p.id, p.day, p.student_id, names.get(p.student_id, p.student_id), p.kind, p.category,
                  p.budget_line, p.amount_kopecks, p.note, p.created_by)
            for p in conn.execute(select(FoodParcel).where(
                FoodParcel.school_id == school_id, FoodParcel.day >= month, FoodParcel.day <= month_end(month))
                .order_by(FoodParcel.day, FoodParcel.student_id, FoodParcel.id))]
