"""«Отчёты»: the registers of a month (`server.reports`) — the list for a month, each register as a page with
«С последней выгрузки … изменилось», its print view and the XLSX/PDF/CSV downloads (each recorded as an
export); and «Сухой паёк» (`server.office.parcels`): food parcels and compensations entered per school day.
The coordinator and the administrator see every register; a class teacher sees the own class's табель."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from pos.settings import zone
from server import district
from server.app import state
from server.models import School, SchoolClass, Student
from server.office import parcels
from server.office.changes import NotFound, OfficeError
from server.office.changes import today as school_today
from server.office.dates import parse_day
from server.office.roles import Role, classes_of, permits
from server.reports import KINDS
from server.reports.common import PARCEL_KINDS, ReportError, month_key, month_title, parse_month
from server.reports.exports import build, export, kind_module, last_export, since_last, title_of
from server.web import district_pages
from server.web.auth import account, allow
from server.web.blueprint import bp
from server.web.filters import nav_item, sentence

MANAGERS = (Role.SCHOOL_ADMIN, Role.COORDINATOR)
VIEWERS = (*MANAGERS, Role.TEACHER)
DOWNLOADS = ("xlsx", "pdf", "csv")



def _manager(school_id: str) -> bool:
    return permits(account().grants, MANAGERS, school_id=school_id)


def _month(conn: Any, school_id: str, source: MultiDict[str, str]) -> date:
    text = source.get("month", "").strip()
    if text:
        return parse_month(text)
    return school_today(conn, school_id).replace(day=1)


def _classes(conn: Any, school_id: str) -> list[Any]:
    return list(conn.execute(select(SchoolClass.id, SchoolClass.name, SchoolClass.grade).where(
        SchoolClass.school_id == school_id).order_by(SchoolClass.grade, SchoolClass.name)))


def _scope(conn: Any, school_id: str, kind: str, class_id: str | None) -> str | None:
    """The class the user may see the register of (a teacher: own class's табель only); 403 otherwise."""
    if _manager(school_id):
        if class_id is None and getattr(kind_module(kind), "CLASS_REQUIRED", False):
            first = _classes(conn, school_id)
            return first[0].id if first else None
        return class_id
    mine = classes_of(account().grants, school_id)
    if kind != "tabel" or not mine or (class_id is not None and class_id not in mine):
        abort(403)
    return class_id or mine[0]


@bp.get("/office/<school_id>/reports")
@allow(*VIEWERS)
def reports_page(school_id: str) -> Any:
    with state(current_app).engine.connect() as conn:
        try:
            month = _month(conn, school_id, request.args)
            error = ""
        except ReportError as exc:
            month, error = school_today(conn, school_id).replace(day=1), sentence(str(exc))
        classes = _classes(conn, school_id)
        if not _manager(school_id):
            mine = set(classes_of(account().grants, school_id))
            classes = [c for c in classes if c.id in mine]
        manager = _manager(school_id)
        registers = []  # (kind, title, class id, class name, last export)
        for k in KINDS:
            if getattr(kind_module(k), "CLASS_REQUIRED", False):
                registers += [(k, title_of(k), c.id, c.name, last_export(conn, school_id, k, month, c.id))
                              for c in classes]
            elif manager:
                registers.append((k, title_of(k), None, "", last_export(conn, school_id, k, month, None)))
        tz = zone(conn.execute(select(School.timezone).where(School.id == school_id)).scalar_one())
        loop = district_pages.school_loop(conn, school_id, month) if manager else []
        returned = district.returned(conn, school_id) if manager else []
    return render_template("reports.html", school_id=school_id, month=month, month_key=month_key(month),
                           month_title=month_title(month), registers=registers, manager=manager, tz=tz,
                           error=error, district_loop=loop, returned=returned), 400 if error else 200


@bp.get("/office/<school_id>/reports/<kind>")
@allow(*VIEWERS)
def report_page(school_id: str, kind: str) -> Any:
    try:
        module = kind_module(kind)
    except ReportError:
        abort(404)
    if hasattr(module, "default_month"):  # the request, the lists, the schedule: a page of their own
        if not _manager(school_id):
            abort(403)
        from server.web import request_pages

        return request_pages.own_page(school_id, kind)
    try:
        with state(current_app).engine.connect() as conn:
            month = _month(conn, school_id, request.args)
            class_id = _scope(conn, school_id, kind, request.args.get("class") or None)
            module, data = build(conn, school_id, kind, month, class_id)
            since = since_last(conn, school_id, kind, month, class_id, data)
            tz = zone(conn.execute(select(School.timezone).where(School.id == school_id)).scalar_one())
            classes = _classes(conn, school_id) if _manager(school_id) else [
                c for c in _classes(conn, school_id) if c.id in classes_of(account().grants, school_id)]
    except ReportError as exc:  # rendered with the connection closed (SQLite: one writer at a time)
        return render_template("error.html", code=400, title="Отчёт не составлен", text=sentence(str(exc))), 400
    grid = module.grid(data) if hasattr(module, "grid") else None
    if request.args.get("print") and hasattr(module, "to_html"):
        return Response(module.to_html(data), mimetype="text/html")
    return render_template("report.html", school_id=school_id, kind=kind, title=title_of(kind), month=month,
                           month_key=month_key(month), month_title=month_title(month), class_id=class_id,
                           classes=classes, grid=grid, data=data, since=since.summary(tz) if since else "",
                           downloads=DOWNLOADS, pdf=hasattr(module, "to_html"),
                           class_required=getattr(module, "CLASS_REQUIRED", False))


@bp.get("/office/<school_id>/reports/<kind>/export")
@allow(*VIEWERS)
def report_export(school_id: str, kind: str) -> Any:
    form = request.args.get("format", "xlsx")
    try:
        with state(current_app).engine.begin() as conn:
            kind_module(kind)
            if form not in DOWNLOADS:
                raise ReportError(f"формат выгрузки: {', '.join(DOWNLOADS)}")
            month = _month(conn, school_id, request.args)
            class_id = _scope(conn, school_id, kind, request.args.get("class") or None)
            done = export(conn, account().login, school_id, kind, month, class_id, form)
    except ReportError as exc:
        return render_template("error.html", code=400, title="Выгрузка не сделана", text=sentence(str(exc))), 400
    return Response(done.data, mimetype=done.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{done.filename}"'})


# --- «Сухой паёк» ---------------------------------------------------------------------------------------

def _parcels_page(school_id: str, source: MultiDict[str, str], *, message: str = "", error: str = "",
                  status: int = 200) -> Any:
    with state(current_app).engine.connect() as conn:
        try:
            month = _month(conn, school_id, source)
        except ReportError as exc:
            month, error, status = school_today(conn, school_id).replace(day=1), sentence(str(exc)), 400
        entries = parcels.month_entries(conn, school_id, month)
        students = list(conn.execute(select(Student.id, Student.full_name, Student.class_id).where(
            Student.school_id == school_id, Student.active.is_(True)).order_by(Student.full_name)))
    return render_template("parcels.html", school_id=school_id, month=month, month_key=month_key(month),
                           month_title=month_title(month), entries=entries, students=students,
                           kinds=PARCEL_KINDS, form=source, message=message, error=error), status


@bp.get("/office/<school_id>/parcels")
@allow(*MANAGERS)
def parcels_page(school_id: str) -> Any:
    return _parcels_page(school_id, request.args)


@bp.post("/office/<school_id>/parcels")
@allow(*MANAGERS)
def parcels_issue(school_id: str) -> Any:
    f = request.form
    try:
        start = parse_day(f.get("start", ""))
        end = parse_day(f.get("end", "")) if f.get("end", "").strip() else start
        with state(current_app).engine.begin() as conn:
            done = parcels.issue(conn, account().login, school_id, f.get("student_id", "").strip()[:64], start, end,
                                 f.get("kind", ""), category=f.get("category", "").strip()[:64] or None,
                                 amount=f.get("amount", "").strip()[:40] or None,
                                 budget_line=f.get("budget_line", "").strip()[:64] or None, note=f.get("note", ""))
    except OfficeError as exc:
        return _parcels_page(school_id, f, error=sentence(str(exc)), status=422)
    return _parcels_page(school_id, MultiDict({"month": month_key(start)}), message=done.message)


@bp.post("/office/<school_id>/parcels/remove")
@allow(*MANAGERS)
def parcels_remove(school_id: str) -> Any:
    text = request.form.get("parcel_id", "")
    try:
        if not text.isdigit():
            raise OfficeError("не выбрана запись")
        with state(current_app).engine.begin() as conn:
            parcels.remove(conn, account().login, school_id, int(text))
    except (OfficeError, NotFound) as exc:
        return _parcels_page(school_id, request.form, error=sentence(str(exc)), status=422)
    return redirect(url_for("office.parcels_page", school_id=school_id, month=request.form.get("month", "")[:7]))


nav_item("Отчёты", "office.reports_page", *VIEWERS)
nav_item("Сухой паёк", "office.parcels_page", *MANAGERS)
