"""Notices to parents by e-mail: what causes one, who gets it, its Russian text, and the parents' choices.

A notice is a row of `notices` written in the transaction of the change that causes it, so a change and
its notice commit together or not at all; `server.notice_sender` sends the rows later, with retries.
The recipients of a student's notice are the active users holding a parent grant on the student whose
login is an e-mail address and who have not switched that kind off (`notice_preferences`; no row: all on).

- Balance below the parent's threshold (`DEFAULT_THRESHOLD_KOPECKS` until the parent sets one): one
  notice per fall below it, per parent and child; the balance back at or above the threshold re-arms it
  (`low_balance_alerts`). `balances_changed` is called wherever balances move (push ingest, top-ups),
  with one query for all the students the change touched.
- A card blocked (`card_blocked`), an application decided (`application_decided`).

E-mails link to the parent pages at CANTEEN_PUBLIC_URL (default http://localhost:5000).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from pos.domain import ru_date
from pos.lookup import SQLITE_IN_CHUNK as CHUNK
from pos.money import format_rub, parse_rub
from server.accounts import utcnow
from server.models import LowBalanceAlert, Notice, NoticePreference, RoleGrant, Student, User
from server.office.audit import record_change
from server.office.changes import OfficeError, today
from server.office.roles import Role, Scope

BALANCE_LOW, CARD_BLOCKED, APPLICATION = "balance_low", "card_blocked", "application"
KINDS = {BALANCE_LOW: "баланс ниже порога", CARD_BLOCKED: "карта заблокирована",
         APPLICATION: "решение по заявлению на льготное питание"}
DEFAULT_THRESHOLD_KOPECKS = 10_000  # 100,00 ₽: about a day of paid breakfast and lunch
MAX_THRESHOLD_KOPECKS = 1_000_000  # 10 000 ₽, the importer's largest daily limit
PUBLIC_URL_ENV = "CANTEEN_PUBLIC_URL"
DEFAULT_PUBLIC_URL = "http://localhost:5000"
PARENT_HOME = "/parent"  # the parent's pages (issue 13's parent cabinet)
SETTINGS_PATH = "/parent/notices"


@dataclass(frozen=True)
class Preferences:
    balance_low: bool = True
    card_blocked: bool = True
    application: bool = True
    threshold_kopecks: int = DEFAULT_THRESHOLD_KOPECKS


def public_url() -> str:
    return (os.environ.get(PUBLIC_URL_ENV, "").strip() or DEFAULT_PUBLIC_URL).rstrip("/")


def _footer() -> str:
    base = public_url()
    return (f"\n\nЛичный кабинет: {base}{PARENT_HOME}\n"
            f"Какие уведомления получать: {base}{SETTINGS_PATH}\n\n"
            "Письмо отправлено автоматически, отвечать на него не нужно.")


# --- preferences -----------------------------------------------------------------------------------------

def is_parent(conn: Connection, user_id: int) -> bool:
    return conn.execute(select(RoleGrant.id).where(RoleGrant.user_id == user_id, RoleGrant.role == Role.PARENT.value)
                        .limit(1)).first() is not None


def preferences(conn: Connection, user_id: int) -> Preferences:
    row = conn.execute(select(NoticePreference).where(NoticePreference.user_id == user_id)).first()
    if row is None:
        return Preferences()
    return Preferences(row.balance_low, row.card_blocked, row.application, int(row.threshold_kopecks))


def parse_threshold(text: str) -> int:
    """The threshold as typed («100», «48,50», «1 000,00 ₽») in kopecks; OfficeError (Russian) otherwise."""
    if not text.strip():
        raise OfficeError("укажите порог баланса в рублях, например «100,00»")
    try:
        kopecks = parse_rub(text)
    except ValueError as exc:
        raise OfficeError(f"порог баланса: {exc}") from None
    if kopecks > MAX_THRESHOLD_KOPECKS:
        raise OfficeError(f"порог баланса — не больше {format_rub(MAX_THRESHOLD_KOPECKS)}")
    return kopecks


def save_preferences(conn: Connection, user_id: int, *, balance_low: bool, card_blocked: bool, application: bool,
                     threshold: str, actor: str = "") -> Preferences:
    """Save a parent's choice (the threshold as typed; `actor` for the audit log, the user's id if not given);
    OfficeError for a non-parent or a bad threshold."""
    if not is_parent(conn, user_id):
        raise OfficeError("уведомления настраивают только родители")
    chosen = Preferences(balance_low, card_blocked, application, parse_threshold(threshold))
    before = preferences(conn, user_id)
    values = {"balance_low": chosen.balance_low, "card_blocked": chosen.card_blocked,
              "application": chosen.application, "threshold_kopecks": chosen.threshold_kopecks}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(NoticePreference).values(user_id=user_id, **values)
    conn.execute(stmt.on_conflict_do_update(index_elements=["user_id"], set_=values))
    if chosen != before:
        record_change(conn, actor or str(user_id), None, "notice_prefs", user_id, "set", asdict(before),
                      asdict(chosen))
    return chosen


# --- recipients -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Parent:
    user_id: int
    email: str
    student_id: str
    prefs: Preferences


def _parents(conn: Connection, school_id: str, student_ids: Iterable[str], *, balances: bool = False) -> list[Any]:
    """Rows (user_id, login, scope_id = the student, the preference columns or None) of the students' parents;
    with `balances` also the student's full_name, balance_kopecks and the alert's `at` (None: armed)."""
    ids = list(dict.fromkeys(student_ids))
    columns: list[Any] = [RoleGrant.user_id, User.login, RoleGrant.scope_id, NoticePreference.balance_low,
                          NoticePreference.card_blocked, NoticePreference.application,
                          NoticePreference.threshold_kopecks]
    query = (select(*columns).join(User, User.id == RoleGrant.user_id)
             .outerjoin(NoticePreference, NoticePreference.user_id == RoleGrant.user_id))
    if balances:
        query = (query.add_columns(Student.full_name, Student.balance_kopecks, LowBalanceAlert.at)
                 .join(Student, and_(Student.school_id == RoleGrant.school_id, Student.id == RoleGrant.scope_id))
                 .outerjoin(LowBalanceAlert, and_(LowBalanceAlert.user_id == RoleGrant.user_id,
                                                  LowBalanceAlert.school_id == RoleGrant.school_id,
                                                  LowBalanceAlert.student_id == RoleGrant.scope_id)))
    rows: list[Any] = []
    for i in range(0, len(ids), CHUNK):
        rows += conn.execute(
            query.where(RoleGrant.school_id == school_id, RoleGrant.scope_id.in_(ids[i:i + CHUNK]),
                        RoleGrant.role == Role.PARENT.value, RoleGrant.scope_kind == Scope.STUDENT.value,
                        User.active.is_(True), User.login.contains("@"))
            .order_by(RoleGrant.scope_id, RoleGrant.user_id)).all()
    return rows


def _parent(row: Any) -> _Parent:
    prefs = Preferences() if row.threshold_kopecks is None else Preferences(
        row.balance_low, row.card_blocked, row.application, int(row.threshold_kopecks))
    return _Parent(int(row.user_id), row.login, row.scope_id, prefs)


def _queue(conn: Connection, school_id: str, kind: str, letters: Sequence[tuple[_Parent, str, str]]) -> int:
    """Queue one letter (subject, body) per parent, due now."""
    now, footer = utcnow(), _footer()
    rows = [{"recipient": p.email, "user_id": p.user_id, "school_id": school_id, "student_id": p.student_id,
             "kind": kind, "subject": subject[:300], "body": body + footer, "created": now, "attempts": 0,
             "next_try_at": now} for p, subject, body in letters]
    if rows:
        conn.execute(insert(Notice), rows)
    return len(rows)


def _student(conn: Connection, school_id: str, student_id: str) -> str:
    name = conn.execute(select(Student.full_name).where(Student.school_id == school_id, Student.id == student_id)
                        ).scalar()
    return str(name or student_id)


# --- the causes -------------------------------------------------------------------------------------------

def balances_changed(conn: Connection, school_id: str, student_ids: Iterable[str]) -> int:
    """After balances of these students changed (in the same transaction): tell each parent whose threshold a
    balance fell below, once per fall, and re-arm those whose balance is back. Returns the notices queued."""
    ids = list(student_ids)
    if not ids:
        return 0
    rows = _parents(conn, school_id, ids, balances=True)
    if not rows:
        return 0
    rearmed: list[tuple[int, str]] = []
    fell: dict[tuple[int, str], tuple[_Parent, str, int]] = {}
    for row in rows:
        parent = _parent(row)
        balance, threshold = int(row.balance_kopecks), parent.prefs.threshold_kopecks
        if balance >= threshold and row.at is not None:
            rearmed.append((parent.user_id, parent.student_id))
        elif balance < threshold and row.at is None and parent.prefs.balance_low:
            fell[(parent.user_id, parent.student_id)] = (parent, row.full_name, balance)
    alert = (LowBalanceAlert.user_id, LowBalanceAlert.student_id)
    for i in range(0, len(rearmed), CHUNK):
        conn.execute(delete(LowBalanceAlert).where(LowBalanceAlert.school_id == school_id,
                                                   tuple_(*alert).in_(rearmed[i:i + CHUNK])))
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    now, keys = utcnow(), list(fell)
    told: set[tuple[int, str]] = set()
    for i in range(0, len(keys), CHUNK):  # one statement per chunk; RETURNING says which a concurrent change
        told.update(conn.execute(dialect.insert(LowBalanceAlert).values(  # has not told already
            [{"user_id": u, "school_id": school_id, "student_id": s, "at": now} for u, s in keys[i:i + CHUNK]])
            .on_conflict_do_nothing().returning(*alert)).tuples())
    letters = []
    for key in (k for k in keys if k in told):
        parent, name, balance = fell[key]
        limit = format_rub(parent.prefs.threshold_kopecks)
        letters.append((parent, f"Баланс ниже {limit}: {name}",
                        f"Здравствуйте!\n\nНа лицевом счёте ученика {name} осталось {format_rub(balance)} — "
                        f"меньше порога {limit}, заданного в уведомлениях.\n"
                        "Пополните счёт, чтобы платное питание не прервалось. Следующее такое письмо придёт, "
                        "когда баланс снова поднимется до порога и опять опустится ниже."))
    return _queue(conn, school_id, BALANCE_LOW, letters)


def card_blocked(conn: Connection, school_id: str, student_id: str, card_uid: str, by: str, *,
                 reason: str = "") -> int:
    """A card of the student was blocked by `by` (a login: the school's user or a parent). Returns notices queued."""
    parents = [p for p in map(_parent, _parents(conn, school_id, [student_id])) if p.prefs.card_blocked]
    if not parents:
        return 0
    name = _student(conn, school_id, student_id)
    who = ("в личном кабинете родителя" if by.strip().lower() in {p.email.lower() for p in parents}
           else "школой")
    body = (f"Здравствуйте!\n\nКарта {card_uid} ученика {name} заблокирована {who} {ru_date(today(conn, school_id))}"
            + (f". Причина: {reason}" if reason else "") + ".\n"
            "На раздаче по этой карте питание не выдаётся (после ближайшей синхронизации терминалов). "
            "Новую карту выдаёт школа.")
    return _queue(conn, school_id, CARD_BLOCKED, [(p, f"Карта заблокирована: {name}", body) for p in parents])


def application_decided(conn: Connection, school_id: str, student_id: str, *, granted: bool, decided_on: date,
                        category: str, reason: str = "") -> int:
    """The commission decided an application for the student (`category` is the category's title, `reason`
    the refusal's wording). Returns the notices queued."""
    parents = [p for p in map(_parent, _parents(conn, school_id, [student_id])) if p.prefs.application]
    if not parents:
        return 0
    name = _student(conn, school_id, student_id)
    if granted:
        subject = f"Льготное питание предоставляется: {name}"
        outcome = ("льготное питание предоставляется. Оно начнётся со дня, следующего за приказом директора "
                   "школы.")
    else:
        subject = f"Отказ в льготном питании: {name}"
        outcome = "в льготном питании отказано" + (f". Причина: {reason}" if reason else "") + "."
    body = (f"Здравствуйте!\n\nПо заявлению на льготное питание ученика {name} (категория: {category}) "
            f"решение комиссии от {ru_date(decided_on)}: {outcome}")
    return _queue(conn, school_id, APPLICATION, [(p, subject, body) for p in parents])
