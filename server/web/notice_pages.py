"""«Уведомления»: a parent chooses which e-mails to get (low balance, card blocked, application decided) and
the balance threshold. The rules are `server.notices` (`preferences`, `save_preferences`); the views parse
the form and render. Only users holding a parent grant open the page (403 for the others)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import Engine

from pos.money import format_rub
from server import notices
from server.app import state
from server.office.changes import OfficeError
from server.office.roles import Role, permits
from server.web.auth import account, allow
from server.web.blueprint import bp
from server.web.filters import sentence


def _engine() -> Engine:
    return state(current_app).engine


def _parent_only() -> None:
    if not permits(account().grants, (Role.PARENT,)):
        abort(403)


def _page(prefs: notices.Preferences, threshold: str, error: str = "", status: int = 200) -> Any:
    return render_template("parent_notices.html", prefs=prefs, threshold=threshold, error=error,
                           default=format_rub(notices.DEFAULT_THRESHOLD_KOPECKS)), status


def _amount(kopecks: int) -> str:
    return format_rub(kopecks).removesuffix(" ₽")


@bp.get("/parent/notices")
@allow(Role.PARENT, scope="user")
def parent_notices() -> Any:
    _parent_only()
    with _engine().connect() as conn:
        prefs = notices.preferences(conn, account().id)
    return _page(prefs, _amount(prefs.threshold_kopecks))


@bp.post("/parent/notices")
@allow(Role.PARENT, scope="user")
def parent_notices_save() -> Any:
    _parent_only()
    form = request.form
    chosen = {kind: form.get(kind) == "1" for kind in notices.KINDS}
    threshold = form.get("threshold", "")[:100]
    try:
        with _engine().begin() as conn:
            notices.save_preferences(conn, account().id, threshold=threshold, actor=account().login, **chosen)
    except OfficeError as exc:
        return _page(notices.Preferences(**chosen), threshold, sentence(str(exc)), 422)
    flash("Настройки уведомлений сохранены.", "info")
    return redirect(url_for("office.parent_notices"), 303)
