"""The people who serve at a school's windows: add one with a PIN, change a PIN, deactivate, list.

Each change takes a rev of the school (`server.db.take_revs`), so the school's terminals learn it on
their next pull. The PIN is stored only as its `pos.pins` hash. The CLI (`canteen server staff`) calls
these functions, and the office pages will call the same ones.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pos.models import STAFF_MAX
from pos.pins import hash_pin, pin_problem
from server.db import take_revs
from server.models import School, StaffMember


class StaffError(ValueError):
    """A change of the staff list that cannot be done (Russian message)."""


def _school_rev(conn: Connection, school_id: str) -> int:
    try:
        return take_revs(conn, school_id)
    except LookupError:
        raise StaffError(f"школа {school_id!r} не найдена") from None


def _check_pin(pin: str) -> None:
    problem = pin_problem(pin)
    if problem:
        raise StaffError(problem)


def add_staff(conn: Connection, school_id: str, name: str, pin: str) -> str:
    """Add a person who serves at the school's windows; returns the new id."""
    name = " ".join(name.split())
    if not name or len(name) > STAFF_MAX or not name.isprintable():
        raise StaffError(f"имя сотрудника: от 1 до {STAFF_MAX} печатных символов")
    _check_pin(pin)
    if conn.execute(select(School.id).where(School.id == school_id)).scalar() is None:
        raise StaffError(f"школа {school_id!r} не найдена")
    if conn.execute(select(StaffMember.id).where(StaffMember.school_id == school_id, StaffMember.name == name,
                                                 StaffMember.active.is_(True))).scalar() is not None:
        raise StaffError(f"сотрудник «{name}» уже есть в школе {school_id}: имена на терминале должны различаться")
    staff_id = secrets.token_hex(16)
    conn.execute(insert(StaffMember).values(school_id=school_id, id=staff_id, name=name, pin_hash=hash_pin(pin),
                                            active=True, rev=_school_rev(conn, school_id)))
    return staff_id


def _change(conn: Connection, school_id: str, staff_id: str, **values: Any) -> None:
    found = conn.execute(select(StaffMember.active).where(
        StaffMember.school_id == school_id, StaffMember.id == staff_id)).scalar()
    if found is None:
        raise StaffError(f"сотрудник {staff_id!r} не найден в школе {school_id!r}")
    if not found:
        raise StaffError(f"сотрудник {staff_id!r} уже удалён из списка раздачи")
    conn.execute(update(StaffMember).where(StaffMember.school_id == school_id, StaffMember.id == staff_id)
                 .values(rev=_school_rev(conn, school_id), **values))


def change_pin(conn: Connection, school_id: str, staff_id: str, pin: str) -> None:
    """Give a person a new PIN (the old one stops working at each terminal's next pull)."""
    _check_pin(pin)
    _change(conn, school_id, staff_id, pin_hash=hash_pin(pin))


def deactivate(conn: Connection, school_id: str, staff_id: str) -> None:
    """Take a person off the list of those who may sign in; their name stays on the events they recorded."""
    _change(conn, school_id, staff_id, active=False)


def listing(conn: Connection, school_id: str) -> list[dict[str, Any]]:
    """The school's staff, active first, by name: id, name, active (never the PIN's hash)."""
    rows = conn.execute(select(StaffMember.id, StaffMember.name, StaffMember.active)
                        .where(StaffMember.school_id == school_id)
                        .order_by(StaffMember.active.desc(), StaffMember.name, StaffMember.id))
    return [{"id": r.id, "name": r.name, "active": r.active} for r in rows]
