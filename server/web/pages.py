"""The office's first pages: sign-in and sign-out, the home redirect, today's dashboard, a class page."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from server import accounts
from server.app import state
from server.models import SchoolClass, Student
from server.office import today as today_service
from server.office import users
from server.office.roles import Role, classes_of, districts_of, permits, schools_of
from server.web.auth import OfficeUser, account, allow, public
from server.web.blueprint import bp
from server.web.dashboard import extras
from server.web.filters import nav_item

SCHOOL_VIEWERS = (Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.CANTEEN)


def _engine() -> Any:
    return state(current_app).engine


def _home_url(me: users.Account) -> str:
    """The first page of a user: today's dashboard, or a teacher's first class, or a page saying there is none."""
    for school_id in schools_of(me.grants):
        if permits(me.grants, SCHOOL_VIEWERS, school_id=school_id):
            return url_for("office.today", school_id=school_id)
        for class_id in classes_of(me.grants, school_id):
            return url_for("office.class_page", school_id=school_id, class_id=class_id)
    if any(g.role is Role.PARENT for g in me.grants):
        return url_for("office.parent_home")
    for district_id in districts_of(me.grants):
        return url_for("office.district_day", district_id=district_id)
    return url_for("office.no_pages")


@bp.get("/")
@public
def root() -> Any:
    return redirect(_home_url(account()) if current_user.is_authenticated else url_for("office.login"))


@bp.route("/office/login", methods=["GET", "POST"])
@public
def login() -> Any:
    error = ""
    login_name = request.form.get("login", "")[:64]
    if request.method == "POST":
        config = state(current_app).config
        limits = accounts.LoginLimits(per_login=config.login_max_failures, per_ip=config.login_ip_max_failures,
                                      window=timedelta(minutes=config.login_window_min))
        try:
            with _engine().begin() as conn:
                me = users.sign_in(conn, login_name, request.form.get("password", ""), request.remote_addr or "",
                                   limits)
        except users.Throttled as exc:
            minutes = max(1, math.ceil(exc.wait.total_seconds() / 60))
            error = f"Слишком много неудачных попыток входа. Повторите через {minutes} мин."
        else:
            if me is None:
                error = "Неверный логин или пароль."
            else:
                return _signed_in(me)
    return render_template("login.html", error=error, login=login_name), 200 if not error else 401


def _signed_in(me: users.Account) -> Any:
    session.clear()  # a fresh session for the new user (no fixation)
    login_user(OfficeUser(me))
    session.permanent = True
    target = request.args.get("next", "")
    parts = urlsplit(target)
    if target.startswith("/office/") and not parts.scheme and not parts.netloc:
        return redirect(target)
    return redirect(_home_url(me))


@bp.post("/office/logout")
@allow(scope="user")
def logout() -> Any:
    logout_user()
    session.clear()
    flash("Вы вышли из офиса.", "info")
    return redirect(url_for("office.login"))


@bp.get("/office/none")
@allow(scope="user")
def no_pages() -> Any:
    return render_template("no_pages.html")


@bp.get("/office/<school_id>/today")
@allow(*SCHOOL_VIEWERS)
def today(school_id: str) -> Any:
    return render_template("today.html", **_today(school_id, None), **extras(school_id))


@bp.get("/office/<school_id>/today/table")
@allow(*SCHOOL_VIEWERS, passive=True)
def today_table(school_id: str) -> Any:
    return render_template("today_table.html", **_today(school_id, None))


def _today(school_id: str, class_ids: list[str] | None) -> dict[str, Any]:
    with _engine().connect() as conn:
        now = today_service.school_now(conn, school_id)
        breaks = today_service.today(conn, school_id, now.date(), class_ids=class_ids)
    return {"day": now.date(), "now": now, "breaks": breaks, "school_id": school_id}


@bp.get("/office/<school_id>/classes/<class_id>")
@allow(Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER, scope="class")
def class_page(school_id: str, class_id: str) -> Any:
    with _engine().connect() as conn:
        cls = conn.execute(select(SchoolClass.id, SchoolClass.name).where(
            SchoolClass.school_id == school_id, SchoolClass.id == class_id)).first()
        if cls is None:
            return render_template("error.html", code=404, title="Класс не найден",
                                   text="В этой школе нет такого класса."), 404
        students = conn.execute(select(Student.id, Student.full_name, Student.birth_date).where(
            Student.school_id == school_id, Student.class_id == class_id, Student.active.is_(True))
            .order_by(Student.full_name)).all()
    return render_template("class.html", cls=cls, students=students, **_today(school_id, [class_id]))


nav_item("Сегодня", "office.today", *SCHOOL_VIEWERS)
