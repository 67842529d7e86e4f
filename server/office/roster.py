"""The roster as the office keeps it: classes, finding a student, a student's card, cards and the diet note.

Every change goes through `server.office.changes.change` (a rev for the terminals, a line in the audit log).
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from drivers.card import CardIdError, parse_card_id
from pos.cards import form, match_keys, weaker_matches
from pos.policy import parse_policy
from server import notices
from server.importer import class_id_of
from server.models import BenefitApplication, Card, Entitlement, School, SchoolClass, Student
from server.office import accounts
from server.office.changes import NotFound, OfficeError, change
from server.office.changes import today as school_today

LOST = "утеряна"  # the reason a replaced card is blocked with
REASON_MAX = 200  # cards.blocked_reason
DIET_MAX = 500  # as the students import allows
SEARCH_LIMIT = 100
MEALS_DAYS = 31  # how far back a student's card shows the meals received


def normalise(text: str) -> str:
    """Names compare without case and without the ё/е difference."""
    return text.casefold().replace("ё", "е")


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,.;]+", normalise(text)) if w]


def name_matches(query: str, full_name: str) -> bool:
    """Every word of the query starts some word of the name, in any order («анна петр» finds «Петрова Анна»)."""
    words = re.split(r"[\s\-]+", normalise(full_name))
    return all(any(w.startswith(q) for w in words) for q in _words(query))


def list_classes(conn: Connection, school_id: str) -> list[dict[str, Any]]:
    """The school's classes in grade order, with their shift and head count of active students."""
    counts: dict[str, int] = {cid: n for cid, n in conn.execute(select(Student.class_id, func.count()).where(
        Student.school_id == school_id, Student.active.is_(True)).group_by(Student.class_id))}
    rows = conn.execute(select(SchoolClass).where(SchoolClass.school_id == school_id)
                        .order_by(SchoolClass.grade, SchoolClass.name)).all()
    return [{"id": r.id, "name": r.name, "grade": r.grade, "shift": r.shift, "students": int(counts.get(r.id, 0))}
            for r in rows]


def _in_force(day: date) -> Any:
    return and_(Entitlement.starts <= day, or_(Entitlement.ends.is_(None), Entitlement.ends >= day))


def categories_on(conn: Connection, school_id: str, student_ids: list[str], day: date) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    if not student_ids:
        return result
    for sid, category in conn.execute(select(Entitlement.student_id, Entitlement.category).where(
            Entitlement.school_id == school_id, _in_force(day)).order_by(Entitlement.category)):
        if sid in student_ids:
            result.setdefault(sid, []).append(category)
    return result


def parse_card(text: str) -> str | None:
    """A card number in any form a person types or a reader gives, canonical; None if it is not one."""
    try:
        return parse_card_id(text)
    except (CardIdError, ValueError):
        return None


def cards_matching(conn: Connection, school_id: str, uid: str) -> list[Any]:
    """The cards a read of `uid` matches: exactly, else by the weaker forms (the terminal's rule)."""
    rows = conn.execute(select(Card).where(Card.school_id == school_id, Card.uid == uid)).all()
    if rows:
        return list(rows)
    for column, key, forms in weaker_matches(uid):
        found = [r for r in conn.execute(select(Card).where(Card.school_id == school_id,
                                                            getattr(Card, column) == key)).all()
                 if form(r.uid) in forms]
        if found:
            return found
    return []


def search_students(conn: Connection, school_id: str, query: str = "", *, class_name: str | None = None,
                    category: str | None = None, day: date | None = None, include_left: bool = False,
                    limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """Students by name (case- and ё-insensitive, words in any order) or card number (any form), optionally
    of one class and with a benefit category in force on `day`; class by class, by name."""
    day = day or school_today(conn, school_id)
    where = [Student.school_id == school_id]
    if not include_left:
        where.append(Student.active.is_(True))
    if class_name:
        where.append(Student.class_id == class_id_of(class_name))
    uid = parse_card(query) if query.strip() else None
    if uid is not None:
        ids = {c.student_id for c in cards_matching(conn, school_id, uid)}
        where.append(Student.id.in_(ids or {""}))
    rows = [r for r in conn.execute(select(Student.id, Student.full_name, Student.class_id, Student.birth_date,
                                           Student.active, Student.balance_kopecks).where(*where)).all()
            if uid is not None or name_matches(query, r.full_name)]
    cats = categories_on(conn, school_id, [r.id for r in rows], day)
    if category:
        rows = [r for r in rows if category in cats.get(r.id, [])]
    classes = {c.id: c for c in conn.execute(select(SchoolClass.id, SchoolClass.name, SchoolClass.grade)
                                             .where(SchoolClass.school_id == school_id))}
    rows.sort(key=lambda r: (classes[r.class_id].grade if r.class_id in classes else 99, r.class_id,
                             normalise(r.full_name)))
    return [{"id": r.id, "full_name": r.full_name, "class_id": r.class_id,
             "class_name": classes[r.class_id].name if r.class_id in classes else r.class_id,
             "birth_date": r.birth_date, "active": r.active, "balance_kopecks": int(r.balance_kopecks),
             "categories": cats.get(r.id, [])} for r in rows[:limit]]


def _student(conn: Connection, school_id: str, student_id: str) -> Any:
    row = conn.execute(select(Student).where(Student.school_id == school_id, Student.id == student_id)).first()
    if row is None:
        raise NotFound(f"ученика с кодом {student_id} нет в школе")
    return row


def student_card(conn: Connection, school_id: str, student_id: str, *, day: date | None = None) -> dict[str, Any]:
    """Everything the office shows of a student: details, cards, benefits, account, meals, applications."""
    day = day or school_today(conn, school_id)
    s = _student(conn, school_id, student_id)
    policy = parse_policy(conn.execute(select(School.policy_text).where(School.id == school_id)).scalar_one(),
                          f"policy:{school_id}")
    cls = conn.execute(select(SchoolClass.name, SchoolClass.shift).where(
        SchoolClass.school_id == school_id, SchoolClass.id == s.class_id)).first()
    cards = conn.execute(select(Card.uid, Card.blocked, Card.blocked_reason).where(
        Card.school_id == school_id, Card.student_id == student_id).order_by(Card.rev, Card.uid)).all()
    ents = conn.execute(select(Entitlement).where(Entitlement.school_id == school_id,
                                                  Entitlement.student_id == student_id)
                        .order_by(Entitlement.starts)).all()
    apps = conn.execute(select(BenefitApplication.id, BenefitApplication.category, BenefitApplication.status,
                               BenefitApplication.registered_on).where(
        BenefitApplication.school_id == school_id, BenefitApplication.student_id == student_id)
        .order_by(BenefitApplication.registered_on)).all()
    meals: dict[date, list[str]] = {}
    for m in accounts.meals_received(conn, school_id, student_id, day - timedelta(days=MEALS_DAYS), day):
        meals.setdefault(m.day, []).append(m.meal)
    return {
        "id": s.id, "full_name": s.full_name, "class_id": s.class_id, "class_name": cls.name if cls else s.class_id,
        "shift": cls.shift if cls else None, "birth_date": s.birth_date, "active": s.active,
        "daily_limit_kopecks": s.daily_limit_kopecks, "diet_note": s.diet_note,
        "cards": [{"uid": c.uid, "blocked": c.blocked, "blocked_reason": c.blocked_reason} for c in cards],
        "entitlements": [{"id": e.id, "category": e.category, "category_title": policy.categories.get(e.category, ""),
                          "starts": e.starts, "ends": e.ends, "order_no": e.order_no, "order_date": e.order_date,
                          "reason": e.reason, "in_force": e.starts <= day and (e.ends is None or e.ends >= day)}
                         for e in ents],
        "account": {"balance_kopecks": int(s.balance_kopecks),
                    "statement": [asdict(e) for e in accounts.statement(conn, school_id, student_id)]},
        "meals": [{"day": d, "meals": ms} for d, ms in sorted(meals.items())],
        "applications": [{"id": a.id, "category": a.category, "status": a.status, "registered_on": a.registered_on}
                         for a in apps],
    }


def _card_values(row: Any) -> dict[str, Any]:
    return {"uid": row.uid, "student_id": row.student_id, "blocked": row.blocked, "blocked_reason": row.blocked_reason}


def _check_new_card(conn: Connection, school_id: str, student_id: str, card_text: str) -> str:
    uid = parse_card(card_text)
    if uid is None:
        raise OfficeError(f"номер карты не распознан: «{card_text.strip()[:40]}»")
    for c in cards_matching(conn, school_id, uid):
        if c.student_id != student_id and not c.blocked:
            # Two students behind one read would make the terminal refuse it as ambiguous.
            raise OfficeError(f"карта {c.uid} уже выдана другому ученику (код {c.student_id})")
        if c.uid == uid:
            raise OfficeError(f"карта {uid} уже записана"
                              + (f" и заблокирована: {c.blocked_reason}" if c.blocked else " за этим учеником"))
    return uid


def issue_card(conn: Connection, actor: str, school_id: str, student_id: str, card_text: str) -> str:
    """Give a card to a student; returns its canonical number."""
    student = _student(conn, school_id, student_id)
    if not student.active:
        raise OfficeError("ученик больше не обучается в школе: карту выдать нельзя")
    uid = _check_new_card(conn, school_id, student_id, card_text)
    key32, key24 = match_keys(uid)
    after = {"uid": uid, "student_id": student_id, "blocked": False, "blocked_reason": ""}
    rev = change(conn, actor, school_id, "card", uid, "issue", None, after)
    conn.execute(insert(Card).values(school_id=school_id, key32=key32, key24=key24, rev=rev, **after))
    return uid


def _registered(conn: Connection, school_id: str, card_text: str) -> Any:
    """The one registered card a number names, in any form it is typed (the terminal's matching rule)."""
    uid = parse_card(card_text)
    rows = cards_matching(conn, school_id, uid) if uid else conn.execute(select(Card).where(
        Card.school_id == school_id, Card.uid == card_text.strip())).all()
    if not rows:
        raise NotFound(f"карты {uid or card_text.strip()[:40]} нет в школе")
    if len(rows) > 1:
        raise OfficeError(f"номеру соответствуют несколько карт ({', '.join(r.uid for r in rows)}): "
                          "укажите номер полностью")
    return rows[0]


def block_card(conn: Connection, actor: str, school_id: str, card_text: str, reason: str) -> dict[str, Any]:
    """Block a card with a reason; the terminals refuse it after their next pull."""
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise OfficeError(f"укажите причину блокировки (до {REASON_MAX} символов)")
    row = _registered(conn, school_id, card_text)
    uid = row.uid
    if row.blocked:
        raise OfficeError(f"карта {uid} уже заблокирована: {row.blocked_reason}")
    after = {**_card_values(row), "blocked": True, "blocked_reason": reason}
    rev = change(conn, actor, school_id, "card", uid, "block", _card_values(row), after)
    conn.execute(update(Card).where(Card.school_id == school_id, Card.uid == uid)
                 .values(blocked=True, blocked_reason=reason, rev=rev))
    if row.student_id:
        notices.card_blocked(conn, school_id, row.student_id, uid, actor, reason=reason)
    return after


def replace_lost_card(conn: Connection, actor: str, school_id: str, old_card: str, new_card: str) -> str:
    """A lost card: block the old one («утеряна») and give the student the new one, together or not at all."""
    old = _registered(conn, school_id, old_card)
    old_uid, student_id = old.uid, old.student_id
    _check_new_card(conn, school_id, student_id, new_card)  # before anything is written
    block_card(conn, actor, school_id, old_uid, LOST)
    return issue_card(conn, actor, school_id, student_id, new_card)


def set_diet_note(conn: Connection, actor: str, school_id: str, student_id: str, note: str) -> None:
    """Edit what the serving window must know about the student's diet (shown at the terminal)."""
    note = note.strip()
    if len(note) > DIET_MAX:
        raise OfficeError(f"особенности питания: не длиннее {DIET_MAX} символов")
    student = _student(conn, school_id, student_id)
    if student.diet_note == note:
        return
    rev = change(conn, actor, school_id, "student", student_id, "diet_note",
                 {"diet_note": student.diet_note}, {"diet_note": note})
    conn.execute(update(Student).where(Student.school_id == school_id, Student.id == student_id)
                 .values(diet_note=note, rev=rev))
