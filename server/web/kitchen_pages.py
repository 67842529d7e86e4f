"""«Пищеблок»: the kitchen's order for a day (`server.office.kitchen`) — the order frozen at the deadline,
the amendments after it, the counts of now when they differ; the coordinator's «Отправить на пищеблок»;
a printable page and the XLSX/CSV downloads. The canteen sees and downloads; the coordinator and the
administrator also send."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, current_app, render_template, request
from werkzeug.datastructures import MultiDict

from server.app import state
from server.office import kitchen
from server.office.changes import NotFound, OfficeError
from server.office.dates import parse_day
from server.office.roles import Role, permits
from server.web.auth import account, allow
from server.web.blueprint import bp
from server.web.clock import now
from server.web.filters import nav_item, sentence

VIEWERS = (Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.CANTEEN)
SENDERS = (Role.SCHOOL_ADMIN, Role.COORDINATOR)
DOWNLOADS = ("xlsx", "csv")



def _day(conn: Any, school_id: str, source: MultiDict[str, str]) -> date:
    text = source.get("date", "").strip()
    return parse_day(text) if text else kitchen.next_school_day(conn, school_id, now())


def _page(school_id: str, source: MultiDict[str, str], *, message: str = "", error: str = "",
          status: int = 200) -> Any:
    with state(current_app).engine.connect() as conn:
        try:
            day = _day(conn, school_id, source)
        except OfficeError as exc:
            return render_template("kitchen.html", order=None, error=sentence(str(exc)), school_id=school_id,
                                   asked=source.get("date", "")[:40], may_send=False), 400
        try:
            order = kitchen.kitchen_order(conn, school_id, day, now())
        except NotFound:
            abort(404)
    template = "kitchen_print.html" if source.get("print") else "kitchen.html"
    may_send = permits(account().grants, SENDERS, school_id=school_id)
    return render_template(template, order=order, school_id=school_id, asked=day.isoformat(), error=error,
                           message=message, may_send=may_send,
                           header=kitchen.header_lines(order)), status


@bp.get("/office/<school_id>/kitchen")
@allow(*VIEWERS)
def kitchen_page(school_id: str) -> Any:
    return _page(school_id, request.args)


@bp.post("/office/<school_id>/kitchen/send")
@allow(*SENDERS)
def kitchen_send(school_id: str) -> Any:
    try:
        with state(current_app).engine.begin() as conn:
            day = _day(conn, school_id, request.form)
            sending, new = kitchen.send(conn, account().login, school_id, day, now())
    except OfficeError as exc:
        return _page(school_id, request.form, error=sentence(str(exc)), status=422)
    return _page(school_id, MultiDict({"date": day.isoformat()}), message=kitchen.sent_message(day, sending, new))


@bp.get("/office/<school_id>/kitchen/export")
@allow(*VIEWERS)
def kitchen_export(school_id: str) -> Any:
    form = request.args.get("format", "xlsx")
    try:
        if form not in DOWNLOADS:
            raise OfficeError(f"формат выгрузки: {' или '.join(DOWNLOADS)}")
        with state(current_app).engine.connect() as conn:
            order = kitchen.kitchen_order(conn, school_id, _day(conn, school_id, request.args), now())
    except OfficeError as exc:
        return render_template("error.html", code=400, title="Выгрузка не сделана", text=sentence(str(exc))), 400
    headers = {"Content-Disposition": f'attachment; filename="{kitchen.file_name(order, form)}"'}
    if form == "csv":
        return Response(kitchen.to_csv(order).encode("utf-8"), mimetype="text/csv; charset=utf-8", headers=headers)
    return Response(kitchen.to_xlsx(order), mimetype=kitchen.XLSX_TYPE, headers=headers)


nav_item("Пищеблок", "office.kitchen_page", *VIEWERS)
