"""Pages of users administration (school administrator) and of the one-time links people follow."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from server.app import state
from server.models import SchoolClass
from server.office import audit, users
from server.office.roles import SCHOOL_ROLES, Role
from server.web.auth import account, allow, public
from server.web.blueprint import bp
from server.web.filters import nav_item
from server.web.pages import _signed_in

ACTIONS = {"invite": "приглашение", "reset_password": "сброс пароля", "remove_access": "доступ снят",
           "set_password": "задан пароль"}
STATUS = {"active": "работает", "invite": "приглашение: ссылка не использована",
          "reset": "пароль сброшен: ссылка не использована",
          "expired": "ссылка истекла", "inactive": "доступ снят"}


def _engine() -> Any:
    return state(current_app).engine


def _classes(school_id: str) -> list[Any]:
    with _engine().connect() as conn:
        return list(conn.execute(select(SchoolClass.id, SchoolClass.name).where(SchoolClass.school_id == school_id)
                                 .order_by(SchoolClass.grade, SchoolClass.name)).all())


@bp.get("/office/<school_id>/users")
@allow(Role.SCHOOL_ADMIN)
def users_page(school_id: str) -> Any:
    with _engine().connect() as conn:
        rows = users.school_users(conn, school_id)
        changes = audit.changes(conn, school_id, entity="user", limit=20)
    names = {c.id: c.name for c in _classes(school_id)}
    return render_template("users.html", rows=rows, status=STATUS, actions=ACTIONS, class_names=names, changes=changes,
                           me_id=account().id)


@bp.route("/office/<school_id>/users/invite", methods=["GET", "POST"])
@allow(Role.SCHOOL_ADMIN)
def invite(school_id: str) -> Any:
    classes = _classes(school_id)
    form: dict[str, Any] = {"login": request.form.get("login", "")[:64], "role": request.form.get("role", ""),
                            "classes": request.form.getlist("classes")}
    if request.method == "POST":
        try:
            with _engine().begin() as conn:
                _user_id, token, expires = users.invite(conn, account().login, school_id, form["login"], form["role"],
                                                        form["classes"])
        except users.UserError as exc:
            flash(str(exc), "error")
        else:
            return render_template("link.html", what="Приглашение создано", login=form["login"].strip().lower(),
                                   link=url_for("office.link", token=token, _external=True), expires=expires)
    return render_template("invite.html", form=form, roles=SCHOOL_ROLES, classes=classes), \
        422 if request.method == "POST" else 200


@bp.post("/office/<school_id>/users/<int:user_id>/reset")
@allow(Role.SCHOOL_ADMIN)
def reset(school_id: str, user_id: int) -> Any:
    try:
        with _engine().begin() as conn:
            token, expires = users.reset_password(conn, account().login, school_id, user_id)
            login = next((r.login for r in users.school_users(conn, school_id) if r.id == user_id), "")
    except users.NotFound:
        abort(404)
    return render_template("link.html", what="Пароль сброшен", login=login, expires=expires,
                           link=url_for("office.link", token=token, _external=True))


@bp.post("/office/<school_id>/users/<int:user_id>/remove")
@allow(Role.SCHOOL_ADMIN)
def remove(school_id: str, user_id: int) -> Any:
    me = account()
    try:
        with _engine().begin() as conn:
            users.remove_access(conn, me.login, me.id, school_id, user_id)
    except users.NotFound:
        abort(404)
    except users.UserError as exc:
        flash(str(exc), "error")
    else:
        flash("Доступ снят.", "info")
    return redirect(url_for("office.users_page", school_id=school_id), 303)


@bp.route("/office/link/<token>", methods=["GET", "POST"])
@public
def link(token: str) -> Any:
    with _engine().connect() as conn:
        info = users.open_link(conn, token)
    if info is None:
        return render_template("error.html", code=404, title="Ссылка недействительна",
                               text="Ссылка уже использована или истекла. Попросите администратора школы "
                                    "прислать новую."), 404
    name = request.form.get("name", info.name)[:200]
    if request.method == "POST":
        try:
            with _engine().begin() as conn:
                me = users.accept_link(conn, token, name, request.form.get("password", ""),
                                       request.form.get("password2", ""))
        except users.UserError as exc:
            flash(str(exc), "error")
        else:
            flash("Пароль сохранён. Добро пожаловать!", "info")
            return _signed_in(me)
    return render_template("set_password.html", info=info, name=name), 422 if request.method == "POST" else 200


nav_item("Пользователи", "office.users_page", Role.SCHOOL_ADMIN)
