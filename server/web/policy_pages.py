"""«Политика»: the school's meals policy of each school year (id, region, source, who set it, which one the
terminals serve by) and, for the school administrator, a policy file to upload — the year comes from the
file. The rules are `server.office.history` (`set_policy`, `list_policies`); the views parse and render."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import Engine, select

from server.app import state
from server.history import school_year_label
from server.models import School
from server.office import history
from server.office.changes import NotFound, OfficeError
from server.office.roles import Role, permits
from server.web.auth import account, allow
from server.web.blueprint import bp
from server.web.filters import nav_item

SETTERS = (Role.SCHOOL_ADMIN,)
READERS = (Role.SCHOOL_ADMIN, Role.COORDINATOR)


def _engine() -> Engine:
    return state(current_app).engine


def _page(school_id: str, error: str = "", status: int = 200) -> Any:
    with _engine().connect() as conn:
        years = history.list_policies(conn, school_id)
        timezone = conn.execute(select(School.timezone).where(School.id == school_id)).scalar_one()
    return render_template("policies.html", years=years, error=error, timezone=timezone,
                           may_set=permits(account().grants, SETTERS, school_id=school_id)), status


@bp.get("/office/<school_id>/policy")
@allow(*READERS)
def policy_page(school_id: str) -> Any:
    return _page(school_id)


@bp.post("/office/<school_id>/policy")
@allow(*SETTERS)
def policy_set(school_id: str) -> Any:
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise OfficeError("выберите файл политики питания (TOML)")
        data = upload.read(history.MAX_POLICY_BYTES + 1)
        if len(data) > history.MAX_POLICY_BYTES:
            raise OfficeError(f"файл политики больше {history.MAX_POLICY_BYTES // 1024} КБ: это не файл политики")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise OfficeError("файл политики не в кодировке UTF-8: сохраните его как текст UTF-8") from None
        with _engine().begin() as conn:
            done = history.set_policy(conn, account().login, school_id, text)
    except OfficeError as exc:
        return _page(school_id, str(exc)[:1000], 422)
    label = school_year_label(done.school_year)
    flash(f"Политика {done.policy_id} сохранена на {label} учебный год"
          + (": это текущий учебный год, терминалы получат её при ближайшей синхронизации." if done.current
             else "; текущий учебный год она не меняет."), "info")
    return redirect(url_for("office.policy_page", school_id=school_id), 303)


@bp.get("/office/<school_id>/policy/<school_year>.toml")
@allow(*READERS)
def policy_file(school_id: str, school_year: str) -> Any:
    try:
        with _engine().connect() as conn:
            text = history.policy_text(conn, school_id, school_year[:9])
    except NotFound as exc:
        return render_template("error.html", code=404, title="Политика не найдена", text=str(exc)), 404
    return Response(text, mimetype="text/plain; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="policy-{school_id}-{school_year[:9]}.toml"'})


nav_item("Политика", "office.policy_page", *READERS)
