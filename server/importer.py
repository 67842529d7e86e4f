"""Import of a school's data — students and classes, cards, benefit lists, orders, top-ups, prices,
holidays and the canteen schedule — from CSV, XLSX or JSON rows, all or nothing.

Every row is validated first (cells, then references to students and classes, then duplicates);
if any row is wrong nothing is written and every problem is reported with its row number. A good
file is applied in one transaction under one new rev of the school, so its terminals get the
change on their next pull.

Dates are judged against the school's today: an order day lies in the current or the next school
year, a payment in the last 365 days and not in the future, a birth date between 1990 and today.
Money has bounds: a price at most `MAX_MEAL_KOPECKS`, a daily limit at most 10 000 ₽, a top-up
more than zero and at most 100 000 ₽ (more is a typo or a forgery, not a parent's payment).
Class names are normalised by `rows.class_name`; spellings merged into one class are reported.
A full student list (`replace`) deactivates who is not in it, but never students with money on their
accounts (or debts) unless `leaving_with_money` says the user has seen them.
A benefit's category is its id in the school's policy or its Russian title there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, delete, insert, select, update

from pos.cards import match_keys
from pos.ledger import MAX_MEAL_KOPECKS
from pos.lookup import SQLITE_IN_CHUNK as CHUNK
from pos.money import format_rub
from pos.policy import parse_policy
from server import notices
from server import rows as r
from server.accounts import utcnow
from server.db import take_revs, upsert
from server.models import (
    Break,
    Card,
    Entitlement,
    Holiday,
    MealSlot,
    MenuPrice,
    Order,
    School,
    SchoolClass,
    Student,
    Tombstone,
    TopUp,
)
from server.office import history
from server.tabular import MAX_ROWS, TableError, norm_header, read_table

MAX_TOPUP_KOPECKS = 10_000_000  # 100 000 ₽
MAX_DAILY_LIMIT_KOPECKS = 1_000_000  # 10 000 ₽


class ImportFailed(ValueError):
    """The file or rows were not imported; `errors` lists every problem (Russian)."""

    def __init__(self, errors: Sequence[r.RowError | str]) -> None:
        self.errors = [str(e) for e in errors]
        super().__init__("; ".join(self.errors[:5]) + (f" … всего ошибок: {len(self.errors)}"
                                                        if len(self.errors) > 5 else ""))


@dataclass(frozen=True)
class ImportResult:
    kind: str
    rows: int
    skipped: int = 0  # rows already imported before (top-ups by payment reference)
    notes: tuple[str, ...] = ()  # what the user should know, e.g. class spellings merged (Russian)


STUDENT = r.Col("student_id", ("Код ученика", "ид ученика", "идентификатор", "student"), r.ident)
COLUMNS: dict[str, tuple[r.Col, ...]] = {
    "students": (
        r.Col("student_id", ("Код ученика", "ид ученика", "идентификатор", "id"), r.ident),
        r.Col("full_name", ("ФИО", "фамилия имя", "name"), r.text(200)),
        r.Col("class", ("Класс", "class_name"), r.text(64)),
        r.Col("shift", ("Смена",), r.optional(r.integer(1, 3)), required=False),
        r.Col("birth_date", ("Дата рождения",), r.optional(r.day), required=False, check=r.birth),
        r.Col("diet_note", ("Особенности питания", "диета"), r.text(500), required=False),
        r.Col("daily_limit", ("Дневной лимит", "лимит"), r.optional(r.money(0, MAX_DAILY_LIMIT_KOPECKS)),
              required=False),
        r.Col("active", ("Обучается", "активен"), r.optional(r.flag), required=False),
        # the day the student came into the class (a move entered late); default: today, or since the
        # beginning for a student new to the school (server.office.history.record_import)
        r.Col("moved_on", ("Дата перевода", "в классе с", "с"), r.optional(r.day), required=False,
              check=lambda value, today: history.move_date_refusal(value, today)),
    ),
    "cards": (
        r.Col("card", ("Номер карты", "карта", "uid"), r.card),
        STUDENT,
        r.Col("blocked", ("Заблокирована", "блокировка"), r.flag, required=False),
        r.Col("blocked_reason", ("Причина блокировки",), r.text(200), required=False),
    ),
    "benefits": (
        STUDENT,
        r.Col("category", ("Категория", "льгота"), r.text(64)),
        r.Col("order_no", ("Номер приказа", "приказ"), r.text(64)),
        r.Col("order_date", ("Дата приказа",), r.day),
        r.Col("starts", ("Действует с", "начало", "с"), r.optional(r.day), required=False),
        r.Col("ends", ("Действует по", "окончание", "по"), r.optional(r.day), required=False),
        r.Col("reason", ("Основание", "причина"), r.text(500), required=False),
    ),
    "orders": (
        STUDENT,
        r.Col("day", ("Дата", "date"), r.day, check=r.this_or_next_school_year),
        r.Col("meals", ("Питание", "приёмы пищи", "приемы пищи"), r.meals, required=False),
    ),
    "topups": (
        STUDENT,
        r.Col("amount", ("Сумма", "сумма, руб"), r.money(1, MAX_TOPUP_KOPECKS)),
        r.Col("paid_at", ("Дата платежа", "дата", "date"), r.moment, check=r.within_a_year),
        r.Col("reference", ("Номер платежа", "платёжный документ", "платежный документ", "ref"), r.text(100)),
    ),
    "prices": (
        r.Col("day", ("Дата", "date"), r.day),
        r.Col("meal", ("Приём пищи", "прием пищи"), r.meal),
        r.Col("price", ("Цена", "цена, руб"), r.money(0, MAX_MEAL_KOPECKS)),
    ),
    "holidays": (
        r.Col("day", ("Дата", "date"), r.day),
        r.Col("reason", ("Причина", "основание"), r.text(200), required=False),
    ),
    "breaks": (
        r.Col("shift", ("Смена",), r.integer(1, 3)),
        r.Col("number", ("Перемена", "номер"), r.integer(1, 12)),
        r.Col("starts", ("Начало",), r.clock),
        r.Col("ends", ("Конец", "окончание"), r.clock),
    ),
    "meal_slots": (
        r.Col("class", ("Класс", "class_name"), r.text(64)),
        r.Col("meal", ("Приём пищи", "прием пищи"), r.meal),
        r.Col("shift", ("Смена",), r.integer(1, 3)),
        r.Col("break_no", ("Перемена", "break"), r.integer(1, 12)),
    ),
}
KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "students": lambda row: row["student_id"], "cards": lambda row: row["card"],
    "benefits": lambda row: _benefit_id(row),  # as stored: two rows cut to one id are one row
    "orders": lambda row: (row["student_id"], row["day"]), "topups": lambda row: row["reference"],
    "prices": lambda row: (row["day"], row["meal"]), "holidays": lambda row: row["day"],
    "breaks": lambda row: (row["shift"], row["number"]), "meal_slots": lambda row: (row["class"], row["meal"]),
}


def _benefit_id(row: dict[str, Any]) -> str:
    return f"{row['student_id']}:{row['category']}:{row['order_no']}"[:64]


def class_id_of(name: str) -> str:
    """A class's id from its name: the normalised name in lower case («5 A», «5-а» -> «5а»)."""
    return r.class_name(name).lower()


def import_file(conn: Connection, school_id: str, kind: str, data: bytes, filename: str, *,
                replace: bool = False, today: date | None = None, leaving_with_money: bool = False) -> ImportResult:
    """A CSV or XLSX file; `today` (default: the school's today) is what its dates are judged against."""
    if kind not in COLUMNS:
        raise ImportFailed([f"неизвестный вид данных «{kind}»; допустимо: {', '.join(COLUMNS)}"])
    try:
        headers, body = read_table(data, filename)
        index, problems = r.map_headers(headers, COLUMNS[kind])
        if problems:
            raise ImportFailed(problems)
        numbered: list[tuple[int, Sequence[Any] | Mapping[str, Any]]] = list(body)
    except TableError as exc:
        raise ImportFailed([str(exc)]) from None
    return _import(conn, school_id, kind, numbered, index, replace, today, leaving_with_money)


def import_rows(conn: Connection, school_id: str, kind: str, rows: Any, *, replace: bool = False,
                today: date | None = None, leaving_with_money: bool = False) -> ImportResult:
    """JSON rows (objects keyed by the English column keys), numbered from 1."""
    if kind not in COLUMNS:
        raise ImportFailed([f"неизвестный вид данных «{kind}»; допустимо: {', '.join(COLUMNS)}"])
    if not isinstance(rows, list) or len(rows) > MAX_ROWS:
        raise ImportFailed([f"rows: ожидается список до {MAX_ROWS} объектов"])
    numbered: list[tuple[int, Sequence[Any] | Mapping[str, Any]]] = []
    errors: list[r.RowError | str] = []
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            errors.append(r.RowError(n, "", "строка должна быть объектом JSON"))
        else:
            numbered.append((n, row))
    if errors:
        raise ImportFailed(errors)
    return _import(conn, school_id, kind, numbered, None, replace, today, leaving_with_money)


def _import(conn: Connection, school_id: str, kind: str, numbered: Iterable[tuple[int, Any]],
            index: dict[str, int] | None, replace: bool, today: date | None,
            leaving_with_money: bool = False) -> ImportResult:
    parsed, spellings = validate(conn, school_id, kind, numbered, index, today)
    if kind == "students" and replace and not leaving_with_money:
        leaving = leaving_students(conn, school_id, {row["student_id"] for _, row in parsed})
        if any(s.balance_kopecks for s in leaving):
            raise ImportFailed([leaving_money_refusal(leaving)])
    rev = take_revs(conn, school_id)
    if kind == "students":  # the class history: who moved, from when (server.office.history)
        was = dict(conn.execute(select(Student.id, Student.class_id).where(Student.school_id == school_id))
                   .tuples().all())
    skipped = APPLY[kind](conn, school_id, [row for _, row in parsed], rev, replace)
    if kind == "students":
        history.record_import(conn, school_id, [(row["student_id"], class_id_of(row["class"]), row["moved_on"])
                                                   for _, row in parsed], was, today)
    merged = [f"«{'», «'.join(sorted(written))}» → «{name}»" for name, written in sorted(spellings.items())
              if len(written) > 1]
    notes = (f"классы объединены: {'; '.join(merged)}",) if merged else ()
    return ImportResult(kind, len(parsed) - skipped, skipped, notes)


def import_numbered(conn: Connection, school_id: str, kind: str, numbered: Sequence[tuple[int, Mapping[str, Any]]],
                    *, replace: bool = False, leaving_with_money: bool = False,
                    today: date | None = None) -> ImportResult:
    """Rows keyed by the English column keys, each with the row number the user sees in the file."""
    if kind not in COLUMNS:
        raise ImportFailed([f"неизвестный вид данных «{kind}»; допустимо: {', '.join(COLUMNS)}"])
    return _import(conn, school_id, kind, numbered, None, replace, today, leaving_with_money)


def validate(conn: Connection, school_id: str, kind: str, numbered: Iterable[tuple[int, Any]],
             index: dict[str, int] | None, today: date | None
             ) -> tuple[list[tuple[int, dict[str, Any]]], dict[str, set[str]]]:
    """The rows as they would be written (by number) and the class spellings met, or ImportFailed
    with every problem; nothing is written."""
    school = conn.execute(select(School).where(School.id == school_id)).first()
    if school is None:
        raise ImportFailed([f"школа {school_id!r} не найдена"])
    today = today or datetime.now(ZoneInfo(school.timezone)).date()
    errors: list[r.RowError] = []
    parsed: list[tuple[int, dict[str, Any]]] = []
    seen: dict[Any, int] = {}
    spellings: dict[str, set[str]] = {}
    for number, cells in numbered:
        row = r.parse_row(number, cells, COLUMNS[kind], index, errors, today)
        if row is None:
            continue
        if "class" in row:  # one spelling from here on: keys, references and the stored name
            row["class"], written = r.class_name(row["class"]), row["class"].strip()
            if len(class_id_of(row["class"])) > 64:  # upper() and lower() can lengthen a text
                errors.append(r.RowError(number, "Класс", "название класса длиннее 64 символов"))
                continue
            spellings.setdefault(row["class"], set()).add(written)
        key = KEYS[kind](row)
        if key in seen:
            errors.append(r.RowError(number, "", f"повтор строки {seen[key]}"))
            continue
        seen[key] = number
        parsed.append((number, row))
    _check_references(conn, school, kind, parsed, errors)
    if kind == "orders":
        _check_order_days(conn, school.id, parsed, errors, today)
    if errors:
        errors.sort(key=lambda e: e.row)
        raise ImportFailed(list(errors))
    return parsed, spellings


def leaving_students(conn: Connection, school_id: str, listed: set[str]) -> list[Any]:
    """The active students a full list without them would deactivate (id, name, class, balance)."""
    return [s for s in conn.execute(
        select(Student.id, Student.full_name, Student.class_id, SchoolClass.name.label("class_name"),
               Student.balance_kopecks)
        .outerjoin(SchoolClass, and_(SchoolClass.school_id == Student.school_id, SchoolClass.id == Student.class_id))
        .where(Student.school_id == school_id, Student.active.is_(True)).order_by(Student.class_id, Student.full_name))
        if s.id not in listed]


def money_warning(leaving: Sequence[Any]) -> str:
    """«у выбывающих учеников на счетах 1 350,50 ₽» (and their debts), or "" when no money is involved."""
    held = sum(s.balance_kopecks for s in leaving if s.balance_kopecks > 0)
    owed = -sum(s.balance_kopecks for s in leaving if s.balance_kopecks < 0)
    parts = ([f"на счетах {format_rub(held)}"] if held else []) + ([f"долг {format_rub(owed)}"] if owed else [])
    return f"у выбывающих учеников {' и '.join(parts)}" if parts else ""


def leaving_money_refusal(leaving: Sequence[Any]) -> str:
    names = ", ".join(f"{s.full_name} ({format_rub(s.balance_kopecks)})" for s in leaving if s.balance_kopecks)
    return (f"{money_warning(leaving)}: {names[:1000]}; ничего не загружено. Верните или перенесите деньги, "
            "или подтвердите выбытие с деньгами на счетах (командная строка: --leaving-with-money; "
            "API: leaving_with_money=1)")


def _check_references(conn: Connection, school: Any, kind: str, parsed: list[tuple[int, dict[str, Any]]],
                      errors: list[r.RowError]) -> None:
    if kind in ("cards", "benefits", "orders", "topups"):
        known = set(conn.execute(select(Student.id).where(Student.school_id == school.id)).scalars())
        for number, row in parsed:
            if row["student_id"] not in known:
                errors.append(r.RowError(number, STUDENT.title, f"ученика с кодом {row['student_id']!r} нет в школе"))
    if kind == "topups":
        _check_payments(conn, school.id, parsed, errors)
    if kind == "benefits":
        categories = parse_policy(school.policy_text, f"policy:{school.id}").categories
        by_title = {norm_header(title): cid for cid, title in categories.items()}
        for number, row in parsed:
            row["category"] = by_title.get(norm_header(row["category"]), row["category"])  # a title -> its id
            if row["category"] not in categories:
                errors.append(r.RowError(number, "Категория", f"категории {row['category']!r} нет в политике "
                                         f"школы; есть: {', '.join(categories)}"))
            starts = row["starts"] or row["order_date"] + timedelta(days=1)
            if row["ends"] is not None and row["ends"] < starts:
                errors.append(r.RowError(number, "Действует по", "окончание раньше начала"))
    if kind == "meal_slots":
        classes = set(conn.execute(select(SchoolClass.id).where(SchoolClass.school_id == school.id)).scalars())
        for number, row in parsed:
            if class_id_of(row["class"]) not in classes:
                errors.append(r.RowError(number, "Класс", f"класса «{row['class']}» нет в школе"))
    if kind == "students":
        shifts: dict[str, tuple[int, int]] = {}
        for number, row in parsed:
            cid = class_id_of(row["class"])
            if not cid or not re.match(r"\d+", cid) or not 1 <= int(re.match(r"\d+", cid)[0]) <= 11:  # type: ignore[index]
                errors.append(r.RowError(number, "Класс", f"в названии класса «{row['class']}» нет номера 1–11"))
            shift = row["shift"] or 1
            if cid in shifts and shifts[cid][0] != shift:
                errors.append(r.RowError(number, "Смена", f"у класса другая смена в строке {shifts[cid][1]}"))
            shifts.setdefault(cid, (shift, number))
    if kind == "breaks":
        for number, row in parsed:
            if row["ends"] <= row["starts"]:
                errors.append(r.RowError(number, "Конец", "перемена кончается раньше, чем начинается"))


def _check_order_days(conn: Connection, school_id: str, parsed: list[tuple[int, dict[str, Any]]],
                      errors: list[r.RowError], today: date) -> None:
    """No order for a past day nor a day without lessons for the student's class (`server.office.orders`)."""
    from server.calendar import load_calendar
    from server.office.orders import day_refusal

    if not parsed:
        return
    days = [row["day"] for _, row in parsed]
    calendar = load_calendar(conn, school_id, min(days), max(days))
    ids = {row["student_id"] for _, row in parsed}
    classes = {sid: cid for sid, cid in conn.execute(select(Student.id, Student.class_id).where(
        Student.school_id == school_id)) if sid in ids}
    for number, row in parsed:
        refusal = day_refusal(calendar, row["day"], today, classes.get(row["student_id"]))
        if refusal:
            errors.append(r.RowError(number, "Дата", refusal))


def _check_payments(conn: Connection, school_id: str, parsed: list[tuple[int, dict[str, Any]]],
                    errors: list[r.RowError]) -> None:
    """A payment number seen before is harmless only for the same payment: banks restart their
    numbering, and skipping another payment of the same number would lose a parent's money."""
    refs = [row["reference"] for _, row in parsed]
    earlier: dict[str, Any] = {}
    for i in range(0, len(refs), CHUNK):
        for found in conn.execute(select(TopUp.reference, TopUp.student_id, TopUp.amount_kopecks, TopUp.paid_at,
                                         TopUp.imported_at).where(TopUp.school_id == school_id,
                                                                  TopUp.reference.in_(refs[i:i + CHUNK]))):
            earlier[found.reference] = found
    for number, row in parsed:
        t = earlier.get(row["reference"])
        if t is not None and (t.student_id, t.amount_kopecks, t.paid_at) != (row["student_id"], row["amount"],
                                                                              row["paid_at"]):
            errors.append(r.RowError(number, "Номер платежа", (
                f"платёж № {t.reference} уже загружен {t.imported_at:%d.%m.%Y}: ученик {t.student_id}, "
                f"{format_rub(t.amount_kopecks)}, дата {t.paid_at:%d.%m.%Y %H:%M}; в этой строке другой платёж "
                "с тем же номером — если это так, добавьте к номеру отличие (например, год)")))


def _tombstones(conn: Connection, school_id: str, rev: int, table: str, keys: Iterable[Sequence[Any]]) -> None:
    rows = [{"school_id": school_id, "rev": rev, "table": table,
             "key": json.dumps([k.isoformat() if hasattr(k, "isoformat") else k for k in key])} for key in keys]
    if rows:
        conn.execute(insert(Tombstone), rows)


def _students(conn: Connection, sid: str, rows: list[dict[str, Any]], rev: int, replace: bool) -> int:
    classes: dict[str, dict[str, Any]] = {}
    for row in rows:
        cid = class_id_of(row["class"])
        classes.setdefault(cid, {"school_id": sid, "id": cid, "name": row["class"],
                                 "grade": int(re.match(r"\d+", cid)[0]),  # type: ignore[index]
                                 "shift": row["shift"] or 1, "rev": rev})
    upsert(conn, SchoolClass.__table__, list(classes.values()), ("school_id", "id"))
    was_inactive = set(conn.execute(select(Student.id).where(Student.school_id == sid,
                                                             Student.active.is_(False))).scalars())
    upsert(conn, Student.__table__, [
        {"school_id": sid, "id": row["student_id"], "full_name": row["full_name"],
         "class_id": class_id_of(row["class"]), "birth_date": row["birth_date"], "diet_note": row["diet_note"],
         "daily_limit_kopecks": row["daily_limit"], "active": True if row["active"] is None else row["active"],
         "rev": rev} for row in rows], ("school_id", "id"))
    listed = {row["student_id"] for row in rows}
    if replace:  # the file is the whole roster: who is not in it has left the school
        conn.execute(update(Student).where(Student.school_id == sid, Student.active.is_(True),
                                           Student.id.not_in(listed)).values(active=False, rev=rev))
    back = [s for s in listed & was_inactive if any(row["student_id"] == s and row["active"] is not False
                                                    for row in rows)]
    for model in (Card, Entitlement, Order):  # a returning student's data must reach terminals again
        for chunk in range(0, len(back), CHUNK):
            conn.execute(update(model).where(model.school_id == sid, model.student_id.in_(back[chunk:chunk + CHUNK]))
                         .values(rev=rev))
    return 0


def _cards(conn: Connection, sid: str, rows: list[dict[str, Any]], rev: int, replace: bool) -> int:
    values = []
    for row in rows:
        key32, key24 = match_keys(row["card"])
        values.append({"school_id": sid, "uid": row["card"], "student_id": row["student_id"], "key32": key32,
                       "key24": key24, "blocked": row["blocked"], "blocked_reason": row["blocked_reason"],
                       "rev": rev})
    upsert(conn, Card.__table__, values, ("school_id", "uid"))
    return 0


def _benefits(conn: Connection, sid: str, rows: list[dict[str, Any]], rev: int, replace: bool) -> int:
    upsert(conn, Entitlement.__table__, [
        {"school_id": sid, "id": _benefit_id(row),
         "student_id": row["student_id"], "category": row["category"],
         "starts": row["starts"] or row["order_date"] + timedelta(days=1),  # the day after the order
         "ends": row["ends"], "order_no": row["order_no"], "order_date": row["order_date"], "reason": row["reason"],
         "rev": rev} for row in rows], ("school_id", "id"))
    return 0


def _orders(conn: Connection, sid: str, rows: list[dict[str, Any]], rev: int, replace: bool) -> int:
    """Each (student, day) row replaces that student's order for that day."""
    wanted = {(row["student_id"], row["day"]): set(row["meals"]) for row in rows}
    days = sorted({d for _, d in wanted})
    existing: dict[tuple[str, Any], set[str]] = {}
    for student_id, d, m in conn.execute(select(Order.student_id, Order.day, Order.meal).where(
            Order.school_id == sid, Order.day.in_(days))):
        if (student_id, d) in wanted:
            existing.setdefault((student_id, d), set()).add(m)
    gone = [(s, d, m) for (s, d), meals in existing.items() for m in meals - wanted[(s, d)]]
    for s, d, m in gone:
        conn.execute(delete(Order).where(and_(Order.school_id == sid, Order.student_id == s, Order.day == d,
                                              Order.meal == m)))
    _tombstones(conn, sid, rev, "orders", gone)
    upsert(conn, Order.__table__, [{"school_id": sid, "student_id": s, "day": d, "meal": m, "rev": rev}
                                   for (s, d), meals in wanted.items()
                                   for m in meals - existing.get((s, d), set())], ("school_id", "student_id", "day",
                                                                                  "meal"))
    return 0


def _topups(conn: Connection, sid: str, rows: list[dict[str, Any]], rev: int, replace: bool) -> int:
    refs = [row["reference"] for row in rows]
    done: set[str] = set()
    for i in range(0, len(refs), CHUNK):
        done.update(conn.execute(select(TopUp.reference).where(TopUp.school_id == sid,
                                                               TopUp.reference.in_(refs[i:i + CHUNK]))).scalars())
    new = [row for row in rows if row["reference"] not in done]
    if new:
        now = utcnow()
        conn.execute(insert(TopUp), [{"school_id": sid, "reference": row["reference"], "student_id": row["student_id"],
                                      "amount_kopecks": row["amount"], "paid_at": row["paid_at"], "imported_at": now}
                                     for row in new])
        totals: dict[str, int] = {}
        for row in new:
            totals[row["student_id"]] = totals.get(row["student_id"], 0) + row["amount"]
        for student_id, amount in totals.items():
            conn.execute(update(Student).where(Student.school_id == sid, Student.id == student_id)
                         .values(balance_kopecks=Student.balance_kopecks + amount, rev=rev))
        notices.balances_changed(conn, sid, totals)  # a balance back above a parent's threshold re-arms it
    return len(rows) - len(new)


def _prices(conn: Connection, sid: str, rows: list[dict[str, Any]], rev: int, replace: bool) -> int:
    upsert(conn, MenuPrice.__table__, [{"school_id": sid, "day": row["day"], "meal": row["meal"], "age_group": "",
                                        "price_kopecks": row["price"], "rev": rev} for row in rows],
           ("school_id", "day", "meal", "age_group"))  # a price file's price is for every age
    return 0


def _holidays(conn: Connection, sid: str, rows: list[dict[str, Any]], rev: int, replace: bool) -> int:
    upsert(conn, Holiday.__table__, [{"school_id": sid, "day": row["day"], "reason": row["reason"], "rev": rev}
                                     for row in rows], ("school_id", "day"))
    return 0


def _breaks(conn: Connection, sid: str, rows: list[dict[str, Any]], rev: int, replace: bool) -> int:
    upsert(conn, Break.__table__, [{"school_id": sid, "shift": row["shift"], "number": row["number"],
                                    "starts": row["starts"], "ends": row["ends"], "rev": rev} for row in rows],
           ("school_id", "shift", "number"))
    return 0


def _meal_slots(conn: Connection, sid: str, rows: list[dict[str, Any]], rev: int, replace: bool) -> int:
    upsert(conn, MealSlot.__table__, [{"school_id": sid, "class_id": class_id_of(row["class"]), "meal": row["meal"],
                                       "shift": row["shift"], "break_no": row["break_no"], "rev": rev}
                                      for row in rows], ("school_id", "class_id", "meal"))
    return 0


APPLY: dict[str, Callable[[Connection, str, list[dict[str, Any]], int, bool], int]] = {
    "students": _students, "cards": _cards, "benefits": _benefits, "orders": _orders, "topups": _topups,
    "prices": _prices, "holidays": _holidays, "breaks": _breaks, "meal_slots": _meal_slots,
}
