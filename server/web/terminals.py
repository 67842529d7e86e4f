"""«Терминалы»: the school's terminals (online, last seen in the school's time, events waiting, clock
drift, version, refused events, the clone warning), adding one (its token shown once), renaming,
revoking after a confirmation; and the list of the events the server refused (`server.office.fleet`,
`server.rejected`). The school administrator acts; the coordinator only reads."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from server import rejected
from server.app import state
from server.models import School
from server.office import fleet
from server.office.roles import Role, permits
from server.web.auth import account, allow
from server.web.blueprint import bp
from server.web.filters import nav_item, sentence

READERS = (Role.SCHOOL_ADMIN, Role.COORDINATOR)
PAGE = 100  # rejected events per page


def _engine() -> Any:
    return state(current_app).engine


def drift_text(seconds: float | None) -> str:
    """The terminal's clock against the server's, in Russian."""
    if seconds is None:
        return "нет данных"
    whole = round(abs(seconds))
    if whole < 5:
        return "точные"
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    amount = " ".join(f"{n} {unit}" for n, unit in ((hours, "ч"), (minutes, "мин"), (secs, "с")) if n)
    return f"{'спешат' if seconds > 0 else 'отстают'} на {amount}"


def _timezone(conn: Any, school_id: str) -> str:
    return str(conn.execute(select(School.timezone).where(School.id == school_id)).scalar_one())


@bp.get("/office/<school_id>/terminals")
@allow(*READERS)
def terminals_page(school_id: str) -> Any:
    with _engine().connect() as conn:
        rows = fleet.terminals(conn, school_id)
        tz = _timezone(conn, school_id)
    may_act = permits(account().grants, (Role.SCHOOL_ADMIN,), school_id=school_id)
    return render_template("terminals.html", rows=rows, timezone=tz, may_act=may_act, drift_text=drift_text,
                           name_max=fleet.NAME_MAX)


@bp.post("/office/<school_id>/terminals/add")
@allow(Role.SCHOOL_ADMIN)
def terminal_add(school_id: str) -> Any:
    name = request.form.get("name", "")
    try:
        with _engine().begin() as conn:
            terminal_id, token = fleet.add(conn, school_id, name)
    except fleet.FleetError as exc:
        flash(sentence(exc.message), "error")
        return redirect(url_for("office.terminals_page", school_id=school_id), 303)
    return render_template("terminal_token.html", terminal_id=terminal_id, name=name.strip(), token=token)


@bp.post("/office/<school_id>/terminals/rename")
@allow(Role.SCHOOL_ADMIN)
def terminal_rename(school_id: str) -> Any:
    terminal_id = request.form.get("terminal_id", "")[:64]
    try:
        with _engine().begin() as conn:
            fleet.rename(conn, school_id, terminal_id, request.form.get("name", ""))
    except fleet.FleetError as exc:
        flash(sentence(exc.message), "error")
    else:
        flash(f"Терминал {terminal_id} переименован.", "info")
    return redirect(url_for("office.terminals_page", school_id=school_id), 303)


@bp.post("/office/<school_id>/terminals/revoke")
@allow(Role.SCHOOL_ADMIN)
def terminal_revoke(school_id: str) -> Any:
    """Without `confirm`: the page asking to confirm; with it: the token is revoked."""
    terminal_id = request.form.get("terminal_id", "")[:64]
    row = next((t for t in _terminals(school_id) if t["id"] == terminal_id), None)
    if row is None:
        flash(f"Терминал «{terminal_id}» не найден в этой школе.", "error")
        return redirect(url_for("office.terminals_page", school_id=school_id), 303)
    if request.form.get("confirm") != "yes":
        return render_template("terminal_revoke.html", terminal=row)
    try:
        with _engine().begin() as conn:
            fleet.revoke(conn, school_id, terminal_id)
    except fleet.FleetError as exc:
        flash(sentence(exc.message), "error")
    else:
        flash(f"Токен терминала {terminal_id} отозван: терминал больше не сможет синхронизироваться.", "info")
    return redirect(url_for("office.terminals_page", school_id=school_id), 303)


@bp.get("/office/<school_id>/terminals/rejected")
@allow(*READERS)
def rejected_page(school_id: str) -> Any:
    terminal_id = request.args.get("terminal", "")[:64]
    before_text = request.args.get("before", "")
    before = int(before_text) if before_text.isdigit() and len(before_text) < 19 else None
    with _engine().connect() as conn:
        rows = rejected.listing(conn, school_id, limit=PAGE, before=before, terminal_id=terminal_id or None)
        tz = _timezone(conn, school_id)
    more = rows[-1]["n"] if len(rows) == PAGE else None
    return render_template("rejected.html", rows=rows, timezone=tz, terminal_id=terminal_id, more=more)


def _terminals(school_id: str) -> list[dict[str, Any]]:
    with _engine().connect() as conn:
        return fleet.terminals(conn, school_id)



nav_item("Терминалы", "office.terminals_page", *READERS)
