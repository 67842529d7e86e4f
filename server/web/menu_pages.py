"""«Меню»: the days' menus for the coordinator and the canteen (view, edit, the kitchen's file), and the
public pages parents open without signing in: the menu of today and the next days, and the `food/`
folder of the federal monitoring. The rules are `server.office.menu`, `menu_import` and `menu_file`."""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import Engine, select

from pos.domain import AGE_GROUP_TITLES, MEAL_TITLES, Meal
from server.app import state
from server.models import School
from server.office import imports, menu, menu_file, menu_import
from server.office.changes import NotFound, OfficeError
from server.office.changes import today as school_today
from server.office.dates import in_range
from server.office.roles import Role
from server.rows import school_year
from server.web.auth import account, allow, public
from server.web.blueprint import bp
from server.web.filters import nav_item

EDITORS = (Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.CANTEEN)
AHEAD_DAYS = 14  # the office list and the public page look this far ahead
PUBLIC_DAYS = 5  # menus shown on the public page at once
MAX_FORM_ROWS = 400
FIELDS = ("age_group", "meal", "section", "recipe", "name", "yield_c", "price_kopecks", "energy_c", "proteins_c",
          "fats_c", "carbs_c", "allergens")
_ROW_ID = re.compile(r"[a-z0-9]{1,16}")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _engine() -> Engine:
    return state(current_app).engine


def _day(text: str) -> date:
    """A day in a URL (yyyy-mm-dd); anything else is a Russian 404 page, never a 500."""
    try:
        day = date.fromisoformat(text) if len(text) == 10 else abort(404)
    except ValueError:
        abort(404)
    return day if in_range(day) else abort(404)


def _known_school(school_id: str) -> tuple[str, str]:
    """(name, time zone) of a school named in a public URL; a 404 page for any other text."""
    if len(school_id) > 64 or "\x00" in school_id:
        abort(404)
    with _engine().connect() as conn:
        found = conn.execute(select(School.name, School.timezone).where(School.id == school_id)).first()
    if found is None:
        abort(404)
    return found[0], found[1]


def hundredths(value: int) -> str:
    """4,71 · 200 · 4,7: an exact figure as Russian menus write it."""
    whole, part = divmod(value, 100)
    return str(whole) if part == 0 else f"{whole},{part:02d}".rstrip("0")


def rubles(kopecks: int) -> str:
    return f"{kopecks // 100},{kopecks % 100:02d}"


def grouped(dishes: list[menu.DishRow]) -> list[tuple[str, str, list[tuple[str, list[menu.DishRow]]]]]:
    """(age group, its title, [(meal title, dishes)]) in the menu's order, groups and meals with dishes only."""
    out = []
    for group in menu.AGE_GROUPS:
        meals = [(MEAL_TITLES[m].capitalize(), [d for d in dishes if d.age_group == group and d.meal == m.value])
                 for m in menu.MENU_MEALS]
        meals = [(t, ds) for t, ds in meals if ds]
        if meals:
            out.append((group, AGE_GROUP_TITLES[group], meals))
    return out


@bp.app_template_filter("hundredths")
def hundredths_filter(value: int) -> str:
    return hundredths(int(value))


# ---- the office ----

@bp.get("/office/<school_id>/menu")
@allow(*EDITORS)
def menu_page(school_id: str) -> Any:
    with _engine().connect() as conn:
        today = school_today(conn, school_id)
        wanted = request.args.get("day", "")[:20]
        if wanted:
            try:
                return redirect(url_for("office.menu_day", school_id=school_id, day=date.fromisoformat(wanted)))
            except ValueError:
                flash("Неверная дата: выберите день в календаре.", "error")
        _start, end = school_year(today)
        counts = menu.menu_days(conn, school_id, today, end.replace(year=end.year + 1))
        days = [today + timedelta(days=i) for i in range(AHEAD_DAYS)]
        later = [d for d in counts if d not in days]
    return render_template("menu.html", today=today, days=days, later=later, counts=counts)


@bp.get("/office/<school_id>/menu/<day>")
@allow(*EDITORS)
def menu_day(school_id: str, day: str) -> Any:
    when = _day(day)
    with _engine().connect() as conn:
        today = school_today(conn, school_id)
        dishes = menu.day_menu(conn, school_id, when)
    return render_template("menu_day.html", day=when, groups=grouped(dishes), sums=menu.sums(dishes),
                           editable=menu.not_past_and_this_or_next_year(when, today) is None,
                           file_name=menu_file.file_name(when), timedelta_day=timedelta(days=1))


def _form_rows() -> list[dict[str, str]]:
    """The edit form's rows as typed (blank and deleted rows left out), each with its id."""
    rows = []
    for row_id in request.form.getlist("row")[:MAX_FORM_ROWS]:
        if not _ROW_ID.fullmatch(row_id) or request.form.get(f"delete-{row_id}"):
            continue
        values = {k: request.form.get(f"{k}-{row_id}", "")[:400] for k in FIELDS}
        if any(values[k].strip() for k in FIELDS if k not in ("age_group", "meal")):
            rows.append({"id": row_id, **values})
    return rows


def _edit(day: date, rows: list[dict[str, str]], errors: list[str], status: int = 200) -> Any:
    blanks = [{"id": secrets.token_hex(4), "age_group": rows[-1]["age_group"] if rows else menu.AGE_GROUPS[0],
               "meal": rows[-1]["meal"] if rows else Meal.BREAKFAST.value} for _ in range(3)]
    return render_template("menu_edit.html", day=day, rows=[*rows, *blanks], errors=errors,
                           meals=[(m.value, MEAL_TITLES[m]) for m in menu.MENU_MEALS],
                           ages=AGE_GROUP_TITLES), status


def _as_form(d: menu.DishRow) -> dict[str, str]:
    return {"id": secrets.token_hex(4), "age_group": d.age_group, "meal": d.meal, "section": d.section,
            "recipe": d.recipe, "name": d.name, "yield_c": hundredths(d.yield_c),
            "price_kopecks": rubles(d.price_kopecks), "energy_c": hundredths(d.energy_c),
            "proteins_c": hundredths(d.proteins_c), "fats_c": hundredths(d.fats_c),
            "carbs_c": hundredths(d.carbs_c), "allergens": d.allergens}


@bp.route("/office/<school_id>/menu/<day>/edit", methods=["GET", "POST"])
@allow(*EDITORS)
def menu_edit(school_id: str, day: str) -> Any:
    when = _day(day)
    if request.method == "GET":
        with _engine().connect() as conn:
            today = school_today(conn, school_id)
            problem = menu.not_past_and_this_or_next_year(when, today)
            rows = [_as_form(d) for d in menu.day_menu(conn, school_id, when)]
        return _edit(when, rows, [problem] if problem else [])
    rows = _form_rows()
    try:
        with _engine().begin() as conn:
            dishes, errors = menu.parse_dishes(enumerate(rows, 1), school_today(conn, school_id))
            if errors:
                raise menu.MenuError(errors)
            menu.replace_day(conn, account().login, school_id, when, dishes)
    except menu.MenuError as exc:
        return _edit(when, rows, exc.errors, 422)
    except OfficeError as exc:
        return _edit(when, rows, [str(exc)], 422)
    flash(f"Меню на {when:%d.%m.%Y} сохранено: блюд {len(dishes)}.", "info")
    return redirect(url_for("office.menu_day", school_id=school_id, day=when.isoformat()))


@bp.get("/office/<school_id>/menu/row")
@allow(*EDITORS)
def menu_row(school_id: str) -> Any:
    """One more empty row of the edit form (htmx)."""
    age = request.args.get("age_group", "")
    meal = request.args.get("meal", "")
    row = {"id": secrets.token_hex(4), "age_group": age if age in AGE_GROUP_TITLES else menu.AGE_GROUPS[0],
           "meal": meal if meal in {m.value for m in menu.MENU_MEALS} else Meal.BREAKFAST.value}
    return render_template("menu_row.html", row=row, meals=[(m.value, MEAL_TITLES[m]) for m in menu.MENU_MEALS],
                           ages=AGE_GROUP_TITLES)


def _import_form(errors: list[str], status: int = 200) -> Any:
    return render_template("menu_import.html", errors=errors, ages=AGE_GROUP_TITLES,
                           age=request.form.get("age", "")), status


def _age_choice() -> str | None:
    age = request.form.get("age", "")
    return age if age in AGE_GROUP_TITLES else None


@bp.get("/office/<school_id>/menu/import")
@allow(*EDITORS)
def menu_import_page(school_id: str) -> Any:
    return _import_form([])


@bp.post("/office/<school_id>/menu/import/preview")
@allow(*EDITORS)
def menu_import_preview(school_id: str) -> Any:
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise menu_import.MenuFileError("выберите файл меню")
        data = upload.read()
        if not data:
            raise menu_import.MenuFileError("файл пуст")
        with _engine().connect() as conn:
            today = school_today(conn, school_id)
        parsed = menu_import.parse(data, upload.filename, today=today, default_age=_age_choice())
    except menu_import.MenuFileError as exc:
        return _import_form([str(exc)], 422)
    token = imports.store(data, upload.filename, school_id, account().login) if parsed.ok else ""
    return render_template("menu_import_preview.html", parsed=parsed, token=token, age=_age_choice() or "",
                           summary=menu_import.describe(parsed)), 200 if parsed.ok else 422


@bp.post("/office/<school_id>/menu/import/confirm")
@allow(*EDITORS)
def menu_import_confirm(school_id: str) -> Any:
    login = account().login
    token = request.form.get("token", "")[:100]
    try:
        data, filename = imports.load(token, school_id, login)
        with _engine().begin() as conn:
            today = school_today(conn, school_id)
            parsed = menu_import.parse(data, filename, today=today, default_age=_age_choice())
            if not parsed.ok:
                raise menu.MenuError(parsed.errors or ["в файле нет ни одного блюда"])
            menu.replace_days(conn, login, school_id, parsed.days, today=today)
    except (imports.PreviewError, menu_import.MenuFileError) as exc:
        return _import_form([str(exc)], 422)
    except menu.MenuError as exc:
        return _import_form(["Ничего не загружено.", *exc.errors[:200]], 422)
    imports.discard(token)
    flash(f"Меню загружено: {menu_import.describe(parsed)}.", "info")
    return redirect(url_for("office.menu_page", school_id=school_id))


# ---- public: parents and the monitoring, no sign-in ----

@bp.get("/menu/<school_id>")
@public
def public_menu(school_id: str) -> Any:
    name, _tz = _known_school(school_id)
    with _engine().connect() as conn:
        today = school_today(conn, school_id)
        days = list(menu.menu_days(conn, school_id, today, today + timedelta(days=AHEAD_DAYS)))[:PUBLIC_DAYS]
        shown = [(d, grouped(menu.day_menu(conn, school_id, d))) for d in days]
    return render_template("menu_public.html", name=name, school_id=school_id, shown=shown, today=today,
                           day=None)


@bp.get("/menu/<school_id>/<day>")
@public
def public_menu_day(school_id: str, day: str) -> Any:
    name, _tz = _known_school(school_id)
    when = _day(day)
    with _engine().connect() as conn:
        today = school_today(conn, school_id)
        shown = [(when, grouped(menu.day_menu(conn, school_id, when)))]
    return render_template("menu_public.html", name=name, school_id=school_id, shown=shown, today=today, day=when)


@bp.get("/menu/<school_id>/food/")
@public
def food_index(school_id: str) -> Any:
    name, _tz = _known_school(school_id)
    with _engine().connect() as conn:
        start, end = school_year(school_today(conn, school_id))
        days = list(menu.menu_days(conn, school_id, start, end.replace(year=end.year + 1)))
    return render_template("menu_food.html", name=name, school_id=school_id,
                           files=[menu_file.file_name(d) for d in days])


@bp.get("/menu/<school_id>/food/<name>")
@public
def food_download(school_id: str, name: str) -> Any:
    _known_school(school_id)
    day = menu_file.day_of(name)
    if day is None:
        abort(404)
    with _engine().connect() as conn:
        try:
            data = menu_file.food_file(conn, school_id, day)
        except NotFound:
            abort(404)
    if data is None:
        abort(404)
    return Response(data, mimetype=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


# «Меню» after «Сверка» (filters.MENU_ORDER places it).
nav_item("Меню", "office.menu_page", *EDITORS)
