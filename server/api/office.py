"""The office's JSON API over `server.office`: student search and card, blocking a card, benefit
applications (list, register, decide, order) and overdue decisions; the school calendar. Administrators of
the school only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import wraps
from typing import Any, TypeVar, cast

import msgspec
from flask import Blueprint, Response, jsonify, request
from sqlalchemy import Connection, select

from server import openapi as api_spec
from server.api import engine, fail, json_body, principal, requires
from server.models import School
from server.office import benefits, calendar, kitchen, orders, roster
from server.office.changes import NotFound, OfficeError, today
from server.office.dates import parse_day
from server.web.clock import now

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
        try:
            return parse_day(value)
        except OfficeError as exc:
            fail(400, f"поле {key}: {exc}")
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


# --- the kitchen's order (server.office.kitchen) -----------------------------------------------------------

def _kitchen_day(conn: Connection, school_id: str, value: Any) -> date:
    """The asked day (ГГГГ-ММ-ДД or ДД.ММ.ГГГГ), or the school's next school day when none is asked."""
    if value is None or value == "":
        return kitchen.next_school_day(conn, school_id, now())
    if not isinstance(value, str):
        fail(400, "поле date: строка ГГГГ-ММ-ДД или ДД.ММ.ГГГГ")
    try:
        return parse_day(value)
    except OfficeError as exc:
        fail(400, f"параметр date: {exc}")


@bp.get("/api/schools/<school_id>/kitchen-order")
@requires("admin")
@office_errors
def kitchen_order(school_id: str) -> Any:
    """The kitchen's order for a day as JSON, CSV or XLSX: frozen at the deadline, amendments after it."""
    form = request.args.get("format", "json")
    if form not in kitchen.FORMATS:
        fail(400, f"параметр format: {', '.join(kitchen.FORMATS)}")
    with engine().connect() as conn:
        _school(conn, school_id)
        day = _kitchen_day(conn, school_id, request.args.get("date"))
        order = kitchen.kitchen_order(conn, school_id, day, now())
    if form == "json":
        return jsonify(kitchen.to_json(order))
    headers = {"Content-Disposition": f'attachment; filename="{kitchen.file_name(order, form)}"'}
    if form == "csv":
        return Response(kitchen.to_csv(order).encode("utf-8"), mimetype="text/csv; charset=utf-8", headers=headers)
    return Response(kitchen.to_xlsx(order), headers=headers, mimetype=kitchen.XLSX_TYPE)


@bp.post("/api/schools/<school_id>/kitchen-order/send")
@requires("admin")
@office_errors
def kitchen_send(school_id: str) -> Any:
    """Record that the day's order went to the kitchen; sending again keeps the first time."""
    body = json_body(optional=True)
    with engine().begin() as conn:
        _school(conn, school_id)
        day = _kitchen_day(conn, school_id, body.get("date"))
        sending, new = kitchen.send(conn, principal().name, school_id, day, now())
    return jsonify(date=day.isoformat(), sent_at=sending.sent_at.isoformat(), sent_by=sending.sent_by, new=new,
                   message=kitchen.sent_message(day, sending, new))


# --- the registers (server.reports; tabel helper) --------------------------------------------------------

@bp.get("/api/schools/<school_id>/reports/<kind>")
@requires("admin")
@office_errors
def report(school_id: str, kind: str) -> Any:
    """A register of a month (табель, молоко, отчёт школы…) as JSON, CSV, XLSX or PDF; the export is recorded."""
    from server.reports.common import NoSchool, ReportError, parse_month
    from server.reports.exports import export, kind_module

    try:
        kind_module(kind)
        month = parse_month(request.args.get("month"))
        with engine().begin() as conn:
            _school(conn, school_id)
            done = export(conn, principal().name, school_id, kind, month, request.args.get("class") or None,
                          request.args.get("format", "json"), submitted=request.args.get("submitted") == "1")
    except NoSchool as exc:
        fail(404, str(exc))
    except ReportError as exc:
        fail(400, str(exc))
    if done.mimetype == "application/json":
        return Response(done.data, mimetype="application/json")
    return Response(done.data, mimetype=done.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{done.filename}"'})


# ---- the school calendar (`server.office.calendar`) ----

_CAL = "/api/schools/<school_id>/calendar"
B = TypeVar("B")


def _calendar_body(kind: type[B]) -> B:
    """The JSON body as the documented struct; 400 with the field at fault."""
    try:
        return msgspec.convert(json_body(), type=kind)
    except msgspec.ValidationError as exc:
        fail(400, f"тело запроса: {_field_problem(str(exc))}")


def _field_problem(message: str) -> str:
    where = message.rpartition(" - at `$.")[2].rstrip("`") if " - at `$." in message else ""
    if message.startswith("Object contains unknown field"):
        return f"неизвестное поле {message.rpartition('`')[0].rpartition('`')[2]}"
    if message.startswith("Object missing required field"):
        return f"нет обязательного поля {message.rpartition('`')[0].rpartition('`')[2]}"
    return f"поле {where}: неверный тип или значение" if where else "неверный объект"


def _iso_or_dmy(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    day = _day({name: value}, name)
    if day is not None and not 1900 <= day.year <= 2100:
        fail(400, f"поле {name}: неправдоподобная дата")
    return day


def _ranges(items: list[calendar.Range]) -> list[api_spec.CalendarRange]:
    return [api_spec.CalendarRange(from_=x.start.isoformat(), to=x.end.isoformat(), reason=x.reason, kind=x.kind,
                                   class_id=x.class_id, added_by=x.added_by) for x in items]


def _settings(s: calendar.Settings) -> api_spec.CalendarSettings:
    return api_spec.CalendarSettings(
        year_starts=s.year_starts.isoformat() if s.year_starts else None,
        year_ends=s.year_ends.isoformat() if s.year_ends else None,
        week_days=",".join(map(str, sorted(s.week_days))), days_per_week=s.days_per_week,
        order_deadline=s.order_deadline)


@bp.get(_CAL)
@requires("admin")
@office_errors
def calendar_days(school_id: str) -> Any:
    args = request.args
    if any("\x00" in v for v in args.values()):
        fail(400, "в параметрах запроса недопустимый символ")
    with engine().connect() as conn:
        _school(conn, school_id)
        start, end = calendar.default_period(conn, school_id, today(conn, school_id))
        start = _iso_or_dmy(args.get("from"), "from") or start
        end = _iso_or_dmy(args.get("to"), "to") or end
        days = calendar.days(conn, school_id, start, end, today(conn, school_id))
        answer = api_spec.CalendarAnswer(
            school_id=school_id, from_=start.isoformat(), to=end.isoformat(),
            settings=_settings(calendar.settings(conn, school_id)),
            days=[api_spec.CalendarDay(day=d.day.isoformat(), state=d.state, school_day=d.school_day, reason=d.reason,
                                       days_off=[api_spec.ClassOff(c, why) for c, why in d.days_off]) for d in days],
            holidays=_ranges(calendar.holiday_ranges(conn, school_id, start, end)),
            days_off=_ranges(calendar.day_off_ranges(conn, school_id, start=start, end=end)))
    return jsonify(msgspec.to_builtins(answer))


@bp.put(f"{_CAL}/settings")
@requires("admin")
@office_errors
def calendar_settings(school_id: str) -> Any:
    body = _calendar_body(api_spec.CalendarSettingsBody)
    with engine().begin() as conn:
        _school(conn, school_id)
        s = calendar.set_settings(conn, principal().name, school_id,
                                  year_starts=_iso_or_dmy(body.year_starts, "year_starts"),
                                  year_ends=_iso_or_dmy(body.year_ends, "year_ends"),
                                  days_per_week=body.days_per_week, order_deadline=body.order_deadline)
    return jsonify(msgspec.to_builtins(_settings(s)))


def _holiday_period(body: api_spec.HolidayBody | api_spec.DayOffBody) -> tuple[date, date]:
    start = _iso_or_dmy(body.from_, "from")
    assert start is not None
    return start, _iso_or_dmy(body.to, "to") or start


@bp.post(f"{_CAL}/holidays")
@requires("admin")
@office_errors
def calendar_holidays_add(school_id: str) -> Any:
    body = _calendar_body(api_spec.HolidayBody)
    start, end = _holiday_period(body)
    with engine().begin() as conn:
        _school(conn, school_id)
        count = calendar.add_holidays(conn, principal().name, school_id, start, end, body.reason)
    return jsonify(days=count)


@bp.post(f"{_CAL}/holidays/remove")
@requires("admin")
@office_errors
def calendar_holidays_remove(school_id: str) -> Any:
    body = _calendar_body(api_spec.HolidayBody)
    start, end = _holiday_period(body)
    with engine().begin() as conn:
        _school(conn, school_id)
        count = calendar.remove_holidays(conn, principal().name, school_id, start, end)
    return jsonify(days=count)


@bp.post(f"{_CAL}/days-off")
@requires("admin")
@office_errors
def calendar_days_off_add(school_id: str) -> Any:
    body = _calendar_body(api_spec.DayOffBody)
    start, end = _holiday_period(body)
    with engine().begin() as conn:
        _school(conn, school_id)
        count = calendar.add_days_off(conn, principal().name, school_id, body.class_id, start, end, body.reason)
    return jsonify(days=count)


@bp.post(f"{_CAL}/days-off/remove")
@requires("admin")
@office_errors
def calendar_days_off_remove(school_id: str) -> Any:
    body = _calendar_body(api_spec.DayOffBody)
    start, end = _holiday_period(body)
    with engine().begin() as conn:
        _school(conn, school_id)
        count = calendar.remove_days_off(conn, principal().name, school_id, body.class_id, start, end)
    return jsonify(days=count)


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


@bp.post("/api/schools/<school_id>/payments")
@requires("admin")
@office_errors
def payments_import(school_id: str) -> Any:
    """A bank's payment register (multipart file; `format` auto|sber|csv): the rows judged, and with
    `apply=1` the clean ones credited and the conflicts kept (`server.office.payments`)."""
    from server.office import payments

    fmt = request.args.get("format", "auto")[:16]
    if fmt not in ("auto", *payments.FORMATS):
        fail(400, f"format: auto или {', '.join(payments.FORMATS)}")
    if not request.files:
        fail(400, "в запросе нет файла: ожидается multipart/form-data с файлом реестра")
    upload = next(iter(request.files.values()))
    data, filename = upload.read(), upload.filename or "реестр.txt"
    with engine().begin() as conn:
        _school(conn, school_id)
        if request.args.get("apply", "") in ("1", "true", "yes"):
            seen, done = payments.apply(conn, principal().name, school_id, data, filename, fmt)
        else:
            seen, done = payments.preview(conn, school_id, payments.parse(data, filename, fmt)), None
    return jsonify(plain({
        "format": seen.register.fmt, "totals": seen.register.totals_checked, "total_kopecks": seen.register.total,
        "new": len(seen.of("new")), "new_kopecks": seen.new_kopecks,
        "rows": [{"line": r.line, "reference": r.reference, "account": r.account, "amount_kopecks": r.amount,
                  "paid_at": r.paid_at, "status": r.status, "kind": r.kind, "message": r.message} for r in seen.rows],
        "applied": None if done is None else {"import_id": done.import_id, "rows": done.applied,
                                              "kopecks": done.applied_kopecks, "already": done.already,
                                              "conflicts": done.conflicts}}))
