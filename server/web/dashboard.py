"""What «Сегодня» shows besides the live table: the open review items per kind (for those who may open
the queue) and the chart of the month."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from sqlalchemy import Connection

from server.app import state
from server.office import reviews
from server.office import today as today_service
from server.office.reviews import KINDS
from server.office.roles import Role, permits
from server.web.auth import account
from server.web.chart import month_svg

MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
          "ноябрь", "декабрь")
REVIEWERS = (Role.SCHOOL_ADMIN, Role.COORDINATOR)


def extras(school_id: str) -> dict[str, Any]:
    """The chart, and the open items per kind with their links into the queue (None for other roles)."""
    with state(current_app).engine.connect() as conn:
        day = today_service.school_now(conn, school_id).date()
        days = today_service.month(conn, school_id, day)
        open_kinds = _open_kinds(conn, school_id) if permits(account().grants, REVIEWERS, school_id=school_id) \
            else None
    title = f"Заказано и выдано по дням: {MONTHS[day.month - 1]} {day.year}"
    return {"chart": month_svg(days, title), "chart_title": title, "open_kinds": open_kinds}


def _open_kinds(conn: Connection, school_id: str) -> list[dict[str, Any]]:
    start, end, counts = reviews.dashboard_counts(conn, school_id, state(current_app).review_counts)
    return [{"kind": kind, "name": name, "open": counts[str(kind)]["open"],
             "kopecks": counts[str(kind)]["open_kopecks"],
             "href": url_for("office.review_queue", school_id=school_id, kind=str(kind),
                             start=start.strftime("%d.%m.%Y"), end=end.strftime("%d.%m.%Y"))}
            for kind, name in KINDS.items() if counts[str(kind)]["open"]]
