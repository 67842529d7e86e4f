"""«Платежи»: the payment registers a school receives from banks, uploaded, previewed row by row, applied;
the registers imported (with their saved reports) and the open conflicts, assigned to a student by hand or
dismissed with a reason. The rules are `server.office.payments`; these views parse forms and render."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import Engine, select

from pos.money import format_rub
from server.app import state
from server.models import School
from server.office import imports, payments
from server.office.changes import NotFound, OfficeError
from server.office.roles import Role
from server.tabular import MAX_FILE_BYTES
from server.web.auth import account, allow
from server.web.blueprint import bp
from server.web.filters import nav_item, sentence

PAYERS = (Role.SCHOOL_ADMIN, Role.COORDINATOR)
FORMAT_CHOICES = [("auto", "определить по файлу"), *payments.FORMATS.items()]


def _engine() -> Engine:
    return state(current_app).engine


def _fmt() -> str:
    fmt = request.form.get("format", "auto")[:16]
    return fmt if fmt in payments.FORMATS else "auto"


def _page(school_id: str, errors: list[str] | None = None, status: int = 200) -> Any:
    report: Any = None
    report_rows: list[Any] = []
    wanted = request.args.get("import", "")[:20]
    with _engine().connect() as conn:
        if wanted:
            try:
                report, report_rows = payments.import_report(conn, school_id, wanted)
            except NotFound as exc:
                errors, status = [*(errors or []), sentence(str(exc))], 404
        listed = payments.imports_list(conn, school_id)
        timezone = conn.execute(select(School.timezone).where(School.id == school_id)).scalar() or "UTC"
        conflicts = payments.open_conflicts(conn, school_id)
    return render_template("payments.html", errors=errors or [], listed=listed, conflicts=conflicts,
                           report=report, report_rows=report_rows, formats=FORMAT_CHOICES,
                           kinds=payments.KINDS, statuses=payments.STATUSES, timezone=timezone), status


@bp.get("/office/<school_id>/payments")
@allow(*PAYERS)
def payments_page(school_id: str) -> Any:
    return _page(school_id)


@bp.post("/office/<school_id>/payments/preview")
@allow(*PAYERS)
def payments_preview(school_id: str) -> Any:
    login = account().login
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise OfficeError("выберите файл реестра платежей")
        data = upload.read(MAX_FILE_BYTES + 1)
        register = payments.parse(data, upload.filename, _fmt())
        token = imports.store(data, upload.filename, school_id, login)
        with _engine().connect() as conn:
            seen = payments.preview(conn, school_id, register)
    except (OfficeError, imports.PreviewError) as exc:
        return _page(school_id, [sentence(str(exc))], 422)
    return render_template("payments_preview.html", seen=seen, token=token, fmt=register.fmt,
                           kinds=payments.KINDS), 200


@bp.post("/office/<school_id>/payments/apply")
@allow(*PAYERS)
def payments_apply(school_id: str) -> Any:
    login = account().login
    token = request.form.get("token", "")[:100]
    try:
        data, filename = imports.load(token, school_id, login)
        with _engine().begin() as conn:
            seen, done = payments.apply(conn, login, school_id, data, filename, _fmt(),
                                        digest=request.form.get("digest", "")[:64])
    except (OfficeError, imports.PreviewError) as exc:
        return _page(school_id, [sentence(str(exc))], 422)
    if done is None:
        return render_template("payments_preview.html", seen=seen, token=token, fmt=seen.register.fmt,
                               kinds=payments.KINDS,
                               note="Данные изменились с момента проверки: посмотрите строки ещё раз."), 422
    imports.discard(token)
    return render_template("payments_result.html", seen=seen, done=done)


@bp.post("/office/<school_id>/payments/resolve")
@allow(*PAYERS)
def payments_resolve(school_id: str) -> Any:
    conflict = request.form.get("conflict", "")[:20]
    try:
        with _engine().begin() as conn:
            if request.form.get("action") == "assign":
                kopecks = payments.assign(conn, account().login, school_id, conflict,
                                          request.form.get("student", "")[:64])
                done = f"Платёж {format_rub(kopecks)} зачислен."
            elif request.form.get("action") == "dismiss":
                payments.dismiss(conn, account().login, school_id, conflict, request.form.get("reason", "")[:500])
                done = "Платёж отклонён, причина сохранена."
            else:
                raise OfficeError("выберите: зачислить ученику или отклонить")
    except OfficeError as exc:
        return _page(school_id, [sentence(str(exc))], 422)
    flash(done, "info")
    return redirect(url_for("office.payments_page", school_id=school_id) + "#conflicts", 303)


nav_item("Платежи", "office.payments_page", *PAYERS)
