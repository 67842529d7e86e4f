"""The «Загрузка» pages: a student list uploaded, previewed (column mapping, the difference, row errors),
confirmed, imported. The rules are `server.office.imports`; these views parse forms and render."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request
from sqlalchemy import Engine

from server.app import state
from server.importer import ImportFailed
from server.office import imports
from server.office.roles import Role
from server.web.auth import account, allow
from server.web.blueprint import bp
from server.web.filters import nav_item

LOADERS = (Role.SCHOOL_ADMIN, Role.COORDINATOR)
CHOICES = [(imports.SKIP, "не загружать"), *((key, title) for key, (title, _aliases) in imports.FIELDS.items())]


def _engine() -> Engine:
    return state(current_app).engine


def _start(school_id: str, errors: list[str], status: int = 200) -> Any:
    return render_template("import.html", errors=errors, replace=request.form.get("replace") == "1"), status


def _preview(seen: imports.Preview, token: str, status: int = 200, note: str = "") -> Any:
    return render_template("import_preview.html", seen=seen, token=token, choices=CHOICES, note=note), status


@bp.get("/office/<school_id>/import")
@allow(*LOADERS)
def import_page(school_id: str) -> Any:
    return _start(school_id, [])


@bp.post("/office/<school_id>/import/preview")
@allow(*LOADERS)
def import_preview(school_id: str) -> Any:
    login = account().login
    upload = request.files.get("file")
    token = request.form.get("token", "")[:100]
    mapping: list[str] | None = [m[:40] for m in request.form.getlist("map")[:300]]
    try:
        if upload is not None and upload.filename:
            data, filename = upload.read(), upload.filename
            if not data:
                raise imports.PreviewError("файл пуст")
            token, mapping = imports.store(data, filename, school_id, login), None
        elif token:
            data, filename = imports.load(token, school_id, login)
        else:
            raise imports.PreviewError("выберите файл со списком учеников")
        with _engine().connect() as conn:
            seen = imports.preview(conn, school_id, data, filename, mapping=mapping,
                                   replace=request.form.get("replace") == "1")
    except imports.PreviewError as exc:
        return _start(school_id, [str(exc)], 422)
    return _preview(seen, token)


@bp.post("/office/<school_id>/import/confirm")
@allow(*LOADERS)
def import_confirm(school_id: str) -> Any:
    login = account().login
    token = request.form.get("token", "")[:100]
    try:
        data, filename = imports.load(token, school_id, login)
        with _engine().begin() as conn:
            seen, result = imports.confirm(
                conn, login, school_id, data, filename, mapping=[m[:40] for m in request.form.getlist("map")[:300]],
                replace=request.form.get("replace") == "1", digest=request.form.get("digest", "")[:64],
                leaving_with_money=request.form.get("money") == "1")
    except imports.PreviewError as exc:
        return _start(school_id, [str(exc)], 422)
    except ImportFailed as exc:  # the data moved on between the preview and the confirm
        return _start(school_id, ["Ничего не загружено.", *exc.errors[:200]], 422)
    if result is None:
        note = "" if seen.errors else "Данные или сопоставление столбцов изменились: проверьте разницу ещё раз."
        return _preview(seen, token, 422, note)
    imports.discard(token)
    return render_template("import_result.html", seen=seen, result=result)


# After «Сегодня» and «Пользователи»: the menu lists items in the order their modules add them.
from server.web import users as _users  # noqa: E402, F401

nav_item("Загрузка", "office.import_page", *LOADERS)
