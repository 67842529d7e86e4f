"""Keeping the server's history: a student's class from a date (`StudentClassSpan`) and the school's policy
of each school year (`SchoolPolicy`). `record_class` is the one writer of class spans (the students import
and the office's move both go through it) and `store_policy` the one writer of a year's policy (`set_policy`
and `server.accounts.add_school`); `server.history` reads them back when a past day is judged.

A move may be backdated (a transfer entered late): the registers read the spans, so the days since the
move are recomputed. It may not be dated in the future (the terminals know only today's class) nor before
the previous school year began.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, delete, insert, select, update

from pos.domain import ru_date
from pos.policy import Policy, PolicyError, parse_policy
from server.accounts import utcnow
from server.history import class_book, school_year_label, school_year_of
from server.models import HISTORY_START, School, SchoolClass, SchoolPolicy, Student, StudentClassSpan
from server.office.changes import NotFound, OfficeError, change
from server.office.changes import today as school_today

MAX_POLICY_BYTES = 256 * 1024  # the shipped ones are under 20 KB


def earliest_move(today: date) -> date:
    """A move may be backdated to the first day of the previous school year, not further."""
    first = int(school_year_of(today)[:4]) - 1
    return date(first, 9, 1)


def move_date_refusal(day: date, today: date) -> str | None:
    """Why a move cannot start on `day` (Russian), or None."""
    if day > today:
        return (f"дата перевода {ru_date(day)} позже сегодняшнего дня ({ru_date(today)}): перевод записывается "
                "с сегодняшнего дня или задним числом")
    if day < earliest_move(today):
        return f"дата перевода {ru_date(day)} раньше начала прошлого учебного года ({ru_date(earliest_move(today))})"
    return None


@dataclass(frozen=True)
class Span:
    starts: date  # HISTORY_START: since the beginning
    class_id: str
    class_name: str

    @property
    def since_beginning(self) -> bool:
        return self.starts == HISTORY_START


def record_class(conn: Connection, school_id: str, student_id: str, class_id: str, starts: date, *,
                 before: str | None = None, only_since: bool = False) -> None:
    """The student is in `class_id` from `starts` on: a span of the same day is replaced; with `only_since`
    (a file that states the class the student is in now, and since when) later spans are dropped. A student
    without spans gets `before` (the class the student was in) since the beginning first. Spans that
    repeat the class of the span before them are dropped, so the history lists real moves only."""
    keys = (StudentClassSpan.school_id == school_id, StudentClassSpan.student_id == student_id)
    rows = conn.execute(select(StudentClassSpan.starts, StudentClassSpan.class_id).where(*keys)
                        .order_by(StudentClassSpan.starts)).tuples().all()
    spans = dict(rows)
    if not spans and before is not None and starts > HISTORY_START:
        spans[HISTORY_START] = before
    if only_since:
        spans = {d: c for d, c in spans.items() if d < starts}
    spans[starts] = class_id
    kept: dict[date, str] = {}
    for day in sorted(spans):
        if not kept or kept[max(kept)] != spans[day]:
            kept[day] = spans[day]
    if kept == dict(rows):
        return
    conn.execute(delete(StudentClassSpan).where(*keys))
    conn.execute(insert(StudentClassSpan), [{"school_id": school_id, "student_id": student_id, "starts": d,
                                             "class_id": c} for d, c in kept.items()])


def record_import(conn: Connection, school_id: str, rows: list[tuple[str, str, date | None]], was: dict[str, str],
                  today: date | None) -> None:
    """The spans a students file makes, from its rows (student, class, «Дата перевода» or None) and the
    classes the students were in before (`was`): a new student is in the file's class since the beginning
    (or since the file's date); a student whose class changed, since that date or `today` (the school's
    today); a date given with an unchanged class corrects when the student came into it."""
    today = today or school_today(conn, school_id)
    for student_id, class_id, since in rows:
        old = was.get(student_id)
        if old is None:
            record_class(conn, school_id, student_id, class_id, since or HISTORY_START, only_since=True)
        elif old != class_id or since is not None:
            record_class(conn, school_id, student_id, class_id, since or today, before=old, only_since=True)


def class_history(conn: Connection, school_id: str, student_id: str) -> list[Span]:
    """The student's classes, oldest first."""
    names = dict(conn.execute(select(SchoolClass.id, SchoolClass.name).where(SchoolClass.school_id == school_id))
                 .tuples().all())
    return [Span(d, c, names.get(c, c)) for d, c in conn.execute(
        select(StudentClassSpan.starts, StudentClassSpan.class_id).where(
            StudentClassSpan.school_id == school_id, StudentClassSpan.student_id == student_id)
        .order_by(StudentClassSpan.starts)).tuples()]


@dataclass(frozen=True)
class Move:
    student_id: str
    class_id: str
    class_name: str
    starts: date
    current_class_id: str  # the class today, after the move (a later move may keep another one)


def move_student(conn: Connection, actor: str, school_id: str, student_id: str, class_id: str,
                 starts: date | None = None) -> Move:
    """Move a student to another class from `starts` (default: the school's today; backdated moves allowed).
    Today's class follows the spans, so the terminals learn it on their next pull; audited."""
    today = school_today(conn, school_id)
    starts = starts or today
    refusal = move_date_refusal(starts, today)
    if refusal:
        raise OfficeError(refusal)
    student = conn.execute(select(Student.class_id, Student.full_name).where(
        Student.school_id == school_id, Student.id == student_id)).first()
    if student is None:
        raise NotFound(f"ученика с кодом {student_id} нет в школе")
    target = conn.execute(select(SchoolClass.name).where(SchoolClass.school_id == school_id,
                                                         SchoolClass.id == class_id)).scalar()
    if target is None:
        raise OfficeError(f"класса «{class_id[:64]}» нет в школе")
    book = class_book(conn, school_id, [student_id])
    on_day = book.class_on(student_id, starts) or student.class_id
    if on_day == class_id:
        raise OfficeError(f"{ru_date(starts)} ученик уже в классе {target}")
    day = starts.isoformat()
    rev = change(conn, actor, school_id, "student", student_id, "move", {"class_id": on_day, "starts": day},
                 {"class_id": class_id, "starts": day})
    record_class(conn, school_id, student_id, class_id, starts, before=student.class_id)
    now = class_book(conn, school_id, [student_id]).class_on(student_id, today) or class_id
    if now != student.class_id:
        conn.execute(update(Student).where(Student.school_id == school_id, Student.id == student_id)
                     .values(class_id=now, rev=rev))
    return Move(student_id, class_id, target, starts, now)


# ---------------------------------------------------------------------------------------------
# Policies per school year


@dataclass(frozen=True)
class PolicyYear:
    school_year: str  # "2026-2027"
    label: str  # «2026/27»
    policy_id: str
    region: str
    source: str
    set_by: str
    set_at: datetime
    current: bool  # the school year of the school's today
    at_terminals: bool  # the policy the terminals serve by


def check_policy(school_id: str, text: str) -> Policy:
    """The policy a file holds, or OfficeError (Russian): too big, not text, no school year, or invalid."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES:
        raise OfficeError(f"файл политики больше {MAX_POLICY_BYTES // 1024} КБ: это не файл политики питания")
    if "\x00" in text or any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise OfficeError("файл политики содержит недопустимые символы: нужен текстовый файл TOML в UTF-8")
    try:
        head = tomllib.loads(text).get("policy")
    except tomllib.TOMLDecodeError:
        head = None  # parse_policy below says where the syntax breaks
    else:
        if not isinstance(head, dict) or "school_year" not in head:
            raise OfficeError('в файле политики не указан учебный год: добавьте в раздел [policy] строку '
                              'school_year = "2026-2027"; ничего не сохранено')
    try:
        return parse_policy(text, "политика")
    except PolicyError as exc:
        raise OfficeError(f"политика питания не прошла проверку: {exc}") from None


def year_of(policy: Policy) -> str:
    return f"{policy.school_year[0]}-{policy.school_year[1]}"


def store_policy(conn: Connection, actor: str, school_id: str, policy: Policy, text: str) -> str:
    """Write the school's policy of the file's school year (replacing that year's); returns the year."""
    year = year_of(policy)
    conn.execute(delete(SchoolPolicy).where(SchoolPolicy.school_id == school_id, SchoolPolicy.school_year == year))
    conn.execute(insert(SchoolPolicy).values(school_id=school_id, school_year=year, policy_text=text,
                                             set_by=actor[:64], set_at=utcnow()))
    return year


@dataclass(frozen=True)
class PolicySet:
    school_year: str
    policy_id: str
    current: bool  # the terminals got it (the current school year)


def set_policy(conn: Connection, actor: str, school_id: str, text: str) -> PolicySet:
    """Set the school's policy for the school year its file states; the current year's also goes to the
    terminals (a settings change they pull). Audited."""
    today = school_today(conn, school_id)
    policy = check_policy(school_id, text)
    year = year_of(policy)
    earlier = conn.execute(select(SchoolPolicy.policy_text).where(
        SchoolPolicy.school_id == school_id, SchoolPolicy.school_year == year)).scalar()
    before = None if earlier is None else {"policy_id": _policy_id(earlier)}
    rev = change(conn, actor, school_id, "policy", year, "set", before,
                 {"policy_id": policy.id, "region": policy.region, "source": policy.source})
    store_policy(conn, actor, school_id, policy, text)
    current = year == school_year_of(today)
    if current:
        conn.execute(update(School).where(School.id == school_id).values(policy_text=text, settings_rev=rev))
    return PolicySet(year, policy.id, current)


def _policy_id(text: str) -> str:
    try:
        return str(tomllib.loads(text)["policy"]["id"])
    except (tomllib.TOMLDecodeError, KeyError, TypeError):
        return "?"


def list_policies(conn: Connection, school_id: str) -> list[PolicyYear]:
    """The school's policies, the latest school year first."""
    terminals = conn.execute(select(School.policy_text).where(School.id == school_id)).scalar()
    if terminals is None:
        raise NotFound(f"школа {school_id} не найдена")
    current = school_year_of(school_today(conn, school_id))
    out = []
    for row in conn.execute(select(SchoolPolicy).where(SchoolPolicy.school_id == school_id)
                            .order_by(SchoolPolicy.school_year.desc())):
        try:
            p = parse_policy(row.policy_text, f"policy:{school_id}:{row.school_year}")
            pid, region, source = p.id, p.region, p.source
        except PolicyError:  # stored before the checks; shown, never judged by
            pid, region, source = _policy_id(row.policy_text), "", "файл не проходит проверку"
        out.append(PolicyYear(row.school_year, school_year_label(row.school_year), pid, region, source, row.set_by,
                              row.set_at, row.school_year == current, row.policy_text == terminals))
    return out


def policy_text(conn: Connection, school_id: str, school_year: str) -> str:
    text = conn.execute(select(SchoolPolicy.policy_text).where(
        SchoolPolicy.school_id == school_id, SchoolPolicy.school_year == school_year)).scalar()
    if text is None:
        raise NotFound(f"нет политики питания на {school_year_label(school_year[:9])} учебный год")
    return str(text)
