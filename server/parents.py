"""The parents' personal account: linking by the one-time code of a school's letter, and what a parent sees
and does for their own children.

A school prints a letter per student (`issue_letters`) with a one-time code: 10 characters of an alphabet
without look-alikes (no 0/O, 1/I/L), shown as two groups of five. Only the SHA-256 of a code is kept; a
code expires after `CODE_DAYS` days, is used once, and a new letter for a student ends the student's
unused codes. A wrong code counts as a failed sign-in (`with_code`: `server.accounts.record_login_failure`,
per e-mail and per address), so guessing is stopped by the same database-kept limit as passwords.

A new parent registers with a code, an e-mail (their login) and a password and gets a
`Grant(Role.PARENT, Scope.STUDENT, school, student)`; a signed-in parent adds another child with
another code. A child's second parent gets a second letter (the first code is used up by then).

The parent's pages reuse the office's rules: the statement and the meals received
(`server.office.accounts`), the day's menu (`server.office.menu`), orders by the class order's rules and
writes (`server.office.orders.sheet` / `submit`, the deadline of `server.calendar`), card blocking
(`server.office.roster.block_card`). Changes of rows terminals pull (orders, the daily limit, cards) take
a rev through `server.office.changes.change`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from pos.domain import Meal, age_group, ru_date
from pos.money import format_rub, parse_rub
from server import accounts
from server.calendar import load_calendar, school_clock
from server.models import (
    BenefitApplication,
    Card,
    ParentCode,
    RoleGrant,
    School,
    SchoolClass,
    Student,
    User,
)
from server.office import accounts as statements
from server.office import menu, orders, roster
from server.office.audit import record_change
from server.office.changes import NotFound, OfficeError, change
from server.office.roles import Grant, Role, Scope
from server.office.users import Account, Throttled, UserError, add_user, load

T = TypeVar("T")
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 characters, no 0/O, 1/I/L
CODE_LENGTH = 10  # about 49 bits
CODE_DAYS = 30
LIMIT_MAX = 1_000_000  # kopecks: 10 000 ₽ a day
MEALS_DAYS = 31  # how far back the meals received are shown
_EMAIL = re.compile(r"[a-z0-9][a-z0-9._-]*@[a-z0-9-]+(\.[a-z0-9-]+)+")
APPLICATION_RU = {"registered": "на рассмотрении", "granted": "льгота предоставлена", "refused": "отказано"}


class ParentError(OfficeError):
    """A parent's request that cannot be done (Russian message)."""


class BadCode(ParentError):
    """No unused code in force matches: counted as a failed sign-in by `with_code`."""

    def __init__(self, login_key: str, ip: str) -> None:
        super().__init__(f"код не подходит: проверьте его по письму школы (код действует один раз и {CODE_DAYS} "
                         "дней); если срок прошёл, попросите в школе новое письмо")
        self.login_key, self.ip = login_key, ip


def with_code(engine: Engine, limits: accounts.LoginLimits, work: Callable[[Connection], T]) -> T:
    """Run `work` (`register`, `link_child`) in a transaction; a wrong code rolls it back but is counted as a
    failed sign-in in a transaction of its own, so guessing meets the limit."""
    try:
        with engine.begin() as conn:
            return work(conn)
    except BadCode as exc:
        with engine.begin() as conn:
            accounts.record_login_failure(conn, exc.login_key, exc.ip, limits)
        raise


# -- codes and letters -------------------------------------------------------------------------------------


def normalise_code(text: str) -> str:
    """A code as typed (any case, spaces or dashes between groups) in its stored form."""
    return re.sub(r"[\s\-]", "", text[:100]).upper()


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


@dataclass(frozen=True)
class Letter:
    school_name: str
    student_id: str
    full_name: str
    class_name: str
    code: str  # formatted, shown only in this letter
    expires_at: datetime  # UTC, naive


def _class(conn: Connection, school_id: str, class_id: str) -> Any:
    cls = conn.execute(select(SchoolClass.id, SchoolClass.name).where(
        SchoolClass.school_id == school_id, SchoolClass.id == class_id)).first()
    if cls is None:
        raise NotFound(f"класса {class_id[:64]} нет в школе")
    return cls


def class_letters(conn: Connection, school_id: str, class_id: str) -> dict[str, Any]:
    """The class's active students with the state of their letters: a code in force until…, parents linked."""
    cls = _class(conn, school_id, class_id)
    students = orders.class_students(conn, school_id, class_id)
    now = accounts.utcnow()
    live = dict(conn.execute(select(ParentCode.student_id, func.max(ParentCode.expires_at)).where(
        ParentCode.school_id == school_id, ParentCode.used_at.is_(None), ParentCode.expires_at > now)
        .group_by(ParentCode.student_id)).tuples().all())
    linked = dict(conn.execute(select(RoleGrant.scope_id, func.count()).where(
        RoleGrant.school_id == school_id, RoleGrant.role == Role.PARENT.value,
        RoleGrant.scope_kind == Scope.STUDENT.value).group_by(RoleGrant.scope_id)).tuples().all())
    return {"class_id": cls.id, "class_name": cls.name,
            "rows": [{"id": s.id, "full_name": s.full_name, "code_until": live.get(s.id),
                      "parents": int(linked.get(s.id, 0))} for s in students]}


def issue_letters(conn: Connection, actor: str, school_id: str, class_id: str, student_ids: Iterable[str],
                  *, now: datetime | None = None) -> list[Letter]:
    """New codes for the named students of the class (their unused codes end), as letters to print."""
    cls = _class(conn, school_id, class_id)
    names = {s.id: s.full_name for s in orders.class_students(conn, school_id, class_id)}
    wanted = list(dict.fromkeys(student_ids))
    if not wanted:
        raise ParentError("отметьте учеников, для которых напечатать письма")
    if unknown := [sid for sid in wanted if sid not in names]:
        raise ParentError(f"ученика с кодом {unknown[0][:64]} нет в классе {cls.name}")
    school_name = conn.execute(select(School.name).where(School.id == school_id)).scalar_one()
    now = now or accounts.utcnow()
    expires = now + timedelta(days=CODE_DAYS)
    letters = []
    for sid in sorted(wanted, key=lambda s: (names[s], s)):
        conn.execute(delete(ParentCode).where(ParentCode.school_id == school_id, ParentCode.student_id == sid,
                                              ParentCode.used_at.is_(None)))
        code = new_code()
        conn.execute(insert(ParentCode).values(code_hash=_hash(code), school_id=school_id, student_id=sid,
                                               created_by=actor[:64], created_at=now, expires_at=expires))
        record_change(conn, actor, school_id, "parent_code", sid, "issue", None,
                      {"student_id": sid, "expires": expires.date().isoformat()})
        letters.append(Letter(school_name, sid, names[sid], cls.name, format_code(code), expires))
    return letters


def _use_code(conn: Connection, code_text: str, login_key: str, ip: str, limits: accounts.LoginLimits) -> Any:
    """The row of an unused code in force (`_mark_used` uses it up); BadCode if none (see `with_code`)."""
    wait = accounts.login_throttled(conn, login_key, ip, limits)
    if wait:
        raise Throttled(wait)
    code = normalise_code(code_text)
    row = None
    if len(code) == CODE_LENGTH and all(c in ALPHABET for c in code):
        row = conn.execute(select(ParentCode).where(ParentCode.code_hash == _hash(code), ParentCode.used_at.is_(None),
                                                    ParentCode.expires_at > accounts.utcnow())).first()
    if row is None:
        raise BadCode(login_key, ip)
    return row


def _mark_used(conn: Connection, row: Any, user_id: int) -> None:
    done = conn.execute(update(ParentCode).where(ParentCode.code_hash == row.code_hash,
                                                 ParentCode.used_at.is_(None))
                        .values(used_at=accounts.utcnow(), used_by=user_id)).rowcount
    if done != 1:  # another request used it a moment ago
        raise ParentError("код уже использован")


def check_email(text: str) -> str:
    email = text.strip().lower()
    if len(email) > 64 or not _EMAIL.fullmatch(email):
        raise ParentError("e-mail: адрес вида name@example.ru до 64 знаков (латинские буквы, цифры, точка, «-», «_»)")
    return email


def register(conn: Connection, code_text: str, email_text: str, password: str, password2: str, ip: str,
             limits: accounts.LoginLimits) -> Account:
    """A new parent's account from a letter's code: the e-mail is the login; the child is linked."""
    email = email_text.strip().lower()[:64]
    row = _use_code(conn, code_text, f"code:{email}", ip, limits)
    email = check_email(email_text)
    if password != password2:
        raise ParentError("пароли не совпадают")
    if conn.execute(select(User.id).where(User.login == email)).first() is not None:
        raise ParentError("с этим e-mail уже есть кабинет: войдите и добавьте ребёнка по коду в кабинете")
    try:
        user_id = add_user(conn, email, password=password,
                           grants=[Grant(Role.PARENT, Scope.STUDENT, row.school_id, row.student_id)])
    except UserError as exc:
        raise ParentError(str(exc)) from None
    _mark_used(conn, row, user_id)
    record_change(conn, email, row.school_id, "parent", row.student_id, "register", None,
                  {"login": email, "student_id": row.student_id})
    key = conn.execute(select(User.session_key).where(User.id == user_id)).scalar_one()
    account = load(conn, key)
    assert account is not None
    return account


def link_child(conn: Connection, me: Account, code_text: str, ip: str, limits: accounts.LoginLimits) -> str:
    """Add the child of a letter's code to a signed-in user's account; returns the child's name."""
    row = _use_code(conn, code_text, f"code:{me.login}", ip, limits)
    if any(g.role is Role.PARENT and g.school_id == row.school_id and g.scope_id == row.student_id
           for g in me.grants):
        raise ParentError("этот ребёнок уже есть в вашем кабинете")
    _mark_used(conn, row, me.id)
    conn.execute(insert(RoleGrant).values(user_id=me.id, role=Role.PARENT.value, scope_kind=Scope.STUDENT.value,
                                          school_id=row.school_id, scope_id=row.student_id))
    record_change(conn, me.login, row.school_id, "parent", row.student_id, "link", None,
                  {"login": me.login, "student_id": row.student_id})
    name: str = conn.execute(select(Student.full_name).where(Student.school_id == row.school_id,
                                                             Student.id == row.student_id)).scalar_one()
    return name


# -- what a parent sees --------------------------------------------------------------------------------------


def children(conn: Connection, grants: Iterable[Grant]) -> list[dict[str, Any]]:
    """The children a user's parent grants name, with their school, class and balance."""
    out = []
    for g in grants:
        if g.role is not Role.PARENT or g.school_id is None:
            continue
        row = conn.execute(select(Student.id, Student.full_name, Student.balance_kopecks, Student.class_id,
                                  School.name.label("school_name"), SchoolClass.name.label("class_name"))
                           .join(School, School.id == Student.school_id)
                           .outerjoin(SchoolClass, (SchoolClass.school_id == Student.school_id)
                                      & (SchoolClass.id == Student.class_id))
                           .where(Student.school_id == g.school_id, Student.id == g.scope_id)).first()
        if row is not None:
            out.append({"school_id": g.school_id, "id": row.id, "full_name": row.full_name,
                        "class_name": row.class_name or row.class_id, "school_name": row.school_name,
                        "balance_kopecks": int(row.balance_kopecks)})
    return out


def _student(conn: Connection, school_id: str, student_id: str) -> Any:
    row = conn.execute(select(Student, SchoolClass.name.label("class_name"), SchoolClass.grade)
                       .outerjoin(SchoolClass, (SchoolClass.school_id == Student.school_id)
                                  & (SchoolClass.id == Student.class_id))
                       .where(Student.school_id == school_id, Student.id == student_id)).first()
    if row is None:
        raise NotFound("такого ученика нет в школе")
    return row


def child(conn: Connection, school_id: str, student_id: str, today: date) -> dict[str, Any]:
    """The child's page: balance, daily limit, cards, benefit applications, meals received and the statement."""
    s = _student(conn, school_id, student_id)
    cards = conn.execute(select(Card.uid, Card.blocked, Card.blocked_reason).where(
        Card.school_id == school_id, Card.student_id == student_id).order_by(Card.rev, Card.uid)).all()
    apps = conn.execute(select(BenefitApplication).where(
        BenefitApplication.school_id == school_id, BenefitApplication.student_id == student_id)
        .order_by(BenefitApplication.registered_on.desc())).all()
    statement = statements.statement(conn, school_id, student_id)
    return {"school_id": school_id, "id": s.id, "full_name": s.full_name, "class_name": s.class_name or s.class_id,
            "balance_kopecks": int(s.balance_kopecks), "daily_limit_kopecks": s.daily_limit_kopecks,
            "cards": [{"uid": c.uid, "blocked": c.blocked, "blocked_reason": c.blocked_reason} for c in cards],
            "applications": [{"id": a.id, "category": a.category, "registered_on": a.registered_on,
                              "status": APPLICATION_RU.get(a.status, a.status), "decided_on": a.decided_on,
                              "order_no": a.order_no, "order_date": a.order_date} for a in apps],
            "meals": meals_by_day(conn, school_id, s, today),
            "statement": list(reversed(statement))}


def meals_by_day(conn: Connection, school_id: str, s: Any, today: date) -> list[dict[str, Any]]:
    """The meals received in the last `MEALS_DAYS` days, newest first: meal, dishes, paid and free sums."""
    received = statements.meals_received(conn, school_id, s.id, today - timedelta(days=MEALS_DAYS), today)
    days: dict[date, list[dict[str, Any]]] = {}
    dishes: dict[date, dict[str, list[str]]] = {}
    for m in received:
        if m.day not in dishes:
            group = age_group(s.birth_date, s.grade or 0, m.day)
            dishes[m.day] = {}
            for d in menu.day_menu(conn, school_id, m.day):
                if d.age_group == group:
                    dishes[m.day].setdefault(d.meal, []).append(d.name)
        days.setdefault(m.day, []).append({
            "meal": m.meal, "title": Meal(m.meal).ru if m.meal in Meal._value2member_map_ else m.meal,
            "dishes": dishes[m.day].get(m.meal, []), "paid_kopecks": m.paid_kopecks, "free_kopecks": m.free_kopecks,
            "free": m.paid_kopecks == 0})
    return [{"day": d, "meals": ms, "paid_kopecks": sum(m["paid_kopecks"] for m in ms)}
            for d, ms in sorted(days.items(), reverse=True)]


def day_menu(conn: Connection, school_id: str, student_id: str, day: date) -> dict[str, list[menu.DishRow]]:
    """The day's dishes for the child's age group, by meal."""
    s = _student(conn, school_id, student_id)
    group = age_group(s.birth_date, s.grade or 0, day)
    found: dict[str, list[menu.DishRow]] = {}
    for d in menu.day_menu(conn, school_id, day):
        if d.age_group == group:
            found.setdefault(d.meal, []).append(d)
    return found


# -- what a parent changes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderDay:
    day: date
    deadline: datetime  # aware, school time
    locked: bool
    absent: bool
    free: list[str]  # meals the budget pays, ordered as the school has them
    prices: dict[str, int]  # paid meals one may order, with their price
    chosen: list[str]  # paid meals ordered
    warnings: list[str]


def _row(sheet: orders.Sheet, student_id: str) -> orders.Row:
    for row in sheet.rows:
        if row.student_id == student_id:
            return row
    raise ParentError("ученик не обучается в школе: заказ питания недоступен")


def order_days(conn: Connection, school_id: str, student_id: str, *, now: datetime) -> list[OrderDay]:
    """The child's coming school days (today, if a school day, and the next ones of the class order's
    horizon) with the paid meals one may order, by the class order's deadline rule."""
    s = _student(conn, school_id, student_id)
    if not s.active:
        return []
    tz, _deadline = school_clock(conn, school_id)
    today = orders.school_day_of(tz, now)
    calendar = load_calendar(conn, school_id, today - timedelta(days=1), today + timedelta(days=62))
    out = []
    for day in orders.order_days(calendar, today, s.class_id):
        sheet = orders.sheet(conn, school_id, s.class_id, day, now=now)
        row = _row(sheet, student_id)
        out.append(OrderDay(day, sheet.deadline, sheet.locked, row.absent, [m for m in row.meals if m in row.free],
                            row.prices, [m for m in row.meals if m not in row.free], row.warnings))
    return out


def save_orders(conn: Connection, actor: str, school_id: str, student_id: str, wanted: Mapping[date, set[str]],
                *, now: datetime) -> int:
    """Order the paid meals `wanted` says for each day named (others keep theirs); returns the days changed.

    The free meals stay as the school has them; a day past its deadline is refused (`orders.Locked`)."""
    days = {d.day: d for d in order_days(conn, school_id, student_id, now=now)}
    s = _student(conn, school_id, student_id)
    changed = 0
    for day, paid in sorted(wanted.items()):
        offered = days.get(day)
        if offered is None:
            raise ParentError(f"на {ru_date(day)} заказ не принимается: это не ближайший учебный день")
        if set(offered.chosen) == paid:
            continue
        if offered.locked:
            raise orders.Locked(f"{orders.lock_message(day, offered.deadline)}: изменить заказ нельзя")
        if offered.absent and paid:
            raise ParentError(f"на {ru_date(day)} ученик отмечен «не придёт»: заказ недоступен")
        if bad := sorted(paid - set(offered.prices)):
            title = Meal(bad[0]).ru if bad[0] in Meal._value2member_map_ else bad[0][:20]
            raise ParentError(f"на {ru_date(day)} нельзя заказать «{title}»: нет платного питания по меню")
        meals = frozenset(set(offered.free) | paid)
        orders.submit(conn, actor, school_id, s.class_id, day, {student_id: orders.Choice(meals)}, now=now,
                      may_amend=False, answers_for_class=False)
        changed += 1
    return changed


def parse_limit(text: str) -> int | None:
    """The daily limit typed in rubles; empty: no limit."""
    if not text.strip():
        return None
    try:
        kopecks = parse_rub(text)
    except ValueError as exc:
        raise ParentError(str(exc)) from None
    if kopecks > LIMIT_MAX:
        raise ParentError(f"дневной лимит: не больше {format_rub(LIMIT_MAX)}")
    return kopecks


def set_limit(conn: Connection, actor: str, school_id: str, student_id: str, kopecks: int | None) -> None:
    """Set the child's daily spending limit (terminals refuse paid meals above it after their next pull)."""
    s = _student(conn, school_id, student_id)
    if s.daily_limit_kopecks == kopecks:
        return
    rev = change(conn, actor, school_id, "student", student_id, "daily_limit",
                 {"daily_limit_kopecks": s.daily_limit_kopecks}, {"daily_limit_kopecks": kopecks})
    conn.execute(update(Student).where(Student.school_id == school_id, Student.id == student_id)
                 .values(daily_limit_kopecks=kopecks, rev=rev))


def block_card(conn: Connection, actor: str, school_id: str, student_id: str, uid: str) -> dict[str, Any]:
    """Block the child's lost card; the terminals refuse it after their next pull."""
    own = conn.execute(select(Card.uid).where(Card.school_id == school_id, Card.student_id == student_id,
                                              Card.uid == uid.strip()[:100])).first()
    if own is None:
        raise ParentError("у ребёнка нет такой карты")
    return roster.block_card(conn, actor, school_id, own.uid, roster.LOST)  # also queues the parents' notice

