"""«Календарь»: the school's months (school days, weekends, holidays, vacations, days outside the year,
classes without lessons), the school year, week and order deadline, the holidays and class days off with
their remove buttons, the shifts and breaks (read only), and a file of non-school days with its preview.

The coordinator and the school administrator change everything; a class teacher sees the calendar and
adds or removes days off (an excursion) of their own class only. The rules are `server.office.calendar`;
these views parse forms and render."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import Engine

from server.app import state
from server.office import calendar as cal
from server.office import imports
from server.office.changes import OfficeError
from server.office.roles import Role, classes_of, permits
from server.office.today import school_now
from server.web import clock
from server.web.auth import account, allow
from server.web.blueprint import bp
from server.web.filters import nav_item, sentence

KEEPERS = (Role.SCHOOL_ADMIN, Role.COORDINATOR)  # keep the calendar
READERS = (*KEEPERS, Role.TEACHER)


def _engine() -> Engine:
    return state(current_app).engine


def _day(text: str | None, title: str) -> date:
    """A date typed in a form: ГГГГ-ММ-ДД (a date field) or ДД.ММ.ГГГГ."""
    raw = (text or "").strip()[:40]
    if not raw:
        raise OfficeError(f"{title}: укажите дату")
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            day = datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
        if 1900 <= day.year <= 2100:
            return day
    raise OfficeError(f"{title}: дата ДД.ММ.ГГГГ, а не «{raw}»")


def _period() -> tuple[date, date]:
    start = _day(request.form.get("start"), "с")
    end_text = request.form.get("end", "").strip()
    return start, _day(end_text, "по") if end_text else start


def _keeper(school_id: str) -> bool:
    return permits(account().grants, KEEPERS, school_id=school_id)


def _page(school_id: str, *, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    """The calendar page; `errors` by form (settings, holiday, day_off) keeps what was typed."""
    args = request.args
    with _engine().connect() as conn:
        today = school_now(conn, school_id, clock.now()).date()
        start, end = cal.default_period(conn, school_id, today)
        try:
            if args.get("from"):
                start = _day(args.get("from"), "с")
            if args.get("to"):
                end = _day(args.get("to"), "по")
            shown = cal.view(conn, school_id, start, end, today)
        except OfficeError as exc:
            flash(sentence(str(exc)), "error")
            start, end = cal.default_period(conn, school_id, today)
            shown = cal.view(conn, school_id, start, end, today)
    keeper = _keeper(school_id)
    own = set(classes_of(account().grants, school_id))
    classes = [(cid, name) for cid, name in shown.classes if keeper or cid in own]
    return render_template(
        "calendar.html", cal=shown, today=today, keeper=keeper, classes=classes, own=own,
        errors=errors or {}, form=request.form if errors else {}, states=cal.STATE_RU, weeks=cal.WEEKS,
        reason_max=cal.REASON_MAX), status


def _done(school_id: str, message: str) -> Any:
    flash(message, "info")
    return redirect(url_for("office.calendar_page", school_id=school_id), 303)



@bp.get("/office/<school_id>/calendar")
@allow(*READERS)
def calendar_page(school_id: str) -> Any:
    return _page(school_id)


@bp.post("/office/<school_id>/calendar/settings")
@allow(*KEEPERS)
def calendar_settings(school_id: str) -> Any:
    form = request.form
    try:
        first, last = form.get("year_starts", "").strip(), form.get("year_ends", "").strip()
        per_week = form.get("days_per_week", "")
        with _engine().begin() as conn:
            cal.set_settings(conn, account().login, school_id,
                             year_starts=_day(first, "первый день учебного года") if first or last else None,
                             year_ends=_day(last, "последний день учебного года") if first or last else None,
                             days_per_week=int(per_week) if per_week in ("5", "6") else None if not per_week else 0,
                             order_deadline=form.get("order_deadline", "").strip()[:20] or None)
    except OfficeError as exc:
        return _page(school_id, errors={"settings": sentence(str(exc))}, status=422)
    return _done(school_id, "Настройки календаря сохранены. Терминалы получат их при следующей синхронизации.")


@bp.post("/office/<school_id>/calendar/holidays/add")
@allow(*KEEPERS)
def calendar_holiday_add(school_id: str) -> Any:
    try:
        start, end = _period()
        with _engine().begin() as conn:
            count = cal.add_holidays(conn, account().login, school_id, start, end, request.form.get("reason", ""))
    except OfficeError as exc:
        return _page(school_id, errors={"holiday": sentence(str(exc))}, status=422)
    return _done(school_id, f"Добавлено нерабочих дней: {count} ({cal.period_text(start, end)}).")


@bp.post("/office/<school_id>/calendar/holidays/remove")
@allow(*KEEPERS)
def calendar_holiday_remove(school_id: str) -> Any:
    try:
        start, end = _period()
        with _engine().begin() as conn:
            count = cal.remove_holidays(conn, account().login, school_id, start, end)
    except OfficeError as exc:
        return _page(school_id, errors={"holidays": sentence(str(exc))}, status=422)
    return _done(school_id, f"Удалено дней: {count} ({cal.period_text(start, end)}); они снова учебные.")


def _own_class(school_id: str, conn: Any) -> str:
    """The class of the form; a class teacher may name only their own (403 otherwise)."""
    class_id = cal.class_of(conn, school_id, request.form.get("class_id", "")[:64])
    if not permits(account().grants, READERS, school_id=school_id, class_id=class_id):
        abort(403)
    return class_id


@bp.post("/office/<school_id>/calendar/days-off/add")
@allow(*READERS)
def calendar_day_off_add(school_id: str) -> Any:
    try:
        with _engine().begin() as conn:
            class_id = _own_class(school_id, conn)
            start, end = _period()
            count = cal.add_days_off(conn, account().login, school_id, class_id, start, end,
                                     request.form.get("reason", ""))
    except OfficeError as exc:
        return _page(school_id, errors={"day_off": sentence(str(exc))}, status=422)
    return _done(school_id, f"У класса нет занятий: дней {count} ({cal.period_text(start, end)}).")


@bp.post("/office/<school_id>/calendar/days-off/remove")
@allow(*READERS)
def calendar_day_off_remove(school_id: str) -> Any:
    try:
        with _engine().begin() as conn:
            class_id = _own_class(school_id, conn)
            start, end = _period()
            count = cal.remove_days_off(conn, account().login, school_id, class_id, start, end)
    except OfficeError as exc:
        return _page(school_id, errors={"days_off": sentence(str(exc))}, status=422)
    return _done(school_id, f"Дни без занятий отменены: {count}.")


# ---- a file of non-school days ----

def _import_page(school_id: str, errors: list[str], status: int = 200) -> Any:
    return render_template("calendar_import.html", errors=errors, columns=cal.COLUMNS), status


@bp.get("/office/<school_id>/calendar/import")
@allow(*KEEPERS)
def calendar_import(school_id: str) -> Any:
    return _import_page(school_id, [])


@bp.post("/office/<school_id>/calendar/import/preview")
@allow(*KEEPERS)
def calendar_import_preview(school_id: str) -> Any:
    login = account().login
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise imports.PreviewError("выберите файл с нерабочими днями")
        data, filename = upload.read(), upload.filename
        if not data:
            raise imports.PreviewError("файл пуст")
        with _engine().connect() as conn:
            seen = cal.preview_file(conn, school_id, data, filename)
        token = imports.store(data, filename, school_id, login) if seen.ok else ""
    except imports.PreviewError as exc:
        return _import_page(school_id, [sentence(str(exc))], 422)
    return render_template("calendar_import_preview.html", seen=seen, token=token), 200 if seen.ok else 422


@bp.post("/office/<school_id>/calendar/import/confirm")
@allow(*KEEPERS)
def calendar_import_confirm(school_id: str) -> Any:
    login = account().login
    token = request.form.get("token", "")[:100]
    try:
        data, filename = imports.load(token, school_id, login)
        with _engine().begin() as conn:
            seen = cal.import_file(conn, login, school_id, data, filename)
    except imports.PreviewError as exc:
        return _import_page(school_id, [sentence(str(exc))], 422)
    except OfficeError as exc:
        return _import_page(school_id, ["Ничего не загружено.", sentence(str(exc))], 422)
    imports.discard(token)
    return _done(school_id, f"Из файла «{seen.filename}» загружено строк: {len(seen.rows)}.")


nav_item("Календарь", "office.calendar_page", *READERS)
