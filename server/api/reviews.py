"""The office's review queue and terminals page over JSON: list, resolve and export the queue; list,
rename and revoke terminals (adding one is `POST /api/schools/<id>/terminals` in `server.api.admin`).
An administrator's token, of this school or of the district."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import Connection, select

from server.api import engine, fail, json_body, principal, requires
from server.models import School
from server.office import fleet, reviews

bp = Blueprint("reviews", __name__)


@bp.before_request
def _no_nul() -> None:
    """PostgreSQL text cannot hold a NUL: an address or parameter with one names nothing (and is no 500)."""
    if any("\x00" in str(v) for v in (request.view_args or {}).values()):
        fail(404, "не найдено: в адресе недопустимый символ")
    if any("\x00" in v for v in request.args.values()):
        fail(400, "в параметрах запроса недопустимый символ")


def _day(text: str, name: str) -> date:
    for form in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    fail(400, f"параметр {name}: дата ГГГГ-ММ-ДД или ДД.ММ.ГГГГ, а не «{text[:40]}»")


def _filters(conn: Connection, school_id: str) -> reviews.Filters:
    today, _tz = reviews.school_today(conn, school_id)
    start, end = reviews.default_period(today)
    args = request.args
    kinds = frozenset(k.strip() for k in args["kind"].split(",") if k.strip()) if args.get("kind") else None
    return reviews.Filters(start=_day(args["from"], "from") if args.get("from") else start,
                           end=_day(args["to"], "to") if args.get("to") else end,
                           class_id=args.get("class") or None, kinds=kinds, status=args.get("status", "open"))


def _queue(school_id: str) -> reviews.Queue:
    try:
        with engine().connect() as conn:
            return reviews.queue(conn, school_id, _filters(conn, school_id))
    except reviews.ReviewError as exc:
        fail(exc.status, exc.message)


@bp.get("/api/schools/<school_id>/reviews")
@requires("admin")
def review_list(school_id: str) -> Any:
    """The queue with its counts per kind; filters: from, to, class, kind (comma-separated), status."""
    return jsonify(_queue(school_id).as_dict())


@bp.get("/api/schools/<school_id>/reviews/export")
@requires("admin")
def review_export(school_id: str) -> Any:
    form = request.args.get("format", "xlsx")
    if form not in ("csv", "xlsx"):
        fail(400, "параметр format: csv или xlsx")
    q = _queue(school_id)
    name = f"reviews-{school_id}-{q.filters.start}-{min(q.filters.end, q.today)}.{form}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if form == "csv":
        return Response(reviews.to_csv(q), mimetype="text/csv; charset=utf-8", headers=headers)
    return Response(reviews.to_xlsx(q), headers=headers,
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _key(raw: Any) -> tuple[reviews.Key, str | None]:
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in ("day", "subject", "meal", "kind")):
        fail(400, "каждое расхождение: объект с полями day, subject, meal, kind (строки) и fingerprint")
    seen = raw.get("fingerprint")
    if seen is not None and not isinstance(seen, str):
        fail(400, "поле fingerprint: строка или null")
    try:
        day = date.fromisoformat(raw["day"])
    except ValueError:
        fail(400, f"поле day: дата ГГГГ-ММ-ДД, а не «{raw['day'][:40]}»")
    return reviews.Key(day, raw["subject"], raw["meal"], raw["kind"]), seen


@bp.post("/api/schools/<school_id>/reviews/resolve")
@requires("admin")
def review_resolve(school_id: str) -> Any:
    """Resolve items with one reason and comment: all or none (409 when one changed since shown)."""
    body = json_body()
    picks, reason, comment = body.get("items"), body.get("reason"), body.get("comment", "")
    if not isinstance(picks, list) or not isinstance(reason, str) or not isinstance(comment, str):
        fail(400, "нужны поля items (список), reason (строка) и comment (строка)")
    if len(picks) > reviews.RESOLVE_MAX:
        fail(400, f"за один раз можно решить не больше {reviews.RESOLVE_MAX} расхождений")
    keys = [_key(raw) for raw in picks]
    try:
        with engine().begin() as conn:
            done = reviews.resolve(conn, school_id, keys, reason=reason, comment=comment, who=principal().name)
    except reviews.ReviewError as exc:
        fail(exc.status, exc.message)
    return jsonify(resolved=[e.as_dict() for e in done])


@bp.get("/api/schools/<school_id>/reviews/history")
@requires("admin")
def review_history(school_id: str) -> Any:
    """Every resolution of one item, oldest first (the last is in force)."""
    key, _seen = _key(dict(request.args))
    with engine().connect() as conn:
        rows = reviews.history(conn, school_id, key)
    return jsonify(key=key.as_dict(), resolutions=[r.as_dict() for r in rows])


def _school_or_404(conn: Connection, school_id: str) -> None:
    if conn.execute(select(School.id).where(School.id == school_id)).scalar() is None:
        fail(404, f"школа {school_id} не найдена")


@bp.get("/api/schools/<school_id>/terminals")
@requires("admin")
def terminal_list(school_id: str) -> Any:
    with engine().connect() as conn:
        _school_or_404(conn, school_id)
        rows = fleet.terminals(conn, school_id)
    return jsonify(school_id=school_id, online_within_min=int(fleet.ONLINE_WITHIN.total_seconds() // 60),
                   terminals=rows)


@bp.patch("/api/schools/<school_id>/terminals/<terminal_id>")
@requires("admin")
def terminal_rename(school_id: str, terminal_id: str) -> Any:
    name = json_body().get("name")
    try:
        with engine().begin() as conn:
            fleet.rename(conn, school_id, terminal_id, name)
    except fleet.FleetError as exc:
        fail(exc.status, exc.message)
    return jsonify(terminal_id=terminal_id, name=name.strip() if isinstance(name, str) else name)


@bp.post("/api/schools/<school_id>/terminals/<terminal_id>/revoke")
@requires("admin")
def terminal_revoke(school_id: str, terminal_id: str) -> Any:
    try:
        with engine().begin() as conn:
            fleet.revoke(conn, school_id, terminal_id)
    except fleet.FleetError as exc:
        fail(exc.status, exc.message)
    return jsonify(terminal_id=terminal_id, revoked=True)
