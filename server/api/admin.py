"""Administration endpoints: login, schools, terminals, imports, the mismatch report and rejected events."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy import func, select

from server import accounts, rejected
from server.api import engine, fail, json_body, principal, requires
from server.app import ApiError, state
from server.importer import COLUMNS, ImportFailed, import_file, import_rows
from server.mismatches import report, to_csv
from server.models import School, Student, Terminal
from server.openapi import spec
from sync.wire import utc_iso

bp = Blueprint("admin", __name__)


def _no_nul(*values: str) -> None:
    """PostgreSQL cannot store or compare text with a NUL character: refuse it before any query."""
    if any("\x00" in value for value in values):
        fail(400, "недопустимый символ (NUL) в запросе")


def _school_or_404(school_id: str) -> None:
    _no_nul(school_id)
    with engine().connect() as conn:
        if conn.execute(select(School.id).where(School.id == school_id)).scalar() is None:
            fail(404, f"школа {school_id} не найдена")


@bp.get("/api/openapi.json")
def openapi() -> Any:
    return jsonify(spec())


@bp.post("/api/auth/login")
def login() -> Any:
    body = json_body()
    name, password = body.get("login"), body.get("password")
    if not isinstance(name, str) or not isinstance(password, str) or len(password) > 1000:
        fail(400, "нужны поля login и password (строки)")
    _no_nul(name, password)
    config = state(current_app).config
    limits = accounts.LoginLimits(per_login=config.login_max_failures, per_ip=config.login_ip_max_failures,
                                  window=timedelta(minutes=config.login_window_min))
    ip = request.remote_addr or ""
    with engine().begin() as conn:
        # Checked before the password, so a throttled guess learns nothing and costs no hash.
        wait = accounts.login_throttled(conn, name, ip, limits)
        result = None if wait else accounts.login(conn, name, password, hours=config.session_hours)
        if not wait and result is None:
            accounts.record_login_failure(conn, name, ip, limits)
    if wait:
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        raise ApiError(429, f"слишком много неудачных попыток входа; повторите через {minutes} мин.",
                       headers={"Retry-After": str(max(1, math.ceil(wait.total_seconds())))})
    if result is None:
        fail(401, "неверный логин или пароль")
    return jsonify(token=result[0], expires_at=utc_iso(result[1]))


@bp.post("/api/auth/logout")
@requires("admin")
def logout() -> Any:
    with engine().begin() as conn:
        accounts.end_session(conn, g.token)
    return jsonify(logged_out=True)


@bp.get("/api/schools")
@requires("admin")
def schools() -> Any:
    who = principal()
    with engine().connect() as conn:
        query = select(School.id, School.name, School.timezone).order_by(School.id)
        if who.school_id is not None:
            query = query.where(School.id == who.school_id)
        rows = conn.execute(query).all()
    return jsonify(schools=[{"id": r.id, "name": r.name, "timezone": r.timezone} for r in rows])


@bp.post("/api/schools")
@requires("admin")
def add_school() -> Any:
    if principal().school_id is not None:
        fail(403, "добавлять школы может только администратор района")
    body = json_body()
    try:
        values = {k: body[k] for k in ("id", "name", "timezone", "policy")}
    except KeyError as exc:
        fail(400, f"нет поля {exc.args[0]}")
    if not all(isinstance(v, str) for v in values.values()):
        fail(400, "поля id, name, timezone, policy должны быть строками")
    week_days = body.get("week_days", "1,2,3,4,5")
    if not isinstance(week_days, str):
        fail(400, "поле week_days: строка вида «1,2,3,4,5»")
    _no_nul(*values.values())
    try:
        with engine().begin() as conn:
            accounts.add_school(conn, school_id=values["id"], name=values["name"], timezone=values["timezone"],
                                policy_text=values["policy"], week_days=week_days)
    except (accounts.AccountError, ValueError) as exc:
        fail(422, str(exc))
    return jsonify(id=values["id"]), 201


@bp.get("/api/schools/<school_id>")
@requires("admin")
def school(school_id: str) -> Any:
    _school_or_404(school_id)
    with engine().connect() as conn:
        row = conn.execute(select(School).where(School.id == school_id)).one()
        students = conn.execute(select(func.count()).select_from(Student).where(
            Student.school_id == school_id, Student.active.is_(True))).scalar()
        terminals = conn.execute(select(Terminal).where(Terminal.school_id == school_id)
                                 .order_by(Terminal.id)).all()
    return jsonify(id=row.id, name=row.name, timezone=row.timezone, week_days=row.week_days, students=students,
                   terminals=[{"id": t.id, "name": t.name, "revoked": t.revoked_at is not None,
                               "last_seen_at": utc_iso(t.last_seen_at) if t.last_seen_at else None,
                               "clock_drift_s": t.clock_drift_s} for t in terminals])


@bp.post("/api/schools/<school_id>/terminals")
@requires("admin")
def enroll(school_id: str) -> Any:
    _school_or_404(school_id)
    name = json_body(optional=True).get("name", "")
    if not isinstance(name, str) or len(name) > 200:
        fail(400, "поле name: строка до 200 символов")
    _no_nul(name)
    with engine().begin() as conn:
        terminal_id, token = accounts.enroll_terminal(conn, school_id, name=name)
    return jsonify(terminal_id=terminal_id, token=token), 201


@bp.post("/api/terminals/<terminal_id>/revoke")
@requires("admin")
def revoke(terminal_id: str) -> Any:
    if not accounts.valid_terminal_id(terminal_id):
        fail(404, "терминал не найден: такого кода терминала не бывает")
    with engine().begin() as conn:
        owner = conn.execute(select(Terminal.school_id).where(Terminal.id == terminal_id)).scalar()
        if owner is None:
            fail(404, f"терминал {terminal_id} не найден")
        if not principal().may_see(owner):
            fail(403, f"нет доступа к школе {owner}")
        try:
            accounts.revoke_terminal(conn, terminal_id)
        except accounts.AccountError as exc:
            fail(409, str(exc))
    return jsonify(terminal_id=terminal_id, revoked=True)


@bp.post("/api/schools/<school_id>/import/<kind>")
@requires("admin")
def import_data(school_id: str, kind: str) -> Any:
    _school_or_404(school_id)
    if kind not in COLUMNS:
        fail(404, f"неизвестный вид данных «{kind}»; допустимо: {', '.join(COLUMNS)}")
    replace = request.args.get("replace", "") in ("1", "true", "yes")
    money = request.args.get("leaving_with_money", "") in ("1", "true", "yes")
    try:
        with engine().begin() as conn:
            if request.files or request.mimetype == "multipart/form-data":
                content, filename = _upload()
                result = import_file(conn, school_id, kind, content, filename, replace=replace,
                                     leaving_with_money=money)
            else:
                result = import_rows(conn, school_id, kind, json_body().get("rows"), replace=replace,
                                     leaving_with_money=money)
    except ImportFailed as exc:
        return jsonify(error="import_failed", message=f"ничего не загружено: ошибок {len(exc.errors)}",
                       errors=exc.errors[:1000]), 422
    return jsonify(kind=result.kind, rows=result.rows, skipped=result.skipped, notes=list(result.notes))


def _upload() -> tuple[bytes, str]:
    """The uploaded file of an import and its name; 400/422 for what the importer cannot take."""
    if not request.files:
        fail(400, "в запросе нет файла: ожидается multipart/form-data с файлом CSV или XLSX")
    upload = next(iter(request.files.values()))
    # What the bytes are (XLSX, CSV in UTF-8, Windows-1251 or UTF-16) and every cell is the importer's
    # to judge (server.tabular): a NUL byte is normal in UTF-16 and a row error in a cell.
    return upload.read(), upload.filename or "upload.csv"


@bp.get("/api/schools/<school_id>/mismatches")
@requires("admin")
def mismatches(school_id: str) -> Any:
    _school_or_404(school_id)
    try:
        start = date.fromisoformat(request.args["from"])
        end = date.fromisoformat(request.args["to"])
    except KeyError as exc:
        fail(400, f"нужен параметр {exc.args[0]} (ГГГГ-ММ-ДД)")
    except ValueError:
        fail(400, "параметры from и to: даты ГГГГ-ММ-ДД")
    if end < start or (end - start).days > 366:
        fail(400, "период: from не позже to и не длиннее года")
    with engine().connect() as conn:
        data = report(conn, school_id, start, end)
    if request.args.get("format") == "csv":
        return Response("\ufeff" + to_csv(data), mimetype="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="mismatches-{school_id}-{start}-{end}.csv"'})
    return jsonify(data)


@bp.get("/api/schools/<school_id>/rejected")
@requires("admin")
def rejected_events(school_id: str) -> Any:
    """What the school's terminals sent and the server refused, newest first; `before` pages on."""
    _school_or_404(school_id)
    try:
        limit = int(request.args.get("limit", "100"))
        before = int(request.args["before"]) if "before" in request.args else None
    except ValueError:
        fail(400, "параметры limit и before: целые числа")
    if not 1 <= limit <= rejected.PAGE_MAX:
        fail(400, f"параметр limit: от 1 до {rejected.PAGE_MAX}")
    with engine().connect() as conn:
        rows = rejected.listing(conn, school_id, limit=limit, before=before)
    return jsonify(school_id=school_id, rejected=rows, next_before=rows[-1]["n"] if len(rows) == limit else None)
