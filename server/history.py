"""What was true on a past day, read from the server's history: the student's class (`StudentClassSpan`)
and the policy of the day's school year (`SchoolPolicy`). Registers, the mismatch report and the office's
explanations judge a past day by these, never by today's class or today's policy."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, select

from pos.domain import ru_date
from pos.policy import Policy, parse_policy
from server.models import SchoolPolicy, StudentClassSpan


class NoPolicy(ValueError):
    """No policy is set for the school year of the asked day: the day is not judged (Russian message)."""


def school_year_of(day: date) -> str:
    """The school year a day belongs to, as policy files name it: 01.09.2026–31.08.2027 is "2026-2027"."""
    first = day.year if day.month >= 9 else day.year - 1
    return f"{first}-{first + 1}"


def school_year_label(year: str) -> str:
    """"2026-2027" -> «2026/27»."""
    first, _, last = year.partition("-")
    return f"{first}/{last[-2:]}" if last else year


@dataclass
class Policies:
    """The school's policies by school year, parsed once each."""

    school_id: str
    texts: dict[str, str]
    _parsed: dict[str, Policy] = field(default_factory=dict)

    def for_day(self, day: date) -> Policy:
        year = school_year_of(day)
        if year not in self.texts:
            known = ", ".join(school_year_label(y) for y in sorted(self.texts)) or "ни одного"
            raise NoPolicy(f"{ru_date(day)}: нет политики питания на {school_year_label(year)} учебный год "
                           f"(в школе есть: {known}); день не оценивается")
        if year not in self._parsed:
            self._parsed[year] = parse_policy(self.texts[year], f"policy:{self.school_id}:{year}")
        return self._parsed[year]


def policies(conn: Connection, school_id: str) -> Policies:
    return Policies(school_id, dict(conn.execute(
        select(SchoolPolicy.school_year, SchoolPolicy.policy_text).where(SchoolPolicy.school_id == school_id))
        .tuples().all()))


def policy_for(conn: Connection, school_id: str, day: date) -> Policy:
    """The policy `day` is judged by; raises `NoPolicy` for a day of a school year without one."""
    return policies(conn, school_id).for_day(day)


@dataclass(frozen=True)
class ClassBook:
    """Students' classes over time: `class_on(student, day)` is the class of the latest span starting on
    or before `day` (None before the first span, or for a student the school never had)."""

    spans: dict[str, tuple[list[date], list[str]]]  # student -> (starts ascending, class ids)

    def class_on(self, student_id: str, day: date) -> str | None:
        found = self.spans.get(student_id)
        if found is None:
            return None
        starts, classes = found
        at = bisect.bisect_right(starts, day) - 1
        return classes[at] if at >= 0 else None

    def moves_between(self, student_id: str, first: date, last: date) -> int:
        """How many spans of the student start after `first` and on or before `last`."""
        found = self.spans.get(student_id)
        if found is None:
            return 0
        starts = found[0]
        return bisect.bisect_right(starts, last) - bisect.bisect_right(starts, first)


def class_book(conn: Connection, school_id: str, students: list[str] | None = None) -> ClassBook:
    """The class spans of the school's students (of `students` only, when given)."""
    query = select(StudentClassSpan.student_id, StudentClassSpan.starts, StudentClassSpan.class_id).where(
        StudentClassSpan.school_id == school_id)
    if students is not None:
        query = query.where(StudentClassSpan.student_id.in_(students))
    spans: dict[str, tuple[list[date], list[str]]] = {}
    for student_id, starts, class_id in conn.execute(query.order_by(StudentClassSpan.student_id,
                                                                    StudentClassSpan.starts)).tuples():
        entry = spans.setdefault(student_id, ([], []))
        entry[0].append(starts)
        entry[1].append(class_id)
    return ClassBook(spans)
