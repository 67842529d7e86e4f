"""The office's JSON API over `server.office`: student search and card, blocking a card, benefit
applications (list, register, decide, order) and overdue decisions. Administrators of the school only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, jsonify, request
from sqlalchemy import Connection, select

from server.api import engine, fail, json_body, principal, requires
from server.models import School
from server.office import benefits, orders, roster
from server.office.changes import NotFound, OfficeError

bp = Blueprint("office_api", __name__)
F = TypeVar("F", bound=Callable[..., Any])
STATUSES = (benefits.REGISTERED, benefits.GRANTED, benefits.REFUSED)


def plain(value: Any) -> Any:
    """JSON-ready: dates as ГГГГ-ММ-ДД (Flask would write them as HTTP dates)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def office_errors(view: F) -> F:
    """The services' refusals as 404 / 422 with their Russian message; nothing was changed."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except NotFound as exc:
            fail(404, str(exc))
        except OfficeError as exc:
            fail(422, str(exc))
    return cast(F, wrapped)


def _school(conn: Connection, school_id: str) -> None:
    if conn.execute(select(School.id).where(School.id == school_id)).scalar() is None:
        raise NotFound(f"школа {school_id} не найдена")


def _day(body: dict[str, Any], key: str, *, required: bool = True) -> date | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if isinstance(value, str):
        for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
            try:
                return datetime.strptime(value.strip(), fmt).date()
            except ValueError:
                continue
    fail(400, f"поле {key}: дата ГГГГ-ММ-ДД или ДД.ММ.ГГГГ")


def _text(body: dict[str, Any], key: str, default: str | None = "") -> str:
    value = body.get(key, default)
    if not isinstance(value, str):
        fail(400, f"поле {key}: строка")
    return value


@bp.get("/api/schools/<school_id>/students")
@requires("admin")
@office_errors
def students(school_id: str) -> Any:
    args = request.args
    with engine().connect() as conn:
        _school(conn, school_id)
        found = roster.search_students(conn, school_id, args.get("q", "")[:200], class_name=args.get("class") or None,
                                       category=args.get("category") or None,
                                       include_left=args.get("include_left", "") in ("1", "true", "yes"))
    return jsonify(students=plain(found))


@bp.get("/api/schools/<school_id>/students/<student_id>")
@requires("admin")
@office_errors
def student(school_id: str, student_id: str) -> Any:
    with engine().connect() as conn:
        _school(conn, school_id)
        return jsonify(plain(roster.student_card(conn, school_id, student_id)))


@bp.post("/api/schools/<school_id>/cards/<card>/block")
@requires("admin")
@office_errors
def block_card(school_id: str, card: str) -> Any:
    reason = _text(json_body(), "reason", None)
    with engine().begin() as conn:
        _school(conn, school_id)
        return jsonify(plain(roster.block_card(conn, principal().name, school_id, card, reason)))


@bp.get("/api/schools/<school_id>/applications")
@requires("admin")
@office_errors
def applications(school_id: str) -> Any:
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        fail(400, f"параметр status: одно из {', '.join(STATUSES)}")
    with engine().connect() as conn:
        _school(conn, school_id)
        return jsonify(applications=plain(benefits.applications(conn, school_id, status=status)))


@bp.post("/api/schools/<school_id>/applications")
@requires("admin")
@office_errors
def register(school_id: str) -> Any:
    body = json_body()
    received = body.get("received", [])
    if not isinstance(received, list):
        fail(400, "поле received: список номеров сданных документов (с 1)")
    on = _day(body, "registered_on")
    assert on is not None
    with engine().begin() as conn:
        _school(conn, school_id)
        app_id = benefits.register(conn, principal().name, school_id, student_id=_text(body, "student_id", None),
                                   category=_text(body, "category", None), registered_on=on,
                                   applicant=_text(body, "applicant"), received=received, note=_text(body, "note"))
        return jsonify(plain(benefits.application(conn, school_id, app_id))), 201


@bp.post("/api/schools/<school_id>/applications/<app_id>/decision")
@requires("admin")
@office_errors
def decide(school_id: str, app_id: str) -> Any:
    body = json_body()
    granted = body.get("granted")
    if not isinstance(granted, bool):
        fail(400, "поле granted: true (предоставить) или false (отказать)")
    on = _day(body, "decided_on")
    assert on is not None
    with engine().begin() as conn:
        _school(conn, school_id)
        benefits.decide(conn, principal().name, school_id, app_id, granted=granted, decided_on=on,
                        protocol_no=_text(body, "protocol_no"), reason=_text(body, "reason"), note=_text(body, "note"))
        return jsonify(plain(benefits.application(conn, school_id, app_id)))


@bp.post("/api/schools/<school_id>/applications/<app_id>/order")
@requires("admin")
@office_errors
def order(school_id: str, app_id: str) -> Any:
    body = json_body()
    on = _day(body, "order_date")
    assert on is not None
    with engine().begin() as conn:
        _school(conn, school_id)
        benefits.record_order(conn, principal().name, school_id, app_id, order_no=_text(body, "order_no", None),
                              order_date=on, ends=_day(body, "ends", required=False))
        return jsonify(plain(benefits.application(conn, school_id, app_id)))


@bp.get("/api/schools/<school_id>/applications/overdue")
@requires("admin")
@office_errors
def overdue(school_id: str) -> Any:
    with engine().connect() as conn:
        _school(conn, school_id)
        return jsonify(applications=plain(benefits.overdue(conn, school_id)))


@bp.get("/api/schools/<school_id>/benefits/lists")
@requires("admin")
@office_errors
def category_lists(school_id: str) -> Any:
    """Students per benefit category in force on `date` (today by default), as the seeds' приложение 5."""
    day = _day(dict(request.args), "date", required=False)
    with engine().connect() as conn:
        _school(conn, school_id)
        return jsonify(lists=plain(benefits.category_lists(conn, school_id, day)))


# -- the class's order for a day (server.office.orders): an administrator acts as the coordinator ----------


def _class_order(conn: Connection, school_id: str, class_id: str, day: date | None) -> dict[str, Any]:
    from server.web.clock import now

    if "\x00" in class_id:
        raise NotFound("класс не найден")
    _school(conn, school_id)
    day = day or orders.next_order_day(conn, school_id, class_id, now())
    sheet = orders.sheet(conn, school_id, class_id, day, now=now())
    return {"school_id": school_id, "class_id": class_id, "class_name": sheet.class_name, "date": day,
            "deadline": sheet.deadline, "locked": sheet.locked, "sent": sheet.sent, "source": sheet.source,
            "submitted_by": sheet.submitted_by, "submitted_at": sheet.submitted_at, "meals": sheet.meals,
            "totals": sheet.totals, "students": [{
                "student_id": r.student_id, "full_name": r.full_name, "categories": r.categories,
                "free": r.free, "prices": r.prices, "balance_kopecks": r.balance_kopecks,
                "daily_limit_kopecks": r.daily_limit_kopecks, "diet_note": r.diet_note, "absent": r.absent,
                "meals": r.meals, "standing": r.standing, "warnings": r.warnings} for r in sheet.rows]}


def _choices(body: dict[str, Any]) -> dict[str, orders.Choice]:
    rows = body.get("students")
    if not isinstance(rows, list) or not rows or len(rows) > 1000:
        fail(400, "поле students: непустой список (до 1000) объектов {student_id, meals, absent}")
    choices: dict[str, orders.Choice] = {}
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            fail(400, f"students[{n}]: объект {{student_id, meals, absent}}")
        sid, meals, absent = row.get("student_id"), row.get("meals", []), row.get("absent", False)
        if not isinstance(sid, str) or not sid or len(sid) > 64:
            fail(400, f"students[{n}].student_id: строка до 64 символов")
        if not isinstance(meals, list) or len(meals) > 10 or not all(isinstance(m, str) for m in meals):
            fail(400, f"students[{n}].meals: список приёмов пищи ({', '.join(orders.MEALS)})")
        if not isinstance(absent, bool):
            fail(400, f"students[{n}].absent: true или false")
        if sid in choices:
            fail(400, f"students[{n}]: ученик {sid} указан дважды")
        choices[sid] = orders.Choice(frozenset(m[:20] for m in meals), absent=absent)
    return choices


@bp.get("/api/schools/<school_id>/classes/<class_id>/order")
@requires("admin")
@office_errors
def class_order(school_id: str, class_id: str) -> Any:
    """The class's order sheet for `date` (the next school day by default)."""
    day = _day(dict(request.args), "date", required=False)
    with engine().connect() as conn:
        return jsonify(plain(_class_order(conn, school_id, class_id, day)))


@bp.put("/api/schools/<school_id>/classes/<class_id>/order")
@requires("admin")
@office_errors
def class_order_put(school_id: str, class_id: str) -> Any:
    """Write the class's order for `date`; after the deadline only with a `reason` (marked late)."""
    from server.web.clock import now

    body = json_body()
    day = _day(body, "date")
    assert day is not None
    choices = _choices(body)
    reason = _text(body, "reason")
    with engine().begin() as conn:
        if "\x00" in class_id:
            raise NotFound("класс не найден")
        _school(conn, school_id)
        done = orders.submit(conn, principal().name, school_id, class_id, day, choices, now=now(), may_amend=True,
                             reason=reason)
        answer = _class_order(conn, school_id, class_id, day)
    answer["result"] = {"added": done.added, "removed": done.removed, "absent_marks": done.absent,
                        "late": done.late, "after_sent": done.after_sent}
    return jsonify(plain(answer))
