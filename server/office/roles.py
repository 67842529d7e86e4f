"""Roles of the office, their scopes, and the one rule that says whether a user's grants open a page.

A grant is a role over a scope: a school (administrator, meals coordinator, canteen), a class of a
school (class teacher), a student (parent) or a district. A user may hold several grants.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    SCHOOL_ADMIN = "school_admin"
    COORDINATOR = "coordinator"
    TEACHER = "teacher"
    CANTEEN = "canteen"
    PARENT = "parent"
    DISTRICT = "district"

    @property
    def ru(self) -> str:
        return ROLE_TITLES[self]


class Scope(StrEnum):
    SCHOOL = "school"
    CLASS = "class"
    STUDENT = "student"
    DISTRICT = "district"


ROLE_TITLES = {
    Role.SCHOOL_ADMIN: "администратор школы",
    Role.COORDINATOR: "ответственный за питание",
    Role.TEACHER: "классный руководитель",
    Role.CANTEEN: "столовая",
    Role.PARENT: "родитель",
    Role.DISTRICT: "управление образования",
}

ROLE_SCOPE = {Role.SCHOOL_ADMIN: Scope.SCHOOL, Role.COORDINATOR: Scope.SCHOOL, Role.CANTEEN: Scope.SCHOOL,
              Role.TEACHER: Scope.CLASS, Role.PARENT: Scope.STUDENT, Role.DISTRICT: Scope.DISTRICT}

# The roles a school administrator may hand out today (parents and the district get pages later).
SCHOOL_ROLES = (Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER, Role.CANTEEN)


@dataclass(frozen=True)
class Grant:
    role: Role
    scope: Scope
    school_id: str | None  # None for a district grant
    scope_id: str = ""  # the class, the student or the district; "" for a whole school


def permits(grants: Iterable[Grant], roles: Iterable[Role], *, school_id: str | None = None,
            class_id: str | None = None, district_id: str | None = None) -> bool:
    """Whether a grant of one of `roles` covers the school (and the class) a page is about.

    A school-wide grant covers every class of its school; a class grant covers its class and, on a
    school page, lets its holder in (the page then shows only what the role may see). A district page
    (`district_id`) is covered only by a district grant of that district; a district grant names no
    school, so it never covers a school's own pages (its schools are reached through the district pages,
    which check that a school is the district's).
    """
    wanted = set(roles)
    for g in grants:
        if g.role not in wanted:
            continue
        if district_id is not None:
            if g.scope is Scope.DISTRICT and g.scope_id == district_id:
                return True
            continue
        if school_id is None:
            return True
        if g.school_id != school_id:
            continue
        if class_id is None or g.scope is Scope.SCHOOL or (g.scope is Scope.CLASS and g.scope_id == class_id):
            return True
    return False


def permits_student(grants: Iterable[Grant], roles: Iterable[Role], school_id: str, student_id: str) -> bool:
    """Whether a student grant of one of `roles` names this very student (a parent's own child)."""
    wanted = set(roles)
    return any(g.role in wanted and g.scope is Scope.STUDENT and g.school_id == school_id and g.scope_id == student_id
               for g in grants)


def schools_of(grants: Iterable[Grant]) -> list[str]:
    """The schools a user works in, in the order of the grants, each once."""
    return list(dict.fromkeys(g.school_id for g in grants if g.school_id is not None))


def classes_of(grants: Iterable[Grant], school_id: str) -> list[str]:
    """The classes a user holds by class grants in a school."""
    return [g.scope_id for g in grants if g.scope is Scope.CLASS and g.school_id == school_id]


def districts_of(grants: Iterable[Grant]) -> list[str]:
    """The districts a user works for, each once."""
    return list(dict.fromkeys(g.scope_id for g in grants if g.scope is Scope.DISTRICT))
