"""The district (управление образования): its schools, the day and month overview of them, the monthly report
and the funding request rolled up across them, and the submission loop of the schools' registers.

The overview is a few GROUP BY school queries over the district's schools (students, benefits in force,
free meals served, terminals), so a district of ~300 schools costs a handful of queries, not a loop over
events per school; the open mismatches come from the review queue, counted within a time budget per page
and kept (see `MISMATCH_BUDGET_S`). Coverage (seed 004 §1.3, «мониторинг охвата обучающихся бесплатным
горячим питанием»): the entitled students who received a free meal on the day over the entitled students
not marked absent.

A school submits a month's register (`submit`: the figures are recorded as a `ReportExport`); the district
accepts it or returns it with a comment (`decide`); a returned one is corrected (the figures computed
again) and submitted again. Every step is a `SubmissionStep` row. Deadlines: the monthly report by the 5th
of the next month, the funding request by the 30th (or the last day) of the month before the one asked for
(seed 004 §1.21).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, exists, func, insert, or_, select, update
from sqlalchemy.orm import aliased

from pos.domain import ru_date
from pos.ledger import SERVED_KINDS, EventKind
from server.accounts import utcnow, valid_school_id
from server.calendar import school_clock
from server.models import (
    Absence,
    District,
    Entitlement,
    Event,
    ReportExport,
    ReportSubmission,
    ReviewResolution,
    School,
    Student,
    SubmissionStep,
    Terminal,
)
from server.office.audit import record_change
from server.office.changes import NotFound, OfficeError
from server.office.roles import Grant, Role, Scope
from server.reports.common import Grid, Money, ReportError, month_end, month_key, month_title

KINDS = {"monthly": "Отчёт об организации питания за месяц", "request": "Заявка на финансирование питания"}
STATES = {"submitted": "отправлен, на проверке", "accepted": "принят", "returned": "возвращён на исправление"}
ACTIONS = {"submitted": "отправлен", "accepted": "принят", "returned": "возвращён"}
SILENT_AFTER = timedelta(days=1)  # a terminal not heard of for longer is «молчит»
COMMENT_MAX = 2000
NAME_MAX = 300


# --- the district and its schools ----------------------------------------------------------------------------

def _check_id(district_id: str) -> str:
    if not valid_school_id(district_id):  # the same rule as a school's code: latin letters, digits, - _
        raise OfficeError("код управления образования: латинские буквы, цифры, «-» и «_», до 64 знаков")
    return district_id


def add(conn: Connection, actor: str, district_id: str, name: str) -> None:
    """Create a district (or rename it)."""
    _check_id(district_id)
    name = name.strip()
    if not name or len(name) > NAME_MAX or not name.isprintable():
        raise OfficeError(f"название управления образования: от 1 до {NAME_MAX} знаков")
    before = conn.execute(select(District.name).where(District.id == district_id)).scalar()
    if before is None:
        conn.execute(insert(District).values(id=district_id, name=name))
    else:
        conn.execute(update(District).where(District.id == district_id).values(name=name))
    record_change(conn, actor, None, "district", district_id, "save", before and {"name": before}, {"name": name})


def district_name(conn: Connection, district_id: str) -> str:
    name = conn.execute(select(District.name).where(District.id == district_id)).scalar()
    if name is None:
        raise NotFound(f"управление образования {district_id} не найдено")
    return str(name)


def attach(conn: Connection, actor: str, district_id: str, school_ids: Sequence[str]) -> None:
    """Attach schools to the district (a school belongs to one district: attaching moves it)."""
    district_name(conn, district_id)
    for school_id in school_ids:
        if conn.execute(select(School.id).where(School.id == school_id)).scalar() is None:
            raise NotFound(f"школа {school_id} не найдена")
        conn.execute(update(School).where(School.id == school_id).values(district_id=district_id))
        record_change(conn, actor, school_id, "school", school_id, "district", None, {"district": district_id})


def add_user(conn: Connection, district_id: str, login: str, *, name: str = "", password: str | None = None) -> int:
    """A user of the district (role «управление образования»), with a password set by IT."""
    from server.office.users import UserError
    from server.office.users import add_user as add_office_user

    district_name(conn, district_id)
    try:
        return add_office_user(conn, login, name=name, password=password,
                               grants=[Grant(Role.DISTRICT, Scope.DISTRICT, None, district_id)])
    except UserError as exc:
        raise OfficeError(str(exc)) from None


def schools(conn: Connection, district_id: str) -> list[tuple[str, str]]:
    """The district's schools (id, name), by name."""
    return [(r.id, r.name) for r in conn.execute(select(School.id, School.name).where(
        School.district_id == district_id).order_by(School.name, School.id))]


def today(conn: Connection, district_id: str) -> date:
    """The district's today: that of its first school's time zone (a district lies in one zone)."""
    from zoneinfo import ZoneInfo

    tz = conn.execute(select(School.timezone).where(School.district_id == district_id).order_by(School.id)
                      .limit(1)).scalar()
    return datetime.now(ZoneInfo(tz) if tz else UTC).date()


def district_of(conn: Connection, school_id: str) -> str | None:
    found = conn.execute(select(School.district_id).where(School.id == school_id)).scalar()
    return None if found is None else str(found)


def today_of_school(conn: Connection, school_id: str) -> date:
    from server.office.changes import today as school_today

    return school_today(conn, school_id)


def school_in(conn: Connection, district_id: str, school_id: str) -> None:
    """NotFound unless the school is the district's (another district's school is not found either)."""
    if conn.execute(select(School.id).where(School.id == school_id, School.district_id == district_id)
                    ).scalar() is None:
        raise NotFound(f"школа {school_id} не найдена среди школ управления образования")


# --- deadlines and states -----------------------------------------------------------------------------------

def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def deadline(kind: str, month: date) -> date:
    """The last day to submit: the monthly report by the 5th of the next month; the request for a month by the
    30th (or the last day) of the month before."""
    if kind == "monthly":
        return add_months(month, 1).replace(day=5)
    before = add_months(month, -1)
    return before.replace(day=min(30, month_end(before).day))


@dataclass(frozen=True)
class Step:
    action: str
    actor: str
    at: datetime  # naive UTC
    comment: str
    export_id: int | None

    @property
    def action_ru(self) -> str:
        return ACTIONS.get(self.action, self.action)


@dataclass(frozen=True)
class Submission:
    id: int
    school_id: str
    school_name: str
    district_id: str | None
    kind: str
    month: date
    state: str
    first_submitted_at: datetime
    steps: tuple[Step, ...] = ()

    @property
    def title(self) -> str:
        return f"{KINDS[self.kind]}: {month_title(self.month)}"

    @property
    def shown_under(self) -> date:
        """The month of «Отчёты» that carries it: a month's report under its month, a request under the month
        before its own (`school_loop`)."""
        return self.month if self.kind == "monthly" else add_months(self.month, -1)

    @property
    def state_ru(self) -> str:
        return STATES.get(self.state, self.state)

    @property
    def late(self) -> bool:
        return self.first_submitted_at.date() > deadline(self.kind, self.month)

    @property
    def last_comment(self) -> str:
        returned = [s for s in self.steps if s.action == "returned"]
        return returned[-1].comment if returned else ""

    def figures(self, conn: Connection) -> dict[str, Any]:
        """The figures of the latest submission (as they went out)."""
        sent = [s.export_id for s in self.steps if s.action == "submitted" and s.export_id]
        if not sent:
            return {}
        text = conn.execute(select(ReportExport.figures).where(ReportExport.id == sent[-1])).scalar()
        return dict(json.loads(text)) if text else {}

    def changes(self, conn: Connection) -> list[str]:
        """What changed between the two latest submissions (after a return and a correction)."""
        from server.reports.exports import diff

        sent = [s.export_id for s in self.steps if s.action == "submitted" and s.export_id]
        if len(sent) < 2:
            return []
        rows = dict(conn.execute(select(ReportExport.id, ReportExport.figures).where(
            ReportExport.id.in_(sent[-2:]))).tuples().all())
        return [c.text for c in diff(json.loads(rows[sent[-2]]), json.loads(rows[sent[-1]]))]


def too_early(kind: str, month: date, today: date) -> str | None:
    """Why the register cannot be sent yet: the monthly report only once its month is over; the request for
    a month from the month before it (None: it may be sent)."""
    if kind == "monthly" and month_end(month) >= today:
        return (f"отчёт за {month_title(month)} можно отправить после окончания месяца, "
                f"с {ru_date(month_end(month) + timedelta(days=1))}")
    if kind == "request" and month > add_months(today.replace(day=1), 1):
        return f"заявку на {month_title(month)} можно отправить с {ru_date(add_months(month, -1))}"
    return None


def state_text(sub: Submission | None, kind: str, month: date, today: date) -> tuple[str, bool]:
    """What a school's register of the month is at, and whether it is late."""
    due = deadline(kind, month)
    if sub is None:
        late = today > due
        return ("не отправлен, срок истёк " if late else "не отправлен, срок ") + due.strftime("%d.%m.%Y"), late
    return sub.state_ru + (", с опозданием" if sub.late else ""), sub.late


def _submissions(conn: Connection, *where: Any) -> list[Submission]:
    r = ReportSubmission
    rows = conn.execute(select(r.id, r.school_id, r.kind, r.month, r.state, r.first_submitted_at, School.name,
                               School.district_id).join(School, School.id == r.school_id).where(*where)
                        .order_by(r.id)).all()
    steps: dict[int, list[Step]] = {}
    if rows:
        for s in conn.execute(select(SubmissionStep).where(SubmissionStep.submission_id.in_(
                [x.id for x in rows])).order_by(SubmissionStep.id)):
            steps.setdefault(s.submission_id, []).append(Step(s.action, s.actor, s.at, s.comment, s.export_id))
    return [Submission(x.id, x.school_id, x.name, x.district_id, x.kind, date.fromisoformat(x.month + "-01"),
                       x.state, x.first_submitted_at, tuple(steps.get(x.id, ()))) for x in rows]


def submission(conn: Connection, submission_id: int, *, district_id: str | None = None,
               school_id: str | None = None) -> Submission:
    """One submission with its steps, seen by its district or its school (any other: NotFound)."""
    where = [ReportSubmission.id == submission_id]
    if district_id is not None:
        where.append(School.district_id == district_id)
    if school_id is not None:
        where.append(ReportSubmission.school_id == school_id)
    found = _submissions(conn, *where)
    if not found:
        raise NotFound(f"отправка № {submission_id} не найдена")
    return found[0]


def returned(conn: Connection, school_id: str) -> list[Submission]:
    """The school's registers its district returned for correction, whatever their month."""
    return _submissions(conn, ReportSubmission.school_id == school_id, ReportSubmission.state == "returned")


def of_schools(conn: Connection, school_ids: Iterable[str], kind: str, month: date) -> dict[str, Submission]:
    ids = list(school_ids)
    if not ids:
        return {}
    return {s.school_id: s for s in _submissions(conn, ReportSubmission.school_id.in_(ids),
                                                 ReportSubmission.kind == kind,
                                                 ReportSubmission.month == month_key(month))}


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise OfficeError("в управление образования отправляются: "
                          + "; ".join(f"«{title}»" for title in KINDS.values()) + f", а не «{kind[:40]}»")
    return kind


def submit(conn: Connection, actor: str, school_id: str, kind: str, month: date, *, now: datetime | None = None
           ) -> Submission:
    """The school sends its register of the month to its district: the figures are computed now and kept."""
    from server.reports.exports import build, figures_of, record_export

    _check_kind(kind)
    district_id = conn.execute(select(School.district_id).where(School.id == school_id)).scalar()
    if district_id is None:
        raise OfficeError("школа не прикреплена к управлению образования: отправлять некуда")
    at = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    tz, _deadline = school_clock(conn, school_id)
    early = too_early(kind, month, at.replace(tzinfo=UTC).astimezone(tz).date())
    if early:
        raise OfficeError(early)
    key = month_key(month)
    row = conn.execute(select(ReportSubmission.id, ReportSubmission.state).where(
        ReportSubmission.school_id == school_id, ReportSubmission.kind == kind, ReportSubmission.month == key)
        .with_for_update()).first()
    if row is not None and row.state != "returned":
        raise OfficeError(f"«{KINDS[kind]}» за {month_title(month)} уже {STATES[row.state]}: "
                          "отправить снова можно после возврата")
    try:
        module, data = build(conn, school_id, kind, month, None)
    except ReportError as exc:
        raise OfficeError(str(exc)) from None
    export_id = record_export(conn, actor, school_id, kind, month, None, "json", figures_of(module, data),
                              submitted=True, now=at.replace(tzinfo=UTC))
    if row is None:
        sub_id = int(conn.execute(insert(ReportSubmission).values(
            school_id=school_id, kind=kind, month=key, state="submitted", first_submitted_at=at, updated_at=at)
            .returning(ReportSubmission.id)).scalar_one())
    else:
        sub_id = int(row.id)
        conn.execute(update(ReportSubmission).where(ReportSubmission.id == sub_id).values(
            state="submitted", updated_at=at))
    conn.execute(insert(SubmissionStep).values(submission_id=sub_id, action="submitted", actor=actor[:64], at=at,
                                               comment="", export_id=export_id))
    record_change(conn, actor, school_id, "submission", sub_id, "submitted", None, {"kind": kind, "month": key})
    return submission(conn, sub_id)


def decide(conn: Connection, actor: str, district_id: str, submission_id: int, action: str, comment: str = "",
           *, now: datetime | None = None) -> Submission:
    """The district accepts a submitted register or returns it; a return needs a comment saying what to fix."""
    if action not in ("accepted", "returned"):
        raise OfficeError("решение: принять или вернуть")
    comment = comment.strip()
    if len(comment) > COMMENT_MAX:
        raise OfficeError(f"комментарий: не длиннее {COMMENT_MAX} знаков")
    if action == "returned" and not comment:
        raise OfficeError("чтобы вернуть отчёт, напишите в комментарии, что исправить")
    sub = submission(conn, submission_id, district_id=district_id)
    if sub.state != "submitted":
        raise OfficeError(f"отчёт уже {sub.state_ru}: решение принимается по отправленному")
    at = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    conn.execute(update(ReportSubmission).where(ReportSubmission.id == submission_id).values(
        state=action, updated_at=at))
    conn.execute(insert(SubmissionStep).values(submission_id=submission_id, action=action, actor=actor[:64], at=at,
                                               comment=comment, export_id=None))
    record_change(conn, actor, sub.school_id, "submission", submission_id, action, {"state": sub.state},
                  {"state": action, "comment": comment})
    return submission(conn, submission_id)


# --- the overview of a day or a month --------------------------------------------------------------------------

@dataclass
class SchoolLine:
    school_id: str
    name: str
    students: int = 0
    entitled: int = 0
    entitled_present: int = 0  # the day: not marked absent; the month: entitled at some day of it
    free_meals: int = 0
    covered: int = 0  # entitled students who received a free meal (on the day / in the month)
    open_mismatches: int = 0
    mismatches_state: str = ""  # "": counted now; "stale": an earlier count; "pending": not counted yet
    monthly: str = ""
    monthly_late: bool = False
    request: str = ""
    request_late: bool = False
    monthly_id: int | None = None
    request_id: int | None = None
    silent: int = 0
    holding: int = 0

    @property
    def coverage(self) -> str:
        if not self.entitled_present:
            return "—"
        return f"{round(100 * self.covered / self.entitled_present)} %"


# The open mismatches are the review queue's (`server.office.reviews.queue`, the one place that judges them),
# counted per school over the page's period: ~0.1 s a school, too slow to do for 300 schools on every
# load. So a page counts the schools whose count is missing or out of date (another rev, resolution or
# day) for at most MISMATCH_BUDGET_S, oldest first, and shows the others' earlier counts as such.
MISMATCH_BUDGET_S = 3.0
_KEPT_MAX = 20_000
_kept: dict[tuple[str, date, date], tuple[tuple[Any, ...], float, int]] = {}
_kept_lock = threading.Lock()


def _count_mismatches(conn: Connection, view: Overview, today: date, budget_s: float) -> None:
    from server.office import reviews

    ids = [x.school_id for x in view.lines]
    revs = dict(conn.execute(select(School.id, School.rev).where(School.id.in_(ids))).tuples().all())
    last = dict(conn.execute(select(ReviewResolution.school_id, func.max(ReviewResolution.id)).where(
        ReviewResolution.school_id.in_(ids)).group_by(ReviewResolution.school_id)).tuples().all())
    end = min(view.end, today)
    todo = []
    for line in view.lines:
        key = (today, revs.get(line.school_id), last.get(line.school_id))
        with _kept_lock:
            kept = _kept.get((line.school_id, view.start, view.end))
        if kept is not None:
            line.open_mismatches = kept[2]
        if kept is None or kept[0] != key:
            line.mismatches_state = "pending" if kept is None else "stale"
            todo.append((kept[1] if kept else 0.0, line, key))
    started = time.monotonic()
    for _at, line, key in sorted(todo, key=lambda t: t[0]):
        if time.monotonic() - started > budget_s:
            break
        if end < view.start:
            count = 0
        else:
            try:
                q = reviews.queue(conn, line.school_id, reviews.Filters(view.start, end), today=today)
            except reviews.ReviewError:
                continue
            count = sum(c["open"] for c in q.counts().values())
        line.open_mismatches, line.mismatches_state = count, ""
        with _kept_lock:
            if len(_kept) > _KEPT_MAX:
                _kept.clear()
            _kept[(line.school_id, view.start, view.end)] = (key, time.monotonic(), count)


def forget_counts() -> None:
    with _kept_lock:
        _kept.clear()


@dataclass
class Overview:
    district_id: str
    name: str
    start: date
    end: date
    monthly_month: date
    request_month: date
    lines: list[SchoolLine] = field(default_factory=list)

    @property
    def total(self) -> SchoolLine:
        t = SchoolLine("", "Итого")
        for x in self.lines:
            for f in ("students", "entitled", "entitled_present", "free_meals", "covered", "open_mismatches",
                      "silent", "holding"):
                setattr(t, f, getattr(t, f) + getattr(x, f))
        return t


def _in_force(start: date, end: date) -> Any:
    return and_(Entitlement.starts <= end, or_(Entitlement.ends.is_(None), Entitlement.ends >= start))


def overview(conn: Connection, district_id: str, start: date, end: date, *, today: date,
             now: datetime | None = None, budget_s: float = MISMATCH_BUDGET_S) -> Overview:
    """Per school of the district: students, entitled, free meals and coverage over start..end (a day or a
    month), open mismatches, the registers' states, terminals silent or holding events."""
    name = district_name(conn, district_id)
    day = start == end
    monthly_month = add_months(start.replace(day=1), -1) if day else start.replace(day=1)
    request_month = add_months(start.replace(day=1), 1) if day else start.replace(day=1)
    result = Overview(district_id, name, start, end, monthly_month, request_month)
    mine = select(School.id).where(School.district_id == district_id).scalar_subquery()
    lines = {sid: SchoolLine(sid, sname) for sid, sname in schools(conn, district_id)}
    result.lines = list(lines.values())
    if not lines:
        return result
    active = and_(Student.school_id == Entitlement.school_id, Student.id == Entitlement.student_id,
                  Student.active.is_(True))
    for sid, n in conn.execute(select(Student.school_id, func.count()).where(
            Student.school_id.in_(mine), Student.active.is_(True)).group_by(Student.school_id)).tuples():
        lines[sid].students = int(n)
    for sid, n in conn.execute(select(Entitlement.school_id, func.count(func.distinct(Entitlement.student_id)))
                               .join(Student, active).where(Entitlement.school_id.in_(mine), _in_force(start, end))
                               .group_by(Entitlement.school_id)).tuples():
        lines[sid].entitled = lines[sid].entitled_present = int(n)
    if day:
        for line in lines.values():
            line.entitled_present = 0
        absent = exists().where(Absence.school_id == Entitlement.school_id,
                                Absence.student_id == Entitlement.student_id, Absence.day == start)
        for sid, n in conn.execute(select(Entitlement.school_id, func.count(func.distinct(Entitlement.student_id)))
                                   .join(Student, active).where(Entitlement.school_id.in_(mine),
                                                                _in_force(start, end), ~absent)
                                   .group_by(Entitlement.school_id)).tuples():
            lines[sid].entitled_present = int(n)
    reversal = aliased(Event)
    free = [Event.school_id.in_(mine), Event.local_date >= start, Event.local_date <= end,
            Event.kind.in_([str(k) for k in SERVED_KINDS]), Event.student_id.is_not(None),
            Event.budget_line.is_not(None), Event.budget_line != "",
            ~exists().where(reversal.school_id == Event.school_id, reversal.kind == EventKind.REVERSAL.value,
                            reversal.ref_event_id == Event.id)]
    entitled_then = exists().where(Entitlement.school_id == Event.school_id, Entitlement.student_id == Event.student_id,
                                   Entitlement.starts <= Event.local_date,
                                   or_(Entitlement.ends.is_(None), Entitlement.ends >= Event.local_date))
    for sid, n in conn.execute(select(Event.school_id, func.count()).where(*free).group_by(Event.school_id)).tuples():
        lines[sid].free_meals = int(n)
    for sid, n in conn.execute(select(Event.school_id, func.count(func.distinct(Event.student_id)))
                               .where(*free, entitled_then).group_by(Event.school_id)).tuples():
        lines[sid].covered = int(n)
    moment = now or utcnow()
    silent = case((or_(Terminal.last_seen_at.is_(None), Terminal.last_seen_at < moment - SILENT_AFTER), 1), else_=0)
    holding = case((Terminal.outbox_size > 0, 1), else_=0)
    for sid, s, h in conn.execute(select(Terminal.school_id, func.sum(silent), func.sum(holding)).where(
            Terminal.school_id.in_(mine), Terminal.revoked_at.is_(None)).group_by(Terminal.school_id)).tuples():
        lines[sid].silent, lines[sid].holding = int(s or 0), int(h or 0)
    for kind, month in (("monthly", monthly_month), ("request", request_month)):
        subs = of_schools(conn, lines, kind, month)
        for sid, line in lines.items():
            text, late = state_text(subs.get(sid), kind, month, today)
            sub = subs.get(sid)
            setattr(line, kind, text)
            setattr(line, f"{kind}_late", late)
            setattr(line, f"{kind}_id", sub.id if sub else None)
    _count_mismatches(conn, result, today, budget_s)
    return result


# --- the registers rolled up across the district ------------------------------------------------------------

ROLLUP_HEAD = {
    "monthly": ("Школа", "Бесплатно: приёмов пищи", "Бесплатно: сумма", "Платно: приёмов пищи", "Платно: сумма",
                "Сухой паёк и компенсации: выдано", "Сухой паёк и компенсации: сумма", "Состояние отчёта"),
    "request": ("Школа", "Стр. 1: льготники, учащихся", "Стр. 2: начальные классы, учащихся",
                "Стр. 3: молоко, учащихся", "Прогноз, сумма", "Состояние заявки"),
}


@dataclass(frozen=True)
class Rollup:
    district_id: str
    name: str
    kind: str
    month: date
    rows: tuple[tuple[str, str, tuple[int, ...], str], ...]  # school id, name, figures (money in kopecks), state
    money: tuple[int, ...]  # indexes of the figures that are money

    @property
    def totals(self) -> tuple[int, ...]:
        width = len(ROLLUP_HEAD[self.kind]) - 2
        return tuple(sum(r[2][i] for r in self.rows if r[2]) for i in range(width))


def rollup(conn: Connection, district_id: str, kind: str, month: date, *, today: date) -> Rollup:
    """The register of the month rolled up across the district's schools, a row per school and the totals;
    built school by school, one school's month in memory at a time."""
    from server.reports import monthly, request

    _check_kind(kind)
    name = district_name(conn, district_id)
    rows: list[tuple[str, str, tuple[int, ...], str]] = []
    every = schools(conn, district_id)
    subs = of_schools(conn, (s for s, _ in every), kind, month)
    for school_id, school_name in every:
        state, _late = state_text(subs.get(school_id), kind, month, today)
        try:
            if kind == "monthly":
                m = monthly.build(conn, school_id, month)
                f, p, c = m.free_total, m.paid_total, m.parcels_total
                figures: tuple[int, ...] = (f.count, f.kopecks, p.count, p.kopecks + m.copay_kopecks, c.count,
                                            c.kopecks)
            else:
                r = request.build(conn, school_id, month)
                figures = (r.row("1").heads, r.row("2").heads, r.row("3").heads, r.total_kopecks)
        except (ReportError, OfficeError) as exc:
            rows.append((school_id, school_name, (), f"не составлен: {exc}"))
            continue
        rows.append((school_id, school_name, figures, state))
    return Rollup(district_id, name, kind, month, tuple(rows), (1, 3, 5) if kind == "monthly" else (3,))


def _cells(r: Rollup, figures: tuple[int, ...]) -> list[Any]:
    if not figures:
        return [""] * (len(ROLLUP_HEAD[r.kind]) - 2)
    return [Money(v) if i in r.money else v for i, v in enumerate(figures)]


def grid(r: Rollup) -> Grid:
    rows: list[tuple[str, tuple[Any, ...]]] = [
        ("row", (name, *_cells(r, figures), state)) for _sid, name, figures, state in r.rows]
    rows.append(("total", ("Итого", *_cells(r, r.totals), f"школ: {len(r.rows)}")))
    return Grid(title=f"{KINDS[r.kind]}: свод по школам", lines=(r.name, month_title(r.month)),
                head=(ROLLUP_HEAD[r.kind],), rows=tuple(rows), sheet="Свод", widths=(40, 14, 14, 14, 14, 14, 14, 30))


def to_json(r: Rollup) -> dict[str, Any]:
    keys = [h for h in ROLLUP_HEAD[r.kind][1:-1]]
    return {"district_id": r.district_id, "district": r.name, "kind": r.kind, "month": month_key(r.month),
            "money_in_kopecks": [keys[i] for i in r.money],
            "schools": [{"school_id": sid, "name": name, "figures": dict(zip(keys, figures, strict=True))
                         if figures else None, "state": state} for sid, name, figures, state in r.rows],
            "totals": dict(zip(keys, r.totals, strict=True))}
