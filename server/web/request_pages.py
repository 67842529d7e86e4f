"""«Отчёты» of the request's kinds — next month's request, the lists per category, the canteen schedule —
as a page with the month, the print view and the downloads (XLSX, PDF, CSV, JSON): one view dispatching
on `server.reports.KINDS`; each kind's module builds the data, parses its own arguments and makes every
format, with a `format` argument for the print view and the downloads. The coordinator and the school's
administrator see them; the route is «Отчёты»'s (`server.web.report_pages`), which hands these kinds here."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, current_app, render_template, request

from server.app import state
from server.office.changes import NotFound, OfficeError
from server.office.roles import Role
from server.reports import KINDS
from server.reports.request import XLSX_TYPE, parse_month
from server.web.filters import sentence

VIEWERS = (Role.SCHOOL_ADMIN, Role.COORDINATOR)
MINE = ("request", "lists", "schedule")  # the other kinds' pages are the tabel helper's (merged by the lead)
TYPES = {"xlsx": XLSX_TYPE, "pdf": "application/pdf", "csv": "text/csv; charset=utf-8",
         "json": "application/json; charset=utf-8"}
PAGES = {  # kind -> (title, body template, extra query arguments (name, label))
    "request": ("Заявка на следующий месяц", "report_request_body.html", ()),
    "lists": ("Списки по категориям", "report_lists_body.html", (("day", "На дату"),)),
    "schedule": ("График питания", "report_schedule_body.html", (("seats", "Посадочных мест"),)),
}


class _BadInput(Exception):
    """A query argument that is not understood (400), unlike the school's state (said on the page)."""



def own_page(school_id: str, kind: str) -> Any:
    """The page of one of these kinds (`server.web.report_pages.report_page` hands them over after its
    access check: the coordinator and the administrator)."""
    if kind not in MINE or kind not in KINDS:
        abort(404)
    module = KINDS[kind]
    title, body, extra = PAGES[kind]
    args = request.args
    form = args.get("format", "")[:10]
    asked = {k: args.get(k, "")[:40] for k in ("month", "class", *(name for name, _l in extra)) if args.get(k)}
    page = {"title": title, "kind": kind, "school_id": school_id, "body": body, "month": asked.get("month", ""),
            "extra": [(name, label, asked.get(name, "")) for name, label in extra], "query": asked}

    def failed(text: str, status: int) -> Any:
        if form and form != "print":
            return render_template("error.html", code=status, title="Выгрузка не сделана",
                                   text=sentence(text)), status
        return render_template("report_request_page.html", data=None, error=sentence(text), **page), status

    if form and form not in (*TYPES, "print"):
        return failed(f"формат: {', '.join(TYPES)} или print, а не «{form}»", 400)
    try:
        with state(current_app).engine.connect() as conn:  # closed before rendering: the layout reads too
            try:
                month = parse_month(asked["month"]) if "month" in asked else module.default_month(conn, school_id)
                options = module.options(args)
            except OfficeError as exc:
                raise _BadInput(str(exc)) from None
            data = module.build(conn, school_id, month, class_id=asked.get("class"), **options)
    except NotFound:
        abort(404)
    except _BadInput as exc:
        return failed(str(exc), 400)
    except OfficeError as exc:  # the school's state (no policy for the year, an unknown class): said on the page
        return failed(str(exc), 422 if form else 200)
    page["month"] = f"{month:%Y-%m}"
    if form == "print":
        return module.to_html(data)
    if form:
        maker = {"xlsx": module.to_xlsx, "pdf": module.to_pdf, "csv": module.to_csv,
                 "json": lambda d: json.dumps(module.to_json(d), ensure_ascii=False, indent=1)}[form]
        content = maker(data)
        headers = {"Content-Disposition": f'attachment; filename="{module.file_name(data, form)}"'}
        return Response(content.encode("utf-8") if isinstance(content, str) else content, mimetype=TYPES[form],
                        headers=headers)
    context = {"summary": module.summary(data)} if hasattr(module, "summary") else {}
    return render_template("report_request_page.html", data=data, error="", **page, **context)
