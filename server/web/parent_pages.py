"""The parents' pages: «Вход для родителей» (sign in, or register with a letter's code), the children, and per
child the account, meals, the day's menu, paid orders, the daily limit and a lost card; and the office's
«Письма родителям» of a class (the letters with one-time codes, printed one per page).

Every child page is `allow(Role.PARENT, scope="student")`: only a parent whose grant names the child.
The rules are `server.parents`; the views parse forms and render.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import Engine

from server import accounts, parents
from server.app import state
from server.calendar import school_clock
from server.office.changes import NotFound, OfficeError
from server.office.dates import parse_day
from server.office.roles import Role, permits
from server.office.users import Account, Throttled, sign_in
from server.web import students
from server.web.auth import account, allow, public
from server.web.blueprint import bp
from server.web.clock import now as clock_now
from server.web.filters import sentence
from server.web.pages import _signed_in

students.CHECKED_MODULES.add(__name__)  # a NUL in the request is a Russian 400 here too
LETTER_WRITERS = (Role.SCHOOL_ADMIN, Role.COORDINATOR)


def _engine() -> Engine:
    engine: Engine = state(current_app).engine
    return engine


def _limits() -> accounts.LoginLimits:
    config = state(current_app).config
    return accounts.LoginLimits(per_login=config.login_max_failures, per_ip=config.login_ip_max_failures,
                                window=timedelta(minutes=config.login_window_min))


def _throttled(exc: Throttled) -> str:
    return f"Слишком много неудачных попыток. Повторите через {max(1, math.ceil(exc.wait.total_seconds() / 60))} мин."


def _today(conn: Any, school_id: str) -> date:
    """The school's today by the pages' clock (`server.web.clock`)."""
    tz, _deadline = school_clock(conn, school_id)
    return clock_now().astimezone(tz).date()


def _not_found(text: str) -> Any:
    return render_template("error.html", code=404, title="Не найдено", text=sentence(text)), 404


# -- sign in and register ----------------------------------------------------------------------------------


def _entry(error: str = "", register_error: str = "", status: int = 200) -> Any:
    return render_template("parent_login.html", error=error, register_error=register_error,
                           form=request.form, code_days=parents.CODE_DAYS), status


@bp.route("/parent/login", methods=["GET", "POST"])
@public
def parent_login() -> Any:
    if request.method == "GET":
        return _entry()
    try:
        with _engine().begin() as conn:
            me = sign_in(conn, request.form.get("login", "")[:64], request.form.get("password", ""),
                               request.remote_addr or "", _limits())
    except Throttled as exc:
        return _entry(error=_throttled(exc), status=429)
    if me is None:
        return _entry(error="Неверный e-mail или пароль.", status=401)
    return _signed_in(me)


@bp.route("/parent/register", methods=["GET", "POST"])
@public
def parent_register() -> Any:
    if request.method == "GET":
        return _entry()
    form = request.form
    try:
        me: Account = parents.with_code(_engine(), _limits(), lambda conn: parents.register(
            conn, form.get("code", ""), form.get("email", "")[:200], form.get("password", "")[:1000],
            form.get("password2", "")[:1000], request.remote_addr or "", _limits()))
    except Throttled as exc:
        return _entry(register_error=_throttled(exc), status=429)
    except OfficeError as exc:
        return _entry(register_error=sentence(str(exc)), status=422)
    response = _signed_in(me)  # a fresh session: the message goes into it
    flash("Кабинет создан, ребёнок добавлен.", "info")
    return response


# -- the children --------------------------------------------------------------------------------------------


def _home(error: str = "", status: int = 200) -> Any:
    with _engine().connect() as conn:
        kids = parents.children(conn, account().grants)
    return render_template("parent_home.html", children=kids, error=error), status


@bp.get("/parent")
@allow(scope="user")
def parent_home() -> Any:
    return _home()


@bp.post("/parent/link")
@allow(scope="user")
def parent_link() -> Any:
    try:
        name = parents.with_code(_engine(), _limits(), lambda conn: parents.link_child(
            conn, account(), request.form.get("code", ""), request.remote_addr or "", _limits()))
    except Throttled as exc:
        return _home(_throttled(exc), 429)
    except OfficeError as exc:
        return _home(sentence(str(exc)), 422)
    flash(f"Ребёнок добавлен: {name}.", "info")
    return redirect(url_for("office.parent_home"), 303)


def _child_page(school_id: str, student_id: str, error: dict[str, str] | None = None, status: int = 200) -> Any:
    try:
        with _engine().connect() as conn:
            kid = parents.child(conn, school_id, student_id, _today(conn, school_id))
    except NotFound as exc:
        return _not_found(str(exc))
    return render_template("parent_child.html", kid=kid, errors=error or {}, tab="child"), status


@bp.get("/parent/<school_id>/<student_id>")
@allow(Role.PARENT, scope="student")
def parent_child(school_id: str, student_id: str) -> Any:
    return _child_page(school_id, student_id)


@bp.get("/parent/<school_id>/<student_id>/menu")
@allow(Role.PARENT, scope="student")
def parent_menu(school_id: str, student_id: str) -> Any:
    try:
        with _engine().connect() as conn:
            today = _today(conn, school_id)
            text = request.args.get("day", "")[:20]
            day = parse_day(text) if text else today
            kid = parents.child(conn, school_id, student_id, today)
            dishes = parents.day_menu(conn, school_id, student_id, day)
    except NotFound as exc:
        return _not_found(str(exc))
    except (OfficeError, ValueError) as exc:
        return render_template("error.html", code=400, title="Неверная дата", text=sentence(str(exc))), 400
    return render_template("parent_menu.html", kid=kid, day=day, dishes=dishes, tab="menu",
                           prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1))


def _orders_page(school_id: str, student_id: str, error: str = "", status: int = 200) -> Any:
    try:
        with _engine().connect() as conn:
            kid = parents.child(conn, school_id, student_id, _today(conn, school_id))
            days = parents.order_days(conn, school_id, student_id, now=clock_now())
    except NotFound as exc:
        return _not_found(str(exc))
    except OfficeError as exc:  # e.g. the school's policy cannot price the child: say so, order nothing
        return render_template("error.html", code=422, title="Заказ недоступен", text=sentence(str(exc))), 422
    return render_template("parent_orders.html", kid=kid, days=days, error=error, tab="orders"), status


@bp.get("/parent/<school_id>/<student_id>/orders")
@allow(Role.PARENT, scope="student")
def parent_orders(school_id: str, student_id: str) -> Any:
    return _orders_page(school_id, student_id)


@bp.post("/parent/<school_id>/<student_id>/orders")
@allow(Role.PARENT, scope="student")
def parent_orders_save(school_id: str, student_id: str) -> Any:
    wanted: dict[date, set[str]] = {}
    try:
        for text in request.form.getlist("day")[:31]:
            day = date.fromisoformat(text[:10])
            wanted[day] = {m[:16] for m in request.form.getlist(f"meal-{day.isoformat()}")[:8]}
    except ValueError:
        return _orders_page(school_id, student_id, "Форма устарела: обновите страницу и повторите.", 422)
    try:
        with _engine().begin() as conn:
            changed = parents.save_orders(conn, account().login, school_id, student_id, wanted, now=clock_now())
    except NotFound as exc:
        return _not_found(str(exc))
    except OfficeError as exc:
        return _orders_page(school_id, student_id, sentence(str(exc)), 422)
    flash("Заказ сохранён." if changed else "Изменений нет.", "info")
    return redirect(url_for("office.parent_orders", school_id=school_id, student_id=student_id), 303)


def _child_change(school_id: str, student_id: str, form: str, done: str, action: Any) -> Any:
    try:
        with _engine().begin() as conn:
            action(conn)
    except NotFound as exc:
        return _not_found(str(exc))
    except OfficeError as exc:
        return _child_page(school_id, student_id, {form: sentence(str(exc))}, 422)
    flash(done, "info")
    return redirect(url_for("office.parent_child", school_id=school_id, student_id=student_id), 303)


@bp.post("/parent/<school_id>/<student_id>/limit")
@allow(Role.PARENT, scope="student")
def parent_limit(school_id: str, student_id: str) -> Any:
    text = request.form.get("limit", "")[:40]

    def act(conn: Any) -> None:
        parents.set_limit(conn, account().login, school_id, student_id, parents.parse_limit(text))

    return _child_change(school_id, student_id, "limit", "Дневной лимит сохранён: терминалы получат его при "
                         "ближайшей синхронизации.", act)


@bp.post("/parent/<school_id>/<student_id>/card")
@allow(Role.PARENT, scope="student")
def parent_card_block(school_id: str, student_id: str) -> Any:
    uid = request.form.get("card", "")[:100]
    return _child_change(school_id, student_id, "card", "Карта заблокирована: терминалы перестанут её принимать "
                         "после ближайшей синхронизации.",
                         lambda conn: parents.block_card(conn, account().login, school_id, student_id, uid))


# -- the office: letters to parents ----------------------------------------------------------------------------


@bp.app_context_processor
def letters_link() -> dict[str, Any]:
    """`may_print_letters(school_id)` for the «Ученики» page's links to the classes' letters."""
    def may_print_letters(school_id: str) -> bool:
        return bool(current_user.is_authenticated and permits(account().grants, LETTER_WRITERS, school_id=school_id))

    return {"may_print_letters": may_print_letters}


def _letters_page(school_id: str, class_id: str, error: str = "", status: int = 200) -> Any:
    try:
        with _engine().connect() as conn:
            data = parents.class_letters(conn, school_id, class_id)
    except NotFound as exc:
        return _not_found(str(exc))
    return render_template("parent_letters.html", **data, error=error, code_days=parents.CODE_DAYS), status


@bp.get("/office/<school_id>/classes/<class_id>/letters")
@allow(*LETTER_WRITERS, scope="class")
def parent_letters(school_id: str, class_id: str) -> Any:
    return _letters_page(school_id, class_id)


@bp.post("/office/<school_id>/classes/<class_id>/letters")
@allow(*LETTER_WRITERS, scope="class")
def parent_letters_print(school_id: str, class_id: str) -> Any:
    chosen = [s[:64] for s in request.form.getlist("student")[:100]]
    try:
        with _engine().begin() as conn:
            letters = parents.issue_letters(conn, account().login, school_id, class_id, chosen)
    except NotFound as exc:
        return _not_found(str(exc))
    except OfficeError as exc:
        return _letters_page(school_id, class_id, sentence(str(exc)), 422)
    return render_template("parent_letters_print.html", letters=letters,
                           address=url_for("office.parent_register", _external=True))
