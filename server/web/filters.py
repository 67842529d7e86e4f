"""Jinja filters and the layout's context: Russian dates and money, the school, the user, the menu.

The menu is a list of `NavItem`s; a page module adds its item with `nav_item(...)`, and a user sees
the items their grants open in the school on screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask import current_app, g, request, url_for
from flask_login import current_user
from sqlalchemy import select

from pos.domain import Meal, ru_date
from pos.money import format_rub
from pos.settings import zone
from server.app import state
from server.models import School, SchoolClass
from server.office.roles import Role, classes_of, permits
from server.web.auth import account
from server.web.blueprint import bp


@dataclass(frozen=True)
class NavItem:
    title: str
    endpoint: str  # takes school_id
    roles: tuple[Role, ...]


NAV: list[NavItem] = []
# The menu's order, whatever order the page modules happen to be imported in; a title not listed goes last.
MENU_ORDER = ("Сегодня", "Заявка", "Заявки", "Пищеблок", "Отчёты", "Сухой паёк", "Меню", "Календарь", "Ученики",
              "Льготы", "Платежи", "Сверка", "Загрузка", "Терминалы", "Пользователи", "Политика")


def sentence(text: str) -> str:
    """A service's Russian message as a sentence on a page: capitalised, ending with a full stop."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def nav_item(title: str, endpoint: str, *roles: Role) -> None:
    NAV.append(NavItem(title, endpoint, roles))
    NAV.sort(key=lambda item: MENU_ORDER.index(item.title) if item.title in MENU_ORDER else len(MENU_ORDER))


@bp.app_template_filter("ru_date")
def ru_date_filter(value: date | datetime | None) -> str:
    return "" if value is None else ru_date(value if isinstance(value, date) else value.date())


@bp.app_template_filter("ru_datetime")
def ru_datetime_filter(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%d.%m.%Y %H:%M")


@bp.app_template_filter("school_time")
def school_time_filter(value: datetime | str | None, timezone: str) -> str:
    """A moment (naive UTC, or ISO text with its offset) as dd.mm.yyyy HH:MM in the school's time zone."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(zone(timezone)).strftime("%d.%m.%Y %H:%M")


@bp.app_template_filter("rub")
def rub_filter(kopecks: int | None) -> str:
    return "" if kopecks is None else format_rub(int(kopecks))


@bp.app_template_filter("meal")
def meal_filter(value: str) -> str:
    return Meal(value).ru if value in Meal._value2member_map_ else value


@bp.app_context_processor
def layout() -> dict[str, Any]:
    """The school in the URL (if the user works there), the user's name and roles, and their menu."""
    if g.get("office_error") or not current_user.is_authenticated:  # an error page touches no database
        return {"school": None, "menu": [], "me": None}
    me = account()
    school_id = (request.view_args or {}).get("school_id")
    if school_id is None or not permits(me.grants, list(Role), school_id=school_id):
        return {"school": None, "menu": [], "me": me, "my_roles": _roles(me.grants, None)}
    with state(current_app).engine.connect() as conn:
        school = conn.execute(select(School.id, School.name).where(School.id == school_id)).first()
        class_names = dict(conn.execute(select(SchoolClass.id, SchoolClass.name).where(
            SchoolClass.school_id == school_id)).tuples().all())
    menu = [(item.title, url_for(item.endpoint, school_id=school_id)) for item in NAV
            if permits(me.grants, item.roles, school_id=school_id)]
    if not permits(me.grants, (Role.SCHOOL_ADMIN, Role.COORDINATOR), school_id=school_id):
        menu += [(f"Класс {class_names.get(c, c)}", url_for("office.class_page", school_id=school_id, class_id=c))
                 for c in classes_of(me.grants, school_id)]
    return {"school": school, "menu": menu, "me": me, "my_roles": _roles(me.grants, school_id)}


def _roles(grants: Any, school_id: str | None) -> str:
    roles = dict.fromkeys(g.role.ru for g in grants if school_id is None or g.school_id == school_id)
    return ", ".join(roles)
