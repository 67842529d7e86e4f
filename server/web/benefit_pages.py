"""Pages of «Льготы»: benefit applications (register with the policy's documents checklist, the
commission's decision, the director's order), the overdue ones highlighted, and the lists per category
with a print view. Every rule is a `server.office.benefits` function; its Russian `OfficeError` is shown
in the form it came from, with what was typed kept."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for

from server.app import state
from server.office import benefits, roster
from server.office.changes import NotFound, OfficeError
from server.office.changes import today as school_today
from server.office.roles import Role
from server.web import students  # noqa: F401  («Ученики» comes before «Льготы» in the menu)
from server.web.auth import account, allow
from server.web.blueprint import bp
from server.web.filters import nav_item, sentence

STAFF = (Role.SCHOOL_ADMIN, Role.COORDINATOR)
STATUSES = {"": "все", benefits.REGISTERED: "на рассмотрении", benefits.GRANTED: "предоставлено",
            benefits.REFUSED: "отказано"}


def _engine() -> Any:
    return state(current_app).engine


def _optional_day(name: str) -> date | None:
    """A date from an `<input type=date>` (or typed dd.mm.yyyy); a Russian OfficeError if it is not one."""
    text = request.form.get(name, "").strip()[:20]
    if not text:
        return None
    for parse in (date.fromisoformat, lambda t: date(int(t[6:10]), int(t[3:5]), int(t[:2]))):
        try:
            return parse(text)
        except ValueError:
            continue
    raise OfficeError(f"«{text}» — не дата; введите её в виде дд.мм.гггг")


def _day(name: str, title: str) -> date:
    found = _optional_day(name)
    if found is None:
        raise OfficeError(f"укажите {title}")
    return found


def _numbers(name: str) -> list[Any]:
    return [int(v) if v.isdigit() and len(v) < 6 else v for v in request.form.getlist(name)[:50]]



def _list_page(school_id: str, *, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    wanted = request.args.get("status", "")
    with _engine().connect() as conn:
        policy = benefits.school_policy(conn, school_id)
        apps = benefits.applications(conn, school_id, status=wanted if wanted in STATUSES and wanted else None)
        day = school_today(conn, school_id)
        classes = {c["id"]: c["name"] for c in roster.list_classes(conn, school_id)}
    overdue = [a for a in apps if a["overdue"]]
    ids = {a["id"] for a in apps}
    errors = {key if key in ids else "": text for key, text in (errors or {}).items()}  # "": above the list
    return render_template("benefits.html", apps=list(reversed(apps)), overdue=overdue, policy=policy, day=day,
                           classes=classes, statuses=STATUSES, wanted=wanted, errors=errors,
                           form=request.form if errors else {}, school_id=school_id), status


@bp.get("/office/<school_id>/benefits")
@allow(*STAFF)
def benefits_page(school_id: str) -> Any:
    return _list_page(school_id)


@bp.route("/office/<school_id>/benefits/new", methods=["GET", "POST"])
@allow(*STAFF)
def benefit_new(school_id: str) -> Any:
    source = request.form if request.method == "POST" else request.args
    form: dict[str, Any] = {
        "student_id": source.get("student_id", "")[:64], "category": source.get("category", "")[:40],
        "registered_on": source.get("registered_on", "")[:20], "applicant": source.get("applicant", "")[:200],
        "note": source.get("note", "")[:2000], "received": source.getlist("received")}
    error = ""
    if request.method == "POST":
        try:
            registered_on = _day("registered_on", "дату заявления")
            with _engine().begin() as conn:
                benefits.register(conn, account().login, school_id, student_id=form["student_id"],
                                  category=form["category"], registered_on=registered_on,
                                  applicant=form["applicant"], received=_numbers("received"), note=form["note"])
        except OfficeError as exc:
            error = sentence(str(exc))
        else:
            flash("Заявление зарегистрировано.", "info")
            return redirect(url_for("office.benefits_page", school_id=school_id), 303)
    with _engine().connect() as conn:
        policy = benefits.school_policy(conn, school_id)
        students = roster.search_students(conn, school_id, "", limit=5000)
        day = school_today(conn, school_id)
    form["registered_on"] = form["registered_on"] or day.isoformat()
    category = form["category"] if form["category"] in policy.categories else next(iter(policy.categories), "")
    return render_template("benefit_new.html", form=form, error=error, policy=policy, students=students,
                           documents=policy.documents(category) if category else (), category=category,
                           school_id=school_id), 422 if error else 200


def _act(school_id: str, app_id: str, done: str, action: Any) -> Any:
    try:
        with _engine().begin() as conn:
            action(conn, account().login)
    except NotFound as exc:
        flash(sentence(str(exc)), "error")
        return redirect(url_for("office.benefits_page", school_id=school_id), 303)
    except OfficeError as exc:
        return _list_page(school_id, errors={app_id: sentence(str(exc))}, status=422)
    flash(done, "info")
    return redirect(url_for("office.benefits_page", school_id=school_id) + f"#app-{app_id}", 303)


@bp.post("/office/<school_id>/benefits/<app_id>/documents")
@allow(*STAFF)
def benefit_documents(school_id: str, app_id: str) -> Any:
    received = _numbers("received")
    return _act(school_id, app_id, "Отметки о документах сохранены.",
                lambda conn, actor: benefits.mark_documents(conn, actor, school_id, app_id, received))


@bp.post("/office/<school_id>/benefits/<app_id>/decide")
@allow(*STAFF)
def benefit_decide(school_id: str, app_id: str) -> Any:
    decision = request.form.get("decision", "")

    def decide(conn: Any, actor: str) -> None:
        if decision not in ("granted", "refused"):
            raise OfficeError("выберите решение: предоставить или отказать")
        decided_on = _day("decided_on", "дату решения")
        benefits.decide(conn, actor, school_id, app_id, granted=decision == "granted", decided_on=decided_on,
                        protocol_no=request.form.get("protocol_no", "")[:100],
                        reason=request.form.get("reason", "")[:64], note=request.form.get("note", "")[:3000])

    return _act(school_id, app_id, "Решение комиссии записано.", decide)


@bp.post("/office/<school_id>/benefits/<app_id>/order")
@allow(*STAFF)
def benefit_order(school_id: str, app_id: str) -> Any:
    def order(conn: Any, actor: str) -> None:
        order_date = _day("order_date", "дату приказа")
        benefits.record_order(conn, actor, school_id, app_id, order_no=request.form.get("order_no", "")[:100],
                              order_date=order_date, ends=_optional_day("ends"))

    return _act(school_id, app_id, "Приказ внесён.", order)


@bp.get("/office/<school_id>/benefits/lists")
@allow(*STAFF)
def benefit_lists(school_id: str) -> Any:
    with _engine().connect() as conn:
        policy = benefits.school_policy(conn, school_id)
        day = school_today(conn, school_id)
        lists = benefits.category_lists(conn, school_id, day)
    template = "benefit_lists_print.html" if request.args.get("print") else "benefit_lists.html"
    return render_template(template, lists=lists, policy=policy, day=day, school_id=school_id)


nav_item("Льготы", "office.benefits_page", *STAFF)
