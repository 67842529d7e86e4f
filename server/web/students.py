"""Pages of the roster: «Ученики» (classes and a live student search) and a student's page with the forms
that change cards and the diet note. Every change calls a `server.office.roster` function; its Russian
`OfficeError` is shown in the form it came from, with what was typed kept."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from server.app import state
from server.models import School
from server.office import audit, roster
from server.office import history as class_history
from server.office.benefits import STATUS_RU, school_policy
from server.office.changes import NotFound, OfficeError
from server.office.changes import today as school_today
from server.office.roles import Role, classes_of, permits
from server.web import pages  # noqa: F401  («Сегодня» comes first in the menu)
from server.web.auth import account, allow
from server.web.blueprint import bp
from server.web.filters import nav_item, sentence

VIEWERS = (Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER)
EDITORS = (Role.SCHOOL_ADMIN, Role.COORDINATOR)
ACTIONS = {"issue": "карта выдана", "block": "карта заблокирована", "diet_note": "особенности питания изменены",
           "register": "заявление зарегистрировано", "documents": "отмечены документы",
           "decide": "решение комиссии", "order": "приказ внесён", "move": "перевод в другой класс"}
FIELDS = {"uid": "карта", "blocked": "заблокирована", "blocked_reason": "причина", "diet_note": "особенности питания",
          "status": "статус", "category": "категория", "received": "документы", "order_no": "приказ №",
          "order_date": "дата приказа", "starts": "с", "ends": "по", "decided_on": "дата решения",
          "protocol_no": "протокол №", "refusal_reason": "причина отказа", "registered_on": "дата заявления",
          "class_id": "класс"}


def _engine() -> Any:
    return state(current_app).engine


CHECKED_MODULES = {__name__, "server.web.benefit_pages"}


@bp.before_request
def refuse_nul() -> Any:
    """PostgreSQL text holds no NUL: on the roster and benefits pages a NUL anywhere in the request is a
    Russian 400 page before any query (never a 500)."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or view.__module__ not in CHECKED_MODULES:
        return None
    values = [*chain.from_iterable(request.args.listvalues()), *chain.from_iterable(request.form.listvalues()),
              *(str(v) for v in (request.view_args or {}).values())]
    if any("\x00" in v for v in values):
        return render_template("error.html", code=400, title="Недопустимый символ",
                               text="В запросе есть знак NUL: сохранить его нельзя. Уберите его и повторите."), 400
    return None


def _visible_classes(school_id: str) -> list[str] | None:
    """The classes whose students the user may see: None for the whole school."""
    grants = account().grants
    return None if permits(grants, EDITORS, school_id=school_id) else classes_of(grants, school_id)


def _search(school_id: str) -> dict[str, Any]:
    args = {"q": request.args.get("q", "")[:100], "class": request.args.get("class", "")[:20],
            "category": request.args.get("category", "")[:40]}
    visible = _visible_classes(school_id)
    with _engine().connect() as conn:
        classes = [c for c in roster.list_classes(conn, school_id) if visible is None or c["id"] in visible]
        categories = school_policy(conn, school_id).categories
        wanted = args["q"].strip() or args["class"] or args["category"]
        # A teacher searches class by class (their own), so the search's limit never hides their students.
        names = [args["class"]] if args["class"] or visible is None else [c["name"] for c in classes]
        rows = [r for name in names for r in roster.search_students(
            conn, school_id, args["q"], class_name=name or None, category=args["category"] or None)] if wanted else []
    rows = [r for r in rows if visible is None or r["class_id"] in visible]
    return {"args": args, "classes": classes, "categories": categories, "rows": rows, "searched": bool(wanted),
            "school_id": school_id}


@bp.get("/office/<school_id>/students")
@allow(*VIEWERS)
def students(school_id: str) -> Any:
    return render_template("students.html", **_search(school_id))


@bp.get("/office/<school_id>/students/results")
@allow(*VIEWERS)
def students_results(school_id: str) -> Any:
    return render_template("students_table.html", **_search(school_id))


def _describe(values: Any) -> str:
    if not isinstance(values, dict):
        return "—" if values is None else str(values)
    parts = []
    for key, value in values.items():
        if key in ("student_id", "applicant", "entitlement_id"):
            continue
        if isinstance(value, bool):
            value = "да" if value else "нет"
        elif isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
            value = f"{value[8:]}.{value[5:7]}.{value[:4]}"
        parts.append(f"{FIELDS.get(key, key)}: {value if value not in ('', None, []) else '—'}")
    return "; ".join(parts) or "—"


def _history(conn: Any, school_id: str, card: dict[str, Any]) -> list[dict[str, Any]]:
    """The student's changes, their cards' and their applications', newest first, in the school's time."""
    tz = ZoneInfo(conn.execute(select(School.timezone).where(School.id == school_id)).scalar_one())
    entries = audit.history(conn, school_id, "student", card["id"])
    for c in card["cards"]:
        entries += audit.history(conn, school_id, "card", c["uid"])
    for a in card["applications"]:
        entries += audit.history(conn, school_id, "application", a["id"])
    entries.sort(key=lambda e: e["at"], reverse=True)
    return [{"at": e["at"].replace(tzinfo=UTC).astimezone(tz), "actor": e["actor"],
             "action": ACTIONS.get(e["action"], e["action"]),
             "before": _describe(e["before"]), "after": _describe(e["after"])} for e in entries]


def _student_page(school_id: str, student_id: str, *, errors: dict[str, str] | None = None,
                  status: int = 200) -> Any:
    try:  # the page renders after the connection is closed (the layout opens its own)
        with _engine().connect() as conn:
            card = roster.student_card(conn, school_id, student_id)
            categories = school_policy(conn, school_id).categories
            day = school_today(conn, school_id)
            history = _history(conn, school_id, card)
            spans = class_history.class_history(conn, school_id, student_id)
            classes = roster.list_classes(conn, school_id)
    except NotFound:
        return render_template("error.html", code=404, title="Ученик не найден",
                               text="В этой школе нет такого ученика."), 404
    if not permits(account().grants, VIEWERS, school_id=school_id, class_id=card["class_id"]):
        abort(403)
    shown = {"diet", "issue", "move"} | {f"{form}:{c['uid']}" for c in card["cards"] if not c["blocked"]
                                 for form in ("block", "replace")}
    errors = {key if key in shown else "cards": text for key, text in (errors or {}).items()}
    meals = [m for m in card["meals"] if (m["day"].year, m["day"].month) == (day.year, day.month)]
    return render_template("student.html", s=card, meals=meals, history=history, day=day, errors=errors or {},
                           form=request.form if errors else {}, status_ru=STATUS_RU, categories=categories,
                           spans=spans, classes=classes,
                           may_edit=permits(account().grants, EDITORS, school_id=school_id)), status


@bp.get("/office/<school_id>/students/<student_id>")
@allow(*VIEWERS)
def student_page(school_id: str, student_id: str) -> Any:
    return _student_page(school_id, student_id)


def _change(school_id: str, student_id: str, form_name: str, done: str, action: Any) -> Any:
    """Run a change; on success back to the student's page with `done`, on refusal the page with the error."""
    try:
        with _engine().begin() as conn:
            action(conn, account().login)
    except NotFound as exc:
        if form_name == "diet":  # the student is gone: nothing to show the form on
            return render_template("error.html", code=404, title="Ученик не найден", text=str(exc)), 404
        return _student_page(school_id, student_id, errors={form_name: sentence(str(exc))}, status=422)
    except OfficeError as exc:
        return _student_page(school_id, student_id, errors={form_name: sentence(str(exc))}, status=422)
    if done:
        flash(done, "info")
    return redirect(url_for("office.student_page", school_id=school_id, student_id=student_id), 303)



@bp.post("/office/<school_id>/students/<student_id>/diet")
@allow(*EDITORS)
def student_diet(school_id: str, student_id: str) -> Any:
    note = request.form.get("diet_note", "")[:2000]
    return _change(school_id, student_id, "diet", "Особенности питания сохранены.",
                   lambda conn, actor: roster.set_diet_note(conn, actor, school_id, student_id, note))


@bp.post("/office/<school_id>/students/<student_id>/cards/issue")
@allow(*EDITORS)
def card_issue(school_id: str, student_id: str) -> Any:
    number = request.form.get("card", "")[:100]
    return _change(school_id, student_id, "issue", "Карта выдана.",
                   lambda conn, actor: roster.issue_card(conn, actor, school_id, student_id, number))


@bp.post("/office/<school_id>/students/<student_id>/cards/block")
@allow(*EDITORS)
def card_block(school_id: str, student_id: str) -> Any:
    number, reason = request.form.get("card", "")[:100], request.form.get("reason", "")[:1000]
    return _change(school_id, student_id, f"block:{number}",
                   "Карта заблокирована: терминалы перестанут её принимать после ближайшей синхронизации.",
                   lambda conn, actor: _own_card(conn, school_id, student_id, number)
                   and roster.block_card(conn, actor, school_id, number, reason))


@bp.post("/office/<school_id>/students/<student_id>/cards/replace")
@allow(*EDITORS)
def card_replace(school_id: str, student_id: str) -> Any:
    old, new = request.form.get("card", "")[:100], request.form.get("new_card", "")[:100]
    return _change(school_id, student_id, f"replace:{old}", "Утерянная карта заблокирована, новая карта выдана.",
                   lambda conn, actor: _own_card(conn, school_id, student_id, old)
                   and roster.replace_lost_card(conn, actor, school_id, old, new))


@bp.post("/office/<school_id>/students/<student_id>/move")
@allow(*EDITORS)
def student_move(school_id: str, student_id: str) -> Any:
    """«Перевести в другой класс с даты»: today or backdated (`server.office.history.move_student`)."""
    class_id, text = request.form.get("class_id", "")[:64], request.form.get("starts", "").strip()[:20]

    def move(conn: Any, actor: str) -> None:
        starts = _day(text) if text else None
        done = class_history.move_student(conn, actor, school_id, student_id, class_id, starts)
        moved.append(done)

    moved: list[class_history.Move] = []
    answer = _change(school_id, student_id, "move", "", move)
    if moved:
        m = moved[0]
        later = "" if m.current_class_id == m.class_id else \
            f"; сейчас класс {m.current_class_id} (более поздний перевод)"
        flash(f"Перевод записан: класс {m.class_name} с {m.starts:%d.%m.%Y}{later}. Журналы и отчёты за эти дни "
              "считаются по новому классу.", "info")
    return answer


def _day(text: str) -> date:
    for form in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            pass
    raise OfficeError(f"дата перевода «{text}»: укажите дату в виде дд.мм.гггг")


def _own_card(conn: Any, school_id: str, student_id: str, number: str) -> bool:
    """A card form on a student's page acts on that student's card only."""
    uid = roster.parse_card(number)
    if uid is None or not any(c.student_id == student_id for c in roster.cards_matching(conn, school_id, uid)):
        raise OfficeError(f"у ученика нет карты «{number.strip()[:40]}»")
    return True


nav_item("Ученики", "office.students", *VIEWERS)
