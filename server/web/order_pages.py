"""Pages of orders: «Заявка» (the class teacher's order sheet for the next school days, with the deadline
and the lock), «Заявки» (the coordinator's overview of a day: who has submitted, who is overdue, late
amendments and the day's changes) and the standing weekly paid choice of a class. Every rule is
`server.office.orders`'s; the pages read the clock from `server.web.clock.now` (tests fix it)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from server.app import state
from server.calendar import load_calendar, school_clock
from server.office import orders
from server.office.changes import NotFound, OfficeError
from server.office.changes import today as school_today
from server.office.dates import parse_day
from server.office.roles import Role, classes_of, permits
from server.web import students  # noqa: F401  («Сегодня» and «Ученики» come first in the menu)
from server.web.auth import account, allow
from server.web.blueprint import bp
from server.web.clock import now as clock_now
from server.web.filters import nav_item, sentence

AMENDERS = (Role.SCHOOL_ADMIN, Role.COORDINATOR)
SHEET_ROLES = (Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER)
MAX_STUDENTS = 1000
WEEKDAYS_SHORT = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")


def _engine() -> Any:
    return state(current_app).engine



class BadForm(OfficeError):
    """A form or query value that is not what the page sends."""


def _clean(values: MultiDict[str, str]) -> None:
    if any("\x00" in v for v in values.values()):
        raise BadForm("в запросе есть знак NUL: уберите его и повторите")


def _day_arg(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return parse_day(text)
    except OfficeError as exc:
        raise BadForm(str(exc)) from None


def _may_amend(school_id: str) -> bool:
    return permits(account().grants, AMENDERS, school_id=school_id)


def _days(school_id: str, class_id: str | None) -> tuple[list[date], date]:
    """The days offered (today if a school day and the next school days) and the school's today."""
    with _engine().connect() as conn:
        tz, _deadline = school_clock(conn, school_id)
        today = orders.school_day_of(tz, clock_now())
        calendar = load_calendar(conn, school_id, today - timedelta(days=1), today + timedelta(days=60))
    return orders.order_days(calendar, today, class_id or ""), today


def _default_day(school_id: str, class_id: str, days: list[date], today: date) -> date:
    """The first offered day still open for the teacher, else the next school day."""
    with _engine().connect() as conn:
        for day in days:
            *_, deadline = orders.class_context(conn, school_id, class_id, day)
            if clock_now() < deadline:
                return day
    later = [d for d in days if d > today]
    return later[0] if later else (days[0] if days else today + timedelta(days=1))


@bp.get("/office/<school_id>/order")
@allow(Role.TEACHER)
def order_home(school_id: str) -> Any:
    """«Заявка»: a teacher of one class goes straight to its sheet; of several, picks one."""
    mine = classes_of(account().grants, school_id)
    if len(mine) == 1:
        return _sheet_page(school_id, mine[0], day=None)
    return render_template("order_classes.html", classes=mine, school_id=school_id)


def _choices(form: MultiDict[str, str]) -> dict[str, orders.Choice]:
    ids = form.getlist("student")
    if not ids:
        raise BadForm("в форме нет учеников: обновите страницу и заполните заявку снова")
    if len(ids) > MAX_STUDENTS or any(len(s) > 64 for s in ids):
        raise BadForm("форма заполнена не так: обновите страницу")
    return {sid: orders.Choice(frozenset(v[:20] for v in form.getlist(f"meal-{sid}")[:10]),
                               absent=bool(form.get(f"absent-{sid}"))) for sid in ids}


def _sheet_page(school_id: str, class_id: str, *, day: date | None, like_last: bool = False, error: str = "",
                choices: dict[str, orders.Choice] | None = None, status: int = 200) -> Any:
    days, today = _days(school_id, class_id)
    may_amend = _may_amend(school_id)
    sheet = None
    if day is None:
        try:
            day = _default_day(school_id, class_id, days, today)
        except NotFound:
            return render_template("error.html", code=404, title="Класс не найден",
                                   text="В этой школе нет такого класса."), 404
    try:
        with _engine().connect() as conn:
            sheet = orders.sheet(conn, school_id, class_id, day, now=clock_now(), like_last=like_last,
                                 choices=choices)
            history = orders.history(conn, school_id, day, class_id)
    except NotFound:
        return render_template("error.html", code=404, title="Класс не найден",
                               text="В этой школе нет такого класса."), 404
    except OfficeError as exc:
        error, status, history = error or sentence(str(exc)), 422, []
    return render_template("order.html", sheet=sheet, day=day, days=days, error=error, history=history,
                           may_amend=may_amend, school_id=school_id, class_id=class_id,
                           lock=orders.lock_message(day, sheet.deadline) if sheet else "",
                           reason=request.form.get("reason", "")[:orders.REASON_MAX] if request.form else "",
                           meal_titles=_meal_titles()), status


def _meal_titles() -> dict[str, str]:
    from pos.domain import Meal

    return {m.value: m.ru for m in Meal}


@bp.get("/office/<school_id>/classes/<class_id>/order")
@allow(*SHEET_ROLES, scope="class")
def class_order(school_id: str, class_id: str) -> Any:
    try:
        _clean(request.args)
        day = _day_arg(request.args.get("day", ""))
    except BadForm as exc:
        return render_template("error.html", code=400, title="Неверный запрос", text=sentence(str(exc))), 400
    return _sheet_page(school_id, class_id, day=day, like_last=request.args.get("like_last") == "1")


@bp.post("/office/<school_id>/classes/<class_id>/order")
@allow(*SHEET_ROLES, scope="class")
def class_order_submit(school_id: str, class_id: str) -> Any:
    try:
        _clean(request.form)
        day = _day_arg(request.form.get("day", ""))
        if day is None:
            raise BadForm("в форме нет дня заявки: обновите страницу")
    except BadForm as exc:
        return render_template("error.html", code=422, title="Неверный запрос", text=sentence(str(exc))), 422
    choices: dict[str, orders.Choice] | None = None
    try:
        choices = _choices(request.form)
        with _engine().begin() as conn:
            done = orders.submit(conn, account().login, school_id, class_id, day, choices, now=clock_now(),
                                 may_amend=_may_amend(school_id), reason=request.form.get("reason", "")[:2000])
    except NotFound:
        return render_template("error.html", code=404, title="Класс не найден",
                               text="В этой школе нет такого класса."), 404
    except OfficeError as exc:
        return _sheet_page(school_id, class_id, day=day, error=sentence(str(exc)), choices=choices, status=422)
    text = f"Заявка на {day:%d.%m.%Y} подана" if not done.late else f"Заявка на {day:%d.%m.%Y} изменена после срока"
    changes = done.added + done.removed + done.absent
    flash(f"{text}: изменений {changes}." + (" Изменения после отправки заявки на пищеблок отмечены."
                                              if done.after_sent else ""), "info")
    return redirect(url_for("office.class_order", school_id=school_id, class_id=class_id, day=day.isoformat()), 303)


@bp.get("/office/<school_id>/orders")
@allow(*AMENDERS)
def orders_overview(school_id: str) -> Any:
    try:
        _clean(request.args)
        wanted = _day_arg(request.args.get("day", ""))
    except BadForm as exc:
        return render_template("error.html", code=400, title="Неверный запрос", text=sentence(str(exc))), 400
    days, today = _days(school_id, None)
    later = [d for d in days if d > today]
    day = wanted or (later[0] if later else today)
    with _engine().connect() as conn:
        view = orders.overview(conn, school_id, day, now=clock_now())
        history = orders.history(conn, school_id, day)
    return render_template("orders.html", view=view, history=history, day=day, days=days, today=today,
                           school_id=school_id, meal_titles=_meal_titles())


@bp.route("/office/<school_id>/classes/<class_id>/standing", methods=["GET", "POST"])
@allow(*SHEET_ROLES, scope="class")
def class_standing(school_id: str, class_id: str) -> Any:
    """The standing weekly paid choice of the class's students (what paid meals a sheet starts from)."""
    error = ""
    if request.method == "POST":
        try:
            _clean(request.form)
            ids = request.form.getlist("student")
            if not ids or len(ids) > MAX_STUDENTS or any(len(s) > 64 for s in ids):
                raise BadForm("в форме нет учеников: обновите страницу")
            wanted: dict[str, set[tuple[int, str]]] = {}
            for sid in ids:
                items = set()
                for value in request.form.getlist(f"standing-{sid}")[:100]:
                    weekday, _, meal = value.partition(":")
                    if not weekday.isdigit() or len(weekday) > 1:
                        raise BadForm(f"неверная отметка «{value[:20]}»: обновите страницу")
                    items.add((int(weekday), meal[:20]))
                wanted[sid] = items
            with _engine().begin() as conn:
                changed = orders.set_standing(conn, account().login, school_id, class_id, wanted)
        except NotFound:
            return render_template("error.html", code=404, title="Класс не найден",
                                   text="В этой школе нет такого класса."), 404
        except OfficeError as exc:
            error = sentence(str(exc))
        else:
            flash(f"Постоянный выбор сохранён: изменён у {changed} уч.", "info")
            return redirect(url_for("office.class_standing", school_id=school_id, class_id=class_id), 303)
    try:
        with _engine().connect() as conn:
            sheet_students = orders.class_students(conn, school_id, class_id)
            today = school_today(conn, school_id)
            cls, calendar, _tz, _deadline = orders.class_context(conn, school_id, class_id, today)
            standing = orders.standing_of(conn, school_id, [s.id for s in sheet_students])
    except NotFound:
        return render_template("error.html", code=404, title="Класс не найден",
                               text="В этой школе нет такого класса."), 404
    weekdays = sorted(calendar.week_days)
    meals = ["breakfast", "lunch", "snack"]
    return render_template("order_standing.html", students=sheet_students, standing=standing, weekdays=weekdays,
                           weekday_titles=WEEKDAYS_SHORT, meals=meals, meal_titles=_meal_titles(), cls=cls,
                           error=error, school_id=school_id, class_id=class_id), 422 if error else 200


nav_item("Заявка", "office.order_home", Role.TEACHER)
nav_item("Заявки", "office.orders_overview", *AMENDERS)
