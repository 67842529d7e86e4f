"""«Сверка»: the school's review queue in the browser — filters, the items, resolving a choice of items
with a reason and a comment, each item's history, the XLSX/CSV export (`server.office.reviews`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from server.app import state
from server.models import SchoolClass
from server.office import reviews
from server.office.reviews import KINDS
from server.office.roles import Role
from server.web.auth import account, allow
from server.web.blueprint import bp
from server.web.filters import nav_item

REVIEWERS = (Role.SCHOOL_ADMIN, Role.COORDINATOR)
STATUS_CHOICES = {"open": "открытые", "resolved": "решённые", "all": "все"}


@dataclass
class Asked:
    """The filter form as typed (shown back as is) and what it means, or the Russian errors."""

    form: dict[str, Any]
    filters: reviews.Filters | None = None
    errors: list[str] = field(default_factory=list)

    def query(self) -> dict[str, Any]:
        return {k: v for k, v in self.form.items() if v}


def _day(text: str, what: str, errors: list[str]) -> date | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%d.%m.%Y").date()
    except ValueError:
        errors.append(f"{what}: дата в виде дд.мм.гггг, например 01.09.2026 (введено «{text[:20]}»).")
        return None


def _asked(args: Any, today: date, class_ids: set[str]) -> Asked:
    form = {"class": args.get("class", "")[:64], "kind": [k[:40] for k in args.getlist("kind") if k][:len(KINDS)],
            "start": args.get("start", "").strip()[:20], "end": args.get("end", "").strip()[:20],
            "status": args.get("status", "open")[:10]}
    asked = Asked(form)
    default_start, default_end = reviews.default_period(today)
    start = _day(form["start"], "Начало периода", asked.errors) or default_start
    end = _day(form["end"], "Конец периода", asked.errors) or default_end
    if form["class"] and form["class"] not in class_ids:
        asked.errors.append("Такого класса в школе нет.")
    if any(k not in KINDS for k in form["kind"]):
        asked.errors.append("Неизвестный вид расхождения: выберите из списка.")
    if form["status"] not in STATUS_CHOICES:
        asked.errors.append("Состояние: открытые, решённые или все.")
    if end < start:
        asked.errors.append("Начало периода позже его конца.")
    elif (end - start).days >= reviews.PERIOD_MAX_DAYS:
        asked.errors.append(f"Период не длиннее {reviews.PERIOD_MAX_DAYS} дней.")
    if not asked.errors:
        asked.filters = reviews.Filters(start, end, form["class"] or None,
                                        frozenset(form["kind"]) or None, form["status"])
    form["start"], form["end"] = form["start"] or f"{start:%d.%m.%Y}", form["end"] or f"{end:%d.%m.%Y}"
    return asked


def _pick_value(entry: reviews.Entry) -> str:
    k = entry.key
    return json.dumps([k.day.isoformat(), k.subject, k.meal, k.kind, entry.fingerprint], ensure_ascii=False)


def _picks(values: list[str]) -> list[tuple[reviews.Key, str | None]] | None:
    """The items the form sent with the fingerprints shown, or None for a garbled one."""
    out = []
    for value in values[:reviews.RESOLVE_MAX + 1]:
        try:
            day, subject, meal, kind, seen = json.loads(value)
            key = reviews.Key(date.fromisoformat(day), subject, meal, kind)
        except (ValueError, TypeError):
            return None
        if not all(isinstance(v, str) for v in (subject, meal, kind, seen)):
            return None
        out.append((key, seen))
    return out


def _page(school_id: str, args: Any, *, resolve_form: dict[str, Any] | None = None, error: str = "",
          status: int = 200) -> Any:
    with state(current_app).engine.connect() as conn:
        today, tz = reviews.school_today(conn, school_id)
        classes = conn.execute(select(SchoolClass.id, SchoolClass.name).where(SchoolClass.school_id == school_id)
                               .order_by(SchoolClass.grade, SchoolClass.name)).all()
        asked = _asked(args, today, {c.id for c in classes})
        queue = reviews.queue(conn, school_id, asked.filters, today=today) if asked.filters else None
        past = (reviews.histories(conn, school_id, asked.filters.start, min(asked.filters.end, today))
                if asked.filters else {})
    if asked.errors and status == 200:
        status = 400
    return render_template(
        "review_queue.html", asked=asked, queue=queue, classes=classes, kinds=KINDS, statuses=STATUS_CHOICES,
        status_names=reviews.STATUSES, reasons=reviews.REASONS, histories=past, pick_value=_pick_value,
        resolve_form=resolve_form or {"reason": "", "comment": "", "picks": []}, error=error, today=today,
        timezone=tz), status


@bp.get("/office/<school_id>/reviews")
@allow(*REVIEWERS)
def review_queue(school_id: str) -> Any:
    return _page(school_id, request.args)


@bp.post("/office/<school_id>/reviews/resolve")
@allow(*REVIEWERS)
def review_resolve(school_id: str) -> Any:
    reason, comment = request.form.get("reason", "")[:40], request.form.get("comment", "")
    form: dict[str, Any] = {"reason": reason, "comment": comment, "picks": request.form.getlist("pick")}
    picks = _picks(form["picks"])
    if picks is None:
        return _page(school_id, request.form, resolve_form=form, status=422,
                     error="Список расхождений искажён при отправке: обновите страницу и выберите снова.")
    try:
        with state(current_app).engine.begin() as conn:
            done = reviews.resolve(conn, school_id, picks, reason=reason, comment=comment,
                                   who=account().login)
    except reviews.ReviewError as exc:
        message = exc.message[:1].upper() + exc.message[1:] + ("" if exc.message.endswith(".") else ".")
        if exc.status == 409:
            message += " Ничего не решено."
        return _page(school_id, request.form, resolve_form=form, error=message,
                     status=409 if exc.status == 409 else 422)
    flash(f"Решено расхождений: {len(done)}.", "info")
    keep: dict[str, Any] = {k: request.form.getlist(k) if k == "kind" else request.form.get(k, "")
                            for k in ("class", "kind", "start", "end", "status")}
    return redirect(url_for("office.review_queue", school_id=school_id, **{k: v for k, v in keep.items() if v}), 303)


@bp.get("/office/<school_id>/reviews/export")
@allow(*REVIEWERS)
def review_export(school_id: str) -> Any:
    fmt = request.args.get("format", "xlsx")
    with state(current_app).engine.connect() as conn:
        today, _tz = reviews.school_today(conn, school_id)
        classes = set(conn.execute(select(SchoolClass.id).where(SchoolClass.school_id == school_id)).scalars())
        asked = _asked(request.args, today, classes)
        if fmt not in ("xlsx", "csv"):
            asked.errors.append("Формат выгрузки: xlsx или csv.")
        queue = reviews.queue(conn, school_id, asked.filters, today=today) \
            if asked.filters and not asked.errors else None
    if queue is None or asked.filters is None:
        return render_template("error.html", code=400, title="Выгрузка не сделана", text=" ".join(asked.errors)), 400
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "_", school_id)
    name = f"sverka-{safe_id}-{asked.filters.start:%Y%m%d}-{min(asked.filters.end, today):%Y%m%d}"
    if fmt == "csv":
        return Response(reviews.to_csv(queue).encode("utf-8"), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(reviews.to_xlsx(queue),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


nav_item("Сверка", "office.review_queue", *REVIEWERS)
