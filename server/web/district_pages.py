"""The district's pages (управление образования): the day and the month of its schools, the registers
rolled up across them (XLSX/CSV/JSON, also as `GET /api/districts/<id>/reports/<kind>`), a submitted
register with its steps (accept, or return with a comment); and the school's side of the loop: «Отправить
в управление образования» on «Отчёты» and the printable history of a submission. The rules are
`server.district`; a district user holds a district grant, which opens only these pages (`allow(scope=
"district")`), and a school is reached only when it is the district's."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from server import district
from server.app import state
from server.models import School
from server.office.changes import NotFound, OfficeError
from server.office.dates import parse_day
from server.office.roles import Role
from server.reports.common import (
    XLSX_TYPE,
    ReportError,
    grid_csv,
    grid_html,
    grid_xlsx,
    month_end,
    month_key,
    month_title,
)
from server.reports.common import parse_month as read_month
from server.web.auth import account, allow
from server.web.blueprint import bp
from server.web.filters import sentence

DISTRICT = (Role.DISTRICT,)
SCHOOL_SENDERS = (Role.SCHOOL_ADMIN, Role.COORDINATOR)
ROLLUP_FORMATS = ("xlsx", "csv", "json", "html")


def _engine() -> Any:
    return state(current_app).engine


def _error(status: int, title: str, text: str) -> Any:
    return render_template("error.html", code=status, title=title, text=sentence(text)), status


def _overview(district_id: str, monthly: bool) -> Any:
    try:
        with _engine().connect() as conn:
            name = district.district_name(conn, district_id)
            today = district.today(conn, district_id)
            if monthly:
                text = request.args.get("month", "").strip()
                start = read_month(text) if text else today.replace(day=1)
                end = min(month_end(start), today) if start <= today else month_end(start)
            else:
                text = request.args.get("day", "").strip()
                start = end = parse_day(text) if text else today
            view = district.overview(conn, district_id, start, end, today=today)
    except NotFound as exc:
        return _error(404, "Не найдено", str(exc))
    except (OfficeError, ReportError) as exc:
        return _error(400, "Неверный запрос", str(exc))
    return render_template("district.html", district_id=district_id, name=name, view=view, monthly=monthly,
                           month_key=month_key(start), month_title=month_title(start), day=start,
                           monthly_title=month_title(view.monthly_month), request_title=month_title(view.request_month),
                           monthly_key=month_key(view.monthly_month), request_key=month_key(view.request_month))


@bp.get("/office/district/<district_id>")
@allow(*DISTRICT, scope="district")
def district_day(district_id: str) -> Any:
    return _overview(district_id, False)


@bp.get("/office/district/<district_id>/month")
@allow(*DISTRICT, scope="district")
def district_month(district_id: str) -> Any:
    return _overview(district_id, True)


def _rollup(district_id: str, kind: str, default: str) -> tuple[bytes, str, str]:
    """The register rolled up: (body, mimetype, file name); OfficeError/ReportError/NotFound on bad input."""
    fmt = request.args.get("format", default)
    if fmt not in ROLLUP_FORMATS:
        raise OfficeError(f"формат: {', '.join(ROLLUP_FORMATS)}, а не «{fmt[:20]}»")
    with _engine().connect() as conn:
        today = district.today(conn, district_id)
        text = request.args.get("month", "").strip()
        month = read_month(text) if text else today.replace(day=1)
        r = district.rollup(conn, district_id, kind, month, today=today)
    name = f"{kind}-{district_id}-{month_key(month)}.{fmt}"
    if fmt == "json":
        return (json.dumps(district.to_json(r), ensure_ascii=False, indent=1) + "\n").encode(), "application/json", name
    if fmt == "csv":
        return grid_csv(district.grid(r)).encode("utf-8"), "text/csv; charset=utf-8", name
    if fmt == "html":
        return grid_html(district.grid(r)).encode("utf-8"), "text/html; charset=utf-8", name
    return grid_xlsx(district.grid(r)), XLSX_TYPE, name


@bp.get("/office/district/<district_id>/reports/<kind>")
@allow(*DISTRICT, scope="district")
def district_rollup(district_id: str, kind: str) -> Any:
    try:
        body, mimetype, name = _rollup(district_id, kind, "xlsx")
    except NotFound as exc:
        return _error(404, "Не найдено", str(exc))
    except (OfficeError, ReportError) as exc:
        return _error(400, "Свод не составлен", str(exc))
    if mimetype.startswith("text/html"):
        return Response(body, mimetype=mimetype)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _submission_page(sub: district.Submission, *, district_id: str | None, status: int = 200, error: str = "",
                     form: Any = None) -> Any:
    with _engine().connect() as conn:
        figures = sub.figures(conn)
        changes = sub.changes(conn)
        timezone = conn.execute(select(School.timezone).where(School.id == sub.school_id)).scalar_one()
    return render_template("district_submission.html", sub=sub, district_id=district_id, figures=figures,
                           changes=changes, error=error, form=form or {}, timezone=timezone,
                           printable=bool(request.args.get("print"))), status


def _show(submission_id: int, *, district_id: str | None = None, school_id: str | None = None,
          **page: Any) -> Any:
    """The submission's page as its district or its school sees it (404 for anyone else's)."""
    try:
        with _engine().connect() as conn:
            sub = district.submission(conn, submission_id, district_id=district_id, school_id=school_id)
    except NotFound as exc:
        return _error(404, "Не найдено", str(exc))
    return _submission_page(sub, district_id=district_id, **page)


@bp.get("/office/district/<district_id>/submissions/<int:submission_id>")
@allow(*DISTRICT, scope="district")
def district_submission(district_id: str, submission_id: int) -> Any:
    return _show(submission_id, district_id=district_id)


@bp.post("/office/district/<district_id>/submissions/<int:submission_id>")
@allow(*DISTRICT, scope="district")
def district_decide(district_id: str, submission_id: int) -> Any:
    action = request.form.get("action", "")
    try:
        with _engine().begin() as conn:
            sub = district.decide(conn, account().login, district_id, submission_id, action,
                                  request.form.get("comment", "")[:district.COMMENT_MAX + 1])
    except NotFound as exc:
        return _error(404, "Не найдено", str(exc))
    except OfficeError as exc:
        return _show(submission_id, district_id=district_id, status=422, error=sentence(str(exc)),
                     form=request.form)
    flash(f"{sub.title} — {sub.school_name}: {sub.state_ru}.", "info")
    return redirect(url_for("office.district_submission", district_id=district_id, submission_id=submission_id), 303)


# --- the school's side -------------------------------------------------------------------------------------------

@bp.post("/office/<school_id>/reports/submit")
@allow(*SCHOOL_SENDERS)
def report_submit(school_id: str) -> Any:
    kind = request.form.get("kind", "")
    try:
        month = read_month(request.form.get("month"))
        with _engine().begin() as conn:
            sub = district.submit(conn, account().login, school_id, kind, month)
    except (OfficeError, ReportError) as exc:
        flash(sentence(str(exc)), "error")
        month_text = request.form.get("month", "")[:7]
        return redirect(url_for("office.reports_page", school_id=school_id, month=month_text), 303)
    flash(f"{sub.title}: отправлен в управление образования.", "info")
    return redirect(url_for("office.reports_page", school_id=school_id, month=month_key(sub.shown_under)), 303)


@bp.get("/office/<school_id>/reports/submissions/<int:submission_id>")
@allow(*SCHOOL_SENDERS)
def school_submission(school_id: str, submission_id: int) -> Any:
    return _show(submission_id, school_id=school_id)


def school_loop(conn: Any, school_id: str, month: date) -> list[tuple[str, str, date, district.Submission | None,
                                                                         str, bool, str | None]]:
    """For «Отчёты» of a month: (kind, title, month, submission, state, late, why it cannot be sent yet) of the
    monthly report of the month and of the request for the next month."""
    if not district.district_of(conn, school_id):
        return []
    today = district.today_of_school(conn, school_id)
    out = []
    for kind, m in (("monthly", month), ("request", district.add_months(month, 1))):
        sub = district.of_schools(conn, [school_id], kind, m).get(school_id)
        text, late = district.state_text(sub, kind, m, today)
        out.append((kind, f"{district.KINDS[kind]} — {month_title(m)}", m, sub, text, late,
                    district.too_early(kind, m, today)))
    return out
